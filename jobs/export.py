"""`tongbi export --parquet DIR`: every view as Parquet, hive-partitioned by year, for Spark, DuckDB and others."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from jobs.errors import StorageError


@dataclass(frozen=True)
class ExportedView:
    """One view of the SQL contract, how to select it, and the column its files are partitioned by."""

    name: str
    select: str
    partition: str | None


# documents and facts keep the contract's name `period_year` (the year a document reviews) as their partition.
VIEWS: tuple[ExportedView, ...] = (
    ExportedView("documents", "select * from documents", "period_year"),
    ExportedView(
        "facts",
        # A fact has no year of its own: it takes its document's, added as the last column.
        "select f.*, d.period_year from facts f left join "
        "(select doc_id, any_value(period_year) as period_year from documents group by doc_id) d using (doc_id)",
        "period_year",
    ),
    ExportedView("indicators", "select * from indicators", None),
    ExportedView("observations", "select * from observations", "year"),
    ExportedView("yoy", "select * from yoy", "year"),
    ExportedView("goals", "select * from goals", "year"),
    ExportedView("runs", "select * from runs", None),
)


def export_parquet(warehouse: Path, out_dir: Path) -> list[Path]:
    """Write each view to `out_dir/<view>/` (replacing an earlier export of it); return those folders.

    All views are read from one read-only connection, so they come from one published version of the warehouse.
    Each view is written to a temporary folder inside `out_dir` first and then renamed into place, so a reader
    never sees a view half written.
    """
    con = _open(warehouse)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tongbi-export-", dir=out_dir))
        try:
            con.execute("begin transaction")  # one snapshot for every view
            for view in VIEWS:
                _copy(con, warehouse, view, staging / view.name)
            con.execute("commit")
            return [_swap(staging / view.name, out_dir / view.name) for view in VIEWS]
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as error:
        raise StorageError(
            f"{out_dir}: cannot write the export ({error.strerror or error}). "
            "Choose a folder you can write to with enough free space."
        ) from error
    finally:
        con.close()


def _open(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise StorageError(
            f"{warehouse}: there is no warehouse here yet. Run `tongbi run` first, "
            "or pass --warehouse FILE (or set TONGBI_WAREHOUSE) to point at an existing one."
        )
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        raise StorageError(
            f"{warehouse}: cannot open the warehouse read-only ({str(error).strip().splitlines()[0]}). "
            "If the file is damaged, run `tongbi run` to publish a fresh one, or restore it from a backup."
        ) from error


def _literal(path: Path) -> str:
    # COPY … TO takes no bound parameter for its target, so the path is quoted as an SQL string.
    return "'" + str(path).replace("'", "''") + "'"


def _copy(con: duckdb.DuckDBPyConnection, warehouse: Path, view: ExportedView, target: Path) -> None:
    try:
        rows = con.execute(f"select count(*) from ({view.select})").fetchone()
        if view.partition is None or not rows or rows[0] == 0:
            # No partitions without rows: one file, possibly empty, still carries the schema Spark needs.
            target.mkdir()
            con.execute(f"copy ({view.select}) to {_literal(target / 'data_0.parquet')} (format parquet)")
        else:
            con.execute(
                f"copy ({view.select}) to {_literal(target)} "
                f"(format parquet, partition_by ({view.partition}), overwrite_or_ignore)"
            )
    except duckdb.CatalogException as error:
        raise StorageError(
            f"{warehouse}: the view {view.name} is missing ({str(error).strip().splitlines()[0]}). "
            "Run `tongbi run` with this version of tongbi to rebuild the views."
        ) from error
    except duckdb.Error as error:
        message = str(error).strip().splitlines()[0]
        if str(warehouse) in message or not isinstance(error, duckdb.IOException):
            raise StorageError(
                f"{warehouse}: cannot read the view {view.name} ({message}). The warehouse file is damaged: "
                "run `tongbi run` to publish a fresh one, or restore it from a backup."
            ) from error
        raise OSError(message) from error


def _swap(new: Path, final: Path) -> Path:
    """Put `new` where `final` is: an earlier export of the view is renamed away first and then removed."""
    old = final.with_name(f".{final.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final
