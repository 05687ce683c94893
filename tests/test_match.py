"""jobs.match: sentences from the corpus read as observations (and the ones that must not be), then the real series."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from jobs.catalog import Catalog, load_catalogs
from jobs.match import match
from jobs.records import Document, Fact, KindRule, Observation, Qualifier

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
INBOX = ROOT / "warehouse" / "inbox"

SUMMARY = KindRule(kind="工作总结", markers=("工作总结",), year_patterns=(), filename_year_offset=0,
                   default_basis="actual", target_year_offset=1)
GOV_REPORT = KindRule(kind="政府工作报告", markers=("政府工作报告",), year_patterns=(), filename_year_offset=-1,
                      default_basis="actual", target_year_offset=1)


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return {catalog.id: catalog for catalog in load_catalogs(SCHEMAS)}


Spec = tuple[Any, ...]  # (raw, value, unit[, qualifier[, value_high]])


def facts_for(text: str, specs: list[Spec]) -> list[Fact]:
    """Facts as the extractor gives them (values in base units, unsigned), located in order in `text`."""
    facts, position = [], 0
    for raw, value, unit, *rest in specs:
        qualifier: Qualifier = rest[0] if rest else "exact"
        high = rest[1] if len(rest) > 1 else None
        start = text.index(raw, position)
        end = position = start + len(raw)
        bounds = [m.end() for m in re.finditer(r"[。！？；\n]", text)]
        s0 = max([b for b in bounds if b <= start], default=0)
        s1 = min([b for b in bounds if b > start], default=len(text))
        facts.append(Fact(value=float(value), unit=unit, raw=raw, qualifier=qualifier, value_high=high,
                          char_start=start, char_end=end, sentence=text[s0:s1].strip(), section="",
                          sentence_start=s0))
    return facts


def run(text: str, specs: list[Spec], catalog: Catalog, *, gov: bool = False) -> list[Observation]:
    kind = "政府工作报告" if gov else "工作总结"
    doc = Document(doc_id="doc1", source_file="t.txt", sha256="x", text=text, org="测试单位", title="测试",
                   kind=kind, period_year=2020 if gov else 2022)
    return match(doc, facts_for(text, specs), catalog, GOV_REPORT if gov else SUMMARY)


def table(observations: list[Observation]) -> set[tuple[str, int, str, float, str]]:
    return {(o.indicator_id, o.year, o.basis, round(o.value, 6), o.qualifier) for o in observations}


# ---------------------------------------------------------------------------------------------------------------
# Sentences that are observations
# ---------------------------------------------------------------------------------------------------------------

GOV_POSITIVE: list[tuple[str, list[Spec], set[tuple[str, int, str, float, str]]]] = [
    (  # the goal paragraph: target for period_year + 1
        "今年发展主要预期目标是：国内生产总值增长6%以上，城镇新增就业1100万人以上，城镇调查失业率5.5%左右。",
        [("6%", 6, "%", "at_least"), ("1100万人", 11_000_000, "人", "at_least"), ("5.5%", 5.5, "%", "about")],
        {("gdp_growth", 2021, "target", 6, "at_least"), ("new_urban_jobs", 2021, "target", 1100, "at_least"),
         ("surveyed_unemployment_rate", 2021, "target", 5.5, "about")},
    ),
    (  # a range goal keeps both ends
        "今年发展的主要预期目标是：国内生产总值增长6.5%－7%，居民消费价格涨幅3%左右。",
        [("6.5%－7%", 6.5, "%", "range", 7.0), ("3%", 3, "%", "about")],
        {("gdp_growth", 2021, "target", 6.5, "range"), ("cpi", 2021, "target", 3, "about")},
    ),
    (  # the subject carries to the clause that only says 比上年增长; 万亿元 converts from 元
        "国内生产总值达到63.6万亿元，比上年增长7.4%，在世界主要经济体中名列前茅。",
        [("63.6万亿元", 6.36e13, "元"), ("7.4%", 7.4, "%")],
        {("gdp", 2020, "actual", 63.6, "exact"), ("gdp_growth", 2020, "actual", 7.4, "exact")},
    ),
    (  # four subjects in one sentence; 降到 names a level, so the rate stays positive
        "全年国内生产总值增长3%，城镇新增就业1206万人，年末城镇调查失业率降到5.5%，居民消费价格上涨2%。",
        [("3%", 3, "%"), ("1206万人", 12_060_000, "人"), ("5.5%", 5.5, "%"), ("2%", 2, "%")],
        {("gdp_growth", 2020, "actual", 3, "exact"), ("new_urban_jobs", 2020, "actual", 1206, "exact"),
         ("surveyed_unemployment_rate", 2020, "actual", 5.5, "exact"), ("cpi", 2020, "actual", 2, "exact")},
    ),
    (  # a bound flips with the sign: a fall of 3.4 % or more is −3.4 or below
        "今年发展主要预期目标是：单位国内生产总值能耗下降3.4%以上。",
        [("3.4%", 3.4, "%", "at_least")],
        {("energy_intensity_change", 2021, "target", -3.4, "at_most")},
    ),
    (  # the direction word gives a growth indicator its sign
        "单位国内生产总值能耗下降5.6%，主要污染物排放量继续下降。",
        [("5.6%", 5.6, "%")],
        {("energy_intensity_change", 2020, "actual", -5.6, "exact")},
    ),
    (  # 亿斤 → 万吨, and a level with its stated change gives last year's level
        "粮食产量1.37万亿斤，增产74亿斤。",
        [("1.37万亿斤", 1.37e12, "斤"), ("74亿斤", 7.4e9, "斤")],
        {("grain_output", 2020, "actual", 68_500, "exact"), ("grain_output", 2020, "change", 370, "exact"),
         ("grain_output", 2019, "derived", 68_130, "exact")},
    ),
    (  # a plan for this year in a report: 今年…要
        "今年粮食产量要稳定在5.5亿吨以上，保障粮食安全和主要农产品供给。",
        [("5.5亿吨", 5.5e8, "吨", "at_least")],
        {("grain_output", 2021, "target", 55_000, "at_least")},
    ),
    (  # 其中 lists parts: the whole is the deficit, not the central or local part
        "财政赤字2.38万亿元，其中中央财政赤字1.55万亿元，地方财政赤字8300亿元。",
        [("2.38万亿元", 2.38e12, "元"), ("1.55万亿元", 1.55e12, "元"), ("8300亿元", 8.3e11, "元")],
        {("fiscal_deficit", 2020, "actual", 23_800, "exact")},
    ),
    (  # 分别: the first number is the first noun's; the second is not carried to it
        "单位国内生产总值能耗和二氧化碳排放分别降低13.5%、18%。",
        [("13.5%", 13.5, "%"), ("18%", 18, "%")],
        {("energy_intensity_change", 2020, "actual", -13.5, "exact")},
    ),
    (  # a year followed by 中央 is not a span of years
        "2020年中央预算内投资安排6000亿元，粮食产量达到6.69亿吨。",
        [("6000亿元", 6e11, "元"), ("6.69亿吨", 6.69e8, "吨")],
        {("central_budget_investment", 2020, "actual", 6000, "exact"),
         ("grain_output", 2020, "actual", 66_900, "exact")},
    ),
    (  # a heading naming the target year makes its section's figures goals
        "二、2021年经济社会发展总体要求和政策取向\n赤字率拟按3.2%左右安排。",
        [("3.2%", 3.2, "%", "about")],
        {("deficit_ratio", 2021, "target", 3.2, "about")},
    ),
]

SUMMARY_POSITIVE: list[tuple[str, list[Spec], set[tuple[str, int, str, float, str]]]] = [
    (  # the example: the subject carries across two clauses
        "体育彩票销售保持良好势头，位列各县区前茅，比去年增幅10%。",
        [("10%", 10, "%")],
        {("lottery_sales_growth", 2022, "actual", 10, "exact")},
    ),
    (  # a change, its per-cent change, the level, and the derived prior year
        "门店增加14个家，比去年增幅18.4%，现有门店90家，体彩事业健康有序发展。",
        [("14个家", 14, "家"), ("18.4%", 18.4, "%"), ("90家", 90, "家")],
        {("lottery_shops", 2022, "change", 14, "exact"), ("lottery_shops", 2022, "change_pct", 18.4, "exact"),
         ("lottery_shops", 2022, "actual", 90, "exact"), ("lottery_shops", 2021, "derived", 76, "exact")},
    ),
    (
        "新成立单项体育协会1个，现单项体育协会共有16个。",
        [("1个", 1, "个"), ("16个", 16, "个")],
        {("sports_associations", 2022, "change", 1, "exact"), ("sports_associations", 2022, "actual", 16, "exact"),
         ("sports_associations", 2021, "derived", 15, "exact")},
    ),
    (  # the subject passes through a clause that has none of its own
        "现有门店90家，比去年增加14家，增长18.4%。",
        [("90家", 90, "家"), ("14家", 14, "家"), ("18.4%", 18.4, "%")],
        {("lottery_shops", 2022, "actual", 90, "exact"), ("lottery_shops", 2022, "change", 14, "exact"),
         ("lottery_shops", 2022, "change_pct", 18.4, "exact"), ("lottery_shops", 2021, "derived", 76, "exact")},
    ),
    (  # 今年 in a yearly summary is the year under review; a flow indicator is its own 新增
        "健身设施全面提升，今年新增体育场地102个，人均体育场地面积达到2.4平方米。",
        [("102个", 102, "个"), ("2.4平方米", 2.4, "平方米")],
        {("new_sports_venues", 2022, "actual", 102, "exact"), ("sports_area_per_capita", 2022, "actual", 2.4, "exact")},
    ),
    (  # the noun after the measure word is what is counted
        "扎实推进18所标准化幼儿园和12所市、区级示范园推荐评估认定工作。",
        [("18所", 18, "所"), ("12所", 12, "所")],
        {("standardised_kindergartens", 2022, "actual", 18, "exact"),
         ("model_kindergartens", 2022, "actual", 12, "exact")},
    ),
    (  # 名 counts persons; the parts after 其中 are not new teachers
        "全年新增教师145人，其中引进部属公费师范生31名、安排省属公费师范生29名。",
        [("145人", 145, "人"), ("31名", 31, "名"), ("29名", 29, "名")],
        {("new_teachers", 2022, "actual", 145, "exact")},
    ),
    (  # 元 → 万元; which 资助款 it is, the exclude phrases decide
        "累计向2555名脱贫户家庭在校学生发放了资助款127.1015万元；关心关爱困难教师，向120名家庭经济困难教师发放各类资助款50.4万元。",
        [("2555名", 2555, "名"), ("127.1015万元", 1_271_015, "元"), ("120名", 120, "名"), ("50.4万元", 504_000, "元")],
        {("poverty_household_students_aided", 2022, "actual", 2555, "exact"),
         ("poverty_household_student_aid", 2022, "actual", 127.1015, "exact"),
         ("needy_teachers_aided", 2022, "actual", 120, "exact"), ("needy_teacher_aid", 2022, "actual", 50.4, "exact")},
    ),
]


@pytest.mark.parametrize(("text", "specs", "expected"), GOV_POSITIVE, ids=[case[0][:14] for case in GOV_POSITIVE])
def test_gov_sentences(catalogs: dict[str, Catalog], text: str, specs: list[Spec],
                       expected: set[tuple[str, int, str, float, str]]) -> None:
    assert table(run(text, specs, catalogs["gov-work-report"], gov=True)) == expected


@pytest.mark.parametrize(("text", "specs", "expected"), SUMMARY_POSITIVE,
                         ids=[case[0][:14] for case in SUMMARY_POSITIVE])
def test_summary_sentences(catalogs: dict[str, Catalog], text: str, specs: list[Spec],
                           expected: set[tuple[str, int, str, float, str]]) -> None:
    assert table(run(text, specs, catalogs["district-education-sports"])) == expected


# ---------------------------------------------------------------------------------------------------------------
# Sentences that are NOT observations of the indicator the alias suggests
# ---------------------------------------------------------------------------------------------------------------

GOV_NEGATIVE: list[tuple[str, list[Spec], str]] = [
    ("单位国内生产总值能耗下降3.4%以上，主要污染物排放继续减少。", [("3.4%", 3.4, "%", "at_least")], "gdp_growth"),
    ("服务业在国内生产总值中的比重上升到50.5%，首次占据“半壁江山”。", [("50.5%", 50.5, "%")], "gdp_growth"),
    ("服务业增加值占国内生产总值比重上升到51.6%。", [("51.6%", 51.6, "%")], "gdp_growth"),
    ("国内生产总值的比重达到17%以上。", [("17%", 17, "%", "at_least")], "gdp_growth"),
    ("消费对经济增长的贡献率达到66.4%。", [("66.4%", 66.4, "%")], "gdp_growth"),
    ("消费对经济增长的贡献率上升3个百分点，达到51.2%。", [("3个百分点", 3, "百分点"), ("51.2%", 51.2, "%")],
     "gdp_growth"),
    ("国内生产总值达到74.4万亿元，增长6.7%，名列世界前茅，对全球经济增长的贡献率超过30%。",
     [("74.4万亿元", 7.44e13, "元"), ("6.7%", 6.7, "%"), ("30%", 30, "%", "at_least")], "gdp_growth:30"),
    ("研究与试验发展经费支出与国内生产总值之比超过2%。", [("2%", 2, "%", "at_least")], "gdp_growth"),
    ("国内生产总值从54万亿元增加到82.7万亿元，年均增长7.1%。",
     [("54万亿元", 5.4e13, "元"), ("82.7万亿元", 8.27e13, "元"), ("7.1%", 7.1, "%")], "gdp:54"),
    ("国内生产总值从54万亿元增加到82.7万亿元，年均增长7.1%。",
     [("54万亿元", 5.4e13, "元"), ("82.7万亿元", 8.27e13, "元"), ("7.1%", 7.1, "%")], "gdp_growth"),
    ("五年来，经济实力跃上新台阶。居民消费价格年均上涨1.9%，保持较低水平。城镇新增就业6600万人以上。",
     [("1.9%", 1.9, "%"), ("6600万人", 6.6e7, "人", "at_least")], "*"),
    ("十年来我国居民消费价格涨幅稳定在2%左右的较低水平。", [("2%", 2, "%", "about")], "*"),
    ("《纲要草案》明确了今后五年经济社会发展的主要目标任务。\n——持续增进民生福祉。实现城镇新增就业5000万人以上。",
     [("5000万人", 5e7, "人", "at_least")], "*"),
    ("“十三五”时期经济年均增长保持在6.5%以上。", [("6.5%", 6.5, "%", "at_least")], "*"),
    ("到2020年国内生产总值比2010年翻一番，达到100万亿元。", [("100万亿元", 1e14, "元")], "*"),
    ("2015年是“十二五”收官之年。过去五年，我国发展成就举世瞩目。城镇新增就业人数超过6400万人。",
     [("6400万人", 6.4e7, "人", "at_least")], "*"),
    ("国内生产总值增加到121万亿元，五年年均增长5.2%。", [("121万亿元", 1.21e14, "元"), ("5.2%", 5.2, "%")],
     "gdp_growth"),
    ("国民经济和社会发展第十四个五年规划和2035年远景目标纲要\n经济增长预期目标，城镇调查失业率控制在5.5%以内。",
     [("5.5%", 5.5, "%", "at_most")], "*"),
    ("其中，中央财政赤字1.12万亿元，增加1700亿元；地方财政赤字5000亿元。",
     [("1.12万亿元", 1.12e12, "元"), ("1700亿元", 1.7e11, "元"), ("5000亿元", 5e11, "元")], "fiscal_deficit"),
    ("城镇、农村居民人均可支配收入分别增长4.3%、5.7%。", [("4.3%", 4.3, "%"), ("5.7%", 5.7, "%")],
     "disposable_income_growth"),
    ("现在国内生产总值每增长1个百分点的增量，相当于5年前1.5个百分点。",
     [("1个百分点", 1, "百分点"), ("1.5个百分点", 1.5, "百分点")], "*"),
]

SUMMARY_NEGATIVE: list[tuple[str, list[Spec], str]] = [
    ("新增普惠性民办园等6所，2所小区配套园相继开园。", [("6所", 6, "所"), ("2所", 2, "所")],
     "new_inclusive_private_kindergartens:2"),
    ("人均体育场地面积达到2.4平方米。", [("2.4平方米", 2.4, "平方米")], "new_sports_venues"),
    ("现有门店90家，体育彩票销售额3000万元。", [("90家", 90, "家"), ("3000万元", 3e7, "元")], "lottery_sales_growth"),
]


@pytest.mark.parametrize(("text", "specs", "excluded"), GOV_NEGATIVE, ids=[case[0][:14] for case in GOV_NEGATIVE])
def test_gov_negatives(catalogs: dict[str, Catalog], text: str, specs: list[Spec], excluded: str) -> None:
    """`*`: no observation at all; `id`: not that indicator; `id:value`: not that value for it."""
    observations = run(text, specs, catalogs["gov-work-report"], gov=True)
    assert_excluded(observations, excluded)


@pytest.mark.parametrize(("text", "specs", "excluded"), SUMMARY_NEGATIVE,
                         ids=[case[0][:14] for case in SUMMARY_NEGATIVE])
def test_summary_negatives(catalogs: dict[str, Catalog], text: str, specs: list[Spec], excluded: str) -> None:
    assert_excluded(run(text, specs, catalogs["district-education-sports"]), excluded)


def assert_excluded(observations: list[Observation], excluded: str) -> None:
    if excluded == "*":
        assert observations == []
        return
    indicator, _, value = excluded.partition(":")
    hits = [o for o in observations if o.indicator_id == indicator and (not value or o.value == float(value))]
    assert hits == [], hits


# ---------------------------------------------------------------------------------------------------------------
# Properties of the output
# ---------------------------------------------------------------------------------------------------------------


def test_one_observation_per_key_and_ambiguity_is_flagged(catalogs: dict[str, Catalog]) -> None:
    text = "下属60个基层党组织参加学习。统筹推进56个基层党组织“三化六好”建设。"
    observations = run(text, [("60个", 60, "个"), ("56个", 56, "个")], catalogs["district-education-sports"])
    (only,) = observations
    assert (only.indicator_id, only.value) == ("grassroots_party_organisations", 60)
    assert "ambiguous" in only.flags and "56" in only.note


def test_stated_value_beats_a_bound(catalogs: dict[str, Catalog]) -> None:
    text = "地区生产总值突破3万亿元，达到3.2万亿元。"
    observations = run(text, [("3万亿元", 3e12, "元", "at_least"), ("3.2万亿元", 3.2e12, "元")],
                       catalogs["gov-work-report"], gov=True)
    (only,) = observations
    assert (only.indicator_id, only.value, only.qualifier, only.fact_id) == ("gdp", 3.2, "exact", 1)
    assert "ambiguous" in only.flags and "3 万亿元" in only.note


def test_same_value_twice_is_not_ambiguous(catalogs: dict[str, Catalog]) -> None:
    text = "今年发展主要预期目标是：国内生产总值增长5%左右。\n经济增长预期目标为5%左右，考虑了促进就业增收。"
    observations = run(text, [("5%", 5, "%", "about"), ("5%", 5, "%", "about")], catalogs["gov-work-report"],
                       gov=True)
    (only,) = observations
    assert only.basis == "target" and only.year == 2021 and "ambiguous" not in only.flags
    assert only.fact_id == 0


def test_observation_carries_quote_unit_and_fact(catalogs: dict[str, Catalog]) -> None:
    text = "全面落实国家资助政策，累计资助家庭经济困难学生14476人次，发放资助金819.85725万元。"
    observations = run(text, [("14476人次", 14476, "人次"), ("819.85725万元", 8_198_572.5, "元")],
                       catalogs["district-education-sports"])
    by_id = {o.indicator_id: o for o in observations}
    aid = by_id["student_aid_paid"]
    assert (aid.value, aid.unit, aid.fact_id, aid.doc_id, aid.org) == (819.85725, "万元", 1, "doc1", "测试单位")
    assert aid.quote == text
    assert by_id["aided_students"].unit == "人次"


def test_derived_value_says_how(catalogs: dict[str, Catalog]) -> None:
    text = "门店增加14个家，比去年增幅18.4%，现有门店90家。"
    observations = run(text, [("14个家", 14, "家"), ("18.4%", 18.4, "%"), ("90家", 90, "家")],
                       catalogs["district-education-sports"])
    (derived,) = [o for o in observations if o.basis == "derived"]
    assert (derived.year, derived.value, derived.fact_id) == (2021, 76, None)
    assert derived.note.startswith("90 − 14（所述增加）")


# ---------------------------------------------------------------------------------------------------------------
# Real series: the reader, the extractor and the matcher on the real documents, no hand edits
# ---------------------------------------------------------------------------------------------------------------

# Read from the texts: results in 一、…工作回顾 for the year reviewed, goals in 今年…主要预期目标是 for the next.
# (report, indicator, result for the year reviewed or None where the report gives no figure, goal, goal high end,
# goal qualifier)
NATIONAL: list[tuple[str, str, float | None, float, float | None, str]] = [
    ("gov-report-cn_2015.txt", "gdp_growth", 7.4, 7, None, "about"),
    ("gov-report-cn_2015.txt", "new_urban_jobs", 1322, 1000, None, "at_least"),
    ("gov-report-cn_2015.txt", "cpi", 2, 3, None, "about"),
    ("gov-report-cn_2016.txt", "gdp_growth", 6.9, 6.5, 7, "range"),
    ("gov-report-cn_2016.txt", "new_urban_jobs", 1312, 1000, None, "at_least"),
    ("gov-report-cn_2016.txt", "cpi", None, 3, None, "about"),  # 居民消费价格涨幅保持较低水平: words only
    ("gov-report-cn_2017.txt", "gdp_growth", 6.7, 6.5, None, "about"),
    ("gov-report-cn_2017.txt", "new_urban_jobs", 1314, 1100, None, "at_least"),
    ("gov-report-cn_2017.txt", "cpi", 2, 3, None, "about"),
    ("gov-report-cn_2018.txt", "gdp_growth", 6.9, 6.5, None, "about"),
    ("gov-report-cn_2018.txt", "new_urban_jobs", 1351, 1100, None, "at_least"),
    ("gov-report-cn_2018.txt", "cpi", None, 3, None, "about"),  # only 居民消费价格年均上涨1.9% (five years)
    ("gov-report-cn_2019.txt", "gdp_growth", 6.6, 6, 6.5, "range"),
    ("gov-report-cn_2019.txt", "new_urban_jobs", 1361, 1100, None, "at_least"),
    ("gov-report-cn_2019.txt", "cpi", 2.1, 3, None, "about"),
    ("gov-report-cn_2021.txt", "gdp_growth", 2.3, 6, None, "at_least"),
    ("gov-report-cn_2021.txt", "new_urban_jobs", 1186, 1100, None, "at_least"),
    ("gov-report-cn_2021.txt", "cpi", 2.5, 3, None, "about"),
    ("gov-report-cn_2022.txt", "gdp_growth", 8.1, 5.5, None, "about"),
    ("gov-report-cn_2022.txt", "new_urban_jobs", 1269, 1100, None, "at_least"),
    ("gov-report-cn_2022.txt", "cpi", 0.9, 3, None, "about"),
    ("gov-report-cn_2023.txt", "gdp_growth", 3, 5, None, "about"),
    ("gov-report-cn_2023.txt", "new_urban_jobs", 1206, 1200, None, "about"),
    ("gov-report-cn_2023.txt", "cpi", 2, 3, None, "about"),
    ("gov-report-cn_2024.txt", "gdp_growth", 5.2, 5, None, "about"),
    ("gov-report-cn_2024.txt", "new_urban_jobs", 1244, 1200, None, "at_least"),
    ("gov-report-cn_2024.txt", "cpi", 0.2, 3, None, "about"),
    ("gov-report-cn_2025.txt", "gdp_growth", 5, 5, None, "about"),
    ("gov-report-cn_2025.txt", "new_urban_jobs", 1256, 1200, None, "at_least"),
    ("gov-report-cn_2025.txt", "cpi", 0.2, 2, None, "about"),
]
UNITS = {"gdp_growth": "%", "new_urban_jobs": "万人", "cpi": "%"}


def real_pipeline() -> Any:
    """read → facts → match with the other helpers' real functions; skip, saying why, until they exist."""
    try:
        from jobs import doctypes, facts, read
        config = doctypes.load(SCHEMAS)
        read.read_document  # noqa: B018 - fail here, not inside a test, if the reader is not there yet
        facts.extract  # noqa: B018
    except (ImportError, AttributeError) as error:  # pragma: no cover - only before the reader lands
        pytest.skip(f"jobs.read / jobs.facts not available yet: {error}")
    from jobs.catalog import for_document

    catalogs = load_catalogs(SCHEMAS)

    def observe(name: str) -> tuple[Document, list[Observation]]:
        doc = read.read_document(INBOX / name, config, inbox=INBOX)
        catalog = for_document(catalogs, doc)
        assert catalog is not None, f"no catalog applies to {name} ({doc.title!r}, {doc.kind!r})"
        return doc, match(doc, facts.extract(doc.text), catalog, config.rule(doc.kind))

    return observe


