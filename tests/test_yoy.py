"""yoy's check honours how precisely the documents print their values: 1.37万亿斤 is anything from 1.365 to 1.375.

A stated change is compared with the change the two printed values allow, not with their bare difference: two years
of 粮食产量1.37万亿斤 do not contradict 增产74亿斤. An integer written out (90家) stays exact, so a miscount is still
found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_match import BASE_TABLES  # the views yoy reads, facts included

from jobs.settings import ROOT

VIEWS = ROOT / "warehouse" / "sql" / "views"

# (indicator value, printed as, the fact's value in its base unit): what a document says, as the warehouse holds it
Printed = tuple[float, str, float]


def warehouse(tmp_path: Path, rows: list[tuple[int, str, Printed]], unit: str) -> duckdb.DuckDBPyConnection:
    """One organisation's observations of one indicator: (year, basis, printed), each from that year's document."""
    con = duckdb.connect(str(tmp_path / "yoy.duckdb"))
    for statement in BASE_TABLES:
        con.execute(statement)
    con.execute((VIEWS / "yoy.sql").read_text(encoding="utf-8"))
    for fact_id, (year, basis, (value, raw, fact_value)) in enumerate(rows):
        doc = f"d{year}"
        con.execute("insert into documents (doc_id, org, period_year) select ?, 'o', ? "
                    "where not exists (select 1 from documents where doc_id = ?)", [doc, year, doc])
        con.execute("insert into facts values (?, ?, ?, '', ?)", [doc, fact_id, fact_value, raw])
        con.execute("insert into observations values ('o', 'x', ?, ?, ?, null, 'exact', ?, ?, ?, '…', [], null)",
                    [year, basis, value, unit, doc, fact_id])
    return con


def last_year(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    result = con.execute("select * from yoy order by year desc limit 1")
    names = [column[0] for column in result.description]
    row = result.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


GRAIN_2021: Printed = (68500, "1.37万亿斤", 1.37e12)
GRAIN_2022: Printed = (68500, "1.37万亿斤", 1.37e12)


@pytest.mark.parametrize(("stated", "check"), [
    ((370, "74亿斤", 7.4e9), "agrees"),  # within ±0.005万亿斤 on each side
    ((3700, "740亿斤", 7.4e10), "differs"),  # 0.074万亿斤: more than the two roundings allow
])
def test_a_stated_change_within_the_rounding_of_the_printed_levels(tmp_path: Path, stated: Printed,
                                                                   check: str) -> None:
    con = warehouse(tmp_path, [(2021, "actual", GRAIN_2021), (2022, "actual", GRAIN_2022),
                               (2022, "change", stated)], "万吨")
    row = last_year(con)
    assert (row["change"], row["stated_change"], row["check"]) == (0, stated[0], check)
    # 250万吨 for each level, and the stated change's own last digit (74亿斤: ±0.5亿斤 = 2.5万吨)
    assert row["tolerance"] == pytest.approx(250 + 250 + stated[0] / float(stated[1][:-2]) / 2)


@pytest.mark.parametrize(("prev", "value", "stated", "check"), [
    ((76, "76家", 76), (90, "90家", 90), (18.4, "18.4%", 18.4), "agrees"),
    ((76, "76家", 76), (90, "90家", 90), (18.6, "18.6%", 18.6), "differs"),  # counts written out are exact
    ((100000, "10万人", 1e5), (120000, "12万人", 1.2e5), (25, "25%", 25), "agrees"),  # ±0.5万: 9.5 % to 31.6 %
    ((100000, "10.0万人", 1e5), (120000, "12.0万人", 1.2e5), (25, "25%", 25), "differs"),  # ±0.05万: 18.9 % to 21.1 %
    ((100000, "100000人", 1e5), (120000, "120000人", 1.2e5), (25, "25%", 25), "differs"),  # exact: 20 %
])
def test_a_stated_per_cent_within_what_the_printed_values_allow(tmp_path: Path, prev: Printed, value: Printed,
                                                                 stated: Printed, check: str) -> None:
    con = warehouse(tmp_path, [(2021, "actual", prev), (2022, "actual", value), (2022, "change_pct", stated)], "人")
    row = last_year(con)
    assert row["change_pct"] == pytest.approx(100 * (value[0] - prev[0]) / prev[0])
    assert row["check"] == check


def test_the_sample_grain_output_is_not_reported_as_differing(built: dict[str, Path]) -> None:
    """The 2023 national report: 粮食产量1.37万亿斤，增产74亿斤, a year after 粮食产量1.37万亿斤."""
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        found = con.execute("select value, prev_value, stated_change, \"check\" from yoy "
                            "where org = '国务院' and indicator_id = 'grain_output' and year = 2022").fetchall()
        differing = con.execute("select org, indicator_id, year from yoy where \"check\" = 'differs'").fetchall()
    assert found == [(68500, 68500, 370, "agrees")]
    assert differing == []
