"""`tongbi schedule`: catch-up at start, a failing run does not stop the loop, SIGTERM ends it cleanly."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from jobs.errors import StorageError, UsageError
from jobs.scheduler import (
    build_scheduler,
    catch_up_due,
    deployment_examples,
    last_success,
    run_once,
    serve,
)
from jobs.settings import ROOT, Settings

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
FAST = timedelta(seconds=0.01)


def settings_in(tmp_path: Path) -> Settings:
    return Settings(inbox=tmp_path / "inbox", schemas=ROOT / "schemas", warehouse=tmp_path / "tongbi.duckdb",
                    reports=tmp_path / "reports")


def write_runs(path: Path, runs: list[tuple[str, datetime, str]], *, command_column: bool = True,
               tz_column: bool = False) -> Path:
    """A warehouse whose runs view has the given (status, finished_at, command) rows, stored as jobs.run does."""
    con = duckdb.connect(str(path))
    ts = "timestamptz" if tz_column else "timestamp"
    con.execute(f"create table run_log (run_id varchar, started_at {ts}, finished_at {ts}, status varchar, "
                "command varchar)")
    for i, (status, finished, command) in enumerate(runs):
        stored = finished if tz_column else finished.astimezone(UTC).replace(tzinfo=None)  # naive UTC
        con.execute("insert into run_log values (?, ?, ?, ?, ?)",
                    [f"r{i}", stored - timedelta(minutes=5), stored, status, command])
    columns = "run_id, started_at, finished_at, status" + (", command" if command_column else "")
    con.execute(f"create view runs as select {columns} from run_log")
    con.close()
    return path


# --- the catch-up decision ----------------------------------------------------------------------------------------

CASES = {
    "no warehouse": (None, True),
    "no runs yet": ([], True),
    "ok run an hour ago": ([("ok", NOW - timedelta(hours=1), "run")], False),
    "ok run 23 hours ago": ([("ok", NOW - timedelta(hours=23), "run")], False),
    "ok run 25 hours ago": ([("ok", NOW - timedelta(hours=25), "run")], True),
    "ok run a week ago, failed since": (
        [("ok", NOW - timedelta(days=7), "run"), ("failed", NOW - timedelta(hours=1), "run")], True),
    "only failed runs": ([("failed", NOW - timedelta(hours=1), "run")], True),
    "rejected documents still count as a run": ([("rejected", NOW - timedelta(hours=2), "run")], False),
    "a manual ingest is not a night's run": ([("ok", NOW - timedelta(hours=1), "ingest")], True),
    "young run after old ones": (
        [("ok", NOW - timedelta(days=3), "run"), ("ok", NOW - timedelta(minutes=10), "run")], False),
}


@pytest.mark.parametrize(("runs", "due"), CASES.values(), ids=CASES.keys())
def test_catch_up_decision(tmp_path: Path, runs: list[tuple[str, datetime, str]] | None, due: bool) -> None:
    warehouse = tmp_path / "tongbi.duckdb"
    if runs is not None:
        write_runs(warehouse, runs)
    assert catch_up_due(warehouse, NOW) is due


def test_runs_view_without_command_column_and_with_timestamptz(tmp_path: Path) -> None:
    shanghai = datetime(2026, 11, 29, 10, 30, tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    path = write_runs(tmp_path / "w.duckdb", [("ok", shanghai, "run")], command_column=False, tz_column=True)
    assert last_success(path) == datetime(2026, 11, 29, 10, 30, tzinfo=UTC)
    assert catch_up_due(path, datetime(2026, 11, 30, 10, 0, tzinfo=UTC)) is False
    assert catch_up_due(path, datetime(2026, 11, 30, 11, 0, tzinfo=UTC)) is True


def test_reading_runs_leaves_the_warehouse_untouched(tmp_path: Path) -> None:
    path = write_runs(tmp_path / "tongbi.duckdb", [("ok", NOW, "run")])
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    assert last_success(path) == NOW
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tongbi.duckdb"]


def test_unreadable_warehouse_means_run_now(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "tongbi.duckdb"
    path.write_text("not a database")
    with caplog.at_level(logging.WARNING, logger="tongbi.schedule"):
        assert catch_up_due(path, NOW) is True
    assert "cannot read the last run" in caplog.text
    assert path.read_text() == "not a database"


# --- the loop ------------------------------------------------------------------------------------------------------


def test_a_failing_run_does_not_stop_the_loop(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    stop = threading.Event()
    calls: list[int] = []

    def job(_settings: Settings) -> int:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("parser exploded")
        if len(calls) == 2:
            raise StorageError("tongbi.duckdb: disk full. Free some space.")
        if len(calls) == 3:
            return 1
        stop.set()
        return 0

    with caplog.at_level(logging.INFO, logger="tongbi.schedule"):
        assert serve(settings_in(tmp_path), job=job, clock=lambda: NOW, every=FAST, stop=stop) == 0
    assert calls == [0, 1, 2, 3]
    assert "run crashed; the schedule goes on" in caplog.text
    assert "parser exploded" in caplog.text  # the traceback is logged
    assert "run failed (exit 3): tongbi.duckdb: disk full" in caplog.text
    assert "run finished with exit code 1; the schedule goes on" in caplog.text


def test_run_once_returns_the_exit_code_instead_of_raising(tmp_path: Path) -> None:
    def broken(_settings: Settings) -> int:
        raise StorageError("x: broken. Fix it.")

    assert run_once(settings_in(tmp_path), broken) == 3
    assert run_once(settings_in(tmp_path), lambda _s: 0) == 0


def test_no_catch_up_when_the_last_run_is_young(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_in(tmp_path)
    write_runs(settings.warehouse, [("ok", NOW - timedelta(hours=2), "run")])
    stop = threading.Event()
    calls: list[Settings] = []

    def job(s: Settings) -> int:
        calls.append(s)
        return 0

    threading.Timer(0.3, stop.set).start()
    with caplog.at_level(logging.INFO, logger="tongbi.schedule"):
        assert serve(settings, at="02:00", tz="Asia/Shanghai", job=job, clock=lambda: NOW, stop=stop) == 0
    assert calls == []
    assert "next run at " in caplog.text and "(02:00 Asia/Shanghai)" in caplog.text


def test_catch_up_runs_at_once_when_the_last_run_is_old(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    write_runs(settings.warehouse, [("ok", NOW - timedelta(days=2), "run")])
    stop = threading.Event()
    calls: list[Settings] = []

    def job(s: Settings) -> int:
        calls.append(s)
        stop.set()
        return 0

    timer = threading.Timer(5, stop.set)  # a safety net: the job itself stops the loop
    timer.start()
    started = time.monotonic()
    serve(settings, job=job, clock=lambda: NOW, every=timedelta(hours=1), stop=stop)
    timer.cancel()
    assert calls == [settings]
    assert time.monotonic() - started < 2


def test_daily_schedule_in_a_time_zone() -> None:
    scheduler = build_scheduler(lambda: None, at="02:00", tz="Asia/Shanghai")
    next_run = scheduler.next_run  # naive local time, as `schedule` keeps it
    assert next_run is not None
    as_utc = next_run.astimezone(UTC)  # naive → interpreted as local time
    assert (as_utc.hour, as_utc.minute) == (18, 0)  # 02:00 in Shanghai is 18:00 UTC the day before
    assert timedelta(0) < as_utc - datetime.now(UTC) <= timedelta(days=1)


def test_daily_schedule_in_local_time() -> None:
    next_run = build_scheduler(lambda: None, at="02:00", tz=None).next_run
    assert next_run is not None and (next_run.hour, next_run.minute) == (2, 0)
    assert timedelta(0) < next_run - datetime.now() <= timedelta(days=1)


@pytest.mark.parametrize(("at", "tz", "message"), [
    ("25:00", None, "--at '25:00'.*Give the time of day as HH:MM"),
    ("2am", None, "--at '2am'"),
    ("02:00", "Mars/Olympus", "--tz 'Mars/Olympus' is not a time zone name"),
])
def test_bad_time_or_zone_is_a_usage_error(at: str, tz: str | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_scheduler(lambda: None, at=at, tz=tz)


# --- signals, with a real process --------------------------------------------------------------------------------

CHILD = """
import sys, time
from datetime import timedelta
from pathlib import Path
from jobs.scheduler import serve
from jobs.settings import Settings

