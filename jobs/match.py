"""Read facts as observations of catalog indicators: which indicator, which year, which basis."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from jobs import units
from jobs.catalog import Catalog, Indicator
from jobs.records import Basis, Document, Fact, KindRule, Observation, Qualifier

# ---------------------------------------------------------------------------------------------------------------
# Word lists. They describe Chinese report prose, not any one document or catalog: the catalog says WHAT to
# find (aliases), these say HOW a sentence attaches a number to a subject and a year.
# ---------------------------------------------------------------------------------------------------------------

CLAUSE_BREAKS = "，,；;：:"
HARD_BREAKS = "；;"  # a subject is never carried across a semicolon: it separates items of a list
SENTENCE_ENDS = "。！？!?\n"
_SENTENCE_END_RE = re.compile(f"[{SENTENCE_ENDS}]")
_CLAUSE_BREAK_RE = re.compile(f"[{CLAUSE_BREAKS}]")
# A line's sentences end after 。！？!? (or at the line's end); this reads the opening clause of the one
# starting at a position: up to the first clause break, or the whole sentence with its end mark.
_SENTENCE_OPENING_RE = re.compile(f"[^{CLAUSE_BREAKS}。！？!?]*[。！？!?]?")
# Every match of SINGLE_YEAR_RE and of MULTI_SCOPE_RE holds one of these words of time, and no clause break: a
# sentence whose opening clause holds none of them cannot change the scope. One pattern each: a pattern starting
# with one character is scanned for several times faster than an alternation.
_TIME_HINTS = tuple(re.compile(word) for word in ("年", "刚刚过去的", "十[一二三四五六七八九]五"))
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines breaks
# Looking back from a word of time, the first of these says whether it is in its sentence's opening clause.
_OPENING_STOP_RE = re.compile(f"[{CLAUSE_BREAKS}。！？!?{_LINE_BREAKS}]")

# An alias right after one of these is the object of a preposition or a modifier of a longer noun:
# 单位国内生产总值能耗, 占国内生产总值比重, 对经济增长的贡献率, 与国内生产总值之比, 人均体育场地面积.
PRE_MODIFIERS = ("单位", "人均", "占", "对", "与", "同", "在", "每", "比", "较", "按")
# Between an alias and its number, one of these means the number measures another noun.
OTHER_MEASURES = ("比重", "比例", "占比", "之比", "贡献", "能耗", "水耗", "用水", "排放", "强度", "面积",
                  "密度", "增量", "人均", "中的", "之中", "单位", "每")
_OTHER_MEASURE_RE = re.compile("|".join(map(re.escape, OTHER_MEASURES)))
# A rate per head of population (每千人口…床位, 每万人口全科医生, 人均…): what follows is not the level.
PER_HEAD_RE = re.compile(r"每[十百千万]?(?:人口|人|户|名)|人均|户均")
# 的 after an alias makes it a modifier (国内生产总值的比重), unless what follows is a change or level word.
DE_ALLOWED = ("增长", "增幅", "增速", "涨幅", "降幅", "总量", "规模", "数量", "总数", "人数", "个数")

# Words that carry no subject: a clause made only of these (比去年增幅, 增长, 总量突破) takes its subject
# from an earlier clause of the sentence.
EMPTY_WORDS = (
    "比去年", "比上年", "较去年", "较上年", "比上一年", "同比", "环比", "全年共", "全年", "今年", "去年", "当年",
    "年末", "年底", "年初", "年内", "共计", "共有", "合计", "总计", "累计", "总数", "总量", "规模", "人数",
    "达到", "增加到", "增长到", "提高到", "上升到", "下降到", "降低到", "增至", "降至", "降到", "升至",
    "保持在", "稳定在", "控制在", "维持在", "分别为", "分别", "平均为", "平均", "实际", "名义", "大约", "约",
    "超过", "突破", "不到", "不足", "接近", "左右", "以上", "以内", "以下", "增长", "增加", "增幅", "增速",
    "涨幅", "降幅", "增产", "减产", "上涨", "上升", "提高", "提升", "下降", "减少", "降低", "回落", "下滑",
    "新增", "净增", "新建", "同期", "同口径", "可比口径", "按可比价格计算", "按可比价计算", "扣除价格因素",
    "扩大", "缩小", "达", "为", "是", "有", "近", "逾", "余", "多", "了", "的", "和", "及", "均", "共", "再",
    "又", "仍", "并", "也", "已", "将", "现", "到", "至", "增", "降", "涨",
)
_EMPTY_RE = re.compile("|".join(sorted((re.escape(word) for word in EMPTY_WORDS), key=len, reverse=True)))
_NOT_CJK_RE = re.compile(r"[^\u4e00-\u9fff]")
# a year the text speaks of (2022年), not a date (2022年3月) nor a base of comparison (比2021年)
_YEAR_REF_RE = re.compile(r"(?<![比较从由])(?:19|20)\d\d年(?![\d一二三四五六七八九十]+月)")

# A stated change of a level (门店增加14个家, 新成立单项体育协会1个, 比去年增幅18.4%) — unless the change word
# is followed by 到/至, which names the new level (降到5.2%, 增加到82.7万亿元).
CHANGE_RE = re.compile(
    r"(?:增加|增长|减少|下降|提高|上升|上涨|回落|降低|下滑|下跌|增幅|涨幅|降幅|增速|新增|新成立|新建|净增|净减|增产|减产"
    r"|扩大|缩小|(?:比|较)(?:去年|上年|上一年|(?:19|20)\d\d年)(?:多|少)?)(?!到|至|为)"
)
COMPARED_RE = re.compile(r"(?:比|较)(?:去年|上年|上一年|(?:19|20)\d\d年)|同比")
# Signs. Facts carry values as written (下降3.4% → 3.4). A growth indicator (国内生产总值增长, 居民消费价格涨幅)
# and a stated change of a level (门店减少3家) take their sign from the direction word before the number:
# 下降/减少/回落/降低/下滑/下跌/降幅/缩小/净减/减产/负增长/比去年少 → negative. A direction word followed by
# 到/至/为 names the new level (失业率降到5.2%), which keeps its sign. A written minus (-0.8%) is the
# extractor's and is kept.
FLIPPED: dict[Qualifier, Qualifier] = {"at_least": "at_most", "at_most": "at_least"}
NEGATIVE_RE = re.compile(
    r"(?:下降|减少|回落|降低|下滑|下跌|降幅|缩小|净减|减产|负增长|(?:比|较)(?:去年|上年)少)(?!到|至|为)"
)

# Several years in one figure: 年均增长7.1%, 五年来…, 十年来…, “十三五”时期…, 过去五年, 比2010年翻一番.
# A number of years, not the tail of a year (2022年中央… is not 22年中).
_N = r"(?<![\d〇○零])(?:[两二三四五六七八九十]+|[2-9]|\d\d)(?!\d)"
# A scope marker opening a sentence makes the rest of the passage multi-year (until a heading or a sentence
# opening with one year); any marker in a sentence's opening clause or in a figure's own wording
# disqualifies that figure.
MULTI_SCOPE_RE = re.compile(
    rf"{_N}年(?:来|间|中|内|里|以来)|过去{_N}年|今后{_N}年|未来{_N}年|近{_N}年"
    rf"|十[一二三四五六七八九]五”?(?:时期|期间|以来)|个五年规划|(?:19|20)\d\d年以来"
)
MULTI_YEAR_RE = re.compile(
    rf"{MULTI_SCOPE_RE.pattern}|年均|年平均|平均每年|每年平均|翻一番|翻番|{_N}年(?:累计|共)|连续{_N}年"
    r"|(?:19|20)\d\d年?(?:[—－–~-]|至|到)(?:19|20)\d\d年"
)
# The years after 比 / 到 / 从 (比2010年翻一番, 到2020年…): another base or end year than this document's.
# Part of a year (上半年门急诊人次110.2万人次, 一季度…, 1-3月…, 截至9月底…): not the year's figure, unless the
# document itself reviews that part (a 上半年工作总结). A summary written in December may count to 1-11月 or
# 截至11月底; that is the year's figure as far as it knows, so only ranges ending by September are parts.
_MONTH_TO_SEPTEMBER = r"(?:[1-9]|[一二三四五六七八九])月"
PART_YEAR_RE = re.compile(
    r"(?:春节|元旦|清明|五一|端午|中秋|国庆)”?(?:假期|期间|黄金周|小长假)|黄金周|小长假|暑期|寒假|暑假"
    rf"|上半年|下半年|(?:第?[一二三四1-4]|前三)季度|(?<![\d\-－—])1\s*[-－—–~至到]\s*{_MONTH_TO_SEPTEMBER}"
    rf"|截至\s*(?:(?:19|20)\d\d年)?{_MONTH_TO_SEPTEMBER}|前[一二三四五六七八九1-9]个月"
)
FAR_YEAR_RE = re.compile(r"(?:比|到|至|从|较)((?:19|20)\d\d)年")
SINGLE_YEAR_RE = re.compile(r"过去一年|一年来|刚刚过去的|去年|今年|全年|当年|(?:19|20)\d\d年(?!以来)")
# A goal: 主要预期目标是：国内生产总值增长6%以上; 赤字率拟按3%安排; 力争….
# 今年…要/将/拟 in a clause is a plan, while a plain 今年 in a yearly summary is the year under review.
GOAL_RE = re.compile(
    r"预期目标|目标是|目标为|目标：|目标:|拟按|拟安排|力争|预计安排|计划安排"
    r"|今年[^，。；]{0,16}?(?:(?<![主重需只必])要|将|拟|确保|争取|计划)|明年|下一年度|下一步|下阶段"
)
# The year's own goal named in a review (完成了年初确定的门急诊人次230万人次的目标任务): the number is followed
# in its clause by 的目标 / 目标任务, so it is the goal for the year under review, not its result.
OWN_GOAL_RE = re.compile(r"^[^，。；,;]{0,4}?(?:的)?(?:预期|年度|既定)?目标")
# A heading over plans: every figure under it is a goal (二、2023年工作打算; 下一步工作计划).
PLAN_HEADING_RE = re.compile(r"打算|计划|思路|安排|展望|下一步|要点|建议")

HEADING_RE = re.compile(r"^\s*[一二三四五六七八九十]+[、.．]")
# A numbered sub-heading opening a paragraph ((二)…, 1.资源总量。…): a new topic under the same heading, so a
# scope a sentence opened above it (“十四五”以来，…) ends there and the heading's scope applies again.
SUBHEADING_RE = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.．、](?!\d)|[①-⑳])")
HEADING_MAX_CHARS = 60
PLAN_LINE_MAX_CHARS = 20
# ends like a heading over plans (下一步工作打算, 2024年工作思路), not one that only mentions them (工作安排落实情况)
PLAN_LINE_END_RE = re.compile(r"(?:打算|计划|思路|安排|展望|要点|下一步工作|目标任务)$")
QUALIFIER_TAIL = "余多左右以上以内约近"
FOLLOW_OK = "的和及与、"  # may follow a number whose subject stands before it


Scope = Literal["single", "multi"]


@dataclass(frozen=True, slots=True)
class _Span:
    """What the text around a sentence says about time: one year or several, and which year."""

    start: int
    scope: Scope
    year: int | None  # an explicit year stated by the heading or the sentence's opening
    goal_paragraph: bool  # the paragraph opened with a goal sentence (今年发展主要预期目标是：…)
    goal_section: bool = False  # under a heading of plans (二、2023年工作打算, 下一步工作计划)


@dataclass(frozen=True, slots=True)
class _Subject:
    """The indicator an alias names for one fact, and the words that decide its basis."""

    indicator: Indicator
    alias: str
    carried: bool  # the alias stands in an earlier clause of the sentence
    post: bool  # the alias follows the number (60个基层党组织)
    change_text: str  # the fact's own clause minus the alias: where change words are looked for
    start: int  # where the clause holding the alias starts: the figure's wording runs from here to the number


@dataclass(frozen=True, slots=True)
class _Aliases:
    """A catalog's aliases arranged for search: built once per catalog, since every fact searches them all."""

    longest: re.Pattern[str]  # the longest alias starting at the first position where any starts
    by_first: dict[str, tuple[tuple[Indicator, str], ...]]  # first character → (indicator, alias), catalog order
    empty: tuple[tuple[Indicator, str], ...]  # aliases of no characters (only a catalog built in code has them)
    indicators: dict[str, tuple[Indicator, ...]]  # alias → the indicators it names, catalog order


