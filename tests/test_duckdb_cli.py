"""The DuckDB CLI from PyPI (duckdb-cli, an older DuckDB than the library) opens the warehouse read-only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
BASE_VIEWS = {"documents", "facts", "indicators", "observations", "runs"}

pytestmark = pytest.mark.skipif(not DUCKDB_CLI.exists(), reason="pip install duckdb-cli (in the test extras)")


@pytest.fixture(scope="module")
def warehouse(built: dict[str, Path]) -> Path:
    """The session's warehouse, loaded by `tongbi run` from every real document of the inbox (conftest)."""
    return built["warehouse"]


def cli(warehouse: Path, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-list", "-noheader", str(warehouse), "-c", sql],
        capture_output=True, text=True, timeout=60,
    )


def views(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select view_name from duckdb_views() where not internal order by 1").fetchall()
    return [r[0] for r in rows]


def test_the_cli_is_an_older_duckdb_than_the_library() -> None:
    version = subprocess.run([str(DUCKDB_CLI), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1."), version  # the point of the test: an older reader
    assert duckdb.__version__.startswith("2."), duckdb.__version__


def test_every_view_answers_in_the_cli(warehouse: Path) -> None:
    found = views(warehouse)
    assert set(found) >= BASE_VIEWS
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for view in found:
            expected = con.execute(f"select count(*) from {view}").fetchone()
            done = cli(warehouse, f"select count(*) from {view}")
            assert done.returncode == 0, (view, done.stderr)
            assert expected is not None and done.stdout.strip() == str(expected[0]), view


def test_the_cli_reads_the_rows_the_library_wrote(warehouse: Path) -> None:
    done = cli(warehouse, "select org, period_year from documents where source_file = 'xinjian-jiaoti_2022.txt'")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "南昌市新建区教体局|2022"
    done = cli(warehouse, "select count(*) > 1000, count(distinct doc_id) from facts")
    assert done.stdout.strip() == "true|13"


def test_the_cli_cannot_write_a_read_only_warehouse(warehouse: Path) -> None:
    done = cli(warehouse, "create table scratch as select 1")
    assert done.returncode != 0 and "read-only" in done.stderr.lower()
    assert not warehouse.with_name(warehouse.name + ".wal").exists()
