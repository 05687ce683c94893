"""The only writer of the DuckDB warehouse: schema from warehouse/sql, versioned loads, atomic publish.

Analysts keep the published file open read-only, and in DuckDB any holder blocks a writer. So a run never
writes the published file: it copies it into a private working directory beside it, loads the copy in one
explicit transaction, checkpoints and closes it, and `os.replace`s it over the published file. A reader
that had the old file open keeps its old view; the next session sees the new one.

Memory: the rows of the one load transaction live in DuckDB's transaction-local storage until COMMIT (the
document texts alone are ~60 MB per 1,000 documents), so the loading connection's memory_limit is what keeps a
run flat in the size of the inbox: beyond it DuckDB spills those rows to a temporary file inside the run's
private folder (discarded with the working copy), and COMMIT writes them into the file block by block.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from jobs.errors import StorageError, TongbiError
from jobs.records import Document, Fact, Observation
from jobs.settings import ROOT

SQL_DIR = ROOT / "warehouse" / "sql"
# DuckDB 2.0 writes a format DuckDB 1.5 (the CLI on PyPI) refuses; pin the oldest format analysts read.
STORAGE_VERSION = "v1.5.0"
# The loading connection's buffer pool. Everything a load inserts sits in DuckDB's transaction-local storage
# until COMMIT (only a table that fills whole 122,880-row groups is written out early; the document texts never
# do), so without a cap the run's memory grows with the inbox: ~60 MB of text per 1,000 documents. Beyond the
# cap DuckDB spills those blocks to a temporary file in the run's private folder, so memory is flat in N.
# Measured: 512 MB let the run grow to ~650 MB at 10,000 documents; 192 MB made a heavy insert fail for want of
# pinned memory; 256 MB held a 10,000-document replay at ~360 MB with room to spare.
LOAD_MEMORY_LIMIT = "256MB"
# COMMIT reads the transaction's rows 2,048 at a time and must hold the texts of those rows in memory at once,
# spilled or not: 2,100 documents of 40,000 characters failed to commit under the cap above. So COMMIT gets
# the cap raised to what the largest 2,048 consecutive texts of the load need (plus headroom); memory then
# follows the length of the documents, never their number. Loads of usual reports (~20,000 characters) keep
# the cap as it is.
COMMIT_ROWS = 2048
COMMIT_HEADROOM_MIB = 64
LOAD_SETTINGS: dict[str, str | bool | int | float | list[str]] = {
    "storage_compatibility_version": STORAGE_VERSION,
    "memory_limit": LOAD_MEMORY_LIMIT,
}
# Every DuckDB file starts with an 8-byte checksum and then this magic.
_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8
# Test seam for tests/test_crash.py: `TONGBI_CRASH_AT=<point>` makes the process kill -9 itself there, so the
# narrow windows (between COMMIT and CHECKPOINT, between CHECKPOINT and rename, …) are hit for certain.
CRASH_ENV = "TONGBI_CRASH_AT"
CRASH_POINTS = ("read", "loaded", "committed", "checkpointed", "replaced", "reports")


@dataclass(frozen=True, slots=True)
class FileState:
    """How an inbox file looked when it was loaded: unchanged size and mtime mean it is not read again."""

    source_file: str
    size: int
    mtime_ns: int
    bytes_sha256: str
    doc_id: str


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    """One indicator of one catalog, as the `indicators` view shows it."""

    catalog: str
    indicator_id: str
    name: str
    unit: str
    aliases: tuple[str, ...]
    detail: str = "{}"  # the rest of the catalog entry as JSON


@dataclass(frozen=True, slots=True)
class RunRow:
    """One row of the `runs` view."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    documents_seen: int
    documents_loaded: int
    documents_rejected: int
    message: str
    command: str
    pipeline_sha256: str | None


