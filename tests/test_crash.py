"""kill -9 of a real `tongbi run` at random moments never leaves half a warehouse or half a report page."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from jobs.warehouse import CRASH_ENV, CRASH_POINTS, work_root

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_run import table_checksums

ROOT = Path(__file__).resolve().parent.parent
INBOX = ROOT / "warehouse" / "inbox"
SEED = 20261129
RANDOM_KILLS = 30
MAX_RUNS = 150  # runs of the kill loop before it gives up looking for RANDOM_KILLS kills
RUN_SPECIFIC = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")

pytestmark = pytest.mark.slow


def snapshot(root: Path) -> Path:
    """A frozen copy of the code, SQL, templates and catalogs, so every run of the loop runs the same tongbi."""
    for folder in ("jobs", "warehouse/sql", "reports/templates", "reports/sql", "schemas"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


class Lab:
    """An old inbox and warehouse, a new inbox, and how to run `tongbi run` over it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.code = snapshot(root / "code")
        self.old_inbox, self.new_inbox = root / "old-inbox", root / "inbox"
        self.warehouse, self.reports = root / "wh" / "tongbi.duckdb", root / "reports"
        self.baseline, self.baseline_reports = root / "baseline.duckdb", root / "baseline-reports"
        for folder, names in (
            (self.old_inbox, ("xinjian-jiaoti_2022.txt", "jiangxi-gov-report_2026.txt")),
            (self.new_inbox, ("xinjian-jiaoti_2022.txt", "jiangxi-gov-report_2026.txt", "gov-report-cn_2024.txt")),
        ):
            folder.mkdir(parents=True)
            for name in names:
                shutil.copy2(INBOX / name, folder / name)
        # The new inbox also restates a figure: one document gets a new version that supersedes the old.
        changed = self.new_inbox / "xinjian-jiaoti_2022.txt"
        changed.write_text(changed.read_text(encoding="utf-8") + "\n另：全年新增学位1200个。\n", encoding="utf-8")

    def start(self, inbox: Path, **env: str) -> subprocess.Popen[bytes]:
        with (self.root / "stderr.log").open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "jobs.cli", "run", "--inbox", str(inbox), "--warehouse",
                 str(self.warehouse), "--reports", str(self.reports)],
                cwd=self.code, stdout=subprocess.DEVNULL, stderr=log,
                env={**os.environ, "TONGBI_LOG": "info", "TONGBI_SCHEMAS": str(self.code / "schemas"), **env},
            )

    def run(self, inbox: Path, **env: str) -> int:
        return self.start(inbox, **env).wait(timeout=120)

    def restore_old(self) -> None:
        shutil.copyfile(self.baseline, self.warehouse)
        shutil.rmtree(self.reports)
        shutil.copytree(self.baseline_reports, self.reports)

    def wait_for_first_phase(self, proc: subprocess.Popen[bytes]) -> float:
        """Seconds from now until the run logs its first phase (imports done)."""
        started = time.monotonic()
        log = self.root / "stderr.log"
        while proc.poll() is None and b"phase: " not in log.read_bytes():
            time.sleep(0.005)
        return time.monotonic() - started

    def last_phase(self) -> str:
        lines = (self.root / "stderr.log").read_text(encoding="utf-8", errors="replace").splitlines()
        phases = [line.split("phase: ", 1)[1].split()[0] for line in lines if "phase: " in line]
        return phases[-1] if phases else "starting"


def pages(reports: Path) -> dict[str, str]:
    """Every visible report file, without lines naming a run or a clock time (they differ from run to run)."""
    found = {}
    for path in sorted(reports.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(reports).parts):
            text = path.read_text(encoding="utf-8")
            # Lines sorted: the report pages list rows in the order the warehouse returns them, which is
            # not fixed for equal data; what must match is the content.
            found[path.relative_to(reports).as_posix()] = "\n".join(
                sorted(line for line in text.splitlines() if not RUN_SPECIFIC.search(line))
            )
    return found


def assert_whole_pages(reports: Path, old: dict[str, str], new: dict[str, str]) -> None:
    for name, text in pages(reports).items():
        assert text in (old.get(name), new.get(name)), f"{name} is neither the old nor the new page"


def assert_same_pages(found: dict[str, str], expected: dict[str, str]) -> None:
    import difflib

    assert sorted(found) == sorted(expected)
    for name in expected:
        if found[name] != expected[name]:
            diff = difflib.unified_diff(expected[name].splitlines(), found[name].splitlines(), lineterm="", n=1)
            pytest.fail(f"{name} differs from the uninterrupted run's page:\n" + "\n".join(list(diff)[:30]))