@pytest.fixture(scope="module")
def observe() -> Any:
    cache: dict[str, tuple[Document, list[Observation]]] = {}
    pipeline = real_pipeline()

    def cached(name: str) -> tuple[Document, list[Observation]]:
        if name not in cache:
            cache[name] = pipeline(name)
        return cache[name]

    return cached


@pytest.mark.parametrize(("name", "indicator", "actual", "target", "target_high", "qualifier"), NATIONAL,
                         ids=[f"{row[0][14:18]}-{row[1]}" for row in NATIONAL])
def test_national_reports(observe: Any, name: str, indicator: str, actual: float | None, target: float,
                          target_high: float | None, qualifier: str) -> None:
    doc, observations = observe(name)
    reviewed = int(name[-8:-4]) - 1
    assert doc.period_year == reviewed
    by_key = {(o.indicator_id, o.year, o.basis): o for o in observations}
    result = by_key.get((indicator, reviewed, "actual"))
    if actual is None:
        assert result is None, f"{name}: {indicator} {reviewed} has no figure in the text, got {result}"
    else:
        assert result is not None, f"{name}: no {indicator} result for {reviewed}"
        assert (result.value, result.unit) == (pytest.approx(actual), UNITS[indicator])
        assert "ambiguous" not in result.flags, result.note
        assert result.quote and result.fact_id is not None
    goal = by_key.get((indicator, reviewed + 1, "target"))
    assert goal is not None, f"{name}: no {indicator} goal for {reviewed + 1}"
    assert (goal.value, goal.value_high, goal.qualifier) == (pytest.approx(target), target_high, qualifier)
    assert "ambiguous" not in goal.flags, goal.note
    assert goal.quote and goal.fact_id is not None


