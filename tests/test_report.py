"""The reports as a reader sees them: parsed pages of a real DuckDB warehouse, Markdown, safety, reproducibility."""

from __future__ import annotations

import contextlib
import hashlib
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from jobs import report
from jobs.errors import StorageError

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "warehouse" / "inbox" / "xinjian-jiaoti_2022.txt"
XINJIAN = "南昌市新建区教体局"
STATE = "国务院"

# --------------------------------------------------------------------------- the fixture warehouse

DDL = """
create table documents (doc_id varchar, org varchar, title varchar, kind varchar, period_year integer,
    published_on date, doc_number varchar, source_file varchar, sha256 varchar, chars integer, loaded_at timestamp);
create table facts (doc_id varchar, fact_id integer, value double, unit varchar, raw varchar, qualifier varchar,
    value_high double, char_start integer, char_end integer, sentence varchar, section varchar, flags varchar[],
    sentence_start integer);
create table indicators (catalog varchar, indicator_id varchar, name varchar, unit varchar, aliases varchar[],
    detail varchar);
create table observations (org varchar, indicator_id varchar, year integer, basis varchar, value double,
    value_high double, qualifier varchar, unit varchar, doc_id varchar, fact_id integer, quote varchar,
    flags varchar[], note varchar, catalog varchar);
create table yoy (org varchar, indicator_id varchar, year integer, value double, prev_year integer,
    prev_value double, change double, change_pct double, stated_change_pct double, "check" varchar);
create table goals (org varchar, indicator_id varchar, year integer, target double, target_high double,
    actual double, met boolean);
create table runs (run_id varchar, started_at timestamp, finished_at timestamp, status varchar,
    documents_seen integer, documents_loaded integer, documents_rejected integer, message varchar);
"""

INDICATORS = [
    ("district-jiaoti", "new_sports_venues", "新增体育场地", "个", ["新增体育场地"]),
    ("district-jiaoti", "lottery_shops", "体育彩票门店", "家", ["门店"]),
    ("district-jiaoti", "lottery_sales", "体育彩票销售额", "万元", ["体育彩票销售"]),
    ("district-jiaoti", "kindergarten_funds", "配套幼儿园治理投入", "万元", ["投入资金"]),
    ("district-jiaoti", "school_investment", "学校建设投资", "亿元", ["投资"]),
    ("district-jiaoti", "new_teachers", "新增教师", "人", ["新增教师"]),
    ("gov-work-report", "gdp_growth", "国内生产总值增长", "%", ["国内生产总值", "经济增长"]),
    ("gov-work-report", "gdp", "国内生产总值", "亿元", ["国内生产总值"]),
]

# (year, result) as the next year's 政府工作报告 states it; 2019 has none (no 2020 report in the inbox)
GDP_GROWTH = {2014: 7.4, 2015: 6.9, 2016: 6.7, 2017: 6.9, 2018: 6.6, 2020: 2.3, 2021: 8.1, 2022: 3.0,
              2023: 5.2, 2024: 5.0}
# (year, target, target_high, qualifier) as that year's report sets it
GDP_GOALS = [(2015, 7.0, None, "about"), (2016, 6.5, 7.0, "range"), (2017, 6.5, None, "about"),
             (2018, 6.5, None, "about"), (2019, 6.0, 6.5, "range"), (2021, 6.0, None, "at_least"),
             (2022, 5.5, None, "about"), (2023, 5.0, None, "about"), (2024, 5.0, None, "about"),
             (2025, 5.0, None, "about")]
GDP_LEVEL = {2023: 1260582.0, 2024: 1349084.0}
QUALIFIER_TEXT = {"about": "左右", "at_least": "以上", "range": "", "exact": ""}


def _sentence(text: str, anchor: str) -> tuple[str, int]:
    """The sentence (up to and including 。) holding `anchor`, and its offset in the text."""
    at = text.index(anchor)
    start = max(text.rfind(p, 0, at) for p in "。\n；") + 1
    end = min(i for i in (text.find("。", at), len(text) - 1) if i >= 0) + 1
    return text[start:end], start