def crash_point(name: str) -> None:
    """Die by SIGKILL here when the crash test asks for it (see CRASH_ENV); otherwise nothing."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------- errors: the one place duckdb errors are mapped


def _fix_for(error: BaseException, path: Path) -> str:
    text = str(error)
    codes = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
    if (isinstance(error, OSError) and error.errno in codes) or re.search(
        r"No space left|File too large|Disk quota|out of disk", text, re.IGNORECASE
    ):
        return (
            f"The disk holding {path.parent} is full (or a file-size limit was hit). Free space there and run "
            "again; the published warehouse was not changed"
        )
    if "not a valid DuckDB database" in text or "Corrupt" in text or "corrupt" in text:
        return (
            f"{path} is not a readable DuckDB warehouse (corrupt or truncated). Restore it from a backup, or "
            "move it away so the next run builds a new warehouse; tongbi does not repair it"
        )
    if isinstance(error, OSError | duckdb.IOException | duckdb.PermissionException):
        return "Check that the file and its folder are writable and the disk is healthy, then run again"
    return (
        "Nothing was published. This is a bug in tongbi or the warehouse was changed outside it; report this "
        "message"
    )


@contextmanager
def storage_errors(path: Path, action: str, *, fix: str | None = None) -> Iterator[None]:
    """Turn any DuckDB or file-system error into a StorageError naming the file and the fix.

    This is the one place where driver errors become tongbi's own.
    """
    try:
        yield
    except TongbiError:
        raise
    except (duckdb.Error, OSError, pl.exceptions.PolarsError) as error:  # polars stages the load batches
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StorageError(f"{path}: could not {action}: {detail}. {fix or _fix_for(error, path)}.") from error


# ---------------------------------------------------------------- schema: one statement per .sql file


def _one_statement(con: duckdb.DuckDBPyConnection, sql: str, source: Path) -> duckdb.Statement:
    """The single statement of a .sql file; a file with more is refused before any of them runs."""
    with storage_errors(source, "parse it", fix="Fix the SQL in that file"):
        statements = con.extract_statements(sql)
    if len(statements) != 1:
        raise StorageError(
            f"{source}: holds {len(statements)} SQL statements. Put exactly one statement in each .sql file."
        )
    return statements[0]


_CHECKED: dict[Path, str] = {}


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """One in-memory connection, only to split SQL into statements (opening one costs ~40 ms)."""
    return duckdb.connect()


def read_sql(name: str, sql_dir: Path = SQL_DIR) -> str:
    """The text of warehouse/sql/load/<name>.sql, checked once per process to hold a single statement."""
    path = sql_dir / "load" / f"{name}.sql"
    if path not in _CHECKED:
        with storage_errors(path, "read it", fix="Reinstall tongbi; its SQL files are missing"):
            sql = path.read_text(encoding="utf-8")
        _one_statement(_parser(), sql, path)
        _CHECKED[path] = sql
    return _CHECKED[path]


def schema_files(sql_dir: Path = SQL_DIR) -> list[tuple[str | None, Path]]:
    """(view name or None for a table, file) in the order they must run: tables, base views, other views."""
    base = sorted(sql_dir.glob("*.sql"))
    tables = [(None, p) for p in base if p.stem.startswith("table_")]
    views = [(p.stem.removeprefix("view_"), p) for p in base if p.stem.startswith("view_")]
    extra = [(p.stem, p) for p in sorted((sql_dir / "views").glob("*.sql"))]
    return [*tables, *views, *extra]


def apply_schema(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    """Create every table and (re)create every view, one statement at a time."""
    for view, path in schema_files(sql_dir):
        sql = path.read_text(encoding="utf-8")
        statement = _one_statement(con, sql, path)
        with storage_errors(path, "create it", fix="Fix the SQL in that file"):
            if view is not None and statement.type == duckdb.StatementType.SELECT:
                # A view file is a bare query named after what it returns (dbt style); wrap it here.
                sql = f"create or replace view {view} as\n{sql.strip().rstrip(';')}"
            elif view is not None:
                # A file that spells out its own CREATE VIEW must still work on an existing warehouse.
                con.execute(f"drop view if exists {view}")
            con.execute(sql)


# ---------------------------------------------------------------- bulk batches as typed polars frames


_FACT_SCHEMA: dict[str, Any] = {
    "doc_id": pl.Utf8, "fact_id": pl.Int32, "value": pl.Float64, "unit": pl.Utf8, "raw": pl.Utf8,
    "qualifier": pl.Utf8, "value_high": pl.Float64, "char_start": pl.Int32, "char_end": pl.Int32,
    "sentence": pl.Utf8, "section": pl.Utf8, "flags": pl.List(pl.Utf8), "sentence_start": pl.Int32,
}
_OBSERVATION_SCHEMA: dict[str, Any] = {
    "doc_id": pl.Utf8, "org": pl.Utf8, "indicator_id": pl.Utf8, "year": pl.Int32, "basis": pl.Utf8,
    "value": pl.Float64, "value_high": pl.Float64, "qualifier": pl.Utf8, "unit": pl.Utf8, "fact_id": pl.Int32,
    "quote": pl.Utf8, "flags": pl.List(pl.Utf8), "note": pl.Utf8, "catalog": pl.Utf8, "extra": pl.Utf8,
}
_INDICATOR_SCHEMA: dict[str, Any] = {
    "catalog": pl.Utf8, "indicator_id": pl.Utf8, "name": pl.Utf8, "unit": pl.Utf8,
    "aliases": pl.List(pl.Utf8), "detail": pl.Utf8,
}
_VERSION_SCHEMA: dict[str, Any] = {
    "position": pl.Int32, "doc_id": pl.Utf8, "org": pl.Utf8, "title": pl.Utf8, "kind": pl.Utf8,
    "period_year": pl.Int32, "published_on": pl.Date, "doc_number": pl.Utf8, "source_file": pl.Utf8,
    "sha256": pl.Utf8, "chars": pl.Int32, "encoding": pl.Utf8, "warnings": pl.List(pl.Utf8), "text": pl.Utf8,
}
_FILE_SCHEMA: dict[str, Any] = {
    "source_file": pl.Utf8, "size": pl.Int64, "mtime_ns": pl.Int64, "bytes_sha256": pl.Utf8,
    "doc_id": pl.Utf8, "seen_at": pl.Datetime("us"),
}


def _frame(rows: Iterable[tuple[Any, ...]], schema: dict[str, Any]) -> pl.DataFrame:
    """Rows → a typed polars frame, built column by column (fast, and typed even when empty)."""
    columns = list(zip(*rows, strict=True)) or [() for _ in schema]
    return pl.DataFrame(dict(zip(schema, map(list, columns), strict=True)), schema=schema)


def fact_frame(batch: Iterable[tuple[str, Sequence[Fact]]]) -> pl.DataFrame:
    """All facts of the given documents, one row each; fact_id is the index in the document's list."""
    return _frame((
        (doc_id, i, f.value, f.unit, f.raw, f.qualifier, f.value_high, f.char_start, f.char_end, f.sentence,
         f.section, list(f.flags), f.sentence_start)
        for doc_id, facts in batch
        for i, f in enumerate(facts)
    ), _FACT_SCHEMA)


