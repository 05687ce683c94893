"""`tongbi sql`: the sandbox refuses what it must, keeps to its limits, and prints three formats."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from jobs.errors import BusyError, StorageError, TongbiError, UsageError
from jobs.settings import ROOT
from jobs.sql import QueryError, QueryResult, format_result, memory_bytes, query

LIMITS: dict[str, Any] = {"timeout": 20.0, "memory_limit": "256MB"}


def build_warehouse(path: Path, *, rows: int = 3) -> Path:
    """A small real warehouse: tables behind views with the contract's names, Chinese text, dates, decimals."""
    con = duckdb.connect(str(path))
    con.execute("""
        create table doc_t as select * from (values
            ('d1', '南昌市新建区教体局', '2022年工作总结', '工作总结', 2022, date '2023-01-28', '新教发〔2023〕1号'),
            ('d2', '国务院', '政府工作报告', '政府工作报告', 2024, date '2025-03-05', null)
        ) t(doc_id, org, title, kind, period_year, published_on, doc_number)""")
    con.execute("create view documents as select * from doc_t")
    con.execute("""
        create table yoy_t as
        select '国务院' as org, 'gdp' as indicator_id, 2000 + i as year, (100 + i)::decimal(12,2) as value,
               1999 + i as prev_year, (99 + i)::decimal(12,2) as prev_value
        from range(?) r(i)""", [rows])
    con.execute("create view yoy as select * from yoy_t")
    con.execute("""create table runs_t as select 1 as run_id, timestamptz '2026-11-28 02:00:00+00' as started_at,
                   'ok' as status""")
    con.execute("create view runs as select * from runs_t")
    con.close()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "tongbi.duckdb")