class Builder:
    """Collects rows for the fixture tables; offsets are computed from real text, never typed in."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[object, ...]]] = {t: [] for t in
                                                          ("documents", "facts", "observations", "yoy", "goals")}
        self.fact_count: dict[str, int] = {}
        self.texts: dict[str, str] = {}

    def document(self, text: str, org: str, title: str, kind: str, year: int, published: date,
                 number: str | None, source: str) -> str:
        sha = hashlib.sha256(text.encode()).hexdigest()
        doc_id = sha[:16]
        self.texts[doc_id] = text
        self.fact_count[doc_id] = 0
        self.rows["documents"].append((doc_id, org, title, kind, year, published, number, source, sha, len(text),
                                       datetime(2026, 1, 1, 2, 0, 0)))
        return doc_id

    def fact(self, doc_id: str, anchor: str, raw: str, value: float, unit: str, qualifier: str = "exact",
             high: float | None = None, flags: tuple[str, ...] = ()) -> tuple[int, str]:
        text = self.texts[doc_id]
        sentence, s_start = _sentence(text, anchor)
        start = text.index(raw, text.index(anchor))
        fact_id = self.fact_count[doc_id]
        self.fact_count[doc_id] += 1
        self.rows["facts"].append((doc_id, fact_id, value, unit, raw, qualifier, high, start, start + len(raw),
                                   sentence, "七、突出创先争优", list(flags), s_start))
        return fact_id, sentence

    def observe(self, org: str, indicator: str, year: int, basis: str, value: float, unit: str, doc_id: str,
                fact: tuple[int, str] | None, *, quote: str = "", qualifier: str = "exact",
                high: float | None = None, flags: tuple[str, ...] = (), note: str = "") -> None:
        catalog = next(c for c, i, *_ in INDICATORS if i == indicator)
        fact_id, sentence = fact if fact else (None, quote)
        self.rows["observations"].append((org, indicator, year, basis, value, high, qualifier, unit, doc_id,
                                          fact_id, sentence, list(flags), note, catalog))


def seed_rows(b: Builder) -> None:
    text = SEED.read_text(encoding="utf-8")
    doc = b.document(text, XINJIAN, "新建区教体局2022年工作总结", "工作总结", 2022, date(2023, 1, 28),
                     "新教发〔2023〕1号", "xinjian-jiaoti_2022.txt")
    venues = b.fact(doc, "今年新增体育场地", "102个", 102, "个")
    b.observe(XINJIAN, "new_sports_venues", 2022, "actual", 102, "个", doc, venues)
    funds = b.fact(doc, "累计完成回收52所", "6672万元", 66720000, "元")
    b.observe(XINJIAN, "kindergarten_funds", 2022, "actual", 6672, "万元", doc, funds)
    invest = b.fact(doc, "投资1.2亿元的新建经开区", "1.2亿元", 1.2e8, "元")
    b.observe(XINJIAN, "school_investment", 2022, "actual", 1.2, "亿元", doc, invest)
    teachers = b.fact(doc, "全年新增教师145人", "145人", 145, "人")
    b.observe(XINJIAN, "new_teachers", 2022, "actual", 145, "人", doc, teachers)
    sales = b.fact(doc, "比去年增幅10%", "10%", 10, "%")
    b.observe(XINJIAN, "lottery_sales", 2022, "change_pct", 10, "%", doc, sales)
    added = b.fact(doc, "门店增加14个家", "14个家", 14, "家", flags=("odd_counter",))
    stated = b.fact(doc, "门店增加14个家，比去年增幅18.4%", "18.4%", 18.4, "%")
    shops = b.fact(doc, "现有门店90家", "90家", 90, "家")
    b.observe(XINJIAN, "lottery_shops", 2022, "actual", 90, "家", doc, shops)
    b.observe(XINJIAN, "lottery_shops", 2022, "change", 14, "家", doc, added)
    b.observe(XINJIAN, "lottery_shops", 2022, "change_pct", 18.4, "%", doc, stated)
    b.observe(XINJIAN, "lottery_shops", 2021, "derived", 76, "家", doc, None, quote=shops[1],
              note="现有门店90家减去门店增加14个家：90 − 14 = 76")
    b.rows["yoy"] += [
        (XINJIAN, "lottery_shops", 2022, 90.0, 2021, 76.0, 14.0, 14 / 76 * 100, 18.4, "agrees"),
        (XINJIAN, "new_sports_venues", 2022, 102.0, None, None, None, None, None, "cannot check"),
        (XINJIAN, "lottery_sales", 2022, None, None, None, None, None, 10.0, "cannot check"),
    ]


def national_rows(b: Builder) -> None:
    for report_year in sorted({y + 1 for y in GDP_GROWTH} | {y for y, *_ in GDP_GOALS}):
        if report_year == 2020:
            continue
        sentences = []
        result = GDP_GROWTH.get(report_year - 1)
        if result is not None:
            level = GDP_LEVEL.get(report_year - 1)
            level_text = f"国内生产总值超过{level / 10000:g}万亿元，" if level else ""
            sentences.append(f"{report_year - 1}年，{level_text}国内生产总值增长{result:g}%。")
        goal = next((g for g in GDP_GOALS if g[0] == report_year), None)
        if goal:
            _, low, high, qualifier = goal
            shown = f"{low:g}%－{high:g}%" if high else f"{low:g}%{QUALIFIER_TEXT[qualifier]}"
            sentences.append(f"今年发展主要预期目标是：国内生产总值增长{shown}。")
        if report_year == 2025:
            sentences.append("经第五次全国经济普查修订，2023年国内生产总值为129.4272万亿元。")
        text = f"政府工作报告\n{report_year}年3月5日\n" + "\n".join(sentences) + "\n"
        doc = b.document(text, STATE, f"{report_year}年政府工作报告", "政府工作报告", report_year - 1,
                         date(report_year, 3, 5), None, f"gov-report-cn_{report_year}.txt")
        if result is not None:
            level = GDP_LEVEL.get(report_year - 1)
            if level:
                raw = f"{level / 10000:g}万亿元"
                fl = b.fact(doc, "国内生产总值超过", raw, level * 1e8, "元", "at_least")
                b.observe(STATE, "gdp", report_year - 1, "actual", level, "亿元", doc, fl, qualifier="at_least")
            f = b.fact(doc, f"国内生产总值增长{result:g}%", f"{result:g}%", result, "%")
            b.observe(STATE, "gdp_growth", report_year - 1, "actual", result, "%", doc, f)
            if level and report_year - 1 == 2024:
                # the growth a report states is real; the levels give nominal growth: the check says they differ
                b.observe(STATE, "gdp", 2024, "change_pct", result, "%", doc, f)
        if report_year == 2025:
            revised = b.fact(doc, "经济普查修订", "129.4272万亿元", 1.294272e14, "元")
            b.observe(STATE, "gdp", 2023, "actual", 1294272, "亿元", doc, revised)
        if goal:
            _, low, high, qualifier = goal
            raw = f"{low:g}%－{high:g}%" if high else f"{low:g}%"
            f = b.fact(doc, "主要预期目标", raw, low, "%", qualifier, high)
            b.observe(STATE, "gdp_growth", report_year, "target", low, "%", doc, f, qualifier=qualifier, high=high)
    years = sorted(GDP_GROWTH)
    for year in years:
        prev = GDP_GROWTH.get(year - 1)
        value = GDP_GROWTH[year]
        change = None if prev is None else round(value - prev, 6)
        pct = None if prev is None else (value - prev) / prev * 100
        b.rows["yoy"].append((STATE, "gdp_growth", year, value, year - 1 if prev else None, prev, change, pct,
                              None, None))
    b.rows["yoy"].append((STATE, "gdp", 2024, GDP_LEVEL[2024], 2023, GDP_LEVEL[2023],
                          GDP_LEVEL[2024] - GDP_LEVEL[2023], (GDP_LEVEL[2024] / GDP_LEVEL[2023] - 1) * 100,
                          GDP_GROWTH[2024], "differs"))
    for year, low, high, _q in GDP_GOALS:
        actual = GDP_GROWTH.get(year)
        met = None if actual is None else actual >= low - (0.5 if _q == "about" else 0)
        b.rows["goals"].append((STATE, "gdp_growth", year, low, high, actual, met))


def build_fixture_warehouse(path: Path, *, hostile: bool = False, shuffle: int | None = None) -> Path:
    """A real DuckDB file with tables named like the warehouse views, filled with rows from the real texts.

    `shuffle` stores every table's rows in another (seeded) order: what a report shows must not depend on it.
    """
    b = Builder()
    seed_rows(b)
    national_rows(b)
    if hostile:
        hostile_rows(b)
    if shuffle is not None:
        for rows in b.rows.values():
            random.Random(shuffle).shuffle(rows)
    return write_warehouse(b, path, runs=(
        "('20251231T020000-0000', '2025-12-31 02:00:00', '2025-12-31 02:00:05', 'ok', 12, 12, 0, ''), "
        "('20260101T020000-ab12', '2026-01-01 02:00:00', '2026-01-01 02:00:07', 'ok', 13, 13, 0, ''), "
        "('20260102T020000-ff00', '2026-01-02 02:00:00', '2026-01-02 02:00:01', 'failed', 13, 0, 0, 'disk full')"))


def write_warehouse(b: Builder, path: Path, *, runs: str) -> Path:
    """The builder's rows as a DuckDB file shaped like the warehouse views; `runs` is the runs table's values."""
    con = duckdb.connect(str(path))
    try:
        con.execute(DDL)
        con.executemany("insert into indicators values (?, ?, ?, ?, ?, '')", [list(i) for i in INDICATORS])
        for table, rows in b.rows.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                con.executemany(f"insert into {table} values ({marks})", [list(r) for r in rows])
        con.execute(f"insert into runs values {runs}")
    finally:
        con.close()
    return path


EVIL_TITLE = "<script>alert(1)</script>工作总结"
EVIL_ORG = "<b>某单位</b><img src=x onerror=alert(1)>"
EVIL_TEXT = ("标题<script>alert(1)</script>\n"
             "今年新增<img src=x onerror=alert(1)>体育场地5个<script>alert(1)</script>。\n")


def hostile_rows(b: Builder) -> None:
    doc = b.document(EVIL_TEXT, EVIL_ORG, EVIL_TITLE, "工作总结", 2023, date(2024, 1, 5), "<i>1号</i>",
                     "<script>alert(1)</script>.txt")
    f = b.fact(doc, "体育场地5个", "5个", 5, "个")
    b.observe(EVIL_ORG, "new_sports_venues", 2023, "actual", 5, "个", doc, f, note="<script>alert(1)</script>")


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def fixture_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("report")
    warehouse = build_fixture_warehouse(base / "fixture.duckdb")
    report.write_reports(warehouse, base / "reports")
    return generation(base / "reports")


def generation(reports: Path) -> Path:
    """The generation folder reports/index.html links into: where a reader's pages are."""
    found = report.current_generation(reports)
    assert found is not None and found.is_dir(), reports
    return found