def test_national_reports_have_no_multi_year_figures(observe: Any) -> None:
    """Five- and ten-year figures sit next to the single-year ones; none may become an observation."""
    multi = re.compile(r"年均|五年来|十年来|过去五年|今后五年|“十三五”时期")
    for name in sorted({row[0] for row in NATIONAL}):
        _doc, observations = observe(name)
        for observation in observations:  # every indicator, not only the three the series are checked on
            assert not multi.search(observation.quote), (name, observation)


def test_seed_summary(observe: Any) -> None:
    doc, observations = observe("xinjian-jiaoti_2022.txt")
    assert (doc.org, doc.period_year) == ("南昌市新建区教体局", 2022)
    by_key = {(o.indicator_id, o.year, o.basis): o for o in observations}
    assert by_key[("lottery_shops", 2022, "actual")].value == 90
    derived = by_key[("lottery_shops", 2021, "derived")]
    assert (derived.value, derived.fact_id) == (76, None) and "90 − 14" in derived.note
    assert by_key[("lottery_shops", 2022, "change")].value == 14
    assert by_key[("lottery_shops", 2022, "change_pct")].value == 18.4
    assert by_key[("lottery_sales_growth", 2022, "actual")].value == 10
    assert by_key[("new_sports_venues", 2022, "actual")].value == 102
    assert by_key[("new_teachers", 2022, "actual")].value == 145
    assert by_key[("student_aid_paid", 2022, "actual")].value == 819.85725
    assert by_key[("sports_associations", 2021, "derived")].value == 15
    # every part of the summary yields observations, and nothing is filed under another year
    assert {o.year for o in observations} == {2021, 2022}
    assert len(observations) >= 60
    counts = Counter((o.org, o.indicator_id, o.year, o.basis, o.doc_id) for o in observations)
    assert max(counts.values()) == 1