def fingerprint(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_mtime_ns, stat.st_size


# --- a legitimate query ------------------------------------------------------------------------------------------

SELECT_DOCS = "select doc_id, org, period_year, published_on, doc_number from documents order by doc_id"


def test_query_returns_columns_types_rows(warehouse: Path) -> None:
    result = query(warehouse, SELECT_DOCS, **LIMITS)
    assert result.columns == ("doc_id", "org", "period_year", "published_on", "doc_number")
    assert result.types == ("VARCHAR", "VARCHAR", "INTEGER", "DATE", "VARCHAR")
    assert result.rows[0][1] == "南昌市新建区教体局"
    assert result.rows[1][4] is None


def test_plain_table_is_aligned_for_chinese_text(warehouse: Path) -> None:
    text = format_result(query(warehouse, SELECT_DOCS, **LIMITS), "table", tty=False)
    assert text == (
        "doc_id  org                 period_year  published_on  doc_number\n"
        "------  ------------------  -----------  ------------  -----------------\n"
        "d1      南昌市新建区教体局         2022  2023-01-28    新教发〔2023〕1号\n"
        "d2      国务院                     2024  2025-03-05    NULL\n"
        "(2 rows)\n"
    )


def test_plain_table_keeps_line_breaks_inside_a_cell(warehouse: Path) -> None:
    result = query(warehouse, "select 'a' || chr(10) || '第二行' as x, 12 as n", **LIMITS)
    assert format_result(result, "table", tty=False) == "x        n\n------  --\na       12\n第二行\n(1 row)\n"


def test_rich_table_on_a_terminal_keeps_every_value(warehouse: Path) -> None:
    text = format_result(query(warehouse, SELECT_DOCS, **LIMITS), "table", tty=True)
    for value in ("南昌市新建区教体局", "2023-01-28", "新教发〔2023〕1号", "国务院"):
        assert value in text
    assert "2 rows" in text


def test_csv_reads_back_with_the_csv_module(warehouse: Path) -> None:
    text = format_result(query(warehouse, SELECT_DOCS, **LIMITS), "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["doc_id", "org", "period_year", "published_on", "doc_number"],
        ["d1", "南昌市新建区教体局", "2022", "2023-01-28", "新教发〔2023〕1号"],
        ["d2", "国务院", "2024", "2025-03-05", ""],
    ]


def test_json_is_a_list_of_objects_with_iso_dates_and_chinese_kept(warehouse: Path) -> None:
    text = format_result(query(warehouse, SELECT_DOCS, **LIMITS), "json")
    assert "南昌市新建区教体局" in text  # not \\u-escaped
    assert json.loads(text) == [
        {"doc_id": "d1", "org": "南昌市新建区教体局", "period_year": 2022, "published_on": "2023-01-28",
         "doc_number": "新教发〔2023〕1号"},
        {"doc_id": "d2", "org": "国务院", "period_year": 2024, "published_on": "2025-03-05", "doc_number": None},
    ]


def test_json_numbers_timestamps_and_repeated_names(warehouse: Path) -> None:
    result = query(warehouse, "select value, value as value, started_at, [1, 2] as l from yoy, runs "
                              "where year = 2001", **LIMITS)
    assert json.loads(format_result(result, "json")) == [
        {"value": 101, "value_2": 101, "started_at": "2026-11-28T02:00:00+00:00", "l": [1, 2]},
    ]
    half = query(warehouse, "select 1.25::decimal(6,2) as x", **LIMITS)
    assert json.loads(format_result(half, "json")) == [{"x": 1.25}]


def test_empty_result_still_has_a_header(warehouse: Path) -> None:
    result = query(warehouse, "select org, year from yoy where year > 3000", **LIMITS)
    assert result.rows == ()
    assert format_result(result, "csv") == "org,year\n"
    assert format_result(result, "json") == "[]\n"
    assert format_result(result, "table", tty=False).endswith("(0 rows)\n")


# --- what the sandbox refuses -------------------------------------------------------------------------------------

REFUSED = {
    "read a file": "select * from read_csv('/etc/passwd')",
    "list files": "select * from glob('/etc/*')",
    "write a file": "copy (select 1) to '{tmp}/out.csv'",
    "export": "export database '{tmp}/dump'",
    "attach": "attach '{tmp}/other.duckdb' as other",
    "install": "install httpfs",
    "load": "load httpfs",
    "turn external access back on": "set enable_external_access = true",
    "unlock the configuration": "set lock_configuration = false",
    "reset the lock": "reset lock_configuration",
    "raise the memory limit": "set memory_limit = '64GB'",
    "spill to disk": "set temp_directory = '{tmp}'",
    "write to the warehouse": "insert into doc_t (doc_id) values ('x')",
    "create a table": "create table x as select 1 as a",
    "drop a view": "drop view yoy",
    "make a secret": "create secret (type s3, key_id 'a', secret 'b')",
}


@pytest.mark.parametrize("sql", REFUSED.values(), ids=REFUSED.keys())
def test_sandbox_refuses(warehouse: Path, tmp_path: Path, sql: str) -> None:
    before = fingerprint(warehouse)
    with pytest.raises(QueryError) as caught:
        query(warehouse, sql.format(tmp=tmp_path), **LIMITS)
    message = str(caught.value)
    assert message.startswith(f"{warehouse}: the query was refused: ")
    assert "read-only sandbox" in message
    assert caught.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tongbi.duckdb"]  # no file written, no .wal, no .tmp
    assert fingerprint(warehouse) == before


def test_a_file_named_as_a_table_is_not_read(warehouse: Path) -> None:
    # With external access off DuckDB does not even try the file: the name is just an unknown table.
    with pytest.raises(QueryError, match="Table with name /etc/passwd does not exist"):
        query(warehouse, "select * from '/etc/passwd'", **LIMITS)


def test_python_objects_in_scope_are_not_reachable(warehouse: Path) -> None:
    secret = pl.DataFrame({"password": ["hunter2"]})  # DuckDB's replacement scans would find this by name
    with pytest.raises(QueryError, match="does not exist"):
        query(warehouse, "select * from secret", **LIMITS)
    assert secret.height == 1


def test_the_limits_are_in_force_inside_the_query(warehouse: Path) -> None:
    result = query(warehouse, "select current_setting('memory_limit'), current_setting('enable_external_access'), "
                              "current_setting('access_mode'), current_setting('threads')",
                   timeout=10, memory_limit="300MB", threads=1)
    assert result.rows == (("286.1 MiB", False, "read_only", 1),)


@pytest.mark.parametrize("sql", ["select 1; select 2", "select 1;\nattach 'x.duckdb'", "select 1;select 2;select 3"])
def test_several_statements_are_refused_before_any_runs(warehouse: Path, sql: str) -> None:
    with pytest.raises(QueryError, match=r"holds \d statements\. tongbi sql runs exactly one statement"):
        query(warehouse, sql, **LIMITS)


def test_one_statement_with_a_trailing_semicolon_is_fine(warehouse: Path) -> None:
    assert query(warehouse, "select count(*) from yoy;", **LIMITS).rows == ((3,),)


@pytest.mark.parametrize("sql", ["", "   ", "-- nothing"])
def test_an_empty_query_is_refused(warehouse: Path, sql: str) -> None:
    with pytest.raises(QueryError, match="the query is empty"):
        query(warehouse, sql, **LIMITS)


def test_bad_sql_names_the_problem_and_the_views(warehouse: Path) -> None:
    with pytest.raises(QueryError) as caught:
        query(warehouse, "select nope from yoy", **LIMITS)
    assert "nope" in str(caught.value)
    assert "the views are documents, facts" in str(caught.value)
    with pytest.raises(QueryError, match="does not parse"):
        query(warehouse, "selec 1", **LIMITS)


# --- the warehouse file --------------------------------------------------------------------------------------------


def test_missing_warehouse_says_to_run_first(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        query(tmp_path / "none.duckdb", "select 1", **LIMITS)
    assert "Run `tongbi run` first" in str(caught.value)
    assert caught.value.exit_code == 3
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.parametrize("content", [b"", b"not a database\n" * 100, b"DUCK" + b"\0" * 5000])
def test_damaged_warehouse_is_a_storage_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "tongbi.duckdb"
    path.write_bytes(content)
    with pytest.raises(StorageError, match="cannot open the warehouse read-only") as caught:
        query(path, "select 1", **LIMITS)
    assert caught.value.exit_code == 3
    assert path.read_bytes() == content


@pytest.mark.parametrize("fraction", [2, 3, 5])
def test_truncated_warehouse_is_a_storage_error(tmp_path: Path, fraction: int) -> None:
    path = build_warehouse(tmp_path / "tongbi.duckdb", rows=50_000)  # big enough for blocks past the cut
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // fraction])
    with pytest.raises(StorageError) as caught:
        query(path, "select count(*), sum(value) from yoy", **LIMITS)
    assert not isinstance(caught.value, BusyError)
    assert caught.value.exit_code == 3
    assert "`tongbi run` to publish a fresh one" in str(caught.value)


def test_bad_memory_size_is_a_usage_error(warehouse: Path) -> None:
    with pytest.raises(UsageError, match="not a size DuckDB understands"):
        query(warehouse, "select 1", timeout=5, memory_limit="lots")


def test_published_file_is_unchanged_after_queries(warehouse: Path) -> None:
    before = fingerprint(warehouse)
    time.sleep(0.01)  # an mtime change would be visible
    for sql in [SELECT_DOCS, "checkpoint", "select * from yoy", "create temp table t as select 1 as a",
                "pragma database_size"]:
        query(warehouse, sql, **LIMITS)
    assert fingerprint(warehouse) == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["tongbi.duckdb"]


def test_no_handle_is_left_open_for_a_writer(warehouse: Path) -> None:
    query(warehouse, SELECT_DOCS, **LIMITS)
    writer = duckdb.connect(str(warehouse))  # would fail with a lock error if sql kept the file open
    writer.execute("insert into doc_t (doc_id) values ('d3')")
    writer.close()
    assert query(warehouse, "select count(*) from documents", **LIMITS).rows == ((3,),)


def test_a_writer_elsewhere_gets_a_busy_message(warehouse: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,sys,time; c=duckdb.connect({str(warehouse)!r}); print('ready', "
                               "flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(BusyError, match="another process holds the warehouse open for writing") as caught:
            query(warehouse, "select 1", **LIMITS)
        assert caught.value.exit_code == 75
    finally:
        holder.communicate("", timeout=30)


def test_publishing_by_replace_while_a_query_runs(warehouse: Path, tmp_path: Path) -> None:
    """The nightly run replaces the file atomically; a running query keeps its old view, the next sees the new."""
    newer = build_warehouse(tmp_path / "staging.duckdb", rows=5)
    seen: list[QueryResult] = []
    slow = ("select count(*) from yoy, (select sum(a.range * b.range) as s from range(6000) a, range(6000) b) "
            "where s > 0")
    worker = threading.Thread(target=lambda: seen.append(query(warehouse, slow, **LIMITS)))
    worker.start()
    time.sleep(0.3)
    os.replace(newer, warehouse)
    worker.join(30)
    assert seen and seen[0].rows == ((3,),)
    assert query(warehouse, "select count(*) from yoy", **LIMITS).rows == ((5,),)


# --- time and memory limits --------------------------------------------------------------------------------------


def test_timeout_stops_a_slow_query(warehouse: Path) -> None:
    started = time.monotonic()
    with pytest.raises(QueryError) as caught:
        query(warehouse, "select sum(a.range * b.range) from range(1000000) a, range(1000000) b",
              timeout=1.0, memory_limit="256MB")
    elapsed = time.monotonic() - started
    assert "ran longer than the time limit of 1 s and was stopped" in str(caught.value)
    assert "raise --timeout" in str(caught.value)
    assert elapsed < 5, elapsed


def test_memory_limit_stops_a_runaway_self_join(tmp_path: Path) -> None:
    path = build_warehouse(tmp_path / "tongbi.duckdb", rows=2000)
    runaway = "select count(distinct a.org || a.year || b.org || b.year || c.year) from yoy a, yoy b, yoy c"
    started = time.monotonic()
    with pytest.raises(QueryError) as caught:
        query(path, runaway, timeout=60, memory_limit="64MB", threads=1)
    message = str(caught.value)
    assert "the query needed more memory than the limit of 64MB and was stopped" in message
    assert "raise --memory" in message
    assert time.monotonic() - started < 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tongbi.duckdb"]  # nothing spilled beside it


def test_too_many_rows_points_to_export(warehouse: Path) -> None:
    with pytest.raises(QueryError, match=r"more than 100 rows.*tongbi export --parquet"):
        query(warehouse, "select * from range(1000)", timeout=10, memory_limit="256MB", max_rows=100)
    assert len(query(warehouse, "select * from range(100)", timeout=10, memory_limit="256MB",
                     max_rows=100).rows) == 100


def test_a_result_too_big_for_python_is_stopped_too(warehouse: Path) -> None:
    # Small enough for DuckDB to stream, too big once every value is a Python object.
    wide = "select repeat('同', 1000) || range as s from range(100000)"
    with pytest.raises(QueryError, match="more than the memory limit of 64MB once converted for printing"):
        query(warehouse, wide, timeout=30, memory_limit="64MB")


@pytest.mark.parametrize(("size", "expected"), [
    ("1GB", 10**9), ("500MB", 500 * 10**6), ("2 GiB", 2 * 2**30), ("1.5gb", 1_500_000_000), ("4096", 4096),
    ("80%", 10**9),
])
def test_memory_sizes_are_read_as_duckdb_reads_them(size: str, expected: int) -> None:
    assert memory_bytes(size) == expected


# --- through the command line ----------------------------------------------------------------------------------------


def tongbi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jobs.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, check=False)


def test_cli_prints_csv_and_refuses_with_exit_code(warehouse: Path) -> None:
    ok = tongbi("sql", "--warehouse", str(warehouse), "--format", "csv", "select org from documents order by 1")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "org\n南昌市新建区教体局\n国务院\n", "")
    refused = tongbi("sql", "--warehouse", str(warehouse), "select * from read_csv('/etc/passwd')")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.startswith(f"tongbi: {warehouse}: the query was refused: Permission Error")
    assert "root:" not in refused.stderr


def test_cli_table_when_piped_is_plain(warehouse: Path) -> None:
    out = tongbi("sql", "--warehouse", str(warehouse), "select count(*) as n from yoy")
    assert out.stdout == "n\n-\n3\n(1 row)\n"


def test_every_error_is_a_tongbi_error(warehouse: Path) -> None:
    for sql in ["select 1; select 2", "select * from read_csv('/etc/passwd')", "selec"]:
        with pytest.raises(TongbiError):
            query(warehouse, sql, **LIMITS)


# --- on a warehouse the nightly job built from the real documents ------------------------------------------------


@pytest.fixture(scope="module")
def real_warehouse(built: dict[str, Path]) -> Path:
    """The session's warehouse from the real sample documents (conftest.py); only read here."""
    return built["warehouse"]


def test_every_contract_view_answers_on_a_real_warehouse(real_warehouse: Path) -> None:
    for view in ("documents", "facts", "indicators", "observations", "yoy", "goals", "runs"):
        assert query(real_warehouse, f"select count(*) from {view}", **LIMITS).rows[0][0] > 0, view


def test_real_series_in_three_formats(real_warehouse: Path) -> None:
    sql = ("select org, year, value, prev_value from yoy where indicator_id = 'gdp_growth' and org = '国务院' "
           "and year between 2021 and 2023 order by year")
    result = query(real_warehouse, sql, **LIMITS)
    assert result.rows == (("国务院", 2021, 8.1, 2.3), ("国务院", 2022, 3.0, 8.1), ("国务院", 2023, 5.2, 3.0))
    assert json.loads(format_result(result, "json"))[0] == {"org": "国务院", "year": 2021, "value": 8.1,
                                                            "prev_value": 2.3}
    assert format_result(result, "csv").splitlines()[1] == "国务院,2021,8.1,2.3"
    assert format_result(result, "table", tty=False).splitlines()[2] == "国务院  2021    8.1         2.3"


def test_a_read_only_session_elsewhere_does_not_block_sql(real_warehouse: Path) -> None:
    # Analysts keep the warehouse open read-only in the DuckDB CLI; tongbi sql must still open it.
    cli = ROOT / ".venv" / "bin" / "duckdb"
    holder = subprocess.Popen([str(cli), "-readonly", str(real_warehouse)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write("select 'ready';\n")
        holder.stdin.flush()
        assert "ready" in "".join(holder.stdout.readline() for _ in range(5))
        assert query(real_warehouse, "select count(*) from documents", **LIMITS).rows[0][0] > 0
    finally:
        holder.communicate(".quit\n", timeout=30)