def page(path: Path) -> HTMLParser:
    return HTMLParser(path.read_text(encoding="utf-8"))


def text(node: Node | None) -> str:
    assert node is not None
    return re.sub(r"\s+", " ", node.text(separator="")).strip()


def row_of(tree: HTMLParser, indicator_id: str, year: int | None = None) -> Node:
    selector = f'tr[data-indicator="{indicator_id}"]' + (f'[data-year="{year}"]' if year else "")
    rows = tree.css(selector)
    assert len(rows) == 1, f"{selector}: {len(rows)} rows"
    return rows[0]


def cell(row: Node, cls: str) -> str:
    return text(row.css_first(f"td.{cls}"))


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(("value", "unit", "qualifier", "high", "shown"), [
    (66720000, "元", "exact", None, "6672万元"),
    (6672, "万元", "exact", None, "6672万元"),
    (1.2e8, "元", "exact", None, "1.2亿元"),
    (1.2, "亿元", "exact", None, "1.2亿元"),
    (1349084, "亿元", "exact", None, "134.9084万亿元"),
    (8198572.5, "元", "exact", None, "819.85725万元"),
    (102, "个", "exact", None, "102个"),
    (9999, "人", "exact", None, "9999人"),
    (14476, "人次", "exact", None, "14476人次"),
    (36000, "人", "at_least", None, "3.6万人以上"),
    (120000, "人", "exact", None, "12万人"),
    (1700, "人", "at_least", None, "1700人以上"),
    (5, "%", "about", None, "5%左右"),
    (6.5, "%", "range", 7, "6.5–7%"),
    (0.30000000000000004, "%", "exact", None, "0.3%"),
    (2.4, "平方米", "exact", None, "2.4平方米"),
])
def test_amounts_read_as_chinese_readers_expect(value: float, unit: str, qualifier: str, high: float | None,
                                               shown: str) -> None:
    assert report.amount(value, unit, qualifier, high) == shown


def test_changes_carry_their_sign_and_rates_change_in_points() -> None:
    assert report.signed_amount(14, "家") == "+14家"
    assert report.signed_amount(-0.5, "%") == "−0.5个百分点"
    assert report.signed_amount(88502, "亿元") == "+8.8502万亿元"
    assert report.signed_amount(0, "万吨") == "±0万吨"  # no magnitude to choose from 0: the indicator's stays
    assert report.signed_pct(14 / 76 * 100) == "+18.4%"
    assert report.signed_pct(-6.756) == "−6.8%"
    assert report.direction(-1) == "▼ 下降"


@pytest.mark.parametrize("name", ["南昌市新建区教体局", "a/b/../../etc", "con", ".", "x" * 300, "<script>", ""])
def test_file_names_are_safe_for_any_name(name: str) -> None:
    safe = report.safe_name(name)
    assert re.fullmatch(r"[a-z0-9-]{1,60}", safe), safe
    assert report.safe_name(name) == safe
    assert report.safe_name(name + "x") != safe


def test_one_environment_autoescaped_and_strict() -> None:
    env = report.environment()
    assert env is report.environment()
    assert env.autoescape is True
    assert env.undefined.__name__ == "StrictUndefined"
    assert {"amount", "signed_pct", "highlight"} <= set(env.filters)


# --------------------------------------------------------------------------- the pages


def test_district_page_compares_lottery_shops_with_the_stated_change(fixture_reports: Path) -> None:
    tree = page(fixture_reports / report.org_year_href(XINJIAN, 2022))
    assert XINJIAN in text(tree.css_first("h1")) and "2022" in text(tree.css_first("h1"))
    shops = row_of(tree, "lottery_shops")
    assert text(shops.css_first("th")).startswith("体育彩票门店")
    assert cell(shops, "value") == "90家"
    assert cell(shops, "prev") == "76家"
    assert cell(shops, "change") == "+14家"
    assert cell(shops, "pct") == "+18.4% ▲ 上升"
    assert "18.4%" in cell(shops, "stated") and "14家" in cell(shops, "stated")
    assert cell(shops, "check") == "一致"
    assert "推算" in cell(shops, "flags")
    venues = row_of(tree, "new_sports_venues")
    assert cell(venues, "value") == "102个"
    assert cell(venues, "prev") == "—"


def test_large_values_use_wan_and_yi_on_the_page(fixture_reports: Path) -> None:
    tree = page(fixture_reports / report.org_year_href(XINJIAN, 2022))
    assert cell(row_of(tree, "kindergarten_funds"), "value") == "6672万元"
    assert cell(row_of(tree, "school_investment"), "value") == "1.2亿元"
    state = page(fixture_reports / report.org_year_href(STATE, 2024))
    gdp = row_of(state, "gdp")
    assert cell(gdp, "value") == "134.9084万亿元以上"
    assert cell(gdp, "change") == "+8.8502万亿元"
    assert (cell(gdp, "stated"), cell(gdp, "check")) == ("+5%", "不一致")


