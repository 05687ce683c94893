"""jobs.catalog: the shipped catalogs, every validation error (file, indicator, fix), and catalog choice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jobs import units
from jobs.catalog import Catalog, for_document, load_catalogs
from jobs.errors import CatalogError
from jobs.records import Document

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

GOOD = """
[catalog]
id = "gov-test"
name = "政府工作报告"
applies_to = ["政府工作报告"]

[[indicator]]
id = "gdp_growth_test"
name = "国内生产总值增长"
unit = "%"
aliases = ["国内生产总值", "经济增长"]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def doc(title: str, kind: str, text: str = "") -> Document:
    return Document(doc_id="d", source_file="d.txt", sha256="s", text=text or title, org="某单位", title=title,
                    kind=kind, period_year=2022)


@pytest.fixture(scope="module")
def shipped() -> tuple[Catalog, ...]:
    return load_catalogs(SCHEMAS)


def test_shipped_catalogs_load(shipped: tuple[Catalog, ...]) -> None:
    by_id = {catalog.id: catalog for catalog in shipped}
    assert set(by_id) == {"gov-work-report", "district-education-sports"}
    assert len(by_id["gov-work-report"].indicators) >= 15
    assert len(by_id["district-education-sports"].indicators) >= 40
    for catalog in shipped:
        for indicator in catalog.indicators:
            assert units.is_known(indicator.unit)
            assert indicator.aliases


def test_district_catalog_covers_every_part_of_the_summary(shipped: tuple[Catalog, ...]) -> None:
    district = next(catalog for catalog in shipped if catalog.id == "district-education-sports")
    groups = {indicator.group for indicator in district.indicators}
    assert {"党建", "学前教育", "义务教育", "智慧校园", "德育与双减", "教师队伍", "教育督导", "安全管理", "学生资助",
            "体育"} <= groups
    ids = {indicator.id for indicator in district.indicators}
    assert {"new_sports_venues", "lottery_sales_growth", "lottery_shops", "new_teachers", "student_aid_paid"} <= ids


def test_gov_catalog_has_the_headline_indicators(shipped: tuple[Catalog, ...]) -> None:
    gov = next(catalog for catalog in shipped if catalog.id == "gov-work-report")
    assert {"gdp", "gdp_growth", "new_urban_jobs", "surveyed_unemployment_rate", "cpi", "grain_output",
            "deficit_ratio", "fiscal_deficit"} <= {indicator.id for indicator in gov.indicators}
    assert gov.indicator("gdp_growth").measure == "growth"  # inferred from unit % and 增长 in the name
    assert gov.indicator("cpi").measure == "growth"
    assert gov.indicator("surveyed_unemployment_rate").measure == "level"
    assert (gov.indicator("cpi").goal, gov.indicator("gdp_growth").goal) == ("ceiling", "about")
    assert gov.indicator("grain_output").unit == "万吨"


def test_minimal_indicator_gets_defaults(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD)
    (catalog,) = load_catalogs(tmp_path)
    indicator = catalog.indicators[0]
    assert (indicator.id, indicator.unit, indicator.aliases) == ("gdp_growth_test", "%", ("国内生产总值", "经济增长"))
    assert indicator.exclude == () and indicator.catalog == "gov-test"