_ALIAS_CACHE: dict[int, tuple[Catalog, _Aliases]] = {}


def _aliases(catalog: Catalog) -> _Aliases:
    """The alias index of a catalog, cached by identity (the entry keeps the catalog, so its id is not reused)."""
    entry = _ALIAS_CACHE.get(id(catalog))
    if entry is not None and entry[0] is catalog:
        return entry[1]
    pairs = [(indicator, alias) for indicator in catalog.indicators for alias in indicator.aliases]
    by_first: dict[str, list[tuple[Indicator, str]]] = {}
    indicators: dict[str, list[Indicator]] = {}
    for indicator, alias in pairs:
        if alias:
            by_first.setdefault(alias[0], []).append((indicator, alias))
        if indicator not in indicators.setdefault(alias, []):
            indicators[alias].append(indicator)
    # longest first, so the alternation takes the longest alias at a position (empty ones are handled apart)
    words = sorted({alias for _, alias in pairs if alias}, key=len, reverse=True)
    longest = re.compile("|".join(map(re.escape, words)) if words else r"(?!)")
    index = _Aliases(longest, {first: tuple(found) for first, found in by_first.items()},
                     tuple(pair for pair in pairs if not pair[1]),
                     {alias: tuple(found) for alias, found in indicators.items()})
    if len(_ALIAS_CACHE) >= 64:
        _ALIAS_CACHE.clear()
    _ALIAS_CACHE[id(catalog)] = (catalog, index)
    return index


