"""jobs.units: a fact's unit into an indicator's unit, and the pairs that must never convert."""

from __future__ import annotations

import pytest

from jobs import units


@pytest.mark.parametrize(
    ("value", "from_unit", "to_unit", "expected"),
    [
        (66_720_000, "元", "万元", 6672),  # 6672万元 from the seed, stored as 元 by the extractor
        (66_720_000, "元", "亿元", 0.6672),
        (1.349e14, "元", "万亿元", 134.9),
        (13_220_000, "人", "万人", 1322),
        (6.07e8, "吨", "万吨", 60_700),  # 2015: 粮食产量达到6.07亿吨
        (1.37e12, "斤", "万吨", 68_500),  # 2023: 粮食产量1.37万亿斤
        (439.2, "亿斤", "万吨", 2196),
        (170_000, "米", "公里", 170),
        (3.7e8, "千瓦", "万千瓦", 37_000),  # 千瓦 is a unit, not 千 × 瓦
        (1, "亿千瓦", "千瓦", 1e8),
        (97, "名", "人", 97),  # persons: 名 = 人 = 位
        (14, "家", "个", 14),  # 个 is the generic measure word for objects
        (102, "个", "所", 102),
        (15, "次", "场", 15),  # 次 is the generic one for events
        (120_000, "", "万人", 12),  # a bare count (12万师生) counts what follows it
        (2_319_300, "", "万人次", 231.93),  # 门急诊人次231.93万: the alias says what is counted
        (5.2, "%", "%", 5.2),
        (0.4, "个百分点", "百分点", 0.4),
        (15, "亩", "公顷", 1),
        (12, "分钟", "小时", 0.2),  # 急救反应时间12分钟
        (78.5, "岁", "岁", 78.5),  # 人均预期寿命78.5岁
        (86_000, "剂次", "万剂次", 8.6),  # 疫苗接种8.6万剂次
        (19_000, "台次", "万台次", 1.9),  # 手术1.9万台次
        (120_000, "头", "万头", 12),  # 生猪出栏12万头
        (1.2e8, "立方米", "亿立方米", 1.2),
        (12, "万吨标准煤", "吨标准煤", 120_000),
        (300, "床", "个", 300),
        (94.3, "分", "分", 94.3),  # 群众满意度94.3分
        (320, "场次", "场", 320),  # 文化惠民演出320场次
        (32, "微克/立方米", "微克/立方米", 32),
    ],
)
def test_convert(value: float, from_unit: str, to_unit: str, expected: float) -> None:
    assert units.convert(value, from_unit, to_unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("from_unit", "to_unit"),
    [
        ("%", "百分点"),  # a level in per cent is not a change in points
        ("百分点", "%"),
        ("所", "家"),  # schools are not firms: two specific measure words do not mix
        ("人次", "人"),  # visits are not people
        ("人", "个"),
        ("元", "美元"),
        ("吨", "平方米"),
        ("%", "个"),
        ("元", "人"),
        ("米", "亩"),
        ("例", "人"),  # cases are not persons
        ("台", "台次"),  # machines are not operations
        ("岁", "年"),
        ("头", "羽"),  # pigs are not chickens
        ("床", "张"),  # two specific measure words
        ("分", "%"),
    ],
)
def test_does_not_convert(from_unit: str, to_unit: str) -> None:
    assert units.convert(1.0, from_unit, to_unit) is None


def test_convert_prints_as_written() -> None:
    """No float noise: 819.85725万元 round-trips, 6672万元 → 0.6672亿元 exactly."""
    assert units.convert(8_198_572.5, "元", "万元") == 819.85725
    assert str(units.convert(66_720_000, "元", "亿元")) == "0.6672"


@pytest.mark.parametrize(
    "unit", ["万亿元", "亿元", "万人", "万吨", "亿斤", "个", "%", "百分点", "平方米", "千瓦", "人次", ""]
)
def test_known_units(unit: str) -> None:
    assert units.is_known(unit)


@pytest.mark.parametrize("unit", ["万", "亿", "元万", "foo", "万个人", "斤斤"])
def test_unknown_units(unit: str) -> None:
    assert not units.is_known(unit)


def test_dimension_names_the_quantity() -> None:
    assert units.dimension("亿元") == "money_cny"
    assert units.dimension("名") == units.dimension("万人") == "persons"
    assert units.dimension("%") == "percent"
    assert units.dimension("bogus") is None
