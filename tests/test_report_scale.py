"""The reports of many organisations as a reader sees them: a capped index with full list pages, an indicator page
showing the spread across organisations, and a night that changed one organisation rendering only its pages."""

from __future__ import annotations

import re
import statistics
from datetime import date
from pathlib import Path

import pytest
from test_browser import CHROMIUM, DESKTOP, PHONE, Browser
from test_report import Builder, generation, page, reachable, snapshot, text, write_warehouse

from jobs import report

YEARS = (2021, 2022, 2023)
ORGS = report.INDEX_ORGS + 5  # more than the index lists, and more than an indicator page charts one by one


def org_name(k: int) -> str:
    return f"测试{k:03d}区教体局"


def venues(k: int, year: int) -> int:
    return 40 + (k * 7 + year * 3) % 37


def build(path: Path, *, bump: int | None = None) -> Path:
    """ORGS organisations × YEARS, one document each stating the new sports venues (and for 2023 a goal);
    `bump`: that organisation's 2022 figure is one higher (a corrected document)."""
    b = Builder()
    values: dict[tuple[str, int], float] = {}
    for k in range(ORGS):
        org = org_name(k)
        for year in YEARS:
            n = venues(k, year) + (1 if bump == k and year == 2022 else 0)
            goal = n + 5
            body = (f"{org}{year}年工作总结\n一、体育工作\n今年新增体育场地{n}个，群众健身更加方便。"
                    f"明年力争新增体育场地{goal}个。\n")
            doc = b.document(body, org, f"{org}{year}年工作总结", "工作总结", year, date(year + 1, 1, 20), None,
                             f"t-{k:03d}_{year}.txt")
            b.observe(org, "new_sports_venues", year, "actual", n, "个", doc,
                      b.fact(doc, f"今年新增体育场地{n}个", f"{n}个", n, "个"))
            b.observe(org, "new_sports_venues", year + 1, "target", goal, "个", doc,
                      b.fact(doc, f"明年力争新增体育场地{goal}个", f"{goal}个", goal, "个"))
            values[(org, year)] = n
            prev = values.get((org, year - 1))
            b.rows["yoy"].append((org, "new_sports_venues", year, float(n), year - 1 if prev else None, prev,
                                  n - prev if prev else None, (n - prev) / prev * 100 if prev else None, None,
                                  "cannot check"))
            if year > YEARS[0]:
                target = venues(k, year - 1) + 5 + (1 if bump == k and year - 1 == 2022 else 0)
                b.rows["goals"].append((org, "new_sports_venues", year, float(target), None, float(n), n >= target))
    return write_warehouse(b, path, runs="('20260101T020000-ab12', '2026-01-01 02:00:00', '2026-01-01 02:00:07', "
                                         "'ok', 1, 1, 0, '')")


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("many")
    report.write_reports(build(base / "w.duckdb"), base / "reports")
    return base / "reports"


def test_the_index_lists_some_organisations_and_links_a_page_listing_all(many: Path) -> None:
    index = page(many / "index.html")
    listed = [text(row.css_first("th")) for row in index.css("#org-list tbody tr")]
    assert listed == [org_name(k) for k in range(report.INDEX_ORGS)]
    meta = text(index.css_first("#orgs + p.meta"))
    assert f"共 {ORGS} 个单位" in meta and f"前 {report.INDEX_ORGS} 个" in meta
    gen = generation(many)
    everyone = page(gen / report.ORGS_PAGE)
    assert [text(row.css_first("th")) for row in everyone.css("#org-list tbody tr")] == [
        org_name(k) for k in range(ORGS)]
    # every organisation-year page is reachable from the index, through the full list
    pages = reachable(many)
    for k in (0, ORGS - 1):
        for year in YEARS:
            assert f"{gen.name}/{report.org_year_href(org_name(k), year)}" in {
                re.sub(r"^g/", "", rel) for rel in pages}


def test_the_index_lists_the_newest_documents_and_links_all_of_them(many: Path) -> None:
    index = page(many / "index.html")
    rows = index.css("#document-list tbody tr")
    assert len(rows) == report.INDEX_DOCUMENTS
    assert {text(row.css("td")[1]) for row in rows} == {"2023"}  # the newest year first
    assert f"共 {ORGS * len(YEARS)} 份" in text(index.css_first("#documents + p.meta"))
    everything = page(generation(many) / report.DOCUMENTS_PAGE)
    assert len(everything.css("#document-list tbody tr")) == ORGS * len(YEARS)


def test_the_index_names_the_indicator_by_its_count_of_organisations(many: Path) -> None:
    index = page(many / "index.html")
    row = next(r for r in index.css("#indicator-list tbody tr") if "新增体育场地" in text(r))
    assert text(row.css("td")[-1]) == f"{ORGS} 个单位 {YEARS[0]}–{YEARS[-1] + 1}"


