"""`tongbi export --parquet`: every view as hive-partitioned Parquet that DuckDB and Spark read back exactly."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from jobs.errors import StorageError
from jobs.export import VIEWS, export_parquet
from jobs.run import run_job
from jobs.settings import ROOT, Settings

# The README's example, the same query in both engines (the Spark one over a temp view of the same folder).
README_DUCKDB = """
select org, year, value, prev_year, prev_value, change, change_pct
from read_parquet('{dir}/yoy/**/*.parquet', hive_partitioning = true)
where indicator_id = 'new_urban_jobs'
order by org, year
"""
README_SPARK = """
select org, year, value, prev_year, prev_value, change, change_pct
from yoy
where indicator_id = 'new_urban_jobs'
order by org, year
"""


def make_warehouse(root: Path, documents: list[Path]) -> Path:
    """A real warehouse: the nightly job over an inbox holding the given documents."""
    settings = Settings(inbox=root / "inbox", schemas=ROOT / "schemas", warehouse=root / "tongbi.duckdb",
                        reports=root / "reports")
    settings.inbox.mkdir(parents=True)
    for path in documents:
        shutil.copy(path, settings.inbox)
    result = run_job(settings, reports=False)
    assert result.exit_code == 0, result
    return settings.warehouse


@pytest.fixture(scope="module")
def warehouse(built: dict[str, Path]) -> Path:
    """The session's warehouse from the real sample documents (conftest.py); only read here."""
    return built["warehouse"]