@dataclass(frozen=True, slots=True)
class _Candidate:
    observation: Observation
    rank: tuple[int, int, int]  # lower is better: (bounded?, carried?, fact_id)
    running_total: bool = False  # a flow's figure worded 累计…: dropped when the year's own figure is there


def match(doc: Document, facts: Sequence[Fact], catalog: Catalog, rule: KindRule) -> list[Observation]:
    """Every fact that measures a catalog indicator, as one observation per (org, indicator, year, basis)."""
    reverse = doc.text[::-1]  # finds the mark before a word or a fact in one search
    spans = _time_spans(doc.text, reverse, doc.period_year, doc.period_year + rule.target_year_offset)
    starts = [span.start for span in spans]
    index = _aliases(catalog)
    candidates: list[_Candidate] = []
    bounds = (0, -1)  # the sentence of the previous fact
    first_alias = 0  # where the first alias of that sentence starts (its end when it holds none)
    for fact_id, fact in enumerate(facts):
        if not bounds[0] <= fact.char_start <= bounds[1]:
            bounds = _sentence_bounds(doc.text, reverse, fact, bounds[1] if bounds[1] < fact.char_start else -1)
            found = index.longest.search(doc.text, *bounds)
            first_alias = bounds[1] if found is None else found.start()
        if first_alias >= fact.char_start and _unnamed(doc.text, fact, bounds[0], index):
            continue
        span = spans[max(bisect.bisect_right(starts, fact.char_start) - 1, 0)]
        candidate = _candidate(doc, facts, fact_id, catalog, rule, span, bounds)
        if candidate is not None:
            candidates.append(candidate)
    chosen = _choose(candidates)
    return chosen + _derived(chosen)


# ---------------------------------------------------------------------------------------------------------------
# One fact → at most one candidate observation
# ---------------------------------------------------------------------------------------------------------------


def _unnamed(text: str, fact: Fact, sentence_start: int, index: _Aliases) -> bool:
    """Whether a number with no alias before it in its sentence has no subject either: it is in no 分别 list, and
    no alias follows it. Most numbers: they are passed over without the clause walks of _subject."""
    return (not index.empty and text.find("分别", sentence_start, fact.char_start) < 0
            and _post_alias(text, fact, index) is None)


