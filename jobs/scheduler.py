"""`tongbi schedule`: run the nightly job every day in the foreground, catching up a missed night at start."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import schedule

from jobs.errors import TongbiError, UsageError
from jobs.settings import Settings

Job = Callable[[Settings], int]
Clock = Callable[[], datetime]

# A run that finished with some documents rejected still ran: only a failed run leaves the night to catch up.
SUCCESS_STATUSES = ("ok", "rejected")
MAX_AGE = timedelta(days=1)
# Never sleep longer than this between looks at the schedule, so a suspended machine or a changed clock is noticed.
LONGEST_NAP = 60.0

log = logging.getLogger("tongbi.schedule")


def nightly_job(settings: Settings) -> int:
    """The default job: `tongbi run`, exit code as the command line would give it."""
    from jobs.run import run_job

    return run_job(settings).exit_code


def utc_now() -> datetime:
    return datetime.now(UTC)


def last_success(warehouse: Path) -> datetime | None:
    """When the last successful nightly run finished (UTC), read read-only; None if there is none or no warehouse."""
    from jobs.sql import connect

    if not warehouse.exists():
        return None
    con = connect(warehouse, memory_limit="256MB", threads=1)
    try:
        columns = {row[0] for row in con.execute("select column_name from (describe runs)").fetchall()}
        # `command` is beyond the contract: where it is there, a manual `tongbi ingest` is not a night's run.
        only_runs = "and command = 'run'" if "command" in columns else ""
        row = con.execute(
            "select max(coalesce(finished_at, started_at)) from runs "
            f"where status in (select unnest(?::varchar[])) {only_runs}",
            [list(SUCCESS_STATUSES)],
        ).fetchone()
    finally:
        con.close()
    return _as_utc(row[0]) if row and row[0] is not None else None


def _as_utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"runs.finished_at is {type(value).__name__}, not a timestamp")
    # jobs.run stores UTC in TIMESTAMP columns; a TIMESTAMPTZ value carries its own offset.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def catch_up_due(warehouse: Path, now: datetime, *, max_age: timedelta = MAX_AGE) -> bool:
    """True when no successful run finished within `max_age` before `now` (cron and `schedule` would skip it)."""
    try:
        last = last_success(warehouse)
    except (TongbiError, TypeError) as error:
        log.warning("cannot read the last run from %s (%s); running now", warehouse, error)
        return True
    if last is None:
        log.info("no successful run recorded in %s; running now", warehouse)
        return True
    due = now - last > max_age
    if due:
        log.info("last successful run finished %s, more than %s ago; running now", last.isoformat(), max_age)
    return due


def run_once(settings: Settings, job: Job) -> int:
    """Run the job once; a failure is logged and returned, never raised, so the loop goes on."""
    try:
        code = job(settings)
    except TongbiError as error:
        log.error("run failed (exit %d): %s", error.exit_code, error)
        return error.exit_code
    except Exception:
        log.exception("run crashed; the schedule goes on")
        return 1
    if code != 0:
        log.warning("run finished with exit code %d; the schedule goes on", code)
    else:
        log.info("run finished")
    return code


def build_scheduler(
    task: Callable[[], object], *, at: str, tz: str | None, every: timedelta | None = None,
) -> schedule.Scheduler:
    """A scheduler of its own (not schedule's global one) with one job: daily at `at` in `tz`, or every `every`."""
    scheduler = schedule.Scheduler()
    try:
        if every is not None:
            scheduler.every(every.total_seconds()).seconds.do(task)  # type: ignore[arg-type]
        else:
            scheduler.every().day.at(at, tz).do(task)
    except ModuleNotFoundError as error:
        # `schedule` reads time zones through pytz and imports it only when --tz is given.
        raise UsageError(
            f"--tz {tz!r} needs the pytz package, which is not installed. Install it with `pip install pytz`, "
            "or leave out --tz to use the machine's local time."
        ) from error
    except schedule.ScheduleValueError as error:
        raise UsageError(f"--at {at!r}: {error}. Give the time of day as HH:MM, e.g. --at 02:00.") from error
    except Exception as error:
        # pytz raises its own UnknownTimeZoneError (a KeyError) for a zone it does not know.
        if tz is not None and type(error).__name__ == "UnknownTimeZoneError":
            raise UsageError(
                f"--tz {tz!r} is not a time zone name. Give an IANA name such as Asia/Shanghai or UTC."
            ) from error
        raise
    return scheduler


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop`: a run in progress finishes, then the loop ends. A second SIGINT interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt  # a second Ctrl-C: the user does not want to wait for the run
        log.info("%s received; stopping after the current run", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _log_to_stderr() -> None:
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s tongbi schedule: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def serve(
    settings: Settings,
    *,
    at: str = "02:00",
    tz: str | None = None,
    job: Job = nightly_job,
    clock: Clock = utc_now,
    every: timedelta | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run `job` daily at `at` (in `tz`, default local time) until SIGTERM/SIGINT or `stop`; return 0.

    At start the job runs at once if the last successful run is older than a day. `job`, `clock`, `every` and
    `stop` are there so tests run the loop in milliseconds instead of days.
    """
    _log_to_stderr()
    stop = stop or threading.Event()
    scheduler = build_scheduler(lambda: run_once(settings, job), at=at, tz=tz, every=every)
    with stop_on_signals(stop):
        if catch_up_due(settings.warehouse, clock()):
            run_once(settings, job)
        announced = None
        while not stop.is_set():
            scheduler.run_pending()
            if stop.is_set():
                break
            if scheduler.next_run != announced and every is None:
                announced = scheduler.next_run
                log.info("next run at %s local time (%s %s)", announced, at, tz or "local")
            stop.wait(min(max(scheduler.idle_seconds or 0.0, 0.01), LONGEST_NAP))
    log.info("stopped")
    return 0


def deployment_examples(repo: Path | str = "/srv/tongbi", user: str = "tongbi") -> str:
    """The two alternatives to `tongbi schedule`: a crontab line and a systemd service with a timer."""
    tongbi = f"{repo}/.venv/bin/tongbi"
    return f"""\
# crontab -e  (as {user}): every night at 02:00 machine time; flock -n skips a night if the last run still holds it
0 2 * * * cd {repo} && flock -n {repo}/warehouse/.cron.lock {tongbi} run >> {repo}/warehouse/cron.log 2>&1

# /etc/systemd/system/tongbi.service
[Unit]
Description=tongbi nightly run
After=network-online.target

[Service]
Type=oneshot
User={user}
WorkingDirectory={repo}
ExecStart={tongbi} run
# exit 1 = some documents were rejected, the others loaded: not a failure of the unit
SuccessExitStatus=1
Nice=10

# /etc/systemd/system/tongbi.timer
[Unit]
Description=Run tongbi every night

[Timer]
OnCalendar=*-*-* 02:00:00
# or in a given zone, whatever the machine's: OnCalendar=*-*-* 02:00:00 Asia/Shanghai
# Persistent=true runs a missed night at the next boot (what `tongbi schedule` does by reading the runs view)
Persistent=true
RandomizedDelaySec=5min

[Install]
WantedBy=timers.target

# systemctl daemon-reload && systemctl enable --now tongbi.timer
# systemctl list-timers tongbi.timer; journalctl -u tongbi.service
"""
