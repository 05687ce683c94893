"""`tongbi sql`: one read-only query against the warehouse, in a sandbox with time and memory limits."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import shutil
import sys
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal
from uuid import UUID

import duckdb

from jobs.errors import BusyError, StorageError, TongbiError, UsageError

Format = Literal["table", "csv", "json"]

# Rows beyond this are not fetched into Python: DuckDB's memory limit does not cover the Python objects.
MAX_ROWS = 200_000
FETCH_BATCH = 10_000
# How long an interrupted query may take to notice the interrupt before we stop waiting for it.
INTERRUPT_GRACE = 5.0
VIEWS = "documents, facts, indicators, observations, yoy, goals, runs"


class QueryError(UsageError):
    """The query was refused, failed, or hit a limit; nothing was changed."""

    def __init__(self, warehouse: Path | str, problem: str, fix: str) -> None:
        self.warehouse = str(warehouse)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.warehouse}: {problem}. {fix}")


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]


def sandbox_config(*, memory_limit: str, threads: int) -> dict[str, str | bool | int | float | list[str]]:
    """The settings a `tongbi sql` connection is opened with; `lock_configuration` keeps a query from undoing them."""
    return {
        "access_mode": "READ_ONLY",
        # No files, no network, no ATTACH/COPY/INSTALL/LOAD, no Python replacement scans.
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "memory_limit": memory_limit,
        "threads": threads,
        # No spilling: a query over the limit stops instead of filling the disk beside the warehouse.
        "temp_directory": "",
        "lock_configuration": True,
    }


def connect(warehouse: Path, *, memory_limit: str = "1GB", threads: int = 2) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only in the sandbox; raise a TongbiError a user can act on."""
    if not warehouse.exists():
        raise StorageError(
            f"{warehouse}: there is no warehouse here yet. Run `tongbi run` first to load the inbox, "
            "or pass --warehouse FILE (or set TONGBI_WAREHOUSE) to point at an existing one."
        )
    _check_memory_size(warehouse, memory_limit)
    config = sandbox_config(memory_limit=memory_limit, threads=threads)
    # The progress bar is a per-connection option: set it, then lock everything.
    lock = config.pop("lock_configuration")
    try:
        con = duckdb.connect(str(warehouse), read_only=True, config=config)
    except duckdb.Error as error:
        raise _storage_error(warehouse, error) from error
    try:
        con.execute("set enable_progress_bar = false")
        con.execute("set lock_configuration = ?", [lock])
    except BaseException:
        con.close()
        raise
    return con


def _check_memory_size(warehouse: Path, memory_limit: str) -> None:
    try:
        duckdb.connect(":memory:", config={"memory_limit": memory_limit}).close()
    except duckdb.Error as error:
        raise UsageError(
            f"{warehouse}: --memory {memory_limit!r} is not a size DuckDB understands. "
            "Give a size such as 500MB or 2GB."
        ) from error