def test_an_indicator_of_many_organisations_shows_their_spread_and_each_ones_latest_year(many: Path) -> None:
    gen = generation(many)
    tree = page(gen / report.indicator_href("district-jiaoti", "new_sports_venues"))
    assert len(tree.css("svg")) == 1 and tree.css_first("svg path.band") is not None
    assert [text(t) for t in tree.css("svg text.axis-label")] == ["年份", "新增体育场地（个）"]
    assert tree.css_first("svg path.goal") is not None  # the goals' median, dashed
    years = {text(r.css_first("th")): r for r in tree.css("#spread-years tbody tr")}
    assert list(years) == [str(y) for y in YEARS]
    for year in YEARS:
        cells = [text(c) for c in years[str(year)].css("td")]
        assert cells[0] == str(ORGS)
        assert cells[2] == report.amount(statistics.median(venues(k, year) for k in range(ORGS)), "个")
    rows = tree.css("#org-latest tbody tr")
    assert len(rows) == ORGS
    first = rows[0]
    assert text(first.css_first("th")) == org_name(0)
    assert first.css_first("th a").attributes["href"] == "../" + report.org_year_href(org_name(0), YEARS[-1])
    value = first.css_first("td.value a")
    assert text(value) == f"{venues(0, YEARS[-1])}个"
    # the number links to its sentence: the document page marks that very number under the anchor
    href, anchor = (value.attributes["href"] or "").split("#")
    doc = page(gen / "org" / href)
    mark = doc.css_first(f"mark#{anchor}")
    assert mark is not None and text(mark) == f"{venues(0, YEARS[-1])}个"
    assert text(first.css_first("td.prev")) == f"{venues(0, YEARS[-2])}个"
    change = (venues(0, YEARS[-1]) - venues(0, YEARS[-2])) / venues(0, YEARS[-2]) * 100
    assert text(first.css_first("td.pct")) == report.signed_pct(change)
    assert text(first.css("td")[-1]) == f"{YEARS[0]}–{YEARS[-1]}"


