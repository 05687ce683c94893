"""jobs.lock: one run at a time, and a killed run's lock is free at once, even with forked children alive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from jobs import lock
from jobs.errors import BusyError

ROOT = Path(__file__).resolve().parent.parent


def test_a_killed_holders_lock_is_free_while_a_child_it_forked_still_runs(tmp_path: Path) -> None:
    path = tmp_path / "tongbi.duckdb.lock"
    holder = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from jobs import lock
        with lock.hold(Path({str(path)!r})):
            child = os.fork()  # as the report step's render workers are forked
            if child == 0:
                time.sleep(60)
                os._exit(0)
            print(child, flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    try:
        with pytest.raises(BusyError, match=r"another run holds the lock \(pid \d+"), lock.hold(path):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert Path(f"/proc/{child}").exists()  # the forked child outlives the run …
        with lock.hold(path):  # … and does not hold its lock
            assert path.read_text(encoding="utf-8").startswith(f"pid {os.getpid()} ")
    finally:
        os.kill(child, signal.SIGKILL)
        proc.kill()
        proc.wait()


def test_the_lock_is_released_and_emptied_after_the_block(tmp_path: Path) -> None:
    path = tmp_path / "w.lock"
    with lock.hold(path), pytest.raises(BusyError), lock.hold(path):
        pass
    assert path.read_text(encoding="utf-8") == ""
    started = time.monotonic()
    with lock.hold(path):
        pass
    assert time.monotonic() - started < 1