# ---------------------------------------------------------------------------------------------------------------
# The yoy and goals views, on a real DuckDB file with tables named like the warehouse's views
# ---------------------------------------------------------------------------------------------------------------

VIEWS = ROOT / "warehouse" / "sql" / "views"
BASE_TABLES = (
    "create table documents (doc_id varchar, org varchar, title varchar, kind varchar, period_year integer, "
    "published_on date, doc_number varchar, source_file varchar, sha256 varchar, chars integer, loaded_at timestamp)",
    "create table indicators (catalog varchar, indicator_id varchar, name varchar, unit varchar, aliases varchar[], "
    "detail varchar)",
    "create table observations (org varchar, indicator_id varchar, year integer, basis varchar, value double, "
    "value_high double, qualifier varchar, unit varchar, doc_id varchar, fact_id integer, quote varchar, "
    "flags varchar[], note varchar)",
    # yoy reads a fact's printed digits for the precision of its value; no row here: every value counts as exact
    "create table facts (doc_id varchar, fact_id integer, value double, unit varchar, raw varchar)",
)


def warehouse_with(tmp_path: Path, documents: list[tuple[str, int]], observations: list[Observation],
                   measures: dict[str, str] | None = None) -> Any:
    """Tables shaped like the warehouse's views; `measures` gives indicators.detail's measure per indicator."""
    import duckdb

    con = duckdb.connect(str(tmp_path / "views.duckdb"))
    for statement in BASE_TABLES:
        con.execute(statement)
    for name in ("yoy.sql", "goals.sql"):
        sql = (VIEWS / name).read_text(encoding="utf-8")
        assert len(con.extract_statements(sql)) == 1, f"{name} must hold one statement"
        assert sql.rstrip().endswith("select * from final")
        con.execute(sql)
    con.executemany("insert into documents (doc_id, org, period_year) values (?, 'o', ?)", documents)
    for indicator_id, measure in (measures or {}).items():
        con.execute("insert into indicators (indicator_id, detail) values (?, json_object('measure', ?))",
                    [indicator_id, measure])
    con.executemany(
        "insert into observations values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(o.org, o.indicator_id, o.year, o.basis, o.value, o.value_high, o.qualifier, o.unit, o.doc_id, o.fact_id,
          o.quote, list(o.flags), o.note) for o in observations],
    )
    return con