def test_documents_folder_is_not_a_catalog(tmp_path: Path) -> None:
    """schemas/documents/*.toml holds kind rules (read by jobs.doctypes), not indicators."""
    shutil.copytree(SCHEMAS / "documents", tmp_path / "documents")
    write(tmp_path, "a.toml", GOOD)
    assert [catalog.id for catalog in load_catalogs(tmp_path)] == ["gov-test"]


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        ('aliases = ["国内生产总值", "经济增长"]', 'aliases = ["国内生产总值"]\nregex = "GDP.*"', "gdp_growth_test",
         ["unknown field 'regex'", "Remove it or use one of"]),
        ('id = "gdp_growth_test"', 'id = "GDP-Growth"', "GDP-Growth", ["not snake_case", "lower-case"]),
        ('unit = "%"', 'unit = "公尺"', "gdp_growth_test", ["'公尺'", "cannot convert", "Use a known unit"]),
        ('aliases = ["国内生产总值", "经济增长"]', "aliases = []", "gdp_growth_test",
         ["empty aliases", "at least one"]),
        ('aliases = ["国内生产总值", "经济增长"]', 'aliases = "国内生产总值"', "gdp_growth_test", ["list of"]),
        ('unit = "%"\n', "", "gdp_growth_test", ["missing the required field 'unit'", "Add unit"]),
        ('applies_to = ["政府工作报告"]', "", "catalog", ["missing the required field 'applies_to'"]),
        ('name = "国内生产总值增长"', 'name = "国内生产总值增长"\nmeasure = "speed"', "gdp_growth_test",
         ["measure 'speed'", '"level", "flow" or "growth"']),
        ('unit = "%"', 'unit = "万人"\nmeasure = "growth"', "gdp_growth_test", ["growth rate with unit '万人'"]),
        ('unit = "%"', 'unit = "%"\ngoal = "max"', "gdp_growth_test", ["goal 'max'", '"ceiling"', '"floor"']),
        ('aliases = ["国内生产总值", "经济增长"]', 'aliases = ["国内生产总值"]\nexclude = ["生产总值"]',
         "gdp_growth_test", ["excludes '生产总值'", "part of its own alias"]),
        ("[[indicator]]", "[[indicators]]", "", ["unknown table(s) indicators"]),
        ('id = "gov-test"', 'id = "gov-test"\ncolour = "red"', "catalog", ["unknown field 'colour'"]),
        ('id = "gov-test"', 'id = "Gov Test"', "catalog", ["'Gov Test'", "joined by - or _"]),
        ("[catalog]", "[catalog", "", ["not valid TOML", "Fix the TOML syntax"]),
    ],
)
def test_invalid_catalog_names_file_indicator_and_fix(tmp_path: Path, old: str, new: str, where: str,
                                                       words: list[str]) -> None:
    assert old in GOOD
    path = write(tmp_path, "broken.toml", GOOD.replace(old, new, 1))
    with pytest.raises(CatalogError) as caught:
        load_catalogs(tmp_path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert where in message
    for word in words:
        assert word in message


def test_duplicate_id_within_a_catalog(tmp_path: Path) -> None:
    text = GOOD + GOOD[GOOD.index("[[indicator]]"):]
    write(tmp_path, "dup.toml", text)
    with pytest.raises(CatalogError, match=r"dup\.toml \[indicator gdp_growth_test\]: repeats an id"):
        load_catalogs(tmp_path)


def test_duplicate_id_across_catalogs(tmp_path: Path) -> None:
    """Observations are keyed by indicator_id without the catalog, so ids are unique across files."""
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD.replace('id = "gov-test"', 'id = "other"'))
    with pytest.raises(CatalogError) as caught:
        load_catalogs(tmp_path)
    assert "b.toml [indicator gdp_growth_test]" in str(caught.value)
    assert "a.toml" in str(caught.value) and "unique across all catalogs" in str(caught.value)


def test_duplicate_catalog_id(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD.replace("gdp_growth_test", "other_indicator"))
    with pytest.raises(CatalogError, match="also used by"):
        load_catalogs(tmp_path)


def test_one_bad_file_returns_nothing(tmp_path: Path) -> None:
    """Validation happens before anything is used: a good file next to a bad one is not half-loaded."""
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "z.toml", GOOD.replace('unit = "%"', 'unit = "furlong"').replace("gov-test", "z"))
    with pytest.raises(CatalogError, match=r"z\.toml"):
        load_catalogs(tmp_path)


def test_empty_folder_has_no_catalogs(tmp_path: Path) -> None:
    assert load_catalogs(tmp_path) == ()


@pytest.mark.parametrize(
    ("title", "kind", "text", "expected"),
    [
        ("南昌市新建区教体局2022年工作总结", "工作总结", "", "district-education-sports"),
        ("政府工作报告", "政府工作报告", "", "gov-work-report"),
        ("2025年江西省政府工作报告", "政府工作报告", "", "gov-work-report"),
        ("", "工作总结", "关于印发《某县教育体育局2023年工作总结》的通知", "district-education-sports"),
        ("某市统计局2022年工作总结", "工作总结", "统计工作", None),
    ],
)
def test_for_document(shipped: tuple[Catalog, ...], title: str, kind: str, text: str,
                      expected: str | None) -> None:
    chosen = for_document(shipped, doc(title, kind, text))
    assert (chosen.id if chosen else None) == expected
