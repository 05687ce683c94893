"""jobs.read: normalisation, strict decoding, bounds, metadata of real documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.read import normalise

ROOT = Path(__file__).resolve().parent.parent
INBOX = ROOT / "warehouse" / "inbox"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("达到74.4\n\u200b\n万亿元，增长6.7%", "达到74.4万亿元，增长6.7%"),  # 2017 national report
        ("光缆线路550\n\u200b\n多万公里。", "光缆线路550多万公里。"),
        ("经济金融风险隐患较多，经\n\u200b\n济", "经济金融风险隐患较多，经济"),
        ("便利人民群众生活。\n\u200b\n本着鼓励创新", "便利人民群众生活。\n\n本着鼓励创新"),
        ("增长６．５％左右", "增长6.5%左右"),
        ("比上年增长１２％，", "比上年增长12%，"),
        ("7.\u200b4\u200c万\u200d亿\u2060元\ufeff", "7.4万亿元"),
        ("\ufeff各位代表：\r\n现在\r第二行", "各位代表：\n现在\n第二行"),
        ("增长6.7\n%", "增长6.7%"),
        ("达到 74.4 万亿元", "达到 74.4万亿元"),
        ("广义货币M\n2\n增长11.3%", "广义货币M2增长11.3%"),
        ("细颗粒物（PM\n2.5\n）浓度", "细颗粒物（PM2.5）浓度"),
    ],
)
def test_normalise_repairs_noise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    "kept",
    ["6.5%－7%", "6%～6.5%", "“4+10”", "新教发〔2023〕1号", "第三届", "一、2023年工作回顾\n过去一年", "（一）"],
)
def test_normalise_keeps_what_the_text_says(kept: str) -> None:
    assert normalise(kept) == kept


def test_normalise_2017_report_joins_gdp_with_its_unit() -> None:
    text = normalise((INBOX / "gov-report-cn_2017.txt").read_text(encoding="utf-8"))
    assert "国内生产总值达到74.4万亿元" in text
    assert "\u200b" not in text


def test_normalise_is_fast_and_linear_on_hostile_whitespace() -> None:
    import time

    big = (INBOX / "gov-report-cn_2017.txt").read_text(encoding="utf-8") * 200  # ~12 MB
    started = time.perf_counter()
    normalise(big)
    normalise("\n" * 1_000_000 + "\u200b" + "1" + " " * 1_000_000 + "x")
    assert time.perf_counter() - started < 5