def obs(indicator: str, year: int, basis: str, value: float, doc: str, *, qualifier: str = "exact",
        high: float | None = None, org: str = "o") -> Observation:
    return Observation(org=org, indicator_id=indicator, year=year, basis=basis, value=value,  # type: ignore[arg-type]
                       value_high=high, qualifier=qualifier, unit="家", doc_id=doc, fact_id=0,  # type: ignore[arg-type]
                       quote="…")


def rows(con: Any, sql: str) -> list[dict[str, Any]]:
    result = con.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_yoy_against_derived_value_agrees_within_rounding(tmp_path: Path) -> None:
    con = warehouse_with(tmp_path, [("d22", 2022)], [
        obs("shops", 2022, "actual", 90, "d22"), obs("shops", 2022, "change", 14, "d22"),
        obs("shops", 2022, "change_pct", 18.4, "d22"), obs("shops", 2021, "derived", 76, "d22"),
    ])
    (row,) = rows(con, "select * from yoy")
    assert list(row)[:10] == ["org", "indicator_id", "year", "value", "prev_year", "prev_value", "change",
                              "change_pct", "stated_change_pct", "check"]
    assert (row["year"], row["value"], row["prev_year"], row["prev_value"], row["change"]) == (2022, 90, 2021, 76, 14)
    assert row["change_pct"] == pytest.approx(18.421, abs=1e-3)
    assert (row["stated_change_pct"], row["check"], row["prev_basis"]) == (18.4, "agrees", "derived")


@pytest.mark.parametrize(
    ("prev", "stated", "check"),
    [
        (76, 18.4, "agrees"),  # 18.42
        (76, 18, "agrees"),  # stated without decimals: 18.42 rounds to 18
        (76, 18.6, "differs"),
        (75, 18.4, "differs"),  # 20.0
        (76, None, "cannot check"),
        (None, 18.4, "cannot check"),
    ],
)
def test_yoy_check(tmp_path: Path, prev: float | None, stated: float | None, check: str) -> None:
    observations = [obs("shops", 2022, "actual", 90, "d22")]
    if prev is not None:
        observations.append(obs("shops", 2021, "derived", prev, "d22"))
    if stated is not None:
        observations.append(obs("shops", 2022, "change_pct", stated, "d22"))
    con = warehouse_with(tmp_path, [("d22", 2022)], observations)
    assert rows(con, 'select "check" from yoy') == [{"check": check}]


def test_yoy_prefers_previous_documents_actual(tmp_path: Path) -> None:
    """The previous year's own document beats a value derived in this year's; a restatement loses to it too."""
    con = warehouse_with(tmp_path, [("d21", 2021), ("d22", 2022)], [
        obs("shops", 2021, "actual", 80, "d21"),
        obs("shops", 2021, "actual", 81, "d22"),  # restated later: the 2021 document stays the source
        obs("shops", 2022, "actual", 90, "d22"),
        obs("shops", 2021, "derived", 76, "d22"),
    ])
    by_year = {row["year"]: row for row in rows(con, "select * from yoy")}
    assert by_year[2021]["value"] == 80 and by_year[2021]["prev_value"] is None
    assert (by_year[2022]["prev_value"], by_year[2022]["prev_basis"], by_year[2022]["change"]) == (80, "actual", 10)


@pytest.mark.parametrize(
    ("qualifier", "target", "high", "actual", "met"),
    [
        ("at_least", 1000, None, 1312, True),
        ("at_least", 1100, None, 1099, False),
        ("at_most", 4.5, None, 4.02, True),
        ("at_most", 4.5, None, 4.6, False),
        ("range", 6.5, 7, 6.7, True),
        ("range", 6.5, 7, 7.2, False),
        ("about", 6.5, None, 6.9, True),  # within 10 %
        ("about", 3, None, 2, False),
        ("about", 5.5, None, 3, False),
        ("exact", 3, None, 2.8, True),
        ("about", 5, None, None, None),  # no result yet
    ],
)
def test_goals_met(tmp_path: Path, qualifier: str, target: float, high: float | None, actual: float | None,
                   met: bool | None) -> None:
    observations = [obs("x", 2016, "target", target, "r2016", qualifier=qualifier, high=high)]
    if actual is not None:
        observations.append(obs("x", 2016, "actual", actual, "r2017"))
    con = warehouse_with(tmp_path, [("r2016", 2015), ("r2017", 2016)], observations)
    (row,) = rows(con, "select * from goals")
    assert list(row)[:7] == ["org", "indicator_id", "year", "target", "target_high", "actual", "met"]
    assert (row["year"], row["target"], row["target_high"], row["actual"], row["met"]) == (2016, target, high,
                                                                                          actual, met)
    assert row["target_doc_id"] == "r2016"