def test_every_number_links_to_its_sentence_with_the_number_marked(fixture_reports: Path) -> None:
    org_page = fixture_reports / report.org_year_href(XINJIAN, 2022)
    tree = page(org_page)
    links = tree.css("td a.src")
    assert len(links) >= 8
    for link in links:
        href = link.attributes["href"] or ""
        doc_path, _, anchor = href.partition("#")
        target = (org_page.parent / doc_path).resolve()
        assert target.is_file(), href
        if anchor:
            mark = page(target).css_first(f"mark#{anchor}")
            assert mark is not None, href
            # the same number as written (the page may normalise the counter: 14个家 → 14家)
            assert re.findall(r"[\d.]+", text(mark)) == re.findall(r"[\d.]+", text(link)), (href, text(mark))
    shops = row_of(tree, "lottery_shops")
    # one sentence gives this year (90), the stated change (14) and per cent (18.4); 76 is derived from it
    [quote] = shops.css("td.sources blockquote")
    assert [text(m) for m in quote.css("mark")] == ["14个家", "18.4%", "90家"]
    assert text(quote.css_first(".who")).startswith("今年、去年、所述变化、所述增幅")
    quotes = text(shops.css_first("td.sources"))
    assert "90 − 14 = 76" in quotes and "《新建区教体局2022年工作总结》" in quotes


def test_a_derived_value_marks_the_figures_it_came_from(fixture_reports: Path) -> None:
    shops = row_of(page(fixture_reports / report.org_year_href(XINJIAN, 2021)), "lottery_shops")
    assert cell(shops, "value") == "76家" and "推算" in cell(shops, "flags")
    [quote] = shops.css("td.sources blockquote")
    assert [text(m) for m in quote.css("mark")] == ["14个家", "90家"]
    assert "90 − 14 = 76" in text(quote.css_first(".who"))


def test_document_page_marks_every_quantity_and_names_the_document(fixture_reports: Path) -> None:
    tree = page(fixture_reports / report.doc_href(_doc_id(SEED.read_text(encoding="utf-8"))))
    assert text(tree.css_first("h1")) == "新建区教体局2022年工作总结"
    assert "新教发〔2023〕1号" in text(tree.body)
    assert "xinjian-jiaoti_2022.txt" in text(tree.body)
    marks = {text(m) for m in tree.css(".doc mark")}
    assert {"102个", "6672万元", "1.2亿元", "14个家", "18.4%", "90家"} <= marks


def _doc_id(t: str) -> str:
    return hashlib.sha256(t.encode()).hexdigest()[:16]


def test_gdp_growth_page_charts_2014_to_2024_with_the_goals(fixture_reports: Path) -> None:
    tree = page(fixture_reports / report.indicator_href("gov-work-report", "gdp_growth"))
    assert text(tree.css_first("h1")) == "国内生产总值增长（%）"
    svg = tree.css_first("svg")
    assert svg is not None
    ticks = [text(t) for t in svg.css("text.xtick")]
    assert ticks == [str(y) for y in range(2014, 2026)]
    labels = [text(t) for t in svg.css("text.axis-label")]
    assert labels == ["年份", "国内生产总值增长（%）"]
    assert len(svg.css("path.goal")) >= 1
    assert len(svg.css("g.goalmark")) == len(GDP_GOALS)
    assert len(svg.css("circle.pt")) == len(GDP_GROWTH)
    # 2019 has no result: the line breaks there instead of joining 2018 to 2020
    assert len(svg.css("path.actual")) == 2
    table = tree.css_first("table#history-1")
    years = [int(text(th)) for th in table.css("tbody th[scope=row]")]
    assert years == list(range(2014, 2026)) and 2019 in years
    row_2022 = row_of(tree, "gdp_growth", 2022)
    assert cell(row_2022, "value") == "3%" and cell(row_2022, "goal") == "5.5%左右"
    assert cell(row_2022, "met") == "未完成"
    assert cell(row_of(tree, "gdp_growth", 2016), "goal") == "6.5–7%"
    assert cell(row_of(tree, "gdp_growth", 2021), "goal") == "6%以上"
    assert cell(row_of(tree, "gdp_growth", 2021), "change") == "+5.8个百分点"


def test_a_restated_figure_is_flagged_with_both_sources(fixture_reports: Path) -> None:
    gdp = row_of(page(fixture_reports / report.org_year_href(STATE, 2023)), "gdp")
    assert "数据修订" in cell(gdp, "flags")
    assert cell(gdp, "value") == "129.4272万亿元"  # the newest document speaks for the year
    quotes = gdp.css("td.sources blockquote")
    assert [text(q.css_first(".who")).split(" · ")[0] for q in quotes] == ["今年", "他文所载"]
    assert [text(m) for q in quotes for m in q.css("mark")] == ["129.4272万亿元", "126.058万亿元"]  # as written


def test_index_lists_years_movers_and_what_could_not_be_checked(fixture_reports: Path) -> None:
    tree = page(fixture_reports / "index.html")
    orgs = {text(th) for th in tree.css("#org-list th[scope=row]")}
    assert orgs == {XINJIAN, STATE}
    hrefs = {a.attributes["href"] for a in tree.css("ul.years a")}
    assert report.org_year_href(XINJIAN, 2022) in hrefs and report.org_year_href(STATE, 2014) in hrefs
    movers = [text(th) for th in tree.css("table#movers tbody th")]
    assert movers[0] == "体育彩票门店"
    assert "体育彩票销售额" in [text(th) for th in tree.css("table#unchecked tbody th")]
    assert "2019" in text(tree.css_first("table#goals-open"))
    # the run date appears once, from the runs view: the latest run that published (a failed one changed nothing)
    assert text(tree.css_first("p.run time")) == "2026-01-01 02:00"
    assert "20260101T020000-ab12" in text(tree.css_first("p.run"))
    differs = tree.css_first("table#differs")
    assert [text(th) for th in differs.css("tbody th")] == ["国内生产总值"]
    assert "+7.0%" in text(differs) and "+5%" in text(differs)


def test_pages_are_self_contained_and_accessible(fixture_reports: Path) -> None:
    pages = sorted(fixture_reports.rglob("*.html"))
    assert len(pages) > 20
    for path in pages:
        html = path.read_text(encoding="utf-8")
        tree = HTMLParser(html)
        assert tree.css_first("html").attributes["lang"] == "zh-CN"
        assert tree.css_first('meta[name="viewport"]') is not None
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html), path
        assert "@import" not in html and "url(" not in html and "<link" not in html, path
        for tag in ("img", "iframe", "object", "embed"):
            assert tree.css_first(tag) is None, (path, tag)
        assert len(tree.css("script")) == 1 and tree.css_first("script").attributes.get("src") is None
        csp = tree.css_first('meta[http-equiv="Content-Security-Policy"]').attributes["content"] or ""
        assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "unsafe-inline'; img" not in csp
        for table in tree.css("table"):
            assert table.css_first("caption") is not None, path
            assert all(th.attributes.get("scope") in ("col", "row") for th in table.css("th")), path


def test_rendering_twice_gives_byte_identical_files(tmp_path: Path) -> None:
    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    before = warehouse.read_bytes()
    first = report.write_reports(warehouse, tmp_path / "a")
    second = report.write_reports(warehouse, tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a
    stamps = [p.stat().st_mtime_ns for p in first]
    again = report.write_reports(warehouse, tmp_path / "a")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in second]
    assert [p.stat().st_mtime_ns for p in again] == stamps  # unchanged pages are left alone
    assert warehouse.read_bytes() == before  # opened read-only
    ours = (report.LOCK_NAME, report.INPUTS_NAME)
    left = [p for p in (tmp_path / "a").rglob("*") if p.name not in ours and p.name.startswith(".")]
    assert not left and not list((tmp_path / "a").rglob("*.tmp"))