def _candidate(doc: Document, facts: Sequence[Fact], fact_id: int, catalog: Catalog, rule: KindRule,
               span: _Span, bounds: tuple[int, int]) -> _Candidate | None:
    fact = facts[fact_id]
    if span.scope == "multi":
        return None  # several years' figure
    sentence_start, sentence_end = bounds
    before = doc.text[sentence_start:fact.char_start]
    sentence = doc.text[sentence_start:sentence_end]
    if before.rstrip().endswith(("从", "由")):
        return None  # several years' figure, or the starting level of 从54万亿元增加到82.7万亿元
    subject = _subject(doc.text, facts, fact_id, sentence_start, catalog)
    if subject is None:
        return None
    opening = _CLAUSE_BREAK_RE.split(sentence, maxsplit=1)[0]
    if _is_multi_year(opening, doc.text[subject.start:fact.char_end], before, doc.period_year):
        return None
    part = PART_YEAR_RE.search(opening) or PART_YEAR_RE.search(doc.text[subject.start:fact.char_end])
    if part is not None and part.group() not in doc.title:
        return None  # a half year's or a quarter's figure in a yearly document
    timing = _timing(before, fact, span, doc.period_year, rule)
    if timing is None:
        return None
    basis, year = timing
    if basis == "actual" and OWN_GOAL_RE.match(doc.text[fact.char_end:fact.char_end + 12]):
        basis = "target"
    reading = _reading(subject, fact, basis)
    if reading is None:
        return None
    basis, unit, value, value_high = reading
    qualifier = fact.qualifier
    if value * fact.value < 0:  # negated by a direction word: 下降3.4%以上 is −3.4 or below
        qualifier = FLIPPED.get(qualifier, qualifier)
    quote = fact.sentence.strip() or sentence.strip()
    flags = tuple(dict.fromkeys((*fact.flags, *(("approximate",) if fact.qualifier != "exact" else ()))))
    if basis == "target" and qualifier in ("exact", "about") and subject.indicator.goal != "about":
        flags = (*flags, subject.indicator.goal)  # the goals view reads 3%左右 of a ceiling as at most 3 %
    observation = Observation(
        org=doc.org, indicator_id=subject.indicator.id, year=year, basis=basis, value=value,
        value_high=value_high, qualifier=qualifier, unit=unit, doc_id=doc.doc_id, fact_id=fact_id,
        quote=quote, flags=flags, note="",
        extra={"alias": subject.alias, "found": "after the number" if subject.post else
               "carried from an earlier clause" if subject.carried else "before the number"},
    )
    # a stated value beats a bound (地区生产总值突破3万亿元，达到3.2万亿元); a figure named directly beats one
    # carried from an earlier clause; then the first mention
    rank = (int(fact.qualifier not in ("exact", "range")), int(subject.carried), fact_id)
    # 新建高标准农田3.2万亩，累计建成48.6万亩: a flow's running total gives way to the year's own figure
    running = subject.indicator.measure == "flow" and "累计" in subject.change_text
    return _Candidate(observation, rank, running)


def _sentence_bounds(text: str, reverse: str, fact: Fact, known_end: int) -> tuple[int, int]:
    """(start, end) of the sentence holding the fact: after the last sentence-ending mark before it, up to the
    next one at or after it (or the text's end).

    `reverse` is the text backwards, searched from the fact back to its sentence's start. known_end is a mark
    before the fact (the previous fact's sentence end), or -1: the search back stops there.
    """
    back = _SENTENCE_END_RE.search(reverse, len(text) - fact.char_start, len(text) - known_end - 1)
    last = known_end if back is None else len(text) - 1 - back.start()
    found = _SENTENCE_END_RE.search(text, fact.char_start)
    return last + 1, found.start() if found is not None else len(text)


def _is_multi_year(opening: str, wording: str, before: str, period_year: int) -> bool:
    """年均…, 五年来…, 比2010年翻一番: the figure spans years, so it is not one year's observation.

    The marker counts in the sentence's opening clause (五年来，…) or in the figure's own wording (from the
    clause holding its subject to the number), not elsewhere: 今年新增3000个，近三年累计新增1万个 keeps 3000.
    """
    if MULTI_YEAR_RE.search(opening) or MULTI_YEAR_RE.search(wording):
        return True
    allowed = {period_year - 1, period_year, period_year + 1}
    return any(int(found) not in allowed for found in FAR_YEAR_RE.findall(before))


def _timing(before: str, fact: Fact, span: _Span, period_year: int, rule: KindRule) -> tuple[Basis, int] | None:
    """(basis, year) from goal words, the stated year of the heading or sentence, and the kind's rule."""
    target_year = period_year + rule.target_year_offset
    stated = [int(found[:4]) for found in _YEAR_REF_RE.findall(before)]
    year = stated[-1] if stated else span.year
    if year == period_year - 1 and rule.default_basis == "target" and not GOAL_RE.search(before):
        return "actual", year  # a plan recalling last year's result (2023年，门急诊人次达到… in a 2024 plan)
    if year is not None and year not in (period_year, target_year):
        return None  # another year's figure (2021年… in a 2022 summary is last year's)
    if GOAL_RE.search(before) or span.goal_section or (span.goal_paragraph and fact.qualifier != "exact"):
        return "target", target_year
    if year == target_year and year != period_year:
        return "target", target_year
    if rule.default_basis == "target":
        return "target", target_year
    return "actual", period_year


def _reading(subject: _Subject, fact: Fact, basis: Basis) -> tuple[Basis, str, float, float | None] | None:
    """(basis, unit, value, value_high) of the fact as this indicator, or None when its unit does not fit."""
    indicator = subject.indicator
    changed = CHANGE_RE.search(subject.change_text) is not None
    sign = -1.0 if NEGATIVE_RE.search(subject.change_text) else 1.0
    if indicator.measure == "growth":
        return _converted(basis, fact, indicator.unit, sign)
    # a flow's own word (新增教师145人) is no change of it; a comparison with last year (比上年增加22名) is
    flow_level = indicator.measure == "flow" and not COMPARED_RE.search(subject.change_text)
    if not changed or (flow_level and units.dimension(fact.unit) != "percent"):
        return _converted(basis, fact, indicator.unit, 1.0)
    if basis == "target":
        return None  # a planned change is neither a goal level nor a stated result
    if units.dimension(fact.unit) == "percent":
        return _converted("change_pct", fact, "%", sign)
    if units.dimension(indicator.unit) == "percent":
        return _converted("change", fact, "百分点", sign)
    return _converted("change", fact, indicator.unit, sign)


