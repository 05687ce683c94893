"""One run at a time: an exclusive, non-blocking flock on a lock file beside the warehouse."""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from jobs.errors import BusyError, StorageError

# The descriptors of the locks this process holds. A flock belongs to the open file, so a forked child (the
# report step forks render workers) would hold the lock too, and one still busy when the run is killed would
# keep the next run out (exit 75) until it finished. Children close their copies at once instead.
_held: set[int] = set()


def _close_in_child() -> None:
    for fd in _held:
        os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_close_in_child)


def holder(path: Path) -> str:
    """Who holds the lock, as the holder wrote it (pid, host, start time)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "another process (it has not written its name yet)"


@contextmanager
def hold(path: Path) -> Iterator[None]:
    """Hold the lock for the block; raise BusyError at once when another process holds it.

    The kernel drops a flock when its holder dies, even by kill -9, so a stale lock file never blocks.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise StorageError(
            f"{path}: could not create the run lock: {error.strerror}. Make its folder writable and run again."
        ) from error
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(
                f"{path}: another run holds the lock ({holder(path)}). Wait for it to finish and run again."
            ) from None
        except OSError as error:  # e.g. a file system without flock
            raise StorageError(
                f"{path}: could not lock it: {error.strerror}. Put the warehouse on a local file system."
            ) from error
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {started}\n".encode(), 0)
        _held.add(fd)
        try:
            yield
        finally:
            _held.discard(fd)
            # Empty the file before unlocking so nobody reads a finished run as the holder.
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)
