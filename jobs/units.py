"""Unit arithmetic: convert a fact's unit (元, 人, 吨, %) into an indicator's unit (亿元, 万人, 万吨, %)."""

from __future__ import annotations

from functools import cache

# A unit is an optional magnitude prefix (万, 亿, 万亿, …) in front of a base unit. Base units belong to a
# dimension; a value converts between two units of the same dimension by the ratio of their factors.
MAGNITUDES: dict[str, float] = {
    "十": 10.0,
    "百": 100.0,
    "千": 1_000.0,
    "万": 10_000.0,
    "十万": 100_000.0,
    "百万": 1_000_000.0,
    "千万": 10_000_000.0,
    "亿": 100_000_000.0,
    "十亿": 1_000_000_000.0,
    "百亿": 10_000_000_000.0,
    "千亿": 100_000_000_000.0,
    "万亿": 1_000_000_000_000.0,
}

# base unit → (dimension, factor in the dimension's reference unit)
BASE_UNITS: dict[str, tuple[str, float]] = {
    # money: currencies never convert into each other
    "元": ("money_cny", 1.0),
    "美元": ("money_usd", 1.0),
    # weight, reference 公斤
    "公斤": ("weight", 1.0),
    "千克": ("weight", 1.0),
    "克": ("weight", 0.001),
    "斤": ("weight", 0.5),
    "吨": ("weight", 1_000.0),
    # length, reference 米
    "米": ("length", 1.0),
    "延米": ("length", 1.0),
    "公里": ("length", 1_000.0),
    "千米": ("length", 1_000.0),
    # area, reference 平方米
    "平方米": ("area", 1.0),
    "平方公里": ("area", 1_000_000.0),
    "公顷": ("area", 10_000.0),
    "亩": ("area", 10_000.0 / 15.0),
    # volume, reference 立方米 (供水量1.2亿立方米)
    "立方米": ("volume", 1.0),
    "升": ("volume", 0.001),
    # energy in coal equivalent (综合能耗12万吨标准煤), reference 千克标准煤
    "吨标准煤": ("coal_equivalent", 1_000.0),
    "千克标准煤": ("coal_equivalent", 1.0),
    # concentration (PM2.5平均浓度32微克/立方米)
    "微克/立方米": ("concentration", 1.0),
    "毫克/立方米": ("concentration", 1_000.0),
    # containers (集装箱吞吐量12万标箱)
    "标箱": ("teu", 1.0),
    # scores and grades (群众满意度94.3分)
    "分": ("score", 1.0),
    # power and energy
    "瓦": ("power", 0.001),
    "千瓦": ("power", 1.0),
    "兆瓦": ("power", 1_000.0),
    "千瓦时": ("energy", 1.0),
    "度": ("energy", 1.0),
    # time spans (小时 and 分钟 convert: 急救反应时间12分钟 against an indicator in 小时)
    "小时": ("hours", 1.0),
    "分钟": ("hours", 1.0 / 60.0),
    "秒": ("hours", 1.0 / 3600.0),
    # ages: 人均预期寿命78.5岁
    "岁": ("age", 1.0),
    "天": ("days", 1.0),
    "日": ("days", 1.0),
    "周": ("days", 7.0),
    "个月": ("months", 1.0),
    # ratios: a per-cent level and a change in percentage points are different things
    "%": ("percent", 1.0),
    "百分点": ("points", 1.0),
    "个百分点": ("points", 1.0),
    "倍": ("times", 1.0),
    "‰": ("permille", 1.0),
}

# Measure words. Within a group any two convert 1:1; `GENERIC` of a group (个, 次) also converts with every
# member, but two specific members do not (所 counts schools, 家 counts firms: 3所 is not 3家).
# Persons are one group where all members agree (人 = 名 = 位); 人次 (person-times) counts visits,
# not people, so it stands alone; a bare count (unit "", `12万师生`) is accepted by person and object
# indicators because the noun after it says what it counts.
COUNT_GROUPS: dict[str, tuple[str, ...]] = {
    "persons": ("人", "名", "位"),
    "person_times": ("人次",),
    "households": ("户",),
    "objects": ("个", "所", "家", "处", "座", "间", "项", "件", "块", "套", "台", "辆", "条", "支", "种",
                "只", "批", "栋", "幢", "张", "面", "把", "架", "艘", "部", "门", "类", "盏", "棵", "株",
                "床", "宗", "笔", "单"),
    "events": ("次", "场", "起", "期", "回", "轮", "届", "堂", "节", "课时", "架次", "车次", "批次", "项次", "份次",
               "班次", "场次"),
    "copies": ("册", "本", "份", "篇", "幅"),
    "medals": ("枚", "金", "银", "铜", "块奖牌"),
    "doses": ("剂次", "剂"),  # 疫苗接种8.6万剂次
    "cases": ("例",),  # 收治病例320例: cases, not persons or events
    "operations": ("台次", "台手术"),  # 手术1.9万台次
    "animals": ("头", "羽", "匹", "尾"),  # 生猪出栏12万头, 家禽出栏300万羽: pigs are not chickens
    "pairs": ("对",),  # 孕前优生健康检查3860对
    "person_days": ("人日", "工日"),
}
# Measure words that count the same thing under another name (演出320场次 = 320场).
SAME_AS: dict[str, str] = {"场次": "场"}
GENERIC: dict[str, str] = {"objects": "个", "events": "次", "copies": "册", "medals": "枚", "doses": "剂次"}
FULLY_INTERCHANGEABLE: frozenset[str] = frozenset({"persons"})
# 门急诊人次231.93万: after an alias that says 人次, a bare 万 counts visits too.
BARE_COUNT_GROUPS: frozenset[str] = frozenset({"persons", "objects", "person_times"})