def test_kill_9_at_random_moments_leaves_the_warehouse_wholly_old_or_wholly_new(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    assert lab.run(lab.old_inbox) == 0
    shutil.copyfile(lab.warehouse, lab.baseline)
    shutil.copytree(lab.reports, lab.baseline_reports)
    old, old_pages = table_checksums(lab.baseline), pages(lab.reports)

    proc = lab.start(lab.new_inbox)  # the run that is never interrupted
    lab.wait_for_first_phase(proc)
    started = time.monotonic()
    assert proc.wait(timeout=120) == 0
    duration = time.monotonic() - started  # from the first phase to the end
    new, new_pages = table_checksums(lab.warehouse), pages(lab.reports)
    assert old != new

    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    points = list(CRASH_POINTS)
    killed = index = 0
    while points or killed < RANDOM_KILLS + len(CRASH_POINTS):
        # A run that beat its kill does not count: on a machine that got faster since `duration` was measured
        # (another suite finished) a fixed plan of delays ran out before 30 kills landed.
        assert index < MAX_RUNS, f"only {killed} kills in {index} runs: {dict(outcomes)}"
        how = points.pop(0) if points else "random"
        delay = rng.uniform(0, duration) if how == "random" else 0.0
        lab.restore_old()
        if how == "random":
            proc = lab.start(lab.new_inbox)
            lab.wait_for_first_phase(proc)  # the interpreter's start-up is not worth killing 30 times
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        else:
            proc = lab.start(lab.new_inbox, **{CRASH_ENV: how})
        code = proc.wait(timeout=120)
        killed += code == -signal.SIGKILL
        if how == "random" and code == 0:
            duration = delay  # the run now takes less than this: later delays land inside it
        phase = f"{how}:{lab.last_phase()}" if how != "random" else lab.last_phase()
        state = table_checksums(lab.warehouse)
        mixed = sorted(t for t in state if state[t] != old[t] and state[t] != new[t]) or sorted(
            t for t in state if state[t] != old[t]
        )
        assert state in (old, new), f"kill {index} ({how}, {delay:.2f} s, in {phase}) left a mix: {mixed}"
        assert_whole_pages(lab.reports, old_pages, new_pages)
        outcomes[f"{phase} → {'new' if state == new else 'old'}{'' if code else ' (finished first)'}"] += 1
        if index % 10 == 9 or how in ("committed", "checkpointed", "replaced"):
            # What the killed run left behind (working copy, lock file, temp pages) must not stop the next.
            assert lab.run(lab.new_inbox) == 0, (lab.root / "stderr.log").read_text(encoding="utf-8")
            assert table_checksums(lab.warehouse) == new
            assert_same_pages(pages(lab.reports), new_pages)
            assert list(work_root(lab.warehouse).iterdir()) == []
        index += 1

    print(f"\n{killed} kills (seed {SEED}; the uninterrupted run took {duration:.1f} s after start-up):")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {count:3d}  {outcome}")
    assert killed >= RANDOM_KILLS + len(CRASH_POINTS)
    # Both outcomes happened, so kills landed before and after the publish.
    assert any(o.endswith("→ old") for o in outcomes) and any("→ new" in o for o in outcomes)
    # The last state: a clean run over whatever the last kill left gives the uninterrupted run's tables.
    assert lab.run(lab.new_inbox) == 0
    assert table_checksums(lab.warehouse) == new


# ---------------------------------------------------------------- the worker pool


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] != b"Z":
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_kill_9_of_a_run_with_a_worker_pool_leaves_no_worker_behind(tmp_path: Path) -> None:
    import corpus_gen

    lab = Lab(tmp_path)
    inbox = tmp_path / "big-inbox"
    list(corpus_gen.generate(250, inbox, seed=7))  # enough documents for the pool (POOL_MIN) to start
    proc = lab.start(inbox, TONGBI_WORKERS="2")
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while proc.poll() is None and time.monotonic() < deadline:
        workers = [pid for pid in _children(proc.pid)
                   if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        if len(workers) >= 2:
            break
        time.sleep(0.02)
    assert len(workers) >= 2, "the run never started its two workers"
    time.sleep(0.5)  # let them work on documents
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in workers if _alive(pid)] == []  # the kernel killed them with the run
    # Nothing the killed run left (lock, working copy) stops the next one, and it loads everything.
    assert lab.run(inbox, TONGBI_WORKERS="2") == 0, (lab.root / "stderr.log").read_text(encoding="utf-8")
    assert list(work_root(lab.warehouse).iterdir()) == []