def job(settings):
    print("start", flush=True)
    time.sleep(float(sys.argv[2]))
    print("end", flush=True)
    return 0

tmp = Path(sys.argv[1])
settings = Settings(inbox=tmp, schemas=tmp, warehouse=tmp / "none.duckdb", reports=tmp)
code = serve(settings, job=job, every=timedelta(seconds=float(sys.argv[3])))
print("exit", code, flush=True)
sys.exit(code)
"""


def start_child(tmp_path: Path, job_seconds: float, every_seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(tmp_path), str(job_seconds), str(every_seconds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_a_run_finishes_it_then_exits_0(tmp_path: Path, sig: signal.Signals) -> None:
    child = start_child(tmp_path, job_seconds=1.0, every_seconds=0.05)
    assert child.stdout is not None
    assert child.stdout.readline() == "start\n"  # the catch-up run (no warehouse) has begun
    sent = time.monotonic()
    child.send_signal(sig)
    out, err = child.communicate(timeout=10)
    assert child.returncode == 0, err
    assert out == "end\nexit 0\n"  # the run finished; no new run began after the signal
    assert time.monotonic() - sent < 3
    assert f"{sig.name} received; stopping after the current run" in err
    assert "Traceback" not in err


def test_sigterm_while_waiting_exits_0_at_once(tmp_path: Path) -> None:
    child = start_child(tmp_path, job_seconds=0.0, every_seconds=3600)
    assert child.stdout is not None
    assert child.stdout.readline() == "start\n"
    assert child.stdout.readline() == "end\n"
    time.sleep(0.3)  # now waiting an hour for the next run
    sent = time.monotonic()
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=10)
    assert (child.returncode, out) == (0, "exit 0\n"), err
    assert time.monotonic() - sent < 2


# --- with the real nightly job --------------------------------------------------------------------------------------


def test_catch_up_with_the_real_job_records_a_run(tmp_path: Path) -> None:
    from jobs.scheduler import nightly_job

    settings = settings_in(tmp_path)
    settings.inbox.mkdir()
    shutil.copy(ROOT / "warehouse" / "inbox" / "xinjian-jiaoti_2022.txt", settings.inbox)
    stop = threading.Event()
    codes: list[int] = []

    def job(s: Settings) -> int:
        codes.append(nightly_job(s))
        stop.set()
        return codes[-1]

    assert serve(settings, job=job, every=timedelta(hours=1), stop=stop) == 0
    assert codes == [0]
    assert last_success(settings.warehouse) is not None
    assert catch_up_due(settings.warehouse, datetime.now(UTC)) is False
    assert catch_up_due(settings.warehouse, datetime.now(UTC) + timedelta(days=2)) is True


def test_deployment_examples_are_complete() -> None:
    text = deployment_examples()
    assert "0 2 * * * cd /srv/tongbi && flock -n /srv/tongbi/warehouse/.cron.lock /srv/tongbi/.venv/bin/tongbi run" \
        in text
    assert "Persistent=true" in text
    assert "OnCalendar=*-*-* 02:00:00" in text
    assert "ExecStart=/srv/tongbi/.venv/bin/tongbi run" in text
    # cron's flock must not be tongbi's own lock file, or the run would find its own lock taken
    assert "tongbi.duckdb.lock" not in text


def test_a_zone_without_pytz_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pytz", None)  # as if pytz were not installed
    with pytest.raises(UsageError, match="needs the pytz package"):
        build_scheduler(lambda: None, at="02:00", tz="Asia/Shanghai")
    assert build_scheduler(lambda: None, at="02:00", tz=None).next_run is not None