def version_frame(docs: Sequence[Document]) -> pl.DataFrame:
    """New versions with their text, numbered 1… in load order."""
    return _frame((
        (i, d.doc_id, d.org, d.title, d.kind, d.period_year, d.published_on, d.doc_number, d.source_file,
         d.sha256, d.chars, d.encoding, list(d.warnings), d.text)
        for i, d in enumerate(docs, start=1)
    ), _VERSION_SCHEMA)


def observation_frame(batch: Iterable[tuple[str | None, Observation]]) -> pl.DataFrame:
    return _frame((
        (o.doc_id, o.org, o.indicator_id, o.year, o.basis, o.value, o.value_high, o.qualifier, o.unit,
         o.fact_id, o.quote, list(o.flags), o.note, catalog,
         json.dumps(o.extra, ensure_ascii=False, sort_keys=True))
        for catalog, o in batch
    ), _OBSERVATION_SCHEMA)


def indicator_frame(rows: Iterable[IndicatorRow]) -> pl.DataFrame:
    return _frame(
        ((r.catalog, r.indicator_id, r.name, r.unit, list(r.aliases), r.detail) for r in rows), _INDICATOR_SCHEMA
    )


def file_frame(states: Iterable[FileState], seen_at: datetime) -> pl.DataFrame:
    return _frame(
        ((s.source_file, s.size, s.mtime_ns, s.bytes_sha256, s.doc_id, seen_at) for s in states), _FILE_SCHEMA
    )


# ---------------------------------------------------------------- the published file and its working copy


def lock_path(published: Path) -> Path:
    return published.with_name(published.name + ".lock")


def work_root(published: Path) -> Path:
    """The private folder beside the warehouse where runs build their working copies."""
    return published.with_name(f".{published.name}.work")