def _converted(basis: Basis, fact: Fact, unit: str, sign: float) -> tuple[Basis, str, float, float | None] | None:
    value = units.convert(fact.value, fact.unit, unit)
    if value is None:
        return None
    high = units.convert(fact.value_high, fact.unit, unit) if fact.value_high is not None else None
    if sign < 0 and high is not None:
        value, high = -high, -value
    else:
        value, high = sign * value, (sign * high if high is not None else None)
    return basis, unit, value + 0.0, high


# ---------------------------------------------------------------------------------------------------------------
# Subject: which alias names what the number measures
# ---------------------------------------------------------------------------------------------------------------


def _subject(text: str, facts: Sequence[Fact], fact_id: int, sentence_start: int,
             catalog: Catalog) -> _Subject | None:
    fact = facts[fact_id]
    index = _aliases(catalog)
    # the clause punctuation between the sentence start and the number, read once for both walks below
    breaks = [found.start() for found in _CLAUSE_BREAK_RE.finditer(text, sentence_start, fact.char_start)]
    listed = _listed_item(text, facts, fact_id, sentence_start, breaks[-1] + 1 if breaks else sentence_start)
    if listed is not None:
        item_start, item_end, change_text, last = listed
        found = _alias_in(text, item_start, item_end, index, fact)
        if found is None and last:
            elided = _elided_alias(text[item_start:item_end], last, catalog, fact)
            return None if elided is None else _Subject(elided[0], elided[1], carried=False, post=False,
                                                        change_text=change_text, start=item_start)
        if found is None or found[0] is None:
            return None
        return _Subject(found[0], found[1], carried=False, post=False, change_text=change_text, start=item_start)
    segments = _segments_before(text, facts, fact_id, sentence_start, breaks)
    own_start, own_end, _ = segments[0]
    own = text[own_start:own_end]
    # 18所标准化幼儿园和12所示范园: a noun right after the measure word is what the number counts.
    post = _post_alias(text, fact, index)
    if post is not None:
        return _Subject(post[0], post[1], carried=False, post=True, change_text=own, start=own_start)
    found = _alias_in(text, own_start, own_end, index, fact)
    if found is not None:
        indicator, alias, position = found
        if indicator is None:
            return None  # the nearest alias is a modifier: the number measures something else
        if _is_part(text, sentence_start, own_start, position, alias, fact.char_start):
            return None
        change_text = own[: position - own_start] + own[position - own_start + len(alias):]
        return _Subject(indicator, alias, carried=False, post=False, change_text=change_text, start=own_start)
    if not _is_empty(own) or _counts_what_follows(text, fact):
        return None  # the clause names its own subject, and no alias is it
    for start, end, ends_with_fact in segments[1:]:
        found = _alias_in(text, start, end, index, fact)
        if found is not None:
            indicator, alias, position = found
            if indicator is None or _is_part(text, sentence_start, start, position, alias, fact.char_start):
                return None
            return _Subject(indicator, alias, carried=True, post=False, change_text=own, start=start)
        clause = text[start:end]
        if clause.lstrip().startswith("其中") or (ends_with_fact and not _is_empty(clause)):
            return None  # that clause measured something else, or lists parts of it
        # a clause with no subject of its own (比去年增加312人，增长10.8%) passes the subject on
    return None


def _listed_item(text: str, facts: Sequence[Fact], fact_id: int, sentence_start: int,
                 clause_start: int) -> tuple[int, int, str, str] | None:
    """高血压、糖尿病患者规范管理率分别为78.2%、75.6%: the k-th number after 分别 measures the k-th listed noun.

    Returns (start, end) of that noun, the words between 分别 and the number (where change words are) and the
    last listed noun when this one is not the last (失业、工伤保险参保人数: 失业 borrows 保险参保 from it), or
    None when the number is not in such a list.
    """
    fact = facts[fact_id]
    marker = text.rfind("分别", clause_start, fact.char_start)
    if marker < 0:
        return None
    earlier = [other for other in facts[:fact_id] if other.char_start >= marker]
    between = text[marker + 2:fact.char_start]
    for other in earlier:
        between = between.replace(other.raw, "")
    if len(_NOT_CJK_RE.sub("", _EMPTY_RE.sub("", between))) > 0:
        return None  # words other than change words and separators between the numbers
    head = text[clause_start:marker]
    if _is_empty(head):
        # …分别达到45210元、21360元，分别增长5.1%、7.3%: a second 分别 goes back to the same list
        earlier_marker = text.rfind("分别", sentence_start, clause_start)
        if earlier_marker >= 0:
            list_start = max(sentence_start, *(text.rfind(mark, sentence_start, earlier_marker) + 1
                                               for mark in CLAUSE_BREAKS))
            head, clause_start = text[list_start:earlier_marker], list_start
        else:
            return _earlier_figure(text, facts, fact_id, sentence_start, clause_start, marker, len(earlier))
    separator = "、" if "、" in head else "和" if head.count("和") == 1 else ""
    if not separator:
        return None
    items = head.split(separator)
    if len(earlier) >= len(items):
        return None
    start = clause_start + sum(len(item) + len(separator) for item in items[:len(earlier)])
    last = items[-1] if len(earlier) < len(items) - 1 else ""
    return start, start + len(items[len(earlier)]), text[marker + 2:fact.char_start], last