def test_the_order_rows_are_stored_in_changes_no_byte(tmp_path: Path) -> None:
    stored = report.write_reports(build_fixture_warehouse(tmp_path / "w.duckdb"), tmp_path / "a")
    shuffled = report.write_reports(build_fixture_warehouse(tmp_path / "s.duckdb", shuffle=7), tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in stored] == [p.relative_to(tmp_path / "b") for p in shuffled]
    assert [p.read_bytes() for p in stored] == [p.read_bytes() for p in shuffled]
    assert (tmp_path / "a" / "index.html").read_bytes() == (tmp_path / "b" / "index.html").read_bytes()


def test_pages_of_vanished_organisations_are_removed(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    stale = reports / "org" / "gone-12345678-2020.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old", encoding="utf-8")
    keep = reports / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    old_generation = reports / "g" / "0123456789abcdef" / "index.html"
    killed_run = reports / "g" / ".tmp-0123456789abcdef-x" / "org" / "half.html"
    for path in (old_generation, killed_run):
        path.parent.mkdir(parents=True)
        path.write_text("old", encoding="utf-8")
    report.write_reports(build_fixture_warehouse(tmp_path / "w.duckdb"), reports)
    assert keep.exists()
    assert not stale.exists() and not (reports / "org").exists()  # the layout before generations
    assert not old_generation.parent.exists() and not killed_run.parent.parent.exists()
    assert [p.name for p in (reports / "g").iterdir()] == [generation(reports).name]


def test_markdown_has_the_same_comparison_with_sources(tmp_path: Path) -> None:
    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    [path] = report.write_reports(warehouse, tmp_path / "reports", fmt="md")
    assert path == tmp_path / "reports" / "report.md"
    md = path.read_text(encoding="utf-8")
    section = md[md.index(f"## {XINJIAN} · 2022年"):]
    shops = next(line for line in section.splitlines() if line.startswith("| 体育彩票门店 |"))
    cells = [c.strip() for c in shops.strip("|").split("|")]
    assert cells[:7] == ["体育彩票门店", "90家", "76家", "+14家", "+18.4% ▲ 上升", "+18.4% +14家", "一致"]
    assert f"## {XINJIAN} · 2022年" in md
    assert "门店增加**14个家**，比去年增幅**18.4%**，现有门店**90家**" in md
    assert "| 新增体育场地 | 102个 |" in md
    assert "<" not in md.replace("&lt;", "")


def test_hostile_titles_and_text_render_as_text(tmp_path: Path) -> None:
    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb", hostile=True)
    written = report.write_reports(warehouse, tmp_path / "reports")
    doc_page = generation(tmp_path / "reports") / report.doc_href(_doc_id(EVIL_TEXT))
    org_page = generation(tmp_path / "reports") / report.org_year_href(EVIL_ORG, 2023)
    assert doc_page in written and org_page in written
    for path in written:
        tree = page(path)
        assert tree.css_first("img") is None, path
        assert tree.css_first("b") is None and tree.css_first("i") is None, path
        scripts = tree.css("script")
        assert len(scripts) == 1 and "alert" not in scripts[0].text(), path
        assert not [n for n in tree.css("*") if "onerror" in n.attributes], path
    doc_tree = page(doc_page)
    assert text(doc_tree.css_first("h1")) == EVIL_TITLE  # shown to the reader as the characters it is
    assert "<img src=x onerror=alert(1)>" in text(doc_tree.css_first(".doc"))
    assert EVIL_ORG in text(page(org_page).css_first("h1"))
    [md] = report.write_reports(warehouse, tmp_path / "reports", fmt="md")
    assert "<script>" not in md.read_text(encoding="utf-8")


def test_a_missing_warehouse_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"nothing\.duckdb.*tongbi run"):
        report.write_reports(tmp_path / "nothing.duckdb", tmp_path / "reports")


def test_a_warehouse_without_the_views_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(StorageError, match=r"empty\.duckdb.*tongbi run"):
        report.write_reports(path, tmp_path / "reports")


# --------------------------------------------------------------------------- the real warehouse (sample inbox)


@pytest.fixture(scope="module")
def real(built: dict[str, Path]) -> dict[str, Path]:
    """The reports `tongbi run` wrote over the sample inbox (conftest's `built`)."""
    return built


def _catalog(warehouse: Path, indicator_id: str) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute("select catalog from indicators where indicator_id = ? order by catalog",
                          [indicator_id]).fetchone()
    finally:
        con.close()
    assert row is not None, indicator_id
    return str(row[0])


def test_real_seed_page_shows_venues_and_lottery_shops_checked(real: dict[str, Path]) -> None:
    tree = page(generation(real["reports"]) / report.org_year_href(XINJIAN, 2022))
    assert cell(row_of(tree, "new_sports_venues"), "value") == "102个"
    shops = row_of(tree, "lottery_shops")
    assert (cell(shops, "value"), cell(shops, "prev"), cell(shops, "change")) == ("90家", "76家", "+14家")
    assert cell(shops, "pct") == "+18.4% ▲ 上升"
    assert "+18.4%" in cell(shops, "stated")
    assert cell(shops, "check") == "一致"
    assert "推算" in cell(shops, "flags")
    assert {"90家", "18.4%"} <= {text(m) for m in shops.css("td.sources mark")}
    # the rows that compare something come first
    assert tree.css("tbody tr")[0].attributes["data-indicator"] in {"lottery_shops", "sports_associations"}


def test_real_gdp_growth_page_shows_2014_to_2024_with_the_goals(real: dict[str, Path]) -> None:
    path = generation(real["reports"]) / report.indicator_href(_catalog(real["warehouse"], "gdp_growth"), "gdp_growth")
    tree = page(path)
    [state] = [s for s in tree.css("section.series") if s.attributes["data-org"] == STATE]
    ticks = [int(text(t)) for t in state.css("svg text.xtick")]
    assert ticks[0] == 2014 and 2024 in ticks
    results = {int(r.attributes["data-year"] or 0): cell(r, "value") for r in state.css("tbody tr")}
    goals = {int(r.attributes["data-year"] or 0): cell(r, "goal") for r in state.css("tbody tr")}
    assert {y: v for y, v in results.items() if v != "—"} == {
        2014: "7.4%", 2015: "6.9%", 2016: "6.7%", 2017: "6.9%", 2018: "6.6%", 2020: "2.3%", 2021: "8.1%",
        2022: "3%", 2023: "5.2%", 2024: "5%"}
    assert {y: g for y, g in goals.items() if g != "—"} == {
        2015: "7%左右", 2016: "6.5–7%", 2017: "6.5%左右", 2018: "6.5%左右", 2019: "6–6.5%", 2021: "6%以上",
        2022: "5.5%左右", 2023: "5%左右", 2024: "5%左右", 2025: "5%左右"}
    assert len(state.css("svg g.goalmark")) == 10 and state.css("svg path.goal")
    assert cell(row_of_in(state, 2022), "met") == "未完成"