def check_published(published: Path) -> None:
    """Refuse, without touching it, a published warehouse that is empty, not DuckDB, or has a pending WAL."""
    if not published.exists():
        return
    with storage_errors(published, "read the warehouse"):
        size = published.stat().st_size
        with published.open("rb") as handle:
            head = handle.read(_MAGIC_OFFSET + len(_MAGIC))
    problem = None
    if size == 0:
        problem = "is empty (0 bytes)"
    elif head[_MAGIC_OFFSET:] != _MAGIC:
        problem = "is not a DuckDB file (its header has no DuckDB magic)"
    if problem:
        raise StorageError(
            f"{published}: {problem}. Restore it from a backup, or move it away so the next run builds a new "
            "warehouse; tongbi does not repair it and did not change it."
        )
    if _held_for_writing(published):
        # Replacing it now would orphan that program's writes, and its WAL would later meet our file.
        raise StorageError(
            f"{published}: another program has it open for writing (DuckDB without -readonly?). Close it, or "
            "open the warehouse with `duckdb -readonly`, then run again."
        )
    wal = published.with_name(published.name + ".wal")
    if wal.exists():
        # Someone wrote to the published file outside tongbi (or is writing now). Replacing the file would
        # pair their WAL with our file, and deleting it would lose their data: stop and say so.
        raise StorageError(
            f"{published}: has a write-ahead log {wal.name} beside it, so another program wrote to it. Close "
            "that program (or open the file once in duckdb and run CHECKPOINT), then run again."
        )


