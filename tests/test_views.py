"""The SQL contract analysts rely on: every view has the documented columns, in order, on the sample warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

CONTRACT = {
    "documents": "doc_id org title kind period_year published_on doc_number source_file sha256 chars loaded_at",
    "facts": "doc_id fact_id value unit raw qualifier value_high char_start char_end sentence section",
    "indicators": "catalog indicator_id name unit",
    "observations": "org indicator_id year basis value value_high qualifier unit doc_id fact_id quote",
    "yoy": "org indicator_id year value prev_year prev_value change change_pct stated_change_pct check",
    "goals": "org indicator_id year target target_high actual met",
    "runs": "run_id started_at finished_at status documents_seen documents_loaded documents_rejected message",
}


@pytest.fixture(scope="module")
def con(built: dict[str, Path]) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(built["warehouse"]), read_only=True)


@pytest.mark.parametrize("view", sorted(CONTRACT))
def test_view_starts_with_the_documented_columns(con: duckdb.DuckDBPyConnection, view: str) -> None:
    columns = [row[0] for row in con.execute(f"describe {view}").fetchall()]
    expected = CONTRACT[view].split()
    assert columns[: len(expected)] == expected


@pytest.mark.parametrize("view", sorted(CONTRACT))
def test_view_has_rows(con: duckdb.DuckDBPyConnection, view: str) -> None:
    assert con.execute(f"select count(*) from {view}").fetchone()[0] > 0  # type: ignore[index]


def test_observations_are_unique_per_org_indicator_year_basis_document(con: duckdb.DuckDBPyConnection) -> None:
    duplicates = con.execute(
        "select org, indicator_id, year, basis, doc_id, count(*) from observations "
        "group by all having count(*) > 1"
    ).fetchall()
    assert duplicates == []


def test_every_observation_quotes_the_sentence_of_its_fact(con: duckdb.DuckDBPyConnection) -> None:
    orphans = con.execute(
        "select o.indicator_id, o.year, o.basis from observations o "
        "left join facts f on f.doc_id = o.doc_id and f.fact_id = o.fact_id "
        "where o.fact_id is not null and (f.fact_id is null or o.quote <> f.sentence)"
    ).fetchall()
    assert orphans == []


def test_catalog_options_reach_the_indicators_view(con: duckdb.DuckDBPyConnection) -> None:
    goal = con.execute(
        "select json_extract_string(detail, '$.goal') from indicators where indicator_id = 'cpi'"
    ).fetchone()
    assert goal == ("ceiling",)