def _storage_error(warehouse: Path, error: Exception) -> TongbiError:
    message = str(error)
    # Only DuckDB's file-lock message: "block" in a corruption message must not read as busy.
    if "could not set lock" in message.lower() or "conflicting lock" in message.lower():
        return BusyError(
            f"{warehouse}: another process holds the warehouse open for writing ({_first_line(message)}). "
            "Try again when it has finished; `tongbi run` itself publishes by replacing the file and does not block."
        )
    return StorageError(
        f"{warehouse}: cannot open the warehouse read-only ({_first_line(message)}). "
        "If the file is damaged, run `tongbi run` to publish a fresh one, or restore it from a backup."
    )


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def single_statement(con: duckdb.DuckDBPyConnection, warehouse: Path, sql: str) -> str:
    """The one statement in `sql`; several statements would each run, and the earlier ones would stick."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryError(warehouse, f"the query does not parse: {_first_line(str(error))}",
                         "Fix the SQL; the views are " + VIEWS) from error
    if not statements:
        raise QueryError(warehouse, "the query is empty", "Give one SQL statement, e.g. \"select * from yoy\"")
    if len(statements) != 1:
        raise QueryError(
            warehouse, f"the query holds {len(statements)} statements",
            "tongbi sql runs exactly one statement; run them one at a time",
        )
    return sql


def query(
    warehouse: Path, sql: str, *, timeout: float, memory_limit: str, threads: int = 2, max_rows: int = MAX_ROWS,
) -> QueryResult:
    """Run one read-only statement; stop it after `timeout` seconds or when it needs more than `memory_limit`."""
    con = connect(warehouse, memory_limit=memory_limit, threads=threads)
    try:
        single_statement(con, warehouse, sql)
        limits = _Limits(timeout=timeout, memory_limit=memory_limit, max_rows=max_rows)
        return _run_with_timeout(con, warehouse, sql, limits)
    finally:
        con.close()


@dataclass(frozen=True)
class _Limits:
    timeout: float
    memory_limit: str
    max_rows: int


def _run_with_timeout(con: duckdb.DuckDBPyConnection, warehouse: Path, sql: str, limits: _Limits) -> QueryResult:
    # DuckDB has no statement timeout: the query runs on a thread and the connection is interrupted from here.
    outcome: list[QueryResult | BaseException] = []

    def work() -> None:
        try:
            outcome.append(_execute(con, sql, limits))
        except BaseException as error:  # handed to the caller's thread
            outcome.append(error)
    worker = threading.Thread(target=work, name="tongbi-sql", daemon=True)
    worker.start()
    try:
        worker.join(limits.timeout)
    except KeyboardInterrupt:
        con.interrupt()
        worker.join(INTERRUPT_GRACE)
        raise
    if worker.is_alive():
        con.interrupt()
        worker.join(INTERRUPT_GRACE)
        raise QueryError(
            warehouse, f"the query ran longer than the time limit of {limits.timeout:g} s and was stopped",
            "Narrow it (a WHERE, a LIMIT, fewer joined rows) or raise --timeout",
        )
    result = outcome[0]
    if isinstance(result, QueryResult):
        return result
    raise _query_error(warehouse, result, limits) from result


def _execute(con: duckdb.DuckDBPyConnection, sql: str, limits: _Limits) -> QueryResult:
    cursor = con.execute(sql)
    description = cursor.description or []
    columns = tuple(str(d[0]) for d in description)
    types = tuple(str(d[1]) for d in description)
    rows: list[tuple[object, ...]] = []
    # DuckDB's memory limit stops at the result; the Python objects made from it get the same budget again.
    budget, used = memory_bytes(limits.memory_limit), 0
    while description:
        batch = cursor.fetchmany(FETCH_BATCH)
        if not batch:
            break
        rows.extend(tuple(row) for row in batch)
        used += sum(_row_bytes(row) for row in batch)
        if len(rows) > limits.max_rows:
            raise _TooBig(f"more than {limits.max_rows:,} rows")
        if used > budget:
            raise _TooBig(f"more than the memory limit of {limits.memory_limit} once converted for printing")
    return QueryResult(columns, types, tuple(rows))


def _row_bytes(row: tuple[object, ...]) -> int:
    return sys.getsizeof(row) + sum(sys.getsizeof(value) for value in row)


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_bytes(size: str) -> int:
    """'500MB' → 500_000_000, as DuckDB reads it (KB = 1000, KiB = 1024); a size it cannot read gives 1 GB."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*", size, re.IGNORECASE)
    if not match:
        return 10**9
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


class _TooBig(Exception):
    """The result is too big to hand to Python; DuckDB itself stayed within its limits."""


