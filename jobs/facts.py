"""Normalised text → every quantity in it (value in base units, unit, qualifier, span, sentence, section).

One compiled regular expression finds the number candidates (Arabic, Chinese and mixed numerals, with
the magnitude, the 多/余 marker and the unit that follow); a few cheap checks of the characters around
each candidate decide whether it is a quantity; lists and ranges are joined in one backward walk;
sections are found by bisecting heading offsets computed once, sentences by one search each way.

Decisions a reader of the output should know (tests/gold/README.md is the guideline):
- A sentence ends at 。！？；!?; or a line break; `sentence` keeps its closing mark, blanks are trimmed.
- A section is the path of headings (`第一部分` › `一、` › `（一）` › `1.` › `（1）`) above the fact; a
  heading is the start of its line up to the first sentence mark or colon, at most 60 characters.
- Magnitudes 十 百 千 万 亿 multiply and are not part of the unit (亿千瓦 → 千瓦, 千瓦 is a unit).
- `unit` is the measure word as written, except: 个百分点 → 百分点; durations counted with 个 take the
  time word (3个月 → 月, 5个季度 → 季度, 4个工作日 → 工作日); symbols take their Chinese name
  (㎡ → 平方米, km → 公里); 人民币 → 元. A number with no measure word after it has unit "".
- `raw` is the number with its magnitude, 多/余 and unit; qualifier words around it (约, 以上) stay outside.
- Everything inside a short “quotation” (≤ 30 characters) or a 《title》 is a name, never a quantity.
- Odd input is kept and flagged: 2亿万元 → 2e8 元 with `ambiguous_unit`; 14个家 → 14 家 with `odd_counter`.
- A rate keeps its written unit whole (7.2张/千人, 0.42吨标准煤/万元); 每10万人 before a number is a rate
  base, no fact. An age before a noun names a group (65岁以上老年人), no fact.
- Chinese decimals and digit pairs: 三点五亿元 → 3.5e8; 两三个 → range 2–3, 五六十人 → range 50–60.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

from jobs.records import Fact, Qualifier

# ---------------------------------------------------------------------------------------------------
# Lexicon: data, not code. Add a unit or a qualifier word here, never a special case below.
# ---------------------------------------------------------------------------------------------------

# Units and measure words that may follow a number, as written. Longest alternatives are tried first.
UNITS: tuple[str, ...] = (
    # per cent, ratios, multiples
    "%", "‰", "个百分点", "百分点", "倍",
    # money
    "元", "美元", "欧元", "日元", "港元", "英镑", "人民币",
    # weight, length, area, volume, energy
    "吨标准煤", "吨", "斤", "公斤", "千克", "克", "微克", "毫克",
    "公里", "千米", "米", "厘米", "毫米", "微米", "纳米",
    "平方公里", "平方千米", "平方米", "亩", "公顷",
    "立方米", "升", "标准箱", "标箱", "重量箱",
    "千瓦时", "千瓦", "瓦", "兆瓦时", "兆瓦", "吉瓦", "千伏安", "千伏", "伏", "千卡", "℃", "摄氏度",
    "㎡", "m²", "m2", "m³", "m3", "km", "mm", "cm", "m", "kg", "kW", "kWh", "MW", "GW", "kV", "TEU",
    # durations (years are never quantities: see _NOT_A_UNIT). A bare 季度 after a number is a
    # quarter of the year (3季度), so only 个季度 counts.
    "个月", "个季度", "个星期", "天", "周岁", "小时", "个小时", "分钟", "秒", "个工作日", "工作日", "周", "岁",
    # counts
    "个", "所", "名", "人次", "户次", "件次", "届", "人", "户", "家", "项", "件", "套", "部", "条", "次", "起", "份",
    "场", "处", "辆", "台", "座", "间", "本", "册", "枚", "张", "块", "期", "批", "支", "只", "头",
    "株", "棵", "种", "类", "篇", "位", "例", "对", "组", "轮", "艘", "架", "列", "班", "栋", "幢",
    "层", "床", "宗", "笔", "颗", "档", "门", "节", "款", "课时", "学时", "盏", "堂", "幅", "面", "度", "分", "方面",
    "车次", "架次", "艘次", "班次", "场次", "批次", "家次", "辆次", "台次", "剂次", "剂", "羽", "片", "根",
    # medals: 14金14银11铜
    "金", "银", "铜",
)
# The unit a written form stands for.
# Durations counted with 个 take the time word as unit (5个季度 → 季度).
# Symbols take their Chinese name, so one unit has one spelling in the warehouse.
UNIT_ALIASES: dict[str, str] = {"个百分点": "百分点", "个小时": "小时", "个月": "月", "个工作日": "工作日",
                                "个季度": "季度", "个星期": "星期", "人民币": "元", "㎡": "平方米",
                                "m²": "平方米", "m2": "平方米", "m³": "立方米", "m3": "立方米", "m": "米",
                                "mm": "毫米", "cm": "厘米", "km": "公里", "kg": "公斤", "kW": "千瓦",
                                "kWh": "千瓦时", "摄氏度": "℃"}
# After 个 and a 多/余, the time word is the unit (3个多月 → 3 月 at_least).
_TIME_AFTER_COUNTER = ("月", "小时", "星期", "季度", "工作日")

# A unit followed by one of these characters is the first half of a word, not a unit
# (近千万家庭, 13亿多人口, 名单, 部门): the number keeps no unit.
WORD_AFTER_UNIT: dict[str, str] = {
    "家": "庭长乡具电园属居务政风教访人",
    "人": "民才员口工均们类为生心身士物文大群事",
    "名": "单义称录牌额字誉",
    "户": "籍口外型",
    "元": "素旦首宵",
    "期": "间限待望刊货",
    "场": "所景地馆合面",
    "本": "地身领科土届级质金次",
    "台": "湾阶",
    "部": "门署分队位长委件",
    "位": "置于",
    "处": "理置罚分境于",
    "条": "件例款",
    "项": "目",
    "座": "谈",
    "起": "来点步草诉",
    "份": "额",
    "张": "力",
    "套": "餐",
    "只": "有是能要",
    "头": "部脑",
    "种": "植类子",
    "类": "型似",
    "支": "持出撑付部柱",
    "间": "接隔",
    "天": "然气下津空",
    "个": "人体性别案",
    "所": "有在以得谓属",
    "金": "融额属",
    "银": "行",
    "批": "准评复",
    "组": "织建成合",
    "对": "于接外口象",
    "例": "如",
    "班": "子",
    "门": "类户槛",
    "节": "约能点气日奏",
    "列": "入",
    "周": "边期年",
    "米": "粮",
    "层": "面次级",
    "床": "位",
    "面": "向临积貌对上",
    "度": "假过日",
    "堂": "课",
    "分": "之钟享别类期配批布局工析担成解散",  # 95分 is a score; 三分之一, 分享, 分批 are words
    "笔": "记",
    "轮": "回",
    "次": "会产",  # 五次会议: an ordinal; 三次产业: the tertiary sector
    "片": "区",
    "羽": "毛绒",
    "根": "本据源治",
}
# Words after a unit, longer than one character, that make it part of a word (四次全会; 两次全面排查 counts).
WORDS_AFTER_UNIT: dict[str, tuple[str, ...]] = {"次": ("全会", "全体")}
# An age followed by a noun names a group (65岁以上老年人, 0-3岁婴幼儿), not a measurement.
_AGE_UNITS = frozenset({"岁", "周岁"})
# A voltage before a noun names a class of equipment (110千伏变电站, 500千伏线路), like a grade (4A级).
_CLASS_UNITS = frozenset({"千伏", "伏"})
# A travel time before a word ending in 圈 names an area (1小时经济圈, 15分钟便民生活圈), not a duration.
_TRAVEL_UNITS = frozenset({"小时", "分钟", "公里"})
_AREA_NAME = re.compile("[\u4e00-\u9fff]{0,4}圈")

# Characters right after a number (no unit) that make it a date, an ordinal or a name, not a quantity.
_NOT_A_UNIT = "年月日号时级后代"
# Characters right after a whole candidate that make it a name (49公斤级, 千亿级, 3.0版, “4+10”, 3·16).
_NAME_AFTER = "级版+·"
# Characters right before a number that make it an ordinal or a name (第三届, “4+10”, “3·16”).
_NAME_BEFORE = "第+·"
# A list of ordinals ending just before a number (第1、2名): the number is an ordinal too.
_ORDINAL_LIST = re.compile("第[0-9零〇一二两三四五六七八九十百]+(?:、[0-9零〇一二两三四五六七八九十百]+)*、$")
# After 前, these make a rank (前10名), not a count.
_RANK_UNITS = frozenset({"名", "位"})
# Idioms whose second half looks like a bounded magnitude (成千上万, 成百上千).
_IDIOMS_BEFORE = frozenset({"成千", "成百"})
# Before a Chinese numeral: an approximation without a value (数千万, 几十个).
_VAGUE_BEFORE = "数几"

# Qualifier words before the number, longest first.
PREFIX_QUALIFIERS: dict[str, Qualifier] = {
    "不少于": "at_least", "不低于": "at_least", "至少有": "at_least", "不超过": "at_most", "不高于": "at_most",
    "大约": "about", "超过": "at_least", "突破": "at_least", "至少": "at_least", "不到": "at_most",
    "不足": "at_most", "将近": "at_most", "接近": "at_most",
    "约为": "about", "约占": "about", "约有": "about",
    "约": "about", "逾": "at_least", "超": "at_least", "近": "at_most", "上": "at_least",
}
# A one-character bound word preceded by one of these is the end of another word (签约, 节约, 最近).
WORD_BEFORE_PREFIX: dict[str, str] = {"约": "签节制预履合公特集违条邀", "近": "最附临就", "超": "赶高"}
# Adverbs that bound a verb standing between them and the number (至少降低30%).
ADVERB_QUALIFIERS: dict[str, Qualifier] = {"至少": "at_least", "最多": "at_most", "最少": "at_least"}
_PREFIX_LAST = frozenset(word[-1] for word in PREFIX_QUALIFIERS)
# Bounds that also reach over a few words naming what is compared, within one clause and with no other
# number between (不低于年度公用经费总额5%).
DISTANT_BOUNDS: dict[str, Qualifier] = {"不低于": "at_least", "不少于": "at_least", "不超过": "at_most",
                                        "不高于": "at_most", "不多于": "at_most", "约占": "about", "约为": "about"}
_DISTANT_BOUND_REACH = 16
_DISTANT_BOUND = re.compile(
    "(" + "|".join(DISTANT_BOUNDS) + ")[^0-9，。；：、,;:！？\n]{1,12}$"
)
# Any adverb or distant bound at all: most numbers have none within reach, and need no closer look.
_ANY_BOUND = re.compile("|".join(sorted({*ADVERB_QUALIFIERS, *DISTANT_BOUNDS}, key=len, reverse=True)))
# Qualifier words after the number and its unit.
SUFFIX_QUALIFIERS: dict[str, Qualifier] = {
    "左右": "about", "上下": "about", "前后": "about",
    "以上": "at_least", "以内": "at_most", "以下": "at_most", "之内": "at_most",
    "及以上": "at_least", "及以下": "at_most",
}
# Between two numbers: a range (6.5%－7%, 3至5个) or a list sharing the unit of the last (4.2和0.7个百分点).
_RANGE_JOINERS = frozenset("-－—–~～至到")
# Between the parts of a written ratio (8.7∶41.2∶50.1): each part is a quantity without unit.
_RATIO = "∶"
# 1:1 with an ASCII colon is a ratio too, unless it reads as a clock time (8:30: two digits after it).
_ASCII_RATIO = ":"
_CLOCK = re.compile("[0-9]{1,2}:[0-9]{2}(?![0-9])")
_LIST_JOINERS = frozenset("、和与及或")
_MINUS = "-－−"

# A bare Chinese digit (两次, 三档) is a count only before these measure words; elsewhere it is
# rhetoric (一个中心、两个基本点, 一批, 三大主粮). 一 needs a qualifier (至少有一人, 一个月以上) or 倍.
_CHINESE_DIGIT_UNITS = "次档人名倍所家户批期"
# Units after which a bare 一 is a measurement (提高一倍, 提高一个百分点), not rhetoric (一个中心).
_MEASURES_OF_ONE = frozenset({"倍", "个百分点"})
# 期 after a Chinese digit is a phase (二期工程) unless the text divides into phases (分两期).
_PHASE_UNITS = frozenset({"期"})
# Units that, after a Chinese numeral, make an ordinal (十三届全国人大), an outline of what
# follows (做好十方面工作) or a word (十分不易), not a count.
_CHINESE_ORDINAL_UNITS = frozenset({"届", "方面", "分"})
# 每 right before a number makes it the base of a rate (每10万人); a few characters before 一次 it
# makes a frequency (每季度开展一次).
# A fraction below one with no unit, stated after one of these and closing its clause, is a coefficient
# (差异系数为0.386, 基尼系数达0.46); other bare numbers there are too often versions or codes (版本为2.0).
_COPULAS = "为达到是"
_PER = "每"
_PER_WINDOW = 6
_CLAUSE_MARKS = "，。；：、,;:！？\n"
# A 个 before one of these (门店增加14个家) is a stray counter: the second word is the unit.
_ODD_COUNTERS = "家所名户座台辆条件"

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_SMALL_MAGNITUDES = {"十": 10.0, "百": 100.0, "千": 1000.0}
_MAGNITUDES = {**_SMALL_MAGNITUDES, "万": 1e4, "亿": 1e8}

# ---------------------------------------------------------------------------------------------------
# The one pass
# ---------------------------------------------------------------------------------------------------

# A rate's denominator may be a time word that is no unit of its own (万吨/日, 元/月, 立方米/秒).
_PER_TIME = "[日年月]"
_UNIT_RE = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
# 千 and 百 are magnitudes except where they start a unit (千瓦, 千米, 百分点).
_MAG = "(?:万|亿|千(?![瓦米克伏卡])|百(?!分))"
# Thousands separators are allowed where they group by three (1,200万元), never in lists (3,4).
_AR = r"(?:[0-9]{1,3}(?:,[0-9]{3}(?![0-9]))+|[0-9]+)(?:\.[0-9]+)?"
_CD = "零〇一二两三四五六七八九"
_PAIRS = "一两|两三|二三|三四|四五|五六|六七|七八|八九"
_PAIR_SET = frozenset(_PAIRS.split("|"))
_NUMBER = re.compile(
    # The leading lookahead is a single character class, which lets the engine skip ahead to the next
    # possible start; without it every position tries the three branches (4-5 times slower).
    f"(?=[0-9{_CD}十百千万亿])(?:"
    # per cent in words: 百分之三十, 百分之5.5
    f"(?P<pct>百分之|千分之)(?:{_AR}|[{_CD}十百点]+)|"
    # Arabic, possibly mixed: 6672万, 1.39万亿, 1万6千, 1亿3千多万, 2亿万
    f"{_AR}(?:{_MAG}|[多余](?={_MAG})|{_AR})*"
    # Chinese with a magnitude or 十: 两千多万, 近千万, 九百六十万, 十二
    # Chinese with a decimal point: 三点五亿
    f"|[{_CD}十]+点[{_CD}]+(?:万|亿)*"
    # two neighbouring digits before a magnitude or a unit, an approximate range: 两三个, 五六十人
    f"|(?:{_PAIRS})(?:[十百千万亿]+|(?=(?:{_UNIT_RE})))"
    f"|[{_CD}]*(?:十|{_MAG})(?:[{_CD}十]|{_MAG}|[多余](?={_MAG}))*"
    # a bare Chinese digit before a counting measure word: 两次, 三档
    f"|[一二两三四五六七八九](?=[{_CHINESE_DIGIT_UNITS}]|个[多余]?(?:月|小时|星期|季度|工作日)|个百分点)"
    ")"
    f"(?P<q>[多余])?(?P<u>(?:{_UNIT_RE})(?:/(?:{_UNIT_RE}|{_PER_TIME}|(?:百万|十万|[十百千万亿])(?:{_UNIT_RE}|{_PER_TIME})))?)?"
)
_TOKEN = re.compile(f"{_AR}|.")
_SENTENCE_END = re.compile("[。！？；!?;\n]")
# A heading starts a line; the pattern starts at the line break before it (a literal the engine can
# scan for quickly), and the text is searched with a "\n" put in front so the first line counts too.
_HEADING = re.compile(
    "\n[ \t\u3000]*(?:(?P<l0>第[一二三四五六七八九十]+(?:部分|章|篇))"
    "|(?P<l1>[一二三四五六七八九十]+、)|(?P<l2>[（(][一二三四五六七八九十]+[）)])"
    "|(?P<l3>[0-9]+[.．、](?![0-9]))|(?P<l4>[（(][0-9]+[）)]))[^\n。！？；：:]*"
)
# Short quotations and titles are names (“十大提升工程”, “4+10”, 《中国制造2025》).
_NAME_SPAN = re.compile(
    "“[^“”\n]{1,30}”|‘[^‘’\n]{1,30}’|「[^「」\n]{1,30}」|\"[^\"\n]{1,30}\"|《[^《》\n]{1,80}》"
)
_MAX_HEADING = 60
_BLANKS = " \t\u3000\n"


class _Candidate(NamedTuple):
    start: int
    end: int  # end of number + unit (the raw span)
    number: float  # value in base units
    multiplier: float  # trailing magnitude (万 → 1e4), inherited by a bare number before it
    high: float | None  # upper end of a range
    unit: str | None  # None: no unit written
    qualifier: Qualifier
    flags: tuple[str, ...]
    bare: bool  # no unit and no magnitude: a quantity only in a list or range


def _parse(run: str) -> tuple[float, float, bool]:
    """Value of a numeral run (without 多/余), its trailing multiplier, and whether 亿万 stacks oddly."""
    if run.isascii():  # Arabic digits alone (1,200.5): one token, no magnitude — most numbers
        return float(run.replace(",", "")), 1.0, False
    magnitude = _MAGNITUDES.get(run[-1])
    if magnitude is not None and run[0].isdigit() and run[:-1].isascii():  # 6672万, 1.39亿, 3千: the next most
        return float(run[:-1].replace(",", "")) * magnitude, magnitude, False
    total = section = 0.0
    number: float | None = None
    multiplier = 1.0
    ambiguous = False
    last = ""
    for token in _TOKEN.findall(run):
        head = token[0]
        if head in "多余":
            continue  # 3千多万: the bound is the caller's business; 万 still multiplies 3千
        if head.isdigit():
            number = float(token.replace(",", "") if "," in token else token)
            multiplier = 1.0
        elif head in _CN_DIGITS:
            digit = _CN_DIGITS[head]
            number = digit if number is None or last not in _CN_DIGITS else number * 10 + digit
            multiplier = 1.0
        elif head in _SMALL_MAGNITUDES:
            section += (1.0 if number is None else number) * _SMALL_MAGNITUDES[head]
            number = None
            multiplier = _SMALL_MAGNITUDES[head]
        elif head in "万亿" and number is None and not (total or section):
            number = 1.0  # 万人, 上亿: a bare magnitude counts one of itself
        if head == "万":
            ambiguous = ambiguous or last == "亿"
            section = (section + (number or 0.0)) * 1e4
            number = None
            multiplier = multiplier * 1e4 if last in "亿万千百十" and last else 1e4
        if head == "亿":
            total = (total + section + (number or 0.0)) * 1e8
            section, number = 0.0, None
            multiplier = multiplier * 1e8 if last == "万" else 1e8
        last = head
    if ambiguous:
        multiplier = 1e8
    return total + section + (number or 0.0), multiplier, ambiguous


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _prefix_qualifier(text: str, start: int, before: str) -> Qualifier | None:
    if before in _PREFIX_LAST:
        for size in (3, 2, 1):
            word = text[max(0, start - size) : start]
            if word in PREFIX_QUALIFIERS:
                if size == 1 and start >= 2 and text[start - 2] in WORD_BEFORE_PREFIX.get(word, ""):
                    break  # 签约20个项目, 最近3个月: the character closes a word, it bounds nothing
                return PREFIX_QUALIFIERS[word]
    # An adverb bounding the verb before the number: 至少降低30%, 最多增加2个.
    if "\u4e00" <= before <= "\u9fff" and _ANY_BOUND.search(text, max(0, start - _DISTANT_BOUND_REACH), start):
        window = text[max(0, start - 4) : start - 1]
        for word, qualifier in ADVERB_QUALIFIERS.items():
            if word in window:
                return qualifier
        # A bound whose object is named first: 不低于年度公用经费总额5%, 不低于当地低保标准1.3倍.
        found = _DISTANT_BOUND.search(text, max(0, start - _DISTANT_BOUND_REACH), start)
        if found:
            return DISTANT_BOUNDS[found.group(1)]
    return None


def _candidate(text: str, match: re.Match[str], names: tuple[list[int], list[int]]) -> _Candidate | None:
    """The quantity a regex match stands for, or None when context says it is a date, name or ordinal."""
    start, end = match.span()
    per_cent, marker, unit = match.group("pct", "q", "u")
    run_end = match.start("q") if marker else (match.start("u") if unit else end)
    run = text[start:run_end]
    # "\n" stands for the edge of the text: `"" in "abc"` is true, so never look up an empty string.
    before = text[start - 1] if start else "\n"
    if before in _NAME_BEFORE or before == "." or (before.isascii() and before.isalpha()):
        return None
    if before in _MINUS and start >= 2 and text[start - 2].isascii() and text[start - 2].isalpha():
        return None  # COVID-19
    starts, ends = names
    i = bisect_right(starts, start) - 1
    if i >= 0 and start < ends[i]:
        return None
    if before == "、" and _ORDINAL_LIST.search(text, max(0, start - 12), start):
        return None  # 第1、2名: every item of a list of ordinals
    if per_cent:
        return _per_cent(text, match, run_end)
    head = run[0]
    chinese = not head.isdigit()
    if chinese and not unit and "万" not in run and "亿" not in run:
        return None  # 十大, 二十届: a Chinese numeral needs a unit or a magnitude to be a quantity
    prefix = _prefix_qualifier(text, start, before)
    if before == "上" and not chinese:
        prefix = None  # 上 bounds only a word numeral (上千万家庭); 跃上1.4万亿斤 is a verb
    if chinese:
        # 千亿斤粮食产能提升行动, 万众一心, 亿元以上项目: a bare magnitude is a name or a category,
        # except after a bound that makes it an amount (上千万家庭, 近千万家庭, 已超过万亿元) — and not
        # when it qualifies a noun (超亿元的龙头企业).
        # 千余人, 百余家: a magnitude with 余/多 is a round amount too.
        if head in "百千万亿" and ((prefix is None and not marker) or text.startswith("的", end)):
            return None
        if unit in _CHINESE_ORDINAL_UNITS or before in _VAGUE_BEFORE:
            return None
        # 十五届四次、五次全会: sessions are ordinals, and so is each item listed after the first.
        if unit == "次" and (before == "届" or text[start - 2 : start] == "次、"):
            return None
        if len(run) == 1 and head in _CN_DIGITS:
            if unit in _PHASE_UNITS and before != "分":
                return None
            if head == "一" and prefix is None and unit not in _MEASURES_OF_ONE \
                    and text[end : end + 2] not in SUFFIX_QUALIFIERS \
                    and not (unit == "次" and _after_per(text, start)):
                return None  # 一个中心, 一批; but 每季度开展一次 states a frequency
    flags: tuple[str, ...] = ()
    after = text[end] if end < len(text) else "\n"
    if unit:
        blocked = WORD_AFTER_UNIT.get(unit[-1])
        words = WORDS_AFTER_UNIT.get(unit[-1])
        if "/" not in unit and ((blocked is not None and after in blocked)
                                or (words is not None and text.startswith(words, end))):
            unit = None
            end = run_end + (1 if marker else 0)
            after = text[end] if end < len(text) else "\n"
        elif unit == "个" and after in "多余" and (time := _time_word(text, end + 1)):
            unit, end, marker = time, end + 1 + len(time), after  # 3个多月: 3 months and more
            after = text[end] if end < len(text) else "\n"
        elif unit == "个" and after in _ODD_COUNTERS:
            nxt = text[end + 1] if end + 1 < len(text) else "\n"
            if not _is_cjk(nxt):
                unit, end, flags = after, end + 1, ("odd_counter",)
                after = nxt
    if after in _NAME_AFTER or (after.isascii() and after.isalpha()):
        return None
    if unit == "分" and before == "时":
        return None  # 8时30分: a time of day
    if before == "前" and unit in _RANK_UNITS:
        return None  # 进入全国前10名: a rank
    if start >= 3 and text[start - 3 : start - 1] in _IDIOMS_BEFORE:
        return None  # 成千上万: "very many", no value
    if not unit and (after in _NOT_A_UNIT or text.startswith("周年", end)):
        return None
    if before == _PER:
        return None  # 每10万人156例: the base of a rate, not an amount
    if unit in _AGE_UNITS and _noun_follows(text, end):
        return None  # 65岁及以上老年人, 0-3岁婴幼儿: an age names a group
    if unit in _CLASS_UNITS and _noun_follows(text, end):
        return None  # 220千伏变电站: a voltage class, not a measurement
    if unit in _TRAVEL_UNITS and _AREA_NAME.match(text, end):
        return None
    value, multiplier, ambiguous = _decimal_words(run) if "点" in run else _parse(run)
    high: float | None = None
    if run[:2] in _PAIR_SET and (len(run) == 2 or run[2] in "十百千万亿"):
        scale = _parse("一" + run[2:])[0] if len(run) > 2 else 1.0
        value, high = _CN_DIGITS[run[0]] * scale, _CN_DIGITS[run[1]] * scale
    if ambiguous:
        flags = (*flags, "ambiguous_unit")
    magnitude = multiplier > 1.0 and run[-1] in "万亿千百"
    bare = not unit and not magnitude and not _ratio_part(text, start, end, before, after) \
        and not (before in _COPULAS and after in _CLAUSE_MARKS and run.startswith("0."))
    if bare and chinese:
        return None
    qualifier: Qualifier = "exact"
    suffix = SUFFIX_QUALIFIERS.get(text[end : end + 2]) or SUFFIX_QUALIFIERS.get(text[end : end + 3])
    internal = marker is not None or "多" in run or "余" in run
    if suffix is not None:
        qualifier = suffix
    elif prefix is not None:
        qualifier = prefix
    elif internal or (after in "多余" and unit and not _is_cjk(text[end + 1 : end + 2] or "\n")):
        qualifier = "at_least"  # 6600多万, 17万余米, and 增长1倍多。
    if high is not None:
        qualifier = "range"
    canonical = None if unit is None else UNIT_ALIASES.get(unit, unit)
    return _Candidate(start, end, value, multiplier if magnitude else 1.0, high, canonical, qualifier, flags,
                      bare)


def _ratio_part(text: str, start: int, end: int, before: str, after: str) -> bool:
    """Whether the number is one side of a written ratio (8.7∶41.2∶50.1, 1:1) rather than a clock time."""
    if before == _RATIO or after == _RATIO:
        return True
    if after == _ASCII_RATIO:
        return _CLOCK.match(text, start) is None
    if before == _ASCII_RATIO:
        left = start - 2
        while left > 0 and text[left - 1].isdigit():
            left -= 1
        return _CLOCK.match(text, left) is None
    return False


def _after_per(text: str, start: int) -> bool:
    """Whether 每 (每年, 每季度) opens the clause a few characters before `start`."""
    window = text[max(0, start - _PER_WINDOW) : start]
    return _PER in window and not any(mark in window[window.rindex(_PER) :] for mark in _CLAUSE_MARKS)


def _noun_follows(text: str, end: int) -> bool:
    """Whether a noun follows the number, past a bound (以上, 及以下) and 的: it then names a group."""
    for size in (3, 2):
        if SUFFIX_QUALIFIERS.get(text[end : end + size]):
            end += size
            break
    if text.startswith("的", end):
        end += 1
    return end < len(text) and _is_cjk(text[end])


def _time_word(text: str, at: int) -> str:
    return next((word for word in _TIME_AFTER_COUNTER if text.startswith(word, at)), "")


def _words_number(words: str) -> float:
    """A number written in Chinese words, with 点 as the decimal point (三点五 → 3.5)."""
    whole, _, decimals = words.partition("点")
    value = _parse(whole)[0] if whole else 0.0
    digits = "".join(str(_CN_DIGITS[c]) for c in decimals if c in _CN_DIGITS)
    return value + (float("0." + digits) if digits else 0.0)


def _decimal_words(run: str) -> tuple[float, float, bool]:
    """三点五亿 → 3.5e8: a Chinese decimal, then the magnitudes after it."""
    whole, _, rest = run.partition("点")
    digits = rest.rstrip("万亿")
    magnitudes = rest[len(digits) :]
    scale, multiplier = (_parse("一" + magnitudes)[:2]) if magnitudes else (1.0, 1.0)
    return _words_number(whole + "点" + digits) * scale, multiplier, False


def _per_cent(text: str, match: re.Match[str], run_end: int) -> _Candidate | None:
    """百分之三十 → 30 %, 千分之五 → 5 ‰."""
    start = match.start()
    body = text[match.end("pct") : run_end]
    if body[0].isdigit():
        value = float(body.replace(",", ""))
    elif body.strip("点"):
        value = _words_number(body)
    else:
        return None
    unit = "%" if match.group("pct") == "百分之" else "‰"
    qualifier = (SUFFIX_QUALIFIERS.get(text[run_end : run_end + 2])
                 or _prefix_qualifier(text, start, text[start - 1] if start else "\n") or "exact")
    return _Candidate(start, run_end, value, 1.0, None, unit, qualifier, (), False)


def _resolve(text: str, cands: list[_Candidate]) -> list[_Candidate]:
    """Join ranges; share a unit, magnitude or bound written once at the end of a list; drop bare numbers."""
    out: list[_Candidate] = []
    nxt: _Candidate | None = None
    shared: Qualifier | None = None  # a bound written after the list item to the right (6.5%左右)
    # Walk backwards so each number sees its already-resolved right neighbour.
    for cand in reversed(cands):
        joiner = text[cand.end] if cand.end < len(text) else ""
        adjacent = nxt is not None and nxt.start == cand.end + 1
        if adjacent and nxt is not None and joiner in _RANGE_JOINERS and nxt.unit is not None and (
            cand.bare or cand.unit == nxt.unit or (cand.unit is None and cand.multiplier == nxt.multiplier)
        ):
            low = cand.number * nxt.multiplier if cand.bare else cand.number
            out[-1] = nxt._replace(start=cand.start, qualifier="range", flags=(*cand.flags, *nxt.flags),
                                   number=low, high=nxt.number)
            nxt = out[-1]
            continue
        listed = adjacent and nxt is not None and joiner in _LIST_JOINERS and bool(nxt.unit)
        if listed and nxt is not None:
            if cand.bare:  # 4.2和0.7个百分点: unit and magnitude of the last item
                cand = cand._replace(number=cand.number * nxt.multiplier, multiplier=nxt.multiplier,
                                     unit=nxt.unit, bare=False)
            elif cand.unit is None:  # 1.28万亿、8200亿元: the unit of the last item
                cand = cand._replace(unit=nxt.unit)
            if shared is not None and cand.qualifier == "exact" and cand.unit == nxt.unit:
                cand = cand._replace(qualifier=shared)  # 分别增长5%、6.5%左右: both about
        if cand.bare:
            continue
        bound = SUFFIX_QUALIFIERS.get(text[cand.end : cand.end + 2])
        shared = bound if bound is not None else (shared if listed else None)
        out.append(cand)
        nxt = cand
    out.reverse()
    return out


def _written_minus(text: str, start: int) -> bool:
    """A minus sign written before the number (-0.8%), not a hyphen between two numbers or in a name."""
    return start > 0 and text[start - 1] in _MINUS and (start < 2 or not text[start - 2].isascii()
                                                         or not text[start - 2].isalnum())


def _sections(text: str) -> tuple[list[int], list[str]]:
    """Offsets where a heading starts and the heading path in force from there on."""
    offsets: list[int] = []
    paths: list[str] = []
    stack: list[tuple[int, str]] = []
    for match in _HEADING.finditer("\n" + text):
        level = int(match.lastgroup[1]) if match.lastgroup else 4
        title = match.group().strip(" \t\u3000\n")
        if len(title) > _MAX_HEADING:
            title = title[:_MAX_HEADING] + "…"
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        offsets.append(match.start())
        paths.append(" › ".join(t for _, t in stack))
    return offsets, paths


def extract(text: str) -> list[Fact]:
    """Every quantity of a normalised text, in order of position; fact_id is the index in this list."""
    names: tuple[list[int], list[int]] = ([], [])
    for m in _NAME_SPAN.finditer(text):
        names[0].append(m.start())
        names[1].append(m.end())
    cands = [c for m in _NUMBER.finditer(text) if (c := _candidate(text, m, names)) is not None]
    cands = _resolve(text, cands)
    sec_offsets, sec_paths = _sections(text)
    n = len(text)
    reverse = ""  # the text backwards, made on first need: finds the mark before a sentence in one search
    sentence, sentence_start, sentence_end = "", 0, -1
    facts: list[Fact] = []
    for start, end, number, _, high, unit, qualifier, flags, _ in cands:
        if _written_minus(text, start) and (not facts or facts[-1].char_end != start - 1):
            number, start = -number, start - 1
        if start >= sentence_end:
            # Facts come in order, so a fact before the end of the last sentence is in that sentence.
            found = _SENTENCE_END.search(text, start)
            sentence_end = found.end() if found else n
            reverse = reverse or text[::-1]
            found = _SENTENCE_END.search(reverse, n - start)
            sentence_start = n - found.start() if found else 0
            sentence = text[sentence_start:sentence_end]
            stripped = sentence.lstrip(_BLANKS)
            sentence_start += len(sentence) - len(stripped)
            sentence = stripped.rstrip(_BLANKS)
        j = bisect_right(sec_offsets, start) - 1
        facts.append(Fact(
            value=number,
            unit=unit or "",
            raw=text[start:end],
            qualifier=qualifier,
            value_high=high,
            char_start=start,
            char_end=end,
            sentence=sentence,
            section=sec_paths[j] if j >= 0 else "",
            flags=flags,
            sentence_start=sentence_start,
        ))
    return facts