def _earlier_figure(text: str, facts: Sequence[Fact], fact_id: int, sentence_start: int, clause_start: int,
                    marker: int, index: int) -> tuple[int, int, str, str] | None:
    """接待游客523.6万人次、实现旅游收入48.2亿元，同比分别增长18.5%和21.3%: the k-th number after a bare 分别
    measures what the k-th of the figures just before it measured; returns the words before that figure."""
    clause_end = min([found for mark in CLAUSE_BREAKS + SENTENCE_ENDS
                      if (found := text.find(mark, facts[fact_id].char_end)) >= 0] or [len(text)])
    size = sum(1 for other in facts if marker <= other.char_start < clause_end)
    before = [(number, other) for number, other in enumerate(facts)
              if other.char_start >= sentence_start and other.char_end <= clause_start]
    if len(before) < size or index >= size:
        return None
    number, figure = before[len(before) - size + index]
    previous_end = facts[number - 1].char_end if number > 0 and facts[number - 1].char_end > sentence_start else 0
    start = max(sentence_start, previous_end, *(text.rfind(mark, sentence_start, figure.char_start) + 1
                                                 for mark in CLAUSE_BREAKS))
    return start, figure.char_start, text[clause_start:facts[fact_id].char_start], ""


def _elided_alias(item: str, last: str, catalog: Catalog, fact: Fact) -> tuple[Indicator, str] | None:
    """失业、工伤保险参保人数: 失业 names 失业保险参保 — its alias starts in the item and ends with words of the last.

    The item must hold the alias's first two characters at least (or be wholly its start), so a one-character
    coincidence does not make a subject.
    """
    best: tuple[tuple[int, bool], Indicator, str] | None = None
    for indicator in catalog.indicators:
        # an alias can only end-match the item when its first character is in the item: skip the rest unread
        if not any(alias[:1] in item for alias in indicator.aliases if len(alias) > 1):
            continue
        if not _unit_fits(indicator, fact) or any(phrase in item + last for phrase in indicator.exclude):
            continue
        direct = units.factor(fact.unit, indicator.unit) is not None  # 5.1% is a growth rate before a change
        for alias in indicator.aliases:
            for size in range(min(len(alias) - 1, len(item)), 0, -1):
                if (size >= 2 or size == len(item)) and item.endswith(alias[:size]) and alias[size:] in last:
                    if best is None or (len(alias), direct) > best[0]:
                        best = ((len(alias), direct), indicator, alias)
                    break
    return (best[1], best[2]) if best else None


def _is_part(text: str, sentence_start: int, segment_start: int, alias_start: int, alias: str,
             number_start: int) -> bool:
    """The number measures a part of what the alias names, not the whole.

    财政赤字2.38万亿元，其中中央财政赤字1.55万亿元: after 其中, a longer noun ending in the alias is a part.
    城镇、农村居民人均可支配收入分别增长4.3%、5.7%: 分别 hands the numbers to the listed parts; and in
    A、B分别增长a、b only the first number belongs to A.
    """
    between = text[alias_start + len(alias):number_start]
    if "分别" in between:
        head = text[segment_start:alias_start]
        listed = between.rsplit("分别", 1)[1]
        if "、" in head or "和" in head or "、" in listed:
            return True
    if "其中" not in text[sentence_start:alias_start]:
        return False
    prefix = text[segment_start:alias_start].replace("其中", "")
    # 其中4A级景区3个: a letter or digit before the alias narrows it as much as a word does
    return not _is_empty(prefix) or re.search(r"[0-9A-Za-z]", prefix) is not None


def _segments_before(text: str, facts: Sequence[Fact], fact_id: int, sentence_start: int,
                     breaks: list[int]) -> list[tuple[int, int, bool]]:
    """The clauses before the fact, nearest first, cut at clause punctuation and after each earlier fact.

    Each is (start, end, ends_with_fact). The walk stops at a semicolon: a subject does not cross it.
    """
    fact = facts[fact_id]
    cuts: dict[int, int | None] = {}  # cut offset → start of the fact that ends there, None for punctuation
    for index in breaks:  # the clause punctuation from the sentence start to the fact
        cuts[index + 1] = None
    for index in range(fact_id - 1, -1, -1):  # facts come in text order: stop at the sentence start
        other = facts[index]
        if other.char_end <= sentence_start:
            break
        if other.char_end <= fact.char_start:
            cuts[other.char_end] = other.char_start
    segments: list[tuple[int, int, bool]] = []
    end, ends_with_fact = fact.char_start, False
    for cut in sorted(cuts, reverse=True):
        segments.append((cut, end, ends_with_fact))
        if text[cut - 1] in HARD_BREAKS:
            return segments
        # the segment before this cut ends with a fact when the cut is a fact end; else at punctuation
        fact_start = cuts[cut]
        end, ends_with_fact = (cut - 1, False) if fact_start is None else (fact_start, True)
    segments.append((sentence_start, end, ends_with_fact))
    return segments


def _alias_in(text: str, start: int, end: int, index: _Aliases,
              fact: Fact) -> tuple[Indicator | None, str, int] | None:
    """The alias nearest to the end of text[start:end] — the indicator whose unit fits the fact best.

    Returns (None, alias, position) when that alias only modifies another noun.
    """
    # (alias end, alias length, alias): at one start the longest alias ends last, so the longest at each start
    # is all that can win
    best: tuple[int, int, str] | None = (end - start, 0, "") if index.empty else None
    found = index.longest.search(text, start, end)
    while found is not None:  # every start position holding an alias, since aliases overlap (…总值 / 总值…)
        alias = found.group()
        key = (found.start() - start + len(alias), len(alias), alias)
        if best is None or key > best:
            best = key
        found = index.longest.search(text, found.start() + 1, end)
    if best is None:
        return None
    alias_end, length, alias = best
    position = start + alias_end - length
    if _is_modifier(text, position, alias, end) or _is_per_head(text[start:position], alias):
        return None, alias, position
    subject_text = text[start:end]
    fitting = [indicator for indicator in index.indicators[alias]
               if not any(phrase in subject_text for phrase in indicator.exclude) and _unit_fits(indicator, fact)]
    if not fitting:
        return None
    # a direct unit fit (万人 for 人) beats a change reading (% for a count); then catalog order
    fitting.sort(key=lambda indicator: units.factor(fact.unit, indicator.unit) is None)
    return fitting[0], alias, position


