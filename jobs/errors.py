"""Errors a user can cause; each one is a sentence that names the file and the fix."""

from __future__ import annotations

from pathlib import Path


class TongbiError(Exception):
    """Base class. `str(error)` is the one line the CLI prints."""

    exit_code = 1


class DocumentError(TongbiError):
    """A document could not be read; the others still load."""

    exit_code = 1

    def __init__(self, path: Path | str, problem: str, fix: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {problem}. {fix}")


class CatalogError(TongbiError):
    """A catalog in the schemas folder is invalid; nothing is touched."""

    exit_code = 2

    def __init__(self, path: Path | str, where: str, problem: str, fix: str) -> None:
        self.path = str(path)
        self.where = where
        self.problem = problem
        self.fix = fix
        location = f"{self.path} [{where}]" if where else self.path
        super().__init__(f"{location}: {problem}. {fix}")


class UsageError(TongbiError):
    exit_code = 2


class StorageError(TongbiError):
    """The warehouse could not be opened, written or published."""

    exit_code = 3


class BusyError(TongbiError):
    """Another run holds the lock."""

    exit_code = 75