def row_of_in(scope: Node, year: int) -> Node:
    rows = [r for r in scope.css("tbody tr") if r.attributes.get("data-year") == str(year)]
    assert len(rows) == 1
    return rows[0]


def test_real_reports_render_twice_byte_identical(real: dict[str, Path], tmp_path: Path) -> None:
    first = report.write_reports(real["warehouse"], tmp_path / "a")
    second = report.write_reports(real["warehouse"], tmp_path / "b")
    assert len(first) > 50
    assert [a.read_bytes() for a in first] == [b.read_bytes() for b in second]
    shipped = sorted(p.relative_to(real["reports"]) for p in real["reports"].rglob("*.html"))
    assert shipped == sorted(p.relative_to(tmp_path / "a") for p in first)


def test_real_markdown_report(real: dict[str, Path], tmp_path: Path) -> None:
    [path] = report.write_reports(real["warehouse"], tmp_path, fmt="md")
    md = path.read_text(encoding="utf-8")
    section = md[md.index(f"## {XINJIAN} · 2022年"):]
    expected = "| 体育彩票门店 | 90家 | 76家 | +14家 | +18.4% ▲ 上升 |"
    assert any(line.startswith(expected) for line in section.splitlines())
    assert "现有门店**90家**" in section


def test_cli_report_format_md_prints_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from jobs.cli import main

    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    assert main(["report", "--format", "md", "--warehouse", str(warehouse), "--reports", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "r" / "report.md")
    assert "| 体育彩票门店 | 90家 | 76家 |" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert main(["report", "--warehouse", str(tmp_path / "missing.duckdb"), "--reports", str(tmp_path / "r")]) == 3
    assert "missing.duckdb" in capsys.readouterr().err


def test_an_unwritable_reports_folder_names_the_folder(tmp_path: Path) -> None:
    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(StorageError, match=r"reports: the reports could not be written.*--reports DIR"):
        report.write_reports(warehouse, blocker)


def test_the_marked_number_is_the_one_the_offsets_name_not_the_first_lookalike() -> None:
    sentence = "销售额比去年增长10%，门店数比去年增长10%。"
    second = sentence.rindex("10%")
    fact = {"sentence_start": 100, "char_start": 100 + second, "raw": "10%"}
    assert report._fact_span(fact, sentence) == (second, second + 3)
    # offsets that do not fit the sentence fall back to finding the number as written
    assert report._fact_span({**fact, "char_start": 5}, sentence) == (sentence.index("10%"), sentence.index("10%") + 3)
    assert report._fact_span({**fact, "raw": "99%"}, sentence) == (None, None)


# --------------------------------------------------------------------------- kill -9 while writing


def snapshot(reports: Path) -> dict[str, bytes]:
    """Every file a reader could open (hidden temp folders and the lock file excluded), by path."""
    return {p.relative_to(reports).as_posix(): p.read_bytes() for p in sorted(reports.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(reports).parts)}


def reachable(reports: Path) -> dict[str, bytes]:
    """Every page a reader reaches from reports/index.html by following links, each required to exist."""
    seen: dict[str, bytes] = {}
    todo = ["index.html"]
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        path = reports / rel
        assert path.is_file(), f"{rel} is linked from the report but missing"
        data = path.read_bytes()
        assert data.rstrip().endswith(b"</html>"), f"{rel} is cut short"
        seen[rel] = data
        for node in HTMLParser(data.decode("utf-8")).css("a[href]"):
            href = (node.attributes.get("href") or "").split("#")[0]
            if href and "://" not in href:
                todo.append("/".join(_normal(f"{Path(rel).parent.as_posix()}/{href}")))
    return seen


def _normal(rel: str) -> list[str]:
    parts: list[str] = []
    for part in rel.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return parts


def tongbi_report(warehouse: Path, reports: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "report", "--warehouse", str(warehouse), "--reports", str(reports)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


KILLS = 21


def timed_report(warehouse: Path, old_reports: Path, reports: Path) -> tuple[float, float]:
    """How long an uninterrupted report over the old one takes, and how long of it a new generation is written."""
    shutil.copytree(old_reports, reports)
    started = time.monotonic()
    proc = tongbi_report(warehouse, reports)
    writing_from = None
    while proc.poll() is None:
        if writing_from is None and list((reports / "g").glob(".tmp-*")):
            writing_from = time.monotonic()
        time.sleep(0.001)
    ended = time.monotonic()
    assert proc.returncode == 0 and writing_from is not None
    return ended - started, ended - writing_from


@pytest.mark.slow
def test_kill_9_while_writing_leaves_a_whole_old_or_new_report(built: dict[str, Path], tmp_path: Path) -> None:
    """A real `tongbi report` killed at random moments (seeded): any moment, while pages are written, around the switch.

    After each kill every page reachable from reports/index.html exists, is whole and belongs to the old report or
    to the new one, never a mix; a clean run afterwards gives exactly the files of a run never interrupted.
    """
    from jobs.run import run_job
    from jobs.settings import Settings

    inbox = tmp_path / "inbox"
    shutil.copytree(built["inbox"], inbox)
    (inbox / SEED.name).unlink()  # the new data: one document fewer, so pages and the index differ
    settings = Settings(inbox=inbox, schemas=ROOT / "schemas", warehouse=tmp_path / "new.duckdb",
                        reports=tmp_path / "unused")
    assert run_job(settings, reports=False).exit_code in (0, 1)

    old_reports, new_reports, lab = tmp_path / "old", tmp_path / "new", tmp_path / "lab"
    for warehouse, folder in ((built["warehouse"], old_reports), (settings.warehouse, new_reports)):
        proc = tongbi_report(warehouse, folder)
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    old, new = snapshot(old_reports), snapshot(new_reports)
    assert old["index.html"] != new["index.html"]
    duration, writing = timed_report(settings.warehouse, old_reports, tmp_path / "timed")

    rng = random.Random(20261129)
    outcomes: Counter[str] = Counter()
    new_generation = lab / "g" / re.findall(r'tongbi-generation" content="(\w+)"', new["index.html"].decode())[0]
    for index in range(KILLS):
        shutil.rmtree(lab, ignore_errors=True)
        shutil.copytree(old_reports, lab)  # the old report, published
        proc = tongbi_report(settings.warehouse, lab)
        if index % 3 == 0:
            time.sleep(rng.uniform(0, duration))  # any moment, start-up included
        else:
            # a moment inside the writing (the hidden temp folder exists), or once the new generation is in place:
            # around the switch and the removal of the old one
            writing_phase = index % 3 == 1
            deadline = time.monotonic() + 30
            while proc.poll() is None and time.monotonic() < deadline and not (
                    list((lab / "g").glob(".tmp-*")) if writing_phase else new_generation.is_dir()):
                time.sleep(0.001)
            time.sleep(rng.uniform(0, writing / 2) if index % 3 == 1 else rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=60)
        mid_write = bool(list((lab / "g").glob(".tmp-*")))
        seen = reachable(lab)
        side = "new" if seen["index.html"] == new["index.html"] else "old"
        expected = new if side == "new" else old
        assert seen["index.html"] == expected["index.html"], f"kill {index}: index.html is neither old nor new"
        for rel, data in seen.items():
            assert expected.get(rel) == data, f"kill {index}: {rel} is not the {side} report's page"
        assert set(seen) == {r for r in expected if r.endswith(".html")}  # every page, all of one report
        how = " (killed while writing)" if mid_write else " (finished first)" if code == 0 else ""
        outcomes[side + how] += 1
        if index % 7 == 6:
            assert tongbi_report(settings.warehouse, lab).wait(timeout=60) == 0
            assert snapshot(lab) == new  # byte-identical to the uninterrupted run, leftovers gone
            assert not list(lab.rglob(".tmp*")) and not list(lab.rglob("*.tmp"))
    print(f"\n{KILLS} kills (the uninterrupted report took {duration:.2f} s, writing {writing:.3f} s of it): "
          f"{dict(sorted(outcomes.items()))}")
    assert outcomes["old (killed while writing)"] >= 1  # the moments that matter were hit, not only the ends


# --------------------------------------------------------------------------- scale: workers and progress


def test_pages_rendered_by_forked_workers_are_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    serial = report.write_reports(warehouse, tmp_path / "serial")
    monkeypatch.setattr(report, "PARALLEL_FROM", 1)
    monkeypatch.setattr(report, "MAX_WORKERS", 2)
    monkeypatch.setattr(report.os, "sched_getaffinity", lambda _pid: {0, 1})
    parallel = report.write_reports(warehouse, tmp_path / "parallel")
    assert [p.relative_to(tmp_path / "serial") for p in serial] == [p.relative_to(tmp_path / "parallel")
                                                                   for p in parallel]
    assert [p.read_bytes() for p in serial] == [p.read_bytes() for p in parallel]


def test_many_pages_made_durable_by_one_syncfs_are_the_same_files(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    one_by_one = report.write_reports(warehouse, tmp_path / "fsync")
    assert report._syncfs(tmp_path)  # Linux: the whole file system flushed, no error
    calls: list[Path] = []
    monkeypatch.setattr(report, "SYNCFS_FROM", 1)
    monkeypatch.setattr(report, "_fsync_file", calls.append)
    whole = report.write_reports(warehouse, tmp_path / "syncfs")
    assert calls == []  # no page fsynced on its own
    assert [p.read_bytes() for p in one_by_one] == [p.read_bytes() for p in whole]
    monkeypatch.setattr(report, "_syncfs", lambda _folder: False)  # refused: every page fsynced after all
    report.write_reports(warehouse, tmp_path / "refused")
    assert len(calls) == len(whole) - 1  # each page of the generation; reports/index.html is written on its own


def test_a_progress_bar_on_a_terminal_and_nothing_under_cron(tmp_path: Path) -> None:
    import os
    import pty

    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    command = [sys.executable, "-m", "jobs.cli", "report", "--warehouse", str(warehouse)]
    quiet = subprocess.run([*command, "--reports", str(tmp_path / "cron")], cwd=ROOT, capture_output=True,
                           check=True)
    assert quiet.stderr == b""  # cron mails whatever a job prints: a bar there would be noise every night
    main, child = pty.openpty()
    proc = subprocess.Popen([*command, "--reports", str(tmp_path / "tty")], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=child, env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
    os.close(child)
    shown = b""
    with contextlib.suppress(OSError):  # the pty reports EIO once the child has exited
        while chunk := os.read(main, 65536):
            shown += chunk
    os.close(main)
    assert proc.wait(timeout=60) == 0
    pages = len(list((tmp_path / "tty" / "g").rglob("*.html")))
    assert b"reports" in shown and f"/{pages}".encode() in shown, shown[-400:]


# --------------------------------------------------------------------------- snapshot


SNAPSHOTS = ROOT / "tests" / "snapshots" / "report"


def _unnamed(page: str) -> str:
    return re.sub(r"\bg/[0-9a-f]{16}/", "g/GENERATION/", re.sub(r'"tongbi-generation" content="[0-9a-f]{16}"',
                                                            '"tongbi-generation" content="GENERATION"', page))


def test_pages_match_the_committed_snapshots(tmp_path: Path) -> None:
    """The fixture warehouse's key pages, byte for byte as committed under tests/snapshots/report/.

    A difference is shown as a diff; when the change is intended, rewrite the snapshots and commit them with it:

        TONGBI_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_report.py -k snapshots

    The top index names the generation (a hash of every page's key, code included), which is masked here; that
    the same data and code give the same name is tested by rendering twice.
    """
    import difflib
    import os

    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    reports = tmp_path / "reports"
    report.write_reports(warehouse, reports)
    report.write_reports(warehouse, reports, fmt="md")
    gen = generation(reports)
    pages = {
        "index.html": reports / "index.html",
        "org-xinjian-2022.html": gen / report.org_year_href(XINJIAN, 2022),
        "org-state-2023.html": gen / report.org_year_href(STATE, 2023),
        "indicator-gdp-growth.html": gen / report.indicator_href("gov-work-report", "gdp_growth"),
        "doc-xinjian-2022.html": gen / report.doc_href(_doc_id(SEED.read_text(encoding="utf-8"))),
        "report.md": reports / "report.md",
    }
    if os.environ.get("TONGBI_UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        for name, path in pages.items():
            (SNAPSHOTS / name).write_bytes(path.read_bytes())
    for name, path in pages.items():
        # the generation's name hashes the page keys, and with them the code: any edit of jobs/report.py renames it
        expected = _unnamed((SNAPSHOTS / name).read_text(encoding="utf-8"))
        found = _unnamed(path.read_text(encoding="utf-8"))
        if found != expected:
            diff = difflib.unified_diff(expected.splitlines(), found.splitlines(), f"snapshot/{name}", "rendered",
                                        lineterm="", n=1)
            pytest.fail(f"{name} differs from its snapshot (TONGBI_UPDATE_SNAPSHOTS=1 to accept):\n"
                        + "\n".join(list(diff)[:40]))


@pytest.mark.slow
def test_kill_9_while_writing_markdown_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    old_wh = build_fixture_warehouse(tmp_path / "old.duckdb")
    new_wh = build_fixture_warehouse(tmp_path / "new.duckdb", hostile=True)
    command = [sys.executable, "-m", "jobs.cli", "report", "--format", "md", "--reports"]
    versions = []
    for name, warehouse in (("old", old_wh), ("new", new_wh)):
        subprocess.run([*command, str(tmp_path / name), "--warehouse", str(warehouse)], cwd=ROOT, check=True,
                       capture_output=True)
        versions.append((tmp_path / name / "report.md").read_bytes())
    assert versions[0] != versions[1]
    lab = tmp_path / "lab"
    rng = random.Random(5)
    for _ in range(8):
        shutil.rmtree(lab, ignore_errors=True)
        shutil.copytree(tmp_path / "old", lab)
        started = time.monotonic()
        proc = subprocess.Popen([*command, str(lab), "--warehouse", str(new_wh)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert (lab / "report.md").read_bytes() in versions, f"killed at {time.monotonic() - started:.2f} s"


def test_a_night_that_changed_no_data_rewrites_only_the_run_line(tmp_path: Path) -> None:
    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    reports = tmp_path / "reports"
    report.write_reports(warehouse, reports)
    pages = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in generation(reports).rglob("*.html")}
    con = duckdb.connect(str(warehouse))
    con.execute("insert into runs values ('20260103T020000-cd34', '2026-01-03 02:00:00', '2026-01-03 02:00:02', "
                "'ok', 13, 0, 0, '')")
    con.close()
    refreshed = report.write_reports(warehouse, reports)
    assert report.RenderCount(0, 0) == report.LAST_RENDER  # not one page rendered (a timing would flake)
    fresh = report.write_reports(warehouse, tmp_path / "fresh")  # rendered from nothing
    assert [p.read_bytes() for p in refreshed] == [p.read_bytes() for p in fresh]
    assert "20260103T020000-cd34" in (reports / "index.html").read_text(encoding="utf-8")
    changed = [p for p, (data, mtime) in pages.items() if p.stat().st_mtime_ns != mtime]
    assert changed == [generation(reports) / "index.html"]  # the one page naming the run
    con = duckdb.connect(str(warehouse))  # now the data changes: the pages are rendered again
    for table in ("observations", "yoy"):
        con.execute(f"update {table} set value = 91 where indicator_id = 'lottery_shops' and year = 2022")
    con.close()
    old_generation = generation(reports)
    report.write_reports(warehouse, reports)
    assert generation(reports) != old_generation and not old_generation.exists()
    assert "91家" in text(row_of(page(generation(reports) / report.org_year_href(XINJIAN, 2022)), "lottery_shops"))


# --------------------------------------------------------------------------- incremental rendering


def test_a_changed_document_renders_only_its_pages_and_the_result_is_a_full_render(
        built: dict[str, Path], tmp_path: Path) -> None:
    """One document of the sample inbox changes: the pages that show nothing of it are hard-linked from the current
    generation unrendered, and every file (hidden fingerprints included) is byte for byte a render from nothing."""
    from jobs.run import run_job
    from jobs.settings import Settings

    inbox, reports = tmp_path / "inbox", tmp_path / "reports"
    shutil.copytree(built["inbox"], inbox)
    shutil.copytree(built["reports"], reports)
    settings = Settings(inbox=inbox, schemas=ROOT / "schemas", warehouse=tmp_path / "w.duckdb", reports=reports)
    shutil.copy(built["warehouse"], settings.warehouse)
    seed = inbox / SEED.name
    before = seed.read_text(encoding="utf-8")
    assert "现有门店90家" in before
    seed.write_text(before.replace("现有门店90家", "现有门店93家"), encoding="utf-8")
    assert run_job(settings, reports=False).exit_code == 0
    old = generation(reports)
    before = {p.relative_to(old).as_posix(): (p.read_bytes(), p.stat().st_ino) for p in old.rglob("*.html")}

    report.write_reports(settings.warehouse, reports)
    counted = report.LAST_RENDER
    report.write_reports(settings.warehouse, tmp_path / "fresh")
    assert report.LAST_RENDER.reused == 0  # from nothing: every page rendered
    assert snapshot(reports) == snapshot(tmp_path / "fresh")
    new = generation(reports)
    assert new != old and not old.exists()
    hidden = sorted(p.name for p in new.iterdir() if p.name.startswith("."))
    assert hidden == [report.INPUTS_NAME]
    for name in hidden:
        assert (new / name).read_bytes() == (generation(tmp_path / "fresh") / name).read_bytes()
    assert "93家" in text(row_of(page(new / report.org_year_href(XINJIAN, 2022)), "lottery_shops"))
    pages = {p.relative_to(new).as_posix(): p for p in new.rglob("*.html")}
    assert counted.rendered + counted.reused == len(pages) == len(before)
    # a new doc_id for the changed document: every page quoting it links elsewhere now and must be rendered; the
    # pages rendered are exactly those whose bytes changed (and the index, always rendered), each other page is
    # the old generation's file itself, hard-linked
    changed = {rel for rel, path in pages.items() if rel not in before or before[rel][0] != path.read_bytes()}
    assert counted.rendered == len(changed | {"index.html"}), counted
    assert counted.reused >= len(pages) // 4, counted
    kept = [rel for rel in pages if rel not in changed | {"index.html"}]
    assert all(pages[rel].stat().st_ino == before[rel][1] for rel in kept)
    # the same data again over the fresh render, its whole-report fingerprint altered: only the index is rendered
    fresh = snapshot(tmp_path / "fresh")
    stored = generation(tmp_path / "fresh") / report.INPUTS_NAME
    stored.write_text("0" * 64 + stored.read_text(encoding="ascii")[64:], encoding="ascii")
    report.write_reports(settings.warehouse, tmp_path / "fresh")
    assert report.RenderCount(1, len(pages) - 1) == report.LAST_RENDER
    assert snapshot(tmp_path / "fresh") == fresh


def test_page_keys_are_dropped_when_the_code_that_renders_them_changes(tmp_path: Path) -> None:
    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    reports = tmp_path / "reports"
    report.write_reports(warehouse, reports)
    keys = generation(reports) / report.INPUTS_NAME
    inputs, code, rest = keys.read_text(encoding="ascii").split("\n", 2)
    assert code == f"code {report._code_key()}" and len(inputs) == 64
    assert len(report._read_page_keys(generation(reports))) == len(list(generation(reports).rglob("*.html"))) - 1
    keys.write_text(f"{inputs}\ncode 0\n{rest}", encoding="ascii")
    assert report._read_page_keys(generation(reports)) == {}
    con = duckdb.connect(str(warehouse))  # new data, so the pages are made again, now all of them
    con.execute("update yoy set value = 91 where indicator_id = 'lottery_shops' and year = 2022")
    con.close()
    report.write_reports(warehouse, reports)
    assert report.LAST_RENDER.reused == 0
    assert snapshot(reports) == snapshot(_fresh(warehouse, tmp_path / "fresh"))


def _fresh(warehouse: Path, reports: Path) -> Path:
    report.write_reports(warehouse, reports)
    return reports