def test_views_on_the_real_series(tmp_path: Path, observe: Any) -> None:
    """read → facts → match over the national reports and the seed, then the views: no hand edits."""
    names = [*sorted({row[0] for row in NATIONAL}), "xinjian-jiaoti_2022.txt"]
    documents, observations = [], []
    for name in names:
        doc, found = observe(name)
        documents.append((doc.doc_id, doc.period_year))
        observations.extend(found)
    con = warehouse_with(tmp_path, documents, observations)
    shops = rows(con, "select * from yoy where indicator_id = 'lottery_shops' and year = 2022")
    assert [(r["value"], r["prev_value"], r["stated_change_pct"], r["check"]) for r in shops] == [
        (90, 76, 18.4, "agrees")]
    goals = {r["year"]: (r["target"], r["actual"], r["met"]) for r in
             rows(con, "select * from goals where indicator_id = 'gdp_growth' order by year")}
    assert goals == {
        2015: (7, 6.9, True), 2016: (6.5, 6.7, True), 2017: (6.5, 6.9, True), 2018: (6.5, 6.6, True),
        2019: (6, None, None),  # the 2020 report is not in the corpus
        2021: (6, 8.1, True), 2022: (5.5, 3, False), 2023: (5, 5.2, True), 2024: (5, 5, True), 2025: (5, None, None),
    }
    jobs = rows(con, "select year, met from goals where indicator_id = 'new_urban_jobs' and actual is not null")
    assert jobs and all(row["met"] for row in jobs)
    # the catalog marks CPI's goal a ceiling: 3%左右 is met by 0.2 %, not missed by 2.8 points
    cpi = rows(con, "select year, actual, met from goals where indicator_id = 'cpi' and actual is not null")
    assert cpi and all(row["met"] and row["actual"] < 3 for row in cpi)
    gdp = {r["year"]: r["value"] for r in rows(con, "select * from yoy where indicator_id = 'gdp_growth'")}
    assert gdp[2015] == 6.9 and gdp[2023] == 5.2


# ---------------------------------------------------------------------------------------------------------------
# A catalog nobody tuned: only id, name, unit and aliases
# ---------------------------------------------------------------------------------------------------------------

PLAIN_CATALOG = """
[catalog]
id = "county_health"
name = "县卫健委工作总结"
applies_to = ["卫健委"]

[[indicator]]
id = "village_clinics"
name = "标准化村卫生室"
unit = "个"
aliases = ["标准化村卫生室", "村卫生室"]

[[indicator]]
id = "family_doctor_coverage"
name = "家庭医生签约覆盖率"
unit = "%"
aliases = ["家庭医生签约覆盖率", "签约覆盖率"]

[[indicator]]
id = "health_spending"
name = "卫生健康支出"
unit = "亿元"
aliases = ["卫生健康支出"]

[[indicator]]
id = "new_doctors"
name = "新招聘医生"
unit = "人"
aliases = ["新招聘医生", "招聘医生"]

[[indicator]]
id = "outpatient_visits"
name = "门诊人次"
unit = "万人次"
aliases = ["门诊人次", "门诊量"]
"""


def test_plain_catalog_is_extracted(tmp_path: Path) -> None:
    (tmp_path / "health.toml").write_text(PLAIN_CATALOG, encoding="utf-8")
    (catalog,) = load_catalogs(tmp_path)
    text = (
        "2023年，县卫健委坚持以人民健康为中心。\n"
        "一、基层卫生\n"
        "全县建成标准化村卫生室212个，比去年增加12个；家庭医生签约覆盖率达到78.5%，提高3.2个百分点。"
        "全年卫生健康支出4.6亿元，同比增长8%。新招聘医生86名，其中全科医生30名。"
        "门诊量达到152.3万人次。\n"
        "二、2024年工作打算\n"
        "新建标准化村卫生室20个，家庭医生签约覆盖率达到80%以上。"
    )
    specs: list[Spec] = [
        ("212个", 212, "个"), ("12个", 12, "个"), ("78.5%", 78.5, "%"), ("3.2个百分点", 3.2, "百分点"),
        ("4.6亿元", 4.6e8, "元"), ("8%", 8, "%"), ("86名", 86, "名"), ("30名", 30, "名"),
        ("152.3万人次", 1_523_000, "人次"), ("20个", 20, "个"), ("80%", 80, "%", "at_least"),
    ]
    doc = Document(doc_id="h", source_file="h.txt", sha256="x", text=text, org="某县卫健委",
                   title="某县卫健委2023年工作总结", kind="工作总结", period_year=2023)
    observations = match(doc, facts_for(text, specs), catalog, SUMMARY)
    assert table(observations) == {
        ("village_clinics", 2023, "actual", 212, "exact"),
        ("village_clinics", 2023, "change", 12, "exact"),
        ("village_clinics", 2022, "derived", 200, "exact"),
        ("family_doctor_coverage", 2023, "actual", 78.5, "exact"),
        ("family_doctor_coverage", 2023, "change", 3.2, "exact"),
        ("family_doctor_coverage", 2022, "derived", 75.3, "exact"),
        ("health_spending", 2023, "actual", 4.6, "exact"),
        ("health_spending", 2023, "change_pct", 8, "exact"),
        ("new_doctors", 2023, "actual", 86, "exact"),
        ("outpatient_visits", 2023, "actual", 152.3, "exact"),
        # 新建…20个 under a plan heading is a planned change, not the number of clinics aimed at
        ("family_doctor_coverage", 2024, "target", 80, "at_least"),
    }


def plain_catalog(tmp_path: Path) -> Catalog:
    (tmp_path / "health.toml").write_text(PLAIN_CATALOG, encoding="utf-8")
    (catalog,) = load_catalogs(tmp_path)
    return catalog


def test_a_numbered_sub_heading_ends_a_multi_year_scope(tmp_path: Path) -> None:
    text = ("一、主要成效\n（一）资源\n1.床位。“十四五”以来，累计新建标准化村卫生室60个。\n"
            "2.服务。门诊量达到152.3万人次。\n")
    observations = run(text, [("60个", 60, "个"), ("152.3万人次", 1_523_000, "人次")], plain_catalog(tmp_path))
    assert table(observations) == {("outpatient_visits", 2022, "actual", 152.3, "exact")}


def test_fen_bie_gives_each_listed_noun_its_number(tmp_path: Path) -> None:
    text = "门诊人次、家庭医生签约覆盖率分别为152.3万人次、78.5%。"
    observations = run(text, [("152.3万人次", 1_523_000, "人次"), ("78.5%", 78.5, "%")], plain_catalog(tmp_path))
    assert table(observations) == {("outpatient_visits", 2022, "actual", 152.3, "exact"),
                                   ("family_doctor_coverage", 2022, "actual", 78.5, "exact")}


def test_a_flow_compared_with_last_year_is_its_stated_change(tmp_path: Path) -> None:
    text = "全年新招聘医生148名，比上年增加22名。"
    observations = run(text, [("148名", 148, "名"), ("22名", 22, "名")], plain_catalog(tmp_path))
    assert table(observations) == {("new_doctors", 2022, "actual", 148, "exact"),
                                   ("new_doctors", 2022, "change", 22, "exact"),
                                   ("new_doctors", 2021, "derived", 126, "exact")}