@pytest.fixture(scope="module")
def exported(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "parquet"
    export_parquet(warehouse, out)
    return out


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def columns(con: duckdb.DuckDBPyConnection, view: str) -> str:
    return ", ".join(f'"{row[0]}"' for row in con.execute(f"describe {view}").fetchall())


def test_returns_one_folder_per_view_and_leaves_no_temporary_files(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = export_parquet(warehouse, out)
    assert paths == [out / name for name in
                     ("documents", "facts", "indicators", "observations", "yoy", "goals", "runs")]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)


def test_yoy_reads_back_in_duckdb_to_exactly_the_yoy_rows(warehouse: Path, exported: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    cols = columns(con, "yoy")
    expected = rows(con, f"select {cols} from yoy")
    got = rows(con, f"select {cols} from read_parquet('{exported}/yoy/**/*.parquet', hive_partitioning = true)")
    assert len(expected) > 100  # the real corpus gives a real series
    assert got == expected


@pytest.mark.parametrize("view", [v.name for v in VIEWS])
def test_every_view_reads_back_row_for_row(warehouse: Path, exported: Path, view: str) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    cols = columns(con, view)
    parquet = f"read_parquet('{exported}/{view}/**/*.parquet', hive_partitioning = true)"
    total = con.execute(f"select count(*) from {view}").fetchone()
    assert total is not None and total[0] > 0
    assert con.execute(f"select count(*) from {parquet}").fetchone() == total
    for left, right in ((view, parquet), (parquet, view)):
        missing = con.execute(f"select {cols} from {left} except all select {cols} from {right}").fetchall()
        assert missing == [], f"{view}: rows of {left} not in {right}"


def test_partitions_are_by_year(warehouse: Path, exported: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    for view, column, source in [("yoy", "year", "yoy"), ("observations", "year", "observations"),
                                 ("goals", "year", "goals"), ("documents", "period_year", "documents"),
                                 ("facts", "period_year", "documents")]:
        years = {row[0] for row in con.execute(f"select distinct {column} from {source}").fetchall()}
        folders = {p.name for p in (exported / view).iterdir()}
        assert folders == {f"{column}={year}" for year in years}, view
        assert all(p.suffix == ".parquet" for p in (exported / view).rglob("*") if p.is_file())
    assert [p.name for p in (exported / "runs").iterdir()] == ["data_0.parquet"]
    assert [p.name for p in (exported / "indicators").iterdir()] == ["data_0.parquet"]


def test_partition_column_lives_in_the_path_only(exported: Path) -> None:
    # Spark refuses a column that is both in the files and in the folder names.
    con = duckdb.connect()
    names = [row[0] for row in con.execute(
        f"describe select * from read_parquet('{exported}/yoy/**/*.parquet', hive_partitioning = false)"
    ).fetchall()]
    assert "year" not in names and "org" in names


def test_facts_carry_their_documents_year(warehouse: Path, exported: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    wrong = con.execute(
        f"select count(*) from read_parquet('{exported}/facts/**/*.parquet', hive_partitioning = true) f "
        "join documents d using (doc_id) where f.period_year <> d.period_year"
    ).fetchone()
    assert wrong == (0,)


def test_warehouse_is_untouched(warehouse: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest(), warehouse.stat().st_mtime_ns
    export_parquet(warehouse, tmp_path / "out")
    assert (hashlib.sha256(warehouse.read_bytes()).hexdigest(), warehouse.stat().st_mtime_ns) == before


def test_a_second_export_replaces_the_first_and_keeps_other_files(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    stale = out / "yoy" / "year=1999" / "data_0.parquet"
    stale.parent.mkdir(parents=True)
    duckdb.connect().execute(f"copy (select 1 as x) to '{stale}' (format parquet)")
    (out / "notes.txt").write_text("mine")
    export_parquet(warehouse, out)
    assert not stale.exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_an_empty_warehouse_exports_schemas_without_rows(tmp_path: Path) -> None:
    empty = make_warehouse(tmp_path / "empty", [])
    out = tmp_path / "out"
    export_parquet(empty, out)
    con = duckdb.connect()
    for view in ("yoy", "facts", "documents"):
        parquet = f"read_parquet('{out}/{view}/**/*.parquet', hive_partitioning = true)"
        assert con.execute(f"select count(*) from {parquet}").fetchone() == (0,)
    assert "change_pct" in [r[0] for r in con.execute(f"describe select * from '{out}/yoy/data_0.parquet'").fetchall()]
    assert con.execute(f"select count(*) from '{out}/runs/**/*.parquet'").fetchone() == (1,)


def test_odd_folder_names_are_quoted(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "it's 导出"
    export_parquet(warehouse, out)
    assert any((out / "yoy").iterdir())


def test_missing_warehouse_says_to_run_first(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"Run `tongbi run` first") as caught:
        export_parquet(tmp_path / "none.duckdb", tmp_path / "out")
    assert caught.value.exit_code == 3
    assert not (tmp_path / "out").exists()


def test_truncated_warehouse_names_the_warehouse_not_the_folder(warehouse: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "tongbi.duckdb"
    data = warehouse.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError) as caught:
        export_parquet(damaged, tmp_path / "out")
    assert str(caught.value).startswith(f"{damaged}: ")
    assert "`tongbi run` to publish a fresh one" in str(caught.value)
    assert list((tmp_path / "out").iterdir()) == []  # the half-written staging folder is gone


def test_unwritable_folder_is_a_storage_error(warehouse: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot write the export"):
        export_parquet(warehouse, blocker / "out")


def test_cli_prints_the_folders(warehouse: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jobs.cli", "export", "--warehouse", str(warehouse), "--parquet", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(tmp_path / v.name) for v in VIEWS]


# --- Apache Spark in local mode -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_spark_reads_exactly_the_yoy_rows_duckdb_gives(warehouse: Path, exported: Path) -> None:
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (a JRE 17 or newer on PATH)")
    spark_sql = pytest.importorskip("pyspark.sql")
    started = time.monotonic()
    spark = (
        spark_sql.SparkSession.builder.master("local[1]").appName("tongbi-export-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        # The JVM's start-up dominates a test this small: compile less, collect simply.
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    try:
        spark.sparkContext.setLogLevel("ERROR")
        yoy = spark.read.parquet(str(exported / "yoy"))
        yoy.createOrReplaceTempView("yoy")
        con = duckdb.connect(str(warehouse), read_only=True)
        names = [row[0] for row in con.execute("describe yoy").fetchall()]
        assert sorted(yoy.columns) == sorted(names)
        assert dict(yoy.dtypes)["year"] == "int"  # the partition folder names are read back as the year
        expected = rows(con, f"select {columns(con, 'yoy')} from yoy")
        got = sorted((tuple(row[name] for name in names) for row in yoy.collect()), key=repr)
        assert got == expected
        readme_duckdb = con.execute(README_DUCKDB.format(dir=exported)).fetchall()
        readme_spark = [tuple(row) for row in spark.sql(README_SPARK).collect()]
        assert len(readme_duckdb) >= 5
        assert readme_spark == readme_duckdb
        for view in VIEWS:  # every view, not only yoy, is readable by Spark with its partition column
            frame = spark.read.parquet(str(exported / view.name))
            assert (frame.count(),) == con.execute(f"select count(*) from {view.name}").fetchone(), view.name
            if view.partition:
                assert view.partition in frame.columns
    finally:
        spark.stop()
    assert time.monotonic() - started < 90