def _unit_fits(indicator: Indicator, fact: Fact) -> bool:
    if units.factor(fact.unit, indicator.unit) is not None:
        return True
    if indicator.measure == "growth":
        return False
    fact_dimension = units.dimension(fact.unit)
    return fact_dimension == "percent" or (
        fact_dimension == "points" and units.dimension(indicator.unit) == "percent"
    )


def _is_modifier(text: str, position: int, alias: str, number_start: int) -> bool:
    """单位国内生产总值能耗, 国内生产总值的比重, 对经济增长的贡献率: the alias qualifies another noun."""
    head = text[max(position - 2, 0):position]
    if head.endswith(PRE_MODIFIERS):
        return True
    gap = text[position + len(alias):number_start]
    listed, _, rest = gap.partition("分别")
    if rest and listed.startswith(("和", "、", "及", "与")):
        gap = rest  # 能耗和二氧化碳排放分别降低: the other nouns are the list's other items
    if _OTHER_MEASURE_RE.search(gap):
        return True
    return "的" in gap and any(char == "的" and not gap[index + 1:].startswith(DE_ALLOWED)
                               for index, char in enumerate(gap))


def _is_per_head(prefix: str, alias: str) -> bool:
    """每千人口医疗卫生机构床位6.1张: a per-head figure earlier in the clause makes the alias a rate's noun.

    Unless the alias says so itself (每千人口床位数 is the rate the catalog asks for).
    """
    return PER_HEAD_RE.search(prefix) is not None and PER_HEAD_RE.search(alias) is None


def _post_alias(text: str, fact: Fact, index: _Aliases) -> tuple[Indicator, str] | None:
    """60个基层党组织: an alias right after the number (and its measure word) names what it counts."""
    after = text[fact.char_end:fact.char_end + 40].lstrip(QUALIFIER_TAIL)
    best: tuple[int, Indicator, str] | None = None
    # only aliases starting with the first character can start the text; catalog order within each group
    for indicator, alias in (*index.empty, *index.by_first.get(after[:1], ())):
        if after.startswith(alias) and (best is None or len(alias) > best[0]) \
                and units.factor(fact.unit, indicator.unit) is not None:
            best = (len(alias), indicator, alias)
    return (best[1], best[2]) if best else None


def _counts_what_follows(text: str, fact: Fact) -> bool:
    """2所小区配套园相继开园: a noun after the measure word says what is counted, so no subject is carried."""
    after = text[fact.char_end:fact.char_end + 4].lstrip(QUALIFIER_TAIL)
    return bool(after) and "\u4e00" <= after[0] <= "\u9fff" and after[0] not in FOLLOW_OK


def _is_empty(clause: str) -> bool:
    """True when the clause holds only comparison, change and level words (比去年增幅, 总量突破)."""
    rest = _NOT_CJK_RE.sub("", _EMPTY_RE.sub("", _YEAR_REF_RE.sub("", clause)))
    return len(rest) <= 1


# ---------------------------------------------------------------------------------------------------------------
# Time: which stretches of the document speak of one year, of several, of which year
# ---------------------------------------------------------------------------------------------------------------


def _time_spans(text: str, reverse: str, period_year: int, target_year: int) -> list[_Span]:
    """A scope for every sentence: headings set it; a sentence opening with 过去五年 or 2017年 changes it.

    An opening year far from the document's (2035年远景目标, 到2020年) starts a multi-year passage.
    """
    near = {period_year - 1, period_year, target_year}
    spans = [_Span(0, "single", None, goal_paragraph=False)]
    heading = spans[0]
    offset = 0
    timed = _timed_openings(text, reverse)
    next_timed = 0  # the first of them not in an earlier line
    for number, line in enumerate(text.splitlines(keepends=True)):
        end = offset + len(line)
        first_timed = next_timed
        while next_timed < len(timed) and timed[next_timed] < end:
            next_timed += 1
        if line.isspace():  # a blank line is no heading and opens no sentence: nothing changes
            offset = end
            continue
        stripped = len(line.strip())
        if (HEADING_RE.match(line) and stripped <= HEADING_MAX_CHARS) or (
                number > 0 and stripped <= PLAN_LINE_MAX_CHARS and _is_plan_line(line)):
            heading = _heading_span(offset, line, near)
            spans.append(heading)
        else:
            if SUBHEADING_RE.match(line) and (spans[-1].scope, spans[-1].year) != (heading.scope, heading.year):
                spans.append(replace(heading, start=offset))
            # most paragraphs: no sentence opens with a word of time, and the first sets no goal: nothing changes
            if next_timed > first_timed or spans[-1].goal_paragraph or GOAL_RE.search(_opening(line, 0)):
                line_timed = [start - offset for start in timed[first_timed:next_timed]]
                spans.extend(_paragraph_spans(offset, line, spans[-1], near, line_timed))
        offset = end
    return spans


def _timed_openings(text: str, reverse: str) -> list[int]:
    """Where the sentences start whose opening clause holds a word of time, in order (`reverse`: the text backwards,
    searched from each word back to the break before it).

    Only these (and each paragraph's first sentence, a goal opening) can change the scope; most words of time
    stand later in their sentence.
    """
    words = sorted(found.start() for pattern in _TIME_HINTS for found in pattern.finditer(text))
    starts: list[int] = []
    for word in words:
        stop = _OPENING_STOP_RE.search(reverse, len(text) - word)
        if stop is not None and stop.group() in CLAUSE_BREAKS:
            continue  # a clause break stands between the sentence's start and the word
        start = len(text) - stop.start() if stop is not None else 0
        if not starts or starts[-1] != start:
            starts.append(start)
    return starts