def test_a_plan_recalling_last_year_gives_last_years_result(tmp_path: Path) -> None:
    plan = KindRule(kind="工作要点", markers=("工作要点",), year_patterns=(), filename_year_offset=0,
                    default_basis="target", target_year_offset=0)
    text = "2023年，全县门诊量达到152.3万人次。\n一、主要目标\n全年门诊量达到160万人次左右。\n"
    doc = Document(doc_id="p", source_file="p.txt", sha256="x", text=text, org="某县卫健委",
                   title="某县卫健委2024年工作要点", kind="工作要点", period_year=2024)
    specs: list[Spec] = [("152.3万人次", 1_523_000, "人次"), ("160万人次", 1_600_000, "人次", "about")]
    assert table(match(doc, facts_for(text, specs), plain_catalog(tmp_path), plan)) == {
        ("outpatient_visits", 2023, "actual", 152.3, "exact"),
        ("outpatient_visits", 2024, "target", 160, "about"),
    }


def test_yoy_of_a_growth_rate_is_a_change_in_points_without_a_per_cent(tmp_path: Path) -> None:
    con = warehouse_with(tmp_path, [("d22", 2022), ("d23", 2023)], [
        obs("gdp_growth", 2022, "actual", 3.0, "d22"), obs("gdp_growth", 2023, "actual", 5.2, "d23"),
        obs("shops", 2022, "actual", 76, "d22"), obs("shops", 2023, "actual", 90, "d23"),
    ], measures={"gdp_growth": "growth", "shops": "level"})
    got = {r["indicator_id"]: r for r in rows(con, "select * from yoy where year = 2023")}
    assert got["gdp_growth"]["change"] == pytest.approx(2.2)
    assert (got["gdp_growth"]["change_pct"], got["gdp_growth"]["measure"]) == (None, "growth")
    assert got["shops"]["change_pct"] == pytest.approx(18.421, abs=1e-3)


@pytest.mark.parametrize(("sense", "qualifier", "actual", "met"), [
    ("ceiling", "about", 0.2, True), ("ceiling", "about", 3.2, False), ("ceiling", "at_least", 2, False),
    ("floor", "exact", 6.1, True), ("floor", "exact", 5.9, False),
])
def test_a_goal_the_catalog_calls_a_ceiling_or_floor(tmp_path: Path, sense: str, qualifier: str, actual: float,
                                                     met: bool) -> None:
    target = replace(obs("x", 2016, "target", 3 if sense == "ceiling" else 6, "r2016", qualifier=qualifier),
                     flags=(sense,))
    con = warehouse_with(tmp_path, [("r2016", 2015), ("r2017", 2016)],
                         [target, obs("x", 2016, "actual", actual, "r2017")])
    assert rows(con, "select met from goals")[0]["met"] is met


def test_match_flags_a_boundless_goal_of_a_ceiling_indicator(catalogs: dict[str, Catalog]) -> None:
    text = "今年发展主要预期目标是：居民消费价格涨幅3%左右，国内生产总值增长5%左右。"
    found = run(text, [("3%", 3, "%", "about"), ("5%", 5, "%", "about")], catalogs["gov-work-report"], gov=True)
    flags = {o.indicator_id: o.flags for o in found}
    assert "ceiling" in flags["cpi"] and "ceiling" not in flags["gdp_growth"]


def test_a_listed_noun_may_borrow_the_end_of_the_last_one(tmp_path: Path) -> None:
    catalog_text = PLAIN_CATALOG + '''
[[indicator]]
id = "unemployment_insured"
name = "失业保险参保人数"
unit = "人"
aliases = ["失业保险参保"]

[[indicator]]
id = "injury_insured"
name = "工伤保险参保人数"
unit = "人"
aliases = ["工伤保险参保"]
'''
    (tmp_path / "health.toml").write_text(catalog_text, encoding="utf-8")
    (catalog,) = load_catalogs(tmp_path)
    text = "失业、工伤保险参保人数分别达到22800人和28100人。"
    observations = run(text, [("22800人", 22800, "人"), ("28100人", 28100, "人")], catalog)
    assert table(observations) == {("unemployment_insured", 2022, "actual", 22800, "exact"),
                                   ("injury_insured", 2022, "actual", 28100, "exact")}


@pytest.mark.parametrize(("text", "specs", "expected"), [
    ("上半年，全县门诊量达到72.3万人次。", [("72.3万人次", 723_000, "人次")], set()),  # half a year's figure
    ("全县门诊量152.3万人次，其中一季度受疫情影响明显。", [("152.3万人次", 1_523_000, "人次")],
     {("outpatient_visits", 2022, "actual", 152.3, "exact")}),
    ("累计建成标准化村卫生室168个，今年新建12个。", [("168个", 168, "个"), ("12个", 12, "个")],
     {("village_clinics", 2022, "actual", 168, "exact"), ("village_clinics", 2022, "change", 12, "exact"),
      ("village_clinics", 2021, "derived", 156, "exact")}),
    ("门诊量152.3万人次，较去年同期增加2万人次。", [("152.3万人次", 1_523_000, "人次"), ("2万人次", 20_000, "人次")],
     {("outpatient_visits", 2022, "actual", 152.3, "exact"), ("outpatient_visits", 2022, "change", 2, "exact"),
      ("outpatient_visits", 2021, "derived", 150.3, "exact")}),
    ("1-3月，全县门诊量达到42.1万人次。", [("42.1万人次", 421_000, "人次")], set()),
    ("截至9月底，全县门诊量达到112万人次。", [("112万人次", 1_120_000, "人次")], set()),
    ("1-11月，全县门诊量达到140万人次。", [("140万人次", 1_400_000, "人次")],  # a December summary's year
     {("outpatient_visits", 2022, "actual", 140, "exact")}),
    ("2018年至2022年，全县卫生健康支出累计达到15.2亿元。", [("15.2亿元", 1.52e9, "元")], set()),
    ("春节假期，全县门诊量达到3.2万人次。", [("3.2万人次", 32_000, "人次")], set()),
    ("“五一”期间门诊量2.1万人次。", [("2.1万人次", 21_000, "人次")], set()),
], ids=["half-year", "quarter-elsewhere", "jin-nian-xin-jian", "qu-nian-tong-qi", "q1", "to-september",
        "to-november", "years-zhi-years", "spring-festival", "may-day"])
def test_part_years_and_carried_changes(tmp_path: Path, text: str, specs: list[Spec],
                                        expected: set[tuple[str, int, str, float, str]]) -> None:
    assert table(run(text, specs, plain_catalog(tmp_path))) == expected


INCOME_CATALOG = """
[catalog]
id = "county"
name = "县政府工作报告"
applies_to = ["县"]

[[indicator]]
id = "urban_income"
name = "城镇居民人均可支配收入"
unit = "元"
aliases = ["城镇居民人均可支配收入"]

[[indicator]]
id = "rural_income"
name = "农村居民人均可支配收入"
unit = "元"
aliases = ["农村居民人均可支配收入"]

[[indicator]]
id = "urban_income_growth"
name = "城镇居民人均可支配收入增长"
unit = "%"
aliases = ["城镇居民人均可支配收入"]

[[indicator]]
id = "rural_income_growth"
name = "农村居民人均可支配收入增长"
unit = "%"
aliases = ["农村居民人均可支配收入"]
"""