def _held_for_writing(path: Path) -> bool:
    """Whether a process holds DuckDB's write lock (a POSIX record lock) on the file; readers share theirs."""
    with storage_errors(path, "check who holds the warehouse"):
        fd = os.open(path, os.O_RDONLY)
        try:
            try:
                fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno in (errno.EAGAIN, errno.EACCES):
                    return True
                raise
            fcntl.lockf(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def connect(path: Path, *, read_only: bool = False, label: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that writes the storage format DuckDB 1.5 reads; errors name `label` or `path`."""
    config: dict[str, str | bool | int | float | list[str]] = {} if read_only else dict(LOAD_SETTINGS)
    with storage_errors(label or path, "open the warehouse"):
        return duckdb.connect(str(path), read_only=read_only, config=config)


class WorkingCopy:
    """A private copy of the published warehouse; loaded in one transaction, then published or discarded."""

    def __init__(self, published: Path, run_id: str, *, sql_dir: Path = SQL_DIR) -> None:
        self.published = published
        self.sql_dir = sql_dir
        self.folder = work_root(published) / run_id
        self.path = self.folder / published.name
        self._con: duckdb.DuckDBPyConnection | None = None
        self._in_transaction = False
        # UTF-8 bytes (at most 3 a character) of the last COMMIT_ROWS texts loaded, and the largest such sum.
        self._texts: deque[int] = deque(maxlen=COMMIT_ROWS)
        self._texts_window = self._texts_peak = 0

    # -- life cycle

    @classmethod
    def open(cls, published: Path, run_id: str, *, sql_dir: Path = SQL_DIR) -> WorkingCopy:
        """Copy the published warehouse (or start a new one) and bring its tables and views up to date."""
        check_published(published)
        copy = cls(published, run_id, sql_dir=sql_dir)
        with storage_errors(published, "prepare a working copy of the warehouse"):
            published.parent.mkdir(parents=True, exist_ok=True)
            discard_stale_copies(published)
            copy.folder.mkdir(parents=True)
            if published.exists():
                shutil.copyfile(published, copy.path)
        try:
            # Errors here are about the published file's content, so the message names that file.
            copy._con = connect(copy.path, label=published)
            with storage_errors(published, "read the warehouse"):
                apply_schema(copy.con, sql_dir)
                if not is_as_published(published):
                    verify_tables(copy.con)
        except BaseException:
            copy.discard()
            raise
        return copy

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise StorageError(f"{self.path}: the working copy is closed. This is a bug in tongbi; report it.")
        return self._con

    def close(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            with storage_errors(self.published, "close the working copy"):
                con.close()

    def discard(self) -> None:
        """Drop this run's working copy; the published warehouse is untouched."""
        with suppress(StorageError):
            self.close()
        # The whole folder is this run's unpublished scratch copy (file and any WAL of it together).
        shutil.rmtree(self.folder, ignore_errors=True)

    def publish(self) -> None:
        """Checkpoint, close and atomically replace the published warehouse with this copy."""
        if self._in_transaction:
            raise StorageError(f"{self.path}: publish inside a transaction. This is a bug in tongbi; report it.")
        if self.published.exists():  # keep the permissions an administrator gave the published file
            with storage_errors(self.published, "read the warehouse's permissions"):
                shutil.copymode(self.published, self.path)
        with storage_errors(self.published, "checkpoint the working copy"):
            self.con.execute("checkpoint")
        self.close()
        wal = self.path.with_name(self.path.name + ".wal")
        if wal.exists():
            raise StorageError(f"{self.path}: still has a WAL after CHECKPOINT and close; not publishing it.")
        check_published(self.published)
        with storage_errors(self.published, "publish the new warehouse"):
            _fsync(self.path)
            crash_point("checkpointed")
            os.replace(self.path, self.published)
            crash_point("replaced")
            _fsync(self.published.parent, directory=True)
        remember_published(self.published)
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- the one transaction of a load

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT; any error rolls back and raises. A COMMIT that silently rolled back is caught."""
        token = os.urandom(8).hex()
        self._run("create_transaction_marks")
        with storage_errors(self.published, "start the load transaction"):
            self.con.execute("begin transaction")
        self._in_transaction = True
        try:
            self._run("insert_transaction_mark", {"token": token})
            yield
            crash_point("loaded")
            cap = self._room_to_commit()
            with storage_errors(self.published, "commit the load"):
                self.con.execute("commit")
                if cap is not None:  # the checkpoint at publish keeps the cap
                    self.con.execute(f"set memory_limit = '{cap}'")
            crash_point("committed")
        except BaseException:
            self._in_transaction = False
            # DuckDB may already have ended an aborted transaction; either way nothing was committed.
            with suppress(duckdb.Error):
                self.con.execute("rollback")
            raise
        self._in_transaction = False
        # After an error inside a transaction DuckDB's COMMIT rolls back without raising: check it stuck.
        if self._run("transaction_mark_count", {"token": token}).fetchone() != (1,):
            raise StorageError(
                f"{self.path}: the load transaction was rolled back at COMMIT (an earlier statement failed). "
                "Nothing was published; see the errors above and run again."
            )

    def _count_texts(self, docs: Sequence[Document]) -> None:
        for doc in docs:
            size = 3 * len(doc.text)
            if len(self._texts) == COMMIT_ROWS:
                self._texts_window -= self._texts[0]
            self._texts.append(size)
            self._texts_window += size
            self._texts_peak = max(self._texts_peak, self._texts_window)

    def _room_to_commit(self) -> str | None:
        """Raise the memory cap for COMMIT when the load's longest run of 2,048 texts needs more; the cap to restore.

        Nothing is run when the cap suffices, so an aborted transaction still reaches COMMIT and its detector.
        """
        cap = str(LOAD_SETTINGS["memory_limit"])
        need = self._texts_peak * 5 // 4 // 2**20 + COMMIT_HEADROOM_MIB
        if need <= _mib(cap):
            return None
        with storage_errors(self.published, "raise the memory limit for COMMIT"):
            self.con.execute(f"set memory_limit = '{int(need)}MiB'")
        return cap

    def _run(self, name: str, params: Mapping[str, object] | None = None) -> duckdb.DuckDBPyConnection:
        sql = read_sql(name, self.sql_dir)
        with storage_errors(self.published, f"run {name}.sql on the working copy"):
            return self.con.execute(sql, dict(params) if params else None)

    @contextmanager
    def _staged(self, batch: str, frame: pl.DataFrame, what: str) -> Iterator[None]:
        """`frame` as the temporary view `batch` for the statements of the block.

        Staged through an uncompressed Parquet file in the run's private folder, not handed over as an
        Arrow stream: DuckDB keeps a registered Python object's buffers alive until the transaction ends,
        so in the run's one transaction memory grew with every batch (1.7 GB at 10,000 documents).
        """
        staged = self.folder / f"{batch}.parquet"
        with storage_errors(self.published, f"bulk-load {what} into the working copy"):
            frame.write_parquet(staged, compression="uncompressed", statistics=False)
            self.con.read_parquet(str(staged)).create_view(batch, replace=True)
            try:
                yield
            finally:
                # In an aborted transaction this fails too; the first error is the one to report.
                with suppress(duckdb.Error):
                    self.con.execute(f'drop view if exists "{batch}"').fetchall()
                staged.unlink(missing_ok=True)

    def _insert_batch(self, name: str, batch: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        with self._staged(batch, frame, batch.removesuffix("_batch").replace("_", " ") + " rows"):
            self._run(name)

    def _require_transaction(self) -> None:
        if not self._in_transaction:
            raise StorageError(f"{self.path}: a write outside the load transaction. This is a bug in tongbi.")

    # -- reads

    def meta(self, key: str) -> str | None:
        row = self._run("meta_value", {"key": key}).fetchone()
        return None if row is None else str(row[0])

    def file_states(self) -> dict[str, FileState]:
        rows = self._run("inbox_file_states").fetchall()
        return {r[0]: FileState(r[0], int(r[1]), int(r[2]), r[3], r[4]) for r in rows}

    def current_documents(self, doc_ids: Sequence[str] | None = None) -> list[Document]:
        """Current versions (all, or those in doc_ids), rebuilt from the stored text (to rematch them)."""
        rows = self._run("current_documents", {"doc_ids": None if doc_ids is None else list(doc_ids)}).fetchall()
        return [
            Document(
                doc_id=r[0], source_file=r[1], sha256=r[2], text=r[3], org=r[4], title=r[5], kind=r[6],
                period_year=int(r[7]), published_on=_as_date(r[8]), doc_number=r[9], encoding=r[10],
                warnings=tuple(r[11] or ()),
            )
            for r in rows
        ]

    def known_doc_ids(self) -> set[str]:
        """Every doc_id ever loaded, current or superseded."""
        return {str(r[0]) for r in self._run("known_doc_ids").fetchall()}

    def current_doc_ids(self) -> list[str]:
        """The doc_id of every current version, oldest load first."""
        return [str(r[0]) for r in self._run("current_doc_ids").fetchall()]

    # -- writes (inside `transaction()`)

    def set_meta(self, key: str, value: str) -> None:
        self._require_transaction()
        self._run("delete_meta", {"key": key})
        self._run("insert_meta", {"key": key, "value": value})

    def add_version(self, doc: Document, *, run_id: str, loaded_at: datetime) -> None:
        """Make `doc` the current version, retiring the current one with its source file or org/kind/year."""
        self.add_versions([doc], run_id=run_id, loaded_at=loaded_at)

    def add_versions(self, docs: Sequence[Document], *, run_id: str, loaded_at: datetime) -> None:
        """Make each of `docs` a current version, as `add_version` one after another would.

        Three statements per batch instead of three per document. The caller keeps two documents with the
        same source file or org/kind/year out of one batch (the later one must retire the earlier).
        """
        self._require_transaction()
        frame = version_frame(docs)
        if frame.height == 0:
            return
        self._count_texts(docs)
        with self._staged("version_batch", frame, "document versions"):
            self._run("supersede_version_batch", {"loaded_at": loaded_at})
            self._run("insert_version_batch", {"loaded_at": loaded_at, "run_id": run_id})
            self._run("insert_text_batch")

    def add_facts(self, batch: Iterable[tuple[str, Sequence[Fact]]]) -> None:
        self._require_transaction()
        self._insert_batch("insert_fact_rows", "fact_batch", fact_frame(batch))

    def replace_facts(self, doc_ids: Iterable[str], batch: Iterable[tuple[str, Sequence[Fact]]]) -> None:
        """The facts of these documents become exactly `batch` (the extractor changed)."""
        self._require_transaction()
        self._run("delete_fact_rows", {"doc_ids": sorted(set(doc_ids))})
        self._insert_batch("insert_fact_rows", "fact_batch", fact_frame(batch))

    def replace_observations(
        self, doc_ids: Iterable[str], batch: Iterable[tuple[str | None, Observation]]
    ) -> None:
        """The observations of these documents become exactly `batch`."""
        self._require_transaction()
        self._run("delete_observation_rows", {"doc_ids": sorted(set(doc_ids))})
        self._insert_batch("insert_observation_rows", "observation_batch", observation_frame(batch))

    def replace_fact_frame(self, doc_ids: Sequence[str], frame: pl.DataFrame) -> None:
        """Delete the facts of `doc_ids` (skipped when empty: new documents have none), then load `frame`.

        Every document of `frame` must be new or in `doc_ids`: its rows are inserted without looking for old ones.
        """
        self._require_transaction()
        if doc_ids:
            self._run("delete_fact_rows", {"doc_ids": sorted(set(doc_ids))})
        self._insert_batch("insert_new_fact_rows", "fact_batch", frame)

    def replace_observation_frame(self, doc_ids: Sequence[str], frame: pl.DataFrame) -> None:
        """Delete the observations of `doc_ids` (skipped when empty), then load `frame`."""
        self._require_transaction()
        if doc_ids:
            self._run("delete_observation_rows", {"doc_ids": sorted(set(doc_ids))})
        self._insert_batch("insert_observation_rows", "observation_batch", frame)

    def replace_indicators(self, rows: Iterable[IndicatorRow]) -> None:
        self._require_transaction()
        self._run("delete_indicator_rows")
        self._insert_batch("insert_indicator_rows", "indicator_batch", indicator_frame(rows))

    def record_files(self, states: Sequence[FileState], seen_at: datetime) -> None:
        self._require_transaction()
        self._run("delete_inbox_files", {"source_files": sorted({s.source_file for s in states})})
        self._insert_batch("insert_inbox_files", "inbox_file_batch", file_frame(states, seen_at))

    def record_run(self, row: RunRow) -> None:
        self._require_transaction()
        self._run("insert_run_log", {
            "run_id": row.run_id, "started_at": row.started_at, "finished_at": row.finished_at,
            "status": row.status, "documents_seen": row.documents_seen,
            "documents_loaded": row.documents_loaded, "documents_rejected": row.documents_rejected,
            "message": row.message, "command": row.command, "pipeline_sha256": row.pipeline_sha256,
        })


def verify_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Read every block of every table: a truncated file opens fine and fails only when its data is read."""
    tables = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() order by 1"
    ).fetchall()
    for (table,) in tables:
        # hash of the whole row touches every column, so no block is skipped by column pruning.
        con.execute(f'select bit_xor(hash(t)) from "{table}" as t').fetchall()


def _published_stamp(published: Path) -> Path:
    return published.with_name(f".{published.name}.published")


def _identity(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_dev} {stat.st_ino} {stat.st_size} {stat.st_mtime_ns}\n"


def remember_published(published: Path) -> None:
    """Note the identity of the file this run published and checked, so the next run need not read it all.

    Best effort: without the note the next run verifies every block again, which is only slower.
    """
    stamp = _published_stamp(published)
    with suppress(OSError):
        temporary = stamp.with_name(stamp.name + ".new")
        temporary.write_text(_identity(published), encoding="utf-8")
        os.replace(temporary, stamp)


def is_as_published(published: Path) -> bool:
    """Whether the published file is still exactly the one tongbi wrote (device, inode, size, mtime).

    Anything else — truncated, overwritten, copied in from a backup — is read block by block before use.
    """
    try:
        return _published_stamp(published).read_text(encoding="utf-8") == _identity(published)
    except OSError:
        return False


_UNITS = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def _mib(setting: str) -> float:
    """A memory size as DuckDB spells it ("256MB", "244.1 MiB", "1.5 GiB") in MiB."""
    found = re.fullmatch(r"\s*([0-9.]+)\s*([KMG]i?B)\s*", setting, re.IGNORECASE)
    if found is None:
        raise ValueError(f"not a memory size: {setting!r}")
    return float(found.group(1)) * _UNITS[found.group(2).upper()] / 2**20


def _as_date(value: object) -> date | None:
    return value if isinstance(value, date) else None


def discard_stale_copies(published: Path) -> list[Path]:
    """Remove working copies that killed runs left behind (called under the run lock, so none is live)."""
    root = work_root(published)
    stale = sorted(root.iterdir()) if root.is_dir() else []
    for folder in stale:
        # Each folder is one unpublished scratch copy, discarded whole; published data is never here.
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def record_run_only(published: Path, row: RunRow, *, sql_dir: Path = SQL_DIR) -> None:
    """Publish just a `runs` row for a run that failed before it could publish its load."""
    copy = WorkingCopy.open(published, row.run_id + "-log", sql_dir=sql_dir)
    try:
        with copy.transaction():
            copy.record_run(row)
        copy.publish()
    finally:
        copy.discard()


def published_meta(published: Path, key: str) -> str | None:
    """A value of warehouse_meta in the published warehouse, read through a read-only connection."""
    con = connect(published, read_only=True)
    try:
        with storage_errors(published, "read the warehouse"):
            row = con.execute(read_sql("meta_value"), {"key": key}).fetchone()
    finally:
        con.close()
    return None if row is None else str(row[0])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