def _is_plan_line(line: str) -> bool:
    """An unnumbered heading over plans (下一步工作打算, 2024年工作思路): short, no sentence, names a plan.

    Not the first line (a title like …2023年工作总结和2024年工作计划 covers the whole document) and not a
    line that names a 总结 or 回顾.
    """
    stripped = line.strip()
    return (0 < len(stripped) <= PLAN_LINE_MAX_CHARS and PLAN_LINE_END_RE.search(stripped) is not None
            and not re.search(r"[，。；：,;:！？]|总结|回顾", stripped))


def _heading_span(offset: int, line: str, near: set[int]) -> _Span:
    single = SINGLE_YEAR_RE.search(line) is not None or "一年" in line
    year = _stated_year(line)
    far = year is not None and year not in near
    scope: Scope = "multi" if (MULTI_SCOPE_RE.search(line) and not single) or far else "single"
    plans = PLAN_HEADING_RE.search(line) is not None
    return _Span(offset, scope, year, goal_paragraph=False, goal_section=plans)


def _paragraph_spans(offset: int, line: str, current: _Span, near: set[int], timed: list[int]) -> list[_Span]:
    """The spans of one paragraph: a new one only where a sentence's opening changes the scope.

    `timed`: where the line's sentences start whose opening holds a word of time (_timed_openings). Only those and
    the first sentence (a goal opening) can change the scope; the others, most of a long document, are not read.
    """
    spans: list[_Span] = []
    starts = {0: False}  # sentence start → whether its opening holds a word of time
    starts.update(dict.fromkeys(timed, True))
    for start, timed_opening in starts.items():
        opening = _opening(line, start)
        scope, year, goal = current.scope, current.year, current.goal_paragraph
        single = SINGLE_YEAR_RE.search(opening) if timed_opening else None
        if single is None and timed_opening and MULTI_SCOPE_RE.search(opening):
            scope = "multi"
        elif single is not None:
            stated = _stated_year(opening)
            scope, year = ("multi", None) if stated is not None and stated not in near else ("single", stated or year)
        if start == 0 and GOAL_RE.search(opening):  # the paragraph's first sentence
            goal = True
        if (scope, year, goal) != (current.scope, current.year, current.goal_paragraph):
            current = _Span(offset + start, scope, year, goal_paragraph=goal,
                            goal_section=current.goal_section)
            spans.append(current)
    if current.goal_paragraph:  # a goal paragraph ends with its paragraph (its last sentence ends the line)
        spans.append(replace(current, start=offset + len(line), goal_paragraph=False))
    return spans


def _opening(line: str, start: int) -> str:
    """The opening clause of the sentence starting at `start`."""
    return _SENTENCE_OPENING_RE.match(line, start).group()  # type: ignore[union-attr]  # always matches


def _stated_year(text: str) -> int | None:
    years = {int(found[:4]) for found in _YEAR_REF_RE.findall(text)}
    return years.pop() if len(years) == 1 else None


# ---------------------------------------------------------------------------------------------------------------
# One observation per (org, indicator, year, basis, doc); derived prior-year levels
# ---------------------------------------------------------------------------------------------------------------


def _choose(candidates: list[_Candidate]) -> list[Observation]:
    groups: dict[tuple[str, str, int, str, str], list[_Candidate]] = {}
    for candidate in candidates:
        obs = candidate.observation
        groups.setdefault((obs.org, obs.indicator_id, obs.year, obs.basis, obs.doc_id), []).append(candidate)
    chosen: list[Observation] = []
    for group in groups.values():
        if not all(candidate.running_total for candidate in group):
            group = [candidate for candidate in group if not candidate.running_total]
        group.sort(key=lambda candidate: candidate.rank)
        best = group[0].observation
        others = [c.observation for c in group[1:] if (c.observation.value, c.observation.value_high)
                  != (best.value, best.value_high)]
        if others:
            listed = "; ".join(f"{_number(o.value)} {o.unit} (fact {o.fact_id}: {o.quote[:40]})" for o in others)
            best = replace(best, flags=(*best.flags, "ambiguous"), note=f"other candidates: {listed}")
        chosen.append(best)
    chosen.sort(key=lambda obs: (obs.fact_id if obs.fact_id is not None else -1, obs.indicator_id))
    return chosen


def _derived(observations: list[Observation]) -> list[Observation]:
    """门店增加14个家…现有门店90家 → last year's level 76, basis derived."""
    by_key = {(obs.indicator_id, obs.year, obs.basis): obs for obs in observations}
    derived: list[Observation] = []
    for obs in observations:
        if obs.basis != "actual":
            continue
        change = by_key.get((obs.indicator_id, obs.year, "change"))
        # a rate in % changes by percentage points: 毛入园率达到90%，提高2个百分点 → 88 %
        if change is None or (change.unit != obs.unit and (obs.unit, change.unit) != ("%", "百分点")):
            continue
        word = "增加" if change.value >= 0 else "减少"
        qualifier = obs.qualifier if change.qualifier == "exact" else "about"
        derived.append(Observation(
            org=obs.org, indicator_id=obs.indicator_id, year=obs.year - 1, basis="derived",
            value=float(f"{obs.value - change.value:.10g}"), value_high=None, qualifier=qualifier, unit=obs.unit,
            doc_id=obs.doc_id, fact_id=None, quote=obs.quote if obs.quote == change.quote else
            f"{change.quote} … {obs.quote}", flags=("derived",),
            note=f"{_number(obs.value)} {'−' if change.value >= 0 else '+'} {_number(abs(change.value))}"
                 f"（所述{word}）：{obs.year}年的数值（fact_id {obs.fact_id}）减去{obs.year}年所述的变化"
                 f"（fact_id {change.fact_id}）",
        ))
    return derived


def _number(value: float) -> str:
    return f"{value:.10g}"