@pytest.mark.parametrize(("text", "specs", "expected"), [
    ("城镇、农村居民人均可支配收入分别达到45210元、21360元，分别增长5.1%、7.3%。",
     [("45210元", 45210, "元"), ("21360元", 21360, "元"), ("5.1%", 5.1, "%"), ("7.3%", 7.3, "%")],
     {("urban_income", 2022, "actual", 45210, "exact"), ("rural_income", 2022, "actual", 21360, "exact"),
      ("urban_income_growth", 2022, "actual", 5.1, "exact"), ("rural_income_growth", 2022, "actual", 7.3, "exact")}),
    ("城镇和农村居民人均可支配收入分别增长5.1%和7.3%。", [("5.1%", 5.1, "%"), ("7.3%", 7.3, "%")],
     {("urban_income_growth", 2022, "actual", 5.1, "exact"), ("rural_income_growth", 2022, "actual", 7.3, "exact")}),
    ("城镇居民人均可支配收入45210元、农村居民人均可支配收入21360元，同比分别增长5.1%和7.3%。",
     [("45210元", 45210, "元"), ("21360元", 21360, "元"), ("5.1%", 5.1, "%"), ("7.3%", 7.3, "%")],
     {("urban_income", 2022, "actual", 45210, "exact"), ("rural_income", 2022, "actual", 21360, "exact"),
      ("urban_income_growth", 2022, "actual", 5.1, "exact"), ("rural_income_growth", 2022, "actual", 7.3, "exact")}),
], ids=["second-fen-bie", "elided-growth", "bare-fen-bie"])
def test_lists_with_fen_bie(tmp_path: Path, text: str, specs: list[Spec],
                            expected: set[tuple[str, int, str, float, str]]) -> None:
    (tmp_path / "county.toml").write_text(INCOME_CATALOG, encoding="utf-8")
    (catalog,) = load_catalogs(tmp_path)
    assert table(run(text, specs, catalog)) == expected


@pytest.mark.parametrize(("text", "specs", "expected"), [
    ("下一步，我们将确保门诊量达到160万人次。", [("160万人次", 1_600_000, "人次")],
     {("outpatient_visits", 2023, "target", 160, "exact")}),
    ("全面完成了年初确定的门诊量150万人次的目标任务。", [("150万人次", 1_500_000, "人次")],
     {("outpatient_visits", 2022, "target", 150, "exact")}),
    ("门诊量152.3万人次，完成目标任务的101%。", [("152.3万人次", 1_523_000, "人次"), ("101%", 101, "%")],
     {("outpatient_visits", 2022, "actual", 152.3, "exact")}),
], ids=["xia-yi-bu", "own-goal", "result-then-goal"])
def test_goals_in_a_summary(tmp_path: Path, text: str, specs: list[Spec],
                            expected: set[tuple[str, int, str, float, str]]) -> None:
    assert table(run(text, specs, plain_catalog(tmp_path))) == expected


@pytest.mark.parametrize(("stated", "check"), [(14, "agrees"), (13, "differs")])
def test_yoy_checks_a_stated_absolute_change_against_last_years_actual(tmp_path: Path, stated: float,
                                                                       check: str) -> None:
    con = warehouse_with(tmp_path, [("d22", 2022), ("d23", 2023)], [
        obs("shops", 2022, "actual", 76, "d22"), obs("shops", 2023, "actual", 90, "d23"),
        obs("shops", 2023, "change", stated, "d23"), obs("shops", 2022, "derived", 90 - stated, "d23"),
    ])
    (row,) = rows(con, "select * from yoy where year = 2023")
    assert (row["prev_value"], row["prev_basis"], row["stated_change"], row["check"]) == (76, "actual", stated, check)


def test_an_unnumbered_plan_heading_makes_goals(tmp_path: Path) -> None:
    text = ("某县卫健委2022年工作总结和2023年工作计划\n重点工作安排落实情况\n全年门诊量152.3万人次。\n下一步工作打算\n"
            "门诊量达到160万人次。\n")
    specs: list[Spec] = [("152.3万人次", 1_523_000, "人次"), ("160万人次", 1_600_000, "人次")]
    assert table(run(text, specs, plain_catalog(tmp_path))) == {
        ("outpatient_visits", 2022, "actual", 152.3, "exact"), ("outpatient_visits", 2023, "target", 160, "exact")}


def test_a_per_head_figure_is_not_the_level(tmp_path: Path) -> None:
    text = "每千人口标准化村卫生室达到0.6个，全县标准化村卫生室168个。"
    observations = run(text, [("0.6个", 0.6, "个"), ("168个", 168, "个")], plain_catalog(tmp_path))
    assert table(observations) == {("village_clinics", 2022, "actual", 168, "exact")}
    assert not any("ambiguous" in o.flags for o in observations)


def test_qi_zhong_with_a_letter_or_digit_names_a_part(tmp_path: Path) -> None:
    catalog_text = PLAIN_CATALOG + '''
[[indicator]]
id = "scenic_spots"
name = "A级景区"
unit = "个"
aliases = ["A级景区"]
'''
    (tmp_path / "health.toml").write_text(catalog_text, encoding="utf-8")
    (catalog,) = load_catalogs(tmp_path)
    observations = run("全县A级景区总数达到12个，其中4A级景区3个。", [("12个", 12, "个"), ("3个", 3, "个")], catalog)
    assert table(observations) == {("scenic_spots", 2022, "actual", 12, "exact")}
    assert not any("ambiguous" in o.flags for o in observations)


def test_running_totals_and_runs_of_years(tmp_path: Path) -> None:
    catalog = plain_catalog(tmp_path)
    flow = run("新招聘医生86名，累计招聘医生420名。", [("86名", 86, "名"), ("420名", 420, "名")], catalog)
    assert table(flow) == {("new_doctors", 2022, "actual", 86, "exact")}
    assert not any("ambiguous" in o.flags for o in flow)
    runs = run("门诊量连续5年稳定在150万人次以上。", [("150万人次", 1_500_000, "人次", "at_least")], catalog)
    assert runs == []


def test_the_alias_ending_nearest_the_number_wins_even_inside_another() -> None:
    """一般公共预算收入: 预算收入 starts inside 一般公共预算 and ends nearer the number, so it is the subject.

    The matcher searches a catalog's aliases through one index built per catalog; this pins that overlapping
    aliases are all seen and that two catalogs alike but for their aliases each get their own index.
    """
    from jobs.catalog import Indicator

    budget = Indicator(id="budget", name="一般公共预算", unit="亿元", aliases=("一般公共预算",), catalog="t")
    revenue = Indicator(id="budget_revenue", name="预算收入", unit="亿元", aliases=("预算收入",), catalog="t")
    catalog = Catalog(id="t", name="t", applies_to=("工作总结",), indicators=(budget, revenue), path="t.toml")
    text = "全年一般公共预算收入52.3亿元。"
    specs: list[Spec] = [("52.3亿元", 5.23e9, "元")]
    assert table(run(text, specs, catalog)) == {("budget_revenue", 2022, "actual", 52.3, "exact")}
    only_budget = replace(catalog, indicators=(replace(budget, aliases=("一般公共预算", "公共预算收入")),))
    assert table(run(text, specs, only_budget)) == {("budget", 2022, "actual", 52.3, "exact")}
    assert table(run(text, specs, catalog)) == {("budget_revenue", 2022, "actual", 52.3, "exact")}