def test_one_changed_organisation_renders_its_pages_and_the_pages_showing_it(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    report.write_reports(build(tmp_path / "w.duckdb"), reports)
    old = generation(reports)
    changed = build(tmp_path / "w2.duckdb", bump=3)
    report.write_reports(changed, reports)
    counted = report.LAST_RENDER
    new = generation(reports)
    assert new != old
    # its year pages, its 2022 document (a new text, a new page), the indicator, the index, the full lists
    assert counted.rendered <= len(YEARS) + 1 + 1 + 1 + 1 + 2, counted  # its years and the goal year after
    assert counted.reused >= ORGS * len(YEARS) * 2 - 10, counted
    report.write_reports(changed, tmp_path / "fresh")
    assert snapshot(reports) == snapshot(tmp_path / "fresh")
    row = page(new / report.org_year_href(org_name(3), 2022)).css_first("tr[data-indicator=new_sports_venues]")
    assert f"{venues(3, 2022) + 1}个" in text(row)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
@pytest.mark.parametrize("kind", ["indicator", "orgs", "documents"])
@pytest.mark.parametrize(("size", "mobile"), [(DESKTOP, False), (PHONE, True)], ids=["desktop", "phone"])
def test_the_pages_of_many_organisations_load_without_console_errors(
        browser: Browser, many: Path, kind: str, size: tuple[int, int], mobile: bool) -> None:
    gen = generation(many)
    path = {"indicator": gen / report.indicator_href("district-jiaoti", "new_sports_venues"),
            "orgs": gen / report.ORGS_PAGE, "documents": gen / report.DOCUMENTS_PAGE}[kind]
    seen = browser.open(path, size, mobile=mobile)
    assert seen.errors == []
    assert seen.requests == [seen.url]
    assert seen.width <= size[0], f"{path.name} is {seen.width}px wide at {size[0]}px"


SPAN = tuple(y for y in range(2015, 2025) if y != 2019)  # a year without a document: 2020's change starts at 2018


def build_history(path: Path, *, bumped: int | None = None, reworded: int | None = None) -> Path:
    """Two organisations over SPAN, each document stating the year's venues, the change against the year before
    (so that year's value is derived from it) and next year's goal; `bumped`: the first organisation's document of
    that year states one venue more; `reworded`: its document of that year says the same numbers in other words."""
    b = Builder()
    for k in range(2):
        org = org_name(k)
        values = {y: venues(k, y) + (1 if k == 0 and y == bumped else 0) for y in SPAN}
        for i, year in enumerate(SPAN):
            n, prev_year = values[year], SPAN[i - 1] if i else None
            prev = values[prev_year] if prev_year else None
            said = f"比上年增加{n - prev}个" if prev is not None and prev_year == year - 1 else "数量创新高"
            lead = "全年" if k == 0 and year == reworded else "今年"
            body = (f"{org}{year}年工作总结\n一、体育工作\n{lead}新增体育场地{n}个，{said}。"
                    f"明年力争新增体育场地{n + 5}个。\n")
            doc = b.document(body, org, f"{org}{year}年工作总结", "工作总结", year, date(year + 1, 1, 20), None,
                             f"h-{k}_{year}.txt")
            b.observe(org, "new_sports_venues", year, "actual", n, "个", doc,
                      b.fact(doc, f"{lead}新增体育场地{n}个", f"{n}个", n, "个"))
            if year + 1 in SPAN or year == SPAN[-1]:  # no goal for the year without a document: no page for it
                b.observe(org, "new_sports_venues", year + 1, "target", n + 5, "个", doc,
                          b.fact(doc, f"明年力争新增体育场地{n + 5}个", f"{n + 5}个", n + 5, "个"))
            if said.startswith("比上年") and prev is not None:
                change = b.fact(doc, said, f"{n - prev}个", n - prev, "个")
                b.observe(org, "new_sports_venues", year, "change", n - prev, "个", doc, change)
                b.observe(org, "new_sports_venues", year - 1, "derived", prev, "个", doc, None,
                          quote=f"{lead}新增体育场地{n}个，{said}。", note=f"{n} − {n - prev} = {prev}")
            b.rows["yoy"].append((org, "new_sports_venues", year, float(n), prev_year, prev,
                                  n - prev if prev is not None else None,
                                  (n - prev) / prev * 100 if prev else None, None, "cannot check"))
            if prev_year == year - 1 and prev is not None:
                b.rows["goals"].append((org, "new_sports_venues", year, float(prev + 5), None, float(n),
                                        n >= prev + 5))
    return write_warehouse(b, path, runs="('20260101T020000-ab12', '2026-01-01 02:00:00', '2026-01-01 02:00:07', "
                                         "'ok', 1, 1, 0, '')")


def test_a_changed_document_renders_the_year_pages_that_quote_it_not_its_organisations_others(
        tmp_path: Path) -> None:
    """A year's page quotes last year's value, a value derived from next year's document, last year's goal, and
    across a year without a document the year its change starts from: exactly those pages are rendered again, and
    the result is byte for byte a render from nothing."""
    reports = tmp_path / "reports"
    report.write_reports(build_history(tmp_path / "w.duckdb"), reports)
    old = generation(reports)
    before = {p.relative_to(old).as_posix(): p.read_bytes() for p in old.rglob("*.html")}
    changed = build_history(tmp_path / "w2.duckdb", bumped=2018)
    report.write_reports(changed, reports)
    counted = report.LAST_RENDER
    report.write_reports(changed, tmp_path / "fresh")
    assert snapshot(reports) == snapshot(tmp_path / "fresh")
    new = generation(reports)
    after = {p.relative_to(new).as_posix(): p.read_bytes() for p in new.rglob("*.html")}
    years = {y: report.org_year_href(org_name(0), y) for y in range(2015, 2026)}
    differ = {rel for rel, data in after.items() if before.get(rel) != data}
    # 2020's change starts at 2018 (2019 has no page: no document, no goal)
    assert years[2019] not in after
    assert {y for y, rel in years.items() if rel in differ} == {2018, 2020}
    # rendered: the pages summing a bucket that changed — 2017's (a value derived from 2018's document) and 2020's
    # (a change computed from 2018) are read by the pages beside them, so 2016-2018 and 2020-2021 (same bytes where
    # the page's own document's value wins) — the new document's page, the indicator's and the index; not 2015 or
    # 2022-2025, and nothing of the other organisation
    assert counted.rendered == 5 + 1 + 1 + 1, counted
    row = page(new / years[2020]).css_first("tr[data-indicator=new_sports_venues]")
    assert f"{venues(0, 2018) + 1}个" in text(row.css_first("td.prev"))
    assert "（2018）" in text(row.css_first("td.prev"))


def test_a_reworded_document_renders_the_page_whose_change_starts_at_its_year(tmp_path: Path) -> None:
    """The same numbers in other words: no value, change or goal moves, yet 2020's page quotes 2018's sentence for
    its previous value across the year without a document; it must be rendered again, not kept stale."""
    reports = tmp_path / "reports"
    report.write_reports(build_history(tmp_path / "w.duckdb"), reports)
    changed = build_history(tmp_path / "w2.duckdb", reworded=2018)
    report.write_reports(changed, reports)
    report.write_reports(changed, tmp_path / "fresh")
    assert snapshot(reports) == snapshot(tmp_path / "fresh")
    row = page(generation(reports) / report.org_year_href(org_name(0), 2020)).css_first(
        "tr[data-indicator=new_sports_venues]")
    assert "全年新增体育场地" in text(row.css_first("td.sources"))