_COUNT_GROUP_OF: dict[str, str] = {word: group for group, words in COUNT_GROUPS.items() for word in words}
_MAGNITUDES_LONGEST_FIRST: tuple[str, ...] = tuple(sorted(MAGNITUDES, key=len, reverse=True))


@cache
def parse(unit: str) -> tuple[float, str] | None:
    """`亿元` → (1e8, "元"); `万人` → (1e4, "人"); `千瓦` → (1, "千瓦"); None when the unit is unknown."""
    unit = unit.strip()
    # 千瓦 and 千克 are units in their own right, not 千 × 瓦: the shortest magnitude prefix wins.
    for cut in range(len(unit) + 1):
        prefix, base = unit[:cut], unit[cut:]
        if base in BASE_UNITS or base in _COUNT_GROUP_OF or (base == "" and prefix == ""):
            scale = _magnitude(prefix)
            if scale is not None:
                return scale, base
    return None


def _magnitude(prefix: str) -> float | None:
    """万亿 → 1e12; '' → 1; a prefix that is not a chain of magnitudes → None."""
    factor, rest = 1.0, prefix
    while rest:
        for mag in _MAGNITUDES_LONGEST_FIRST:
            if rest.startswith(mag):
                factor *= MAGNITUDES[mag]
                rest = rest[len(mag) :]
                break
        else:
            return None
    return factor


def is_known(unit: str) -> bool:
    """True when tongbi can convert values into or out of `unit`."""
    return parse(unit) is not None


def dimension(unit: str) -> str | None:
    """The dimension a unit measures ("money_cny", "weight", "persons", "percent", …), or None."""
    parsed = parse(unit)
    if parsed is None:
        return None
    base = parsed[1]
    if base in BASE_UNITS:
        return BASE_UNITS[base][0]
    if base == "":
        return "bare"
    return _COUNT_GROUP_OF[base]


def _counts_convert(from_base: str, to_base: str) -> bool:
    """Whether a count in one measure word is a count in another (see COUNT_GROUPS)."""
    from_base, to_base = SAME_AS.get(from_base, from_base), SAME_AS.get(to_base, to_base)
    if from_base == to_base:
        return True
    if from_base == "":
        return _COUNT_GROUP_OF.get(to_base) in BARE_COUNT_GROUPS
    if to_base == "":
        return _COUNT_GROUP_OF.get(from_base) in BARE_COUNT_GROUPS
    group = _COUNT_GROUP_OF.get(from_base)
    if group is None or group != _COUNT_GROUP_OF.get(to_base):
        return False
    return group in FULLY_INTERCHANGEABLE or GENERIC.get(group) in (from_base, to_base)


@cache  # a handful of unit pairs, asked about for every fact that might measure an indicator
def factor(from_unit: str, to_unit: str) -> float | None:
    """The number a value in `from_unit` is multiplied by to be in `to_unit`, or None if they do not convert."""
    source, target = parse(from_unit), parse(to_unit)
    if source is None or target is None:
        return None
    (from_mag, from_base), (to_mag, to_base) = source, target
    if from_base in BASE_UNITS and to_base in BASE_UNITS:
        (from_dim, from_factor), (to_dim, to_factor) = BASE_UNITS[from_base], BASE_UNITS[to_base]
        if from_dim != to_dim:
            return None
        return from_mag * from_factor / (to_mag * to_factor)
    if from_base in BASE_UNITS or to_base in BASE_UNITS:
        return None
    if not _counts_convert(from_base, to_base):
        return None
    return from_mag / to_mag


def convert(value: float, from_unit: str, to_unit: str) -> float | None:
    """`value` expressed in `to_unit`, or None when the units measure different things.

    Results are rounded to 10 significant digits so that 6672万元 → 0.6672亿元 prints as written,
    not as 0.6672000000000001.
    """
    ratio = factor(from_unit, to_unit)
    if ratio is None:
        return None
    result = value * ratio
    return float(f"{result:.10g}")