def _query_error(warehouse: Path, error: BaseException, limits: _Limits) -> BaseException:
    message = _first_line(str(error))
    if isinstance(error, _TooBig):
        return QueryError(
            warehouse, f"the query returns {error}",
            "Add a LIMIT or an aggregate, or use `tongbi export --parquet DIR` for bulk data",
        )
    if isinstance(error, duckdb.OutOfMemoryException):
        return QueryError(
            warehouse, f"the query needed more memory than the limit of {limits.memory_limit} and was stopped",
            "Narrow it (a WHERE, a LIMIT, fewer joined rows) or raise --memory",
        )
    if isinstance(error, duckdb.IOException | duckdb.SerializationException):
        # With file access off, an I/O error can only come from the warehouse file itself.
        return StorageError(
            f"{warehouse}: the warehouse file is damaged or unreadable ({message}). "
            "Run `tongbi run` to publish a fresh one, or restore it from a backup."
        )
    if isinstance(error, duckdb.InterruptException):
        return QueryError(warehouse, "the query was interrupted", "Run it again")
    if isinstance(error, duckdb.PermissionException) or "read-only" in message or "locked" in message:
        return QueryError(
            warehouse, f"the query was refused: {message}",
            "tongbi sql is a read-only sandbox without file, network or extension access and with fixed settings; "
            f"query the views ({VIEWS}), or use `tongbi export --parquet DIR` to take data elsewhere",
        )
    if isinstance(error, duckdb.Error):
        return QueryError(warehouse, f"the query failed: {message}", "Fix the SQL; the views are " + VIEWS)
    return error


# --- output formats ---------------------------------------------------------------------------------------------


def format_result(result: QueryResult, fmt: Format, *, tty: bool | None = None) -> str:
    """The result as an aligned table, CSV (header row first) or a JSON list of objects."""
    if fmt == "csv":
        return _csv(result)
    if fmt == "json":
        return _json(result)
    if fmt == "table":
        interactive = os.isatty(1) if tty is None else tty
        return _rich_table(result) if interactive else _plain_table(result)
    raise UsageError(f"unknown format {fmt!r}. Choose one of table, csv, json.")


def _text(value: object) -> str:
    """One cell as text: ISO dates, NULL spelled out as in the DuckDB CLI."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _width(text: str) -> int:
    # Chinese characters take two columns on a terminal; without this the columns do not line up.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def _is_numeric(type_name: str) -> bool:
    return type_name.startswith(_NUMERIC)


def _plain_table(result: QueryResult) -> str:
    # A cell may hold several lines (EXPLAIN plans, sentences with breaks): it keeps them, the row grows taller.
    cells = [[_text(v).split("\n") for v in row] for row in result.rows]
    widths = [max([_width(name)] + [_width(part) for row in cells for part in row[i]])
              for i, name in enumerate(result.columns)]
    right = [_is_numeric(t) for t in result.types]

    def line(values: Sequence[str]) -> str:
        return "  ".join(_pad(v, w, r) for v, w, r in zip(values, widths, right, strict=True)).rstrip()

    out = [line(result.columns), line(["-" * w for w in widths])]
    for row in cells:
        height = max((len(parts) for parts in row), default=1)
        out += [line([parts[k] if k < len(parts) else "" for parts in row]) for k in range(height)]
    out.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def _rich_table(result: QueryResult) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, caption=f"{len(result.rows)} rows")
    for name, type_name in zip(result.columns, result.types, strict=True):
        table.add_column(name, justify="right" if _is_numeric(type_name) else "left", overflow="fold")
    for row in result.rows:
        table.add_row(*(_text(v) for v in row))
    buffer = io.StringIO()
    width = shutil.get_terminal_size().columns
    Console(file=buffer, force_terminal=True, highlight=False, width=width).print(table)
    return buffer.getvalue()


def _csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if v is None else _csv_cell(v) for v in row])
    return buffer.getvalue()


def _csv_cell(value: object) -> object:
    if isinstance(value, list | dict | tuple):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return _jsonable(value) if not isinstance(value, int | float | str) else value


def _json(result: QueryResult) -> str:
    keys = _unique(result.columns)
    objects = [dict(zip(keys, (_jsonable(v) for v in row), strict=True)) for row in result.rows]
    return json.dumps(objects, ensure_ascii=False, indent=2) + "\n"


def _unique(columns: Sequence[str]) -> list[str]:
    """Column names usable as JSON keys: a repeated name gets `_2`, `_3`… instead of overwriting."""
    seen: dict[str, int] = {}
    keys = []
    for name in columns:
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return keys


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)
