"""jobs.read: normalisation, strict decoding, bounds, metadata of real documents."""

from __future__ import annotations

import hashlib
import os
import random
import re
import resource
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest

from jobs.doctypes import DocConfig, load
from jobs.errors import DocumentError
from jobs.read import MAX_TEXT_BYTES, decode, iter_inbox, normalise, read_document

ROOT = Path(__file__).resolve().parent.parent
INBOX = ROOT / "warehouse" / "inbox"
DATA = ROOT / "tests" / "data"


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
    big = (INBOX / "gov-report-cn_2017.txt").read_text(encoding="utf-8") * 200  # ~12 MB
    started = time.perf_counter()
    normalise(big)
    normalise("\n" * 1_000_000 + "\u200b" + "1" + " " * 1_000_000 + "x")
    assert time.perf_counter() - started < 5


# ---------------------------------------------------------------------------------------------
# Real documents: metadata of every sample, the .docx against its .txt.
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def config() -> DocConfig:
    return load(ROOT / "schemas")


GOV = "政府工作报告"
# file: (org, title, kind, period_year, published_on, doc_number)
EXPECTED = {
    "gov-report-cn_2015.txt": ("国务院", GOV, GOV, 2014, None, None),  # no title: kind from 向大会报告政府工作
    "gov-report-cn_2016.txt": ("国务院", GOV, GOV, 2015, None, None),
    "gov-report-cn_2017.txt": ("国务院", GOV, GOV, 2016, date(2017, 3, 5), None),  # title broken 政府工作报 / 告
    "gov-report-cn_2018.txt": ("国务院", GOV, GOV, 2017, None, None),  # 过去五年工作回顾; 刚刚过去的2017年
    "gov-report-cn_2019.txt": ("国务院", GOV, GOV, 2018, None, None),
    "gov-report-cn_2021.txt": ("国务院", GOV, GOV, 2020, date(2021, 3, 5), None),
    "gov-report-cn_2022.txt": ("国务院", GOV, GOV, 2021, date(2022, 3, 5), None),
    "gov-report-cn_2023.txt": ("国务院", GOV, GOV, 2022, date(2023, 3, 5), None),  # year from the file name
    "gov-report-cn_2024.txt": ("国务院", GOV, GOV, 2023, date(2024, 3, 5), None),
    "gov-report-cn_2025.txt": ("国务院", GOV, GOV, 2024, None, None),
    "jiangxi-gov-report_2025.txt": ("江西省人民政府", "2025年江西省政府工作报告", GOV, 2024, date(2025, 1, 17), None),
    "jiangxi-gov-report_2026.txt": ("江西省人民政府", "2026年江西省政府工作报告", GOV, 2025, date(2026, 1, 27), None),
    "xinjian-jiaoti_2022.txt": (
        "南昌市新建区教体局", "南昌市新建区教体局2022年工作总结", "工作总结",
        2022, date(2023, 1, 28), "新教发〔2023〕1号",
    ),
}


def test_every_inbox_document_is_expected() -> None:
    assert sorted(p.name for p in iter_inbox(INBOX)) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_document_metadata(name: str, config: DocConfig) -> None:
    doc = read_document(INBOX / name, config, inbox=INBOX)
    assert (doc.org, doc.title, doc.kind, doc.period_year, doc.published_on, doc.doc_number) == EXPECTED[name]
    assert doc.source_file == name
    assert doc.encoding == "utf-8"
    assert doc.sha256 == hashlib.sha256(doc.text.encode()).hexdigest()
    assert doc.doc_id == hashlib.sha256("".join(doc.text.split()).encode()).hexdigest()[:16]
    assert "\u200b" not in doc.text and "％" not in doc.text
    assert doc.warnings == ()


def test_docx_reads_to_the_same_text_as_its_txt(config: DocConfig) -> None:
    from_docx = read_document(DATA / "jiangxi-gov-report_2025.docx", config)
    from_txt = read_document(INBOX / "jiangxi-gov-report_2025.txt", config)
    # the .txt was made from the .docx with one line per paragraph; the .docx keeps one soft line break
    assert from_docx.text.replace("\n", "") == from_txt.text.replace("\n", "")
    assert from_docx.encoding == "docx"
    assert from_docx.doc_id == from_txt.doc_id  # the same content in another format is the same document
    assert (from_docx.org, from_docx.kind, from_docx.period_year, from_docx.published_on) == (
        "江西省人民政府", GOV, 2024, date(2025, 1, 17)
    )
    assert "地区生产总值增长5.1%" in from_docx.text


def test_docx_tables_are_read_in_order(tmp_path: Path, config: DocConfig) -> None:
    import docx

    made = docx.Document()
    made.add_paragraph("某某县教育局2023年工作总结")
    made.add_paragraph("2023年，全县教育事业稳步发展。")
    table = made.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "指标", "数值"
    table.cell(1, 0).text, table.cell(1, 1).text = "新建学校", "12所"
    made.add_paragraph("新增学位3000个。")
    made.save(tmp_path / "county.docx")
    doc = read_document(tmp_path / "county.docx", config)
    assert doc.text.index("全县教育") < doc.text.index("新建学校\t12所") < doc.text.index("新增学位3000个")
    assert (doc.org, doc.kind, doc.period_year) == ("某某县教育局", "工作总结", 2023)


# ---------------------------------------------------------------------------------------------
# Encodings: the same content is the same document.
# ---------------------------------------------------------------------------------------------
SEED = (INBOX / "xinjian-jiaoti_2022.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (SEED.encode("gbk"), "gb18030"),
        (SEED.encode("gb18030"), "gb18030"),
        (b"\xef\xbb\xbf" + SEED.encode("utf-8"), "utf-8-sig"),
        (SEED.encode("utf-16"), "utf-16"),  # with its byte-order mark
        (b"\xfe\xff" + SEED.encode("utf-16-be"), "utf-16"),
        (SEED.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
    ],
)
def test_seed_in_other_encodings_is_the_same_document(
    encoded: bytes, encoding: str, tmp_path: Path, config: DocConfig
) -> None:
    original = read_document(INBOX / "xinjian-jiaoti_2022.txt", config)
    copy = tmp_path / "renamed_copy.txt"
    copy.write_bytes(encoded)
    doc = read_document(copy, config)
    assert doc.encoding == encoding
    assert doc.doc_id == original.doc_id
    assert doc.text == original.text


def test_real_gbk_text_round_trips() -> None:
    text = "新建区教体局2022年工作总结：体育彩票销售比去年增幅10%；门店增加14个家，现有门店90家。\n"
    assert decode(text.encode("gbk"), "x.txt") == (text, "gb18030")


# ---------------------------------------------------------------------------------------------
# Bad input: each rejected with the file name and a fix.
# ---------------------------------------------------------------------------------------------
def _rejected(path: Path, config: DocConfig, *words: str, inbox: Path | None = None) -> DocumentError:
    started = time.perf_counter()
    with pytest.raises(DocumentError) as caught:
        read_document(path, config, inbox=inbox)
    assert time.perf_counter() - started < 10
    message = str(caught.value)
    assert path.name in message
    assert caught.value.fix and caught.value.fix in message
    for word in words:
        assert word in message
    return caught.value


def test_empty_file(tmp_path: Path, config: DocConfig) -> None:
    (tmp_path / "empty_2022.txt").write_bytes(b"")
    (tmp_path / "blank_2022.txt").write_bytes(b" \r\n\t\n")
    _rejected(tmp_path / "empty_2022.txt", config, "empty")
    _rejected(tmp_path / "blank_2022.txt", config, "empty")


def test_binary_noise(tmp_path: Path, config: DocConfig) -> None:
    noise = random.Random(7).randbytes(64 * 1024)
    (tmp_path / "noise_2022.txt").write_bytes(noise)
    _rejected(tmp_path / "noise_2022.txt", config, "UTF-8")


def test_high_byte_noise_without_controls(tmp_path: Path, config: DocConfig) -> None:
    """Bytes 0x81–0xFE only: GB18030 decodes much of it, the guard must still refuse it."""
    rng = random.Random(11)
    noise = bytes(rng.randrange(0x81, 0xFF) for _ in range(20_000))
    (tmp_path / "high_2022.txt").write_bytes(noise)
    _rejected(tmp_path / "high_2022.txt", config)


@pytest.mark.parametrize("order", ["utf8-then-gbk", "gbk-then-utf8"])
def test_file_that_switches_encoding(order: str, tmp_path: Path, config: DocConfig) -> None:
    half = len(SEED) // 2
    first, second = SEED[:half], SEED[half:]
    if order == "utf8-then-gbk":
        data = first.encode("utf-8") + second.encode("gbk")
    else:
        data = first.encode("gbk") + second.encode("utf-8")
    (tmp_path / "mixed_2022.txt").write_bytes(data)
    _rejected(tmp_path / "mixed_2022.txt", config, "switches encoding", "UTF-8")


def test_nul_bytes(tmp_path: Path, config: DocConfig) -> None:
    data = SEED.encode("utf-8")
    (tmp_path / "nul_2022.txt").write_bytes(data[:300] + b"\x00\x00" + data[300:])
    _rejected(tmp_path / "nul_2022.txt", config, "NUL")
    (tmp_path / "utf16-no-bom_2022.txt").write_bytes(SEED.encode("utf-16-le"))
    _rejected(tmp_path / "utf16-no-bom_2022.txt", config, "NUL")


def test_docx_that_is_not_a_zip(tmp_path: Path, config: DocConfig) -> None:
    (tmp_path / "report_2022.docx").write_bytes(SEED.encode("utf-8"))
    _rejected(tmp_path / "report_2022.docx", config, "not a .docx", "zip")


def test_zip_that_is_not_a_word_document(tmp_path: Path, config: DocConfig) -> None:
    with zipfile.ZipFile(tmp_path / "other_2022.docx", "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    _rejected(tmp_path / "other_2022.docx", config, "not a Word document")


def test_docx_zip_bomb_is_refused_before_parsing(tmp_path: Path, config: DocConfig) -> None:
    bomb = tmp_path / "bomb_2022.docx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:  # streamed: the test never holds it whole
            for _ in range(40):
                member.write(b"0" * (1 << 20))
    assert bomb.stat().st_size < 100_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _rejected(bomb, config, "would expand to 40 MB", "not opened")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20_000  # KB: nothing was inflated


def test_document_with_no_year(tmp_path: Path, config: DocConfig) -> None:
    text = "某某县教育局工作总结\n今年全县新建学校12所，新增学位3000个。\n"
    (tmp_path / "summary.txt").write_text(text, encoding="utf-8")
    _rejected(tmp_path / "summary.txt", config, "names no year", "name_2022.txt")
    # the same text with the year in its file name is accepted
    (tmp_path / "summary_2021.txt").write_text(text, encoding="utf-8")
    assert read_document(tmp_path / "summary_2021.txt", config).period_year == 2021


def test_file_name_year_is_adjusted_by_the_kind(tmp_path: Path, config: DocConfig) -> None:
    text = "各位代表：\n现在，我代表某某市人民政府，向大会报告政府工作，请予审议。\n一、过去一年工作回顾\n"
    (tmp_path / "city-report_2019.txt").write_text(text, encoding="utf-8")
    doc = read_document(tmp_path / "city-report_2019.txt", config)
    assert (doc.org, doc.kind, doc.period_year, doc.title) == ("某某市人民政府", GOV, 2018, GOV)


def test_document_of_no_known_kind(tmp_path: Path, config: DocConfig) -> None:
    (tmp_path / "notice_2022.txt").write_text("关于放假的通知\n各单位：国庆节放假7天。\n", encoding="utf-8")
    _rejected(tmp_path / "notice_2022.txt", config, "kinds.toml")


def test_200_mb_file_is_refused_unread(tmp_path: Path, config: DocConfig) -> None:
    huge = tmp_path / "huge_2022.txt"
    with huge.open("wb") as file:  # sparse: costs no disk
        file.truncate(200 * 2**20)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _rejected(huge, config, "200 MB", "20 MB")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KB: never read whole


def test_one_enormous_line_is_read_with_a_warning(tmp_path: Path, config: DocConfig) -> None:
    line = "某某县教育局2022年工作总结：" + "新建学校12所，新增学位3000个，" * 300_000  # ~14 MB, one line
    (tmp_path / "oneline.txt").write_text(line, encoding="utf-8")
    started = time.perf_counter()
    doc = read_document(tmp_path / "oneline.txt", config)
    assert time.perf_counter() - started < 20
    assert (doc.kind, doc.period_year) == ("工作总结", 2022)
    assert doc.warnings and "characters" in doc.warnings[0]


def test_one_enormous_line_past_the_limit(tmp_path: Path, config: DocConfig) -> None:
    (tmp_path / "toolong_2022.txt").write_bytes(b"x" * (MAX_TEXT_BYTES + 1))
    _rejected(tmp_path / "toolong_2022.txt", config, "limited")


def test_symlink_outside_the_inbox(tmp_path: Path, config: DocConfig) -> None:
    inbox, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    outside.mkdir()
    (outside / "secret_2022.txt").write_text(SEED, encoding="utf-8")
    (inbox / "link_2022.txt").symlink_to(outside / "secret_2022.txt")
    (inbox / "passwd.txt").symlink_to("/etc/passwd")
    assert [p.name for p in iter_inbox(inbox)] == ["link_2022.txt", "passwd.txt"]  # listed, to be reported
    _rejected(inbox / "link_2022.txt", config, "outside the inbox", inbox=inbox)
    _rejected(inbox / "passwd.txt", config, "outside the inbox", inbox=inbox)
    # a link that stays inside the inbox is fine
    (inbox / "real_2022.txt").write_text(SEED, encoding="utf-8")
    (inbox / "alias_2022.txt").symlink_to(inbox / "real_2022.txt")
    assert read_document(inbox / "alias_2022.txt", config, inbox=inbox).period_year == 2022


def test_fifo_is_not_read(tmp_path: Path, config: DocConfig) -> None:
    os.mkfifo(tmp_path / "pipe_2022.txt")
    _rejected(tmp_path / "pipe_2022.txt", config, "not a regular file")


# ---------------------------------------------------------------------------------------------
# The inbox listing, HTML, dates and titles.
# ---------------------------------------------------------------------------------------------
def test_iter_inbox_lists_documents_sorted_and_skips_temp_files(tmp_path: Path) -> None:
    for name in ["b_2022.txt", "a_2022.DOCX", "c.html", "d.htm", "notes.md", "~$a_2022.docx", ".#b_2022.txt",
                 ".hidden.txt", "#auto#.txt"]:
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e_2021.txt").write_text("x", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "f.txt").write_text("x", encoding="utf-8")
    listed = [p.relative_to(tmp_path).as_posix() for p in iter_inbox(tmp_path)]
    assert listed == ["a_2022.DOCX", "b_2022.txt", "c.html", "d.htm", "sub/e_2021.txt"]


GOV_PAGE = """<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>某某市2023年工作总结_某某市人民政府</title><style>p {{ color: red }}</style>
<script>var total = "增长99%";</script></head><body>
<div class="nav-bar"><a href="/">首页</a> &gt; <a>政务公开</a></div>
<header>某某市人民政府门户网站</header>
<div class="article"><h1>某某市统计局2023年工作总结</h1>
<p>2023年，全市地区生产总值增长<span>5.2</span>％，达到<b>3200</b>亿元。</p>
<p>新建学校<span>12</span>所。</p>
<table><tr><td>指标</td><td>数值</td></tr><tr><td>新增学位</td><td>3000个</td></tr></table></div>
<footer>版权所有 主办：某某市人民政府办公室</footer></body></html>"""


def test_html_page_keeps_text_only(tmp_path: Path, config: DocConfig) -> None:
    page = tmp_path / "city_2023.html"
    page.write_bytes(GOV_PAGE.format().encode("gbk"))
    doc = read_document(page, config)
    assert "全市地区生产总值增长5.2%，达到3200亿元。\n" in doc.text
    assert "新建学校12所" in doc.text
    assert "新增学位\t3000个" in doc.text
    for clutter in ("首页", "增长99%", "color", "版权所有", "门户网站"):
        assert clutter not in doc.text
    assert (doc.org, doc.kind, doc.period_year, doc.encoding) == ("某某市统计局", "工作总结", 2023, "html")


def test_html_whose_declared_charset_is_wrong_is_decoded_from_its_bytes(tmp_path: Path, config: DocConfig) -> None:
    page = tmp_path / "city_2023.htm"
    page.write_bytes(GOV_PAGE.format().encode("utf-8"))  # declares gb2312, saved as UTF-8
    assert "新建学校12所" in read_document(page, config).text


@pytest.mark.parametrize(
    ("text", "published", "number"),
    [
        ("某某局文件\n某教字〔2021〕15号\n某某局2020年工作总结\n正文。\n某某局\n二〇二一年一月八日\n", date(2021, 1, 8),
         "某教字〔2021〕15号"),
        ("某某局2020年工作总结\n正文。\n某某局\n2021年2月30日\n", None, None),  # no such day
        ("某某局2020年工作总结\n正文在2021年3月1日会上通过。\n", None, None),  # a date inside a sentence
    ],
)
def test_publication_date_and_number(text: str, published: date | None, number: str | None,
                                     tmp_path: Path, config: DocConfig) -> None:
    (tmp_path / "doc.txt").write_text(text, encoding="utf-8")
    doc = read_document(tmp_path / "doc.txt", config)
    assert (doc.published_on, doc.doc_number, doc.period_year) == (published, number, 2020)


def test_alias_resolves_to_the_canonical_organisation(tmp_path: Path, config: DocConfig) -> None:
    (tmp_path / "doc.txt").write_text("新建区教体局2023年工作要点\n一、目标\n", encoding="utf-8")
    doc = read_document(tmp_path / "doc.txt", config)
    assert (doc.org, doc.kind, doc.period_year) == ("南昌市新建区教体局", "工作要点", 2023)
    assert config.rule(doc.kind).default_basis == "target"


def test_html_page_title_stands_in_for_a_missing_heading(tmp_path: Path, config: DocConfig) -> None:
    page = (
        "<html><head><title>某某区教育局2022年工作总结_某某区人民政府网</title></head>"
        "<body><p>2022年，新建学校3所。</p>"
    )
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    doc = read_document(tmp_path / "page.html", config)
    assert (doc.title, doc.org, doc.period_year) == ("某某区教育局2022年工作总结", "某某区教育局", 2022)
    assert "人民政府网" not in doc.text


def test_utf8_with_short_lines_and_one_bad_byte_is_not_read_as_gbk(tmp_path: Path, config: DocConfig) -> None:
    """Every line too short to prove UTF-8 on its own; the file as a whole still does."""
    lines = "".join(f"某某局{n}年总结\n" for n in range(2000, 2040)).encode("utf-8")
    (tmp_path / "short_2022.txt").write_bytes(lines + b"\xff\n")
    _rejected(tmp_path / "short_2022.txt", config, "UTF-8", "line 41")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path, config: DocConfig) -> None:
    locked = tmp_path / "locked_2022.txt"
    locked.write_text(SEED, encoding="utf-8")
    locked.chmod(0)
    _rejected(locked, config, "could not be read")


def test_missing_file(tmp_path: Path, config: DocConfig) -> None:
    (tmp_path / "dangling_2022.txt").symlink_to(tmp_path / "gone.txt")
    _rejected(tmp_path / "dangling_2022.txt", config, "cannot be opened")


# Documents we do not ship, in the shapes the real ones come in: (text, org, kind, period_year, published_on)
SHAPES = [
    ("某某市教育局二〇二二年工作总结\n二〇二二年，我局……\n某某市教育局\n二〇二三年一月十日\n",
     "某某市教育局", "工作总结", 2022, date(2023, 1, 10)),
    ("某某县人民政府办公室2023年上半年工作总结\n今年以来……\n", "某某县人民政府办公室", "工作总结", 2023, None),
    ("关于2022年工作总结和2023年工作计划的报告\n某某区统计局\n2022年，……\n", "某某区统计局", "工作总结", 2022, None),
    ("2024年某某镇工作要点\n一、总体要求\n", "某某镇", "工作要点", 2024, None),
    # 关于 between the author and the year, or in front of both, is no part of the name
    ("某某县卫生健康委员会关于2023年工作总结的报告\n2023年，……\n", "某某县卫生健康委员会", "工作总结", 2023, None),
    ("关于某某县人社局2023年工作总结的报告\n2023年，……\n", "某某县人社局", "工作总结", 2023, None),
    ("某某县卫生健康委员会关于印发2024年工作要点的通知\n一、……\n", "某某县卫生健康委员会", "工作要点", 2024, None),
    # a body's yearly review under other names is a 工作总结
    ("某某县卫生健康委员会2023年工作报告\n一、……\n", "某某县卫生健康委员会", "工作总结", 2023, None),
    ("某某县人社局2023年工作完成情况及2024年工作计划\n一、……\n", "某某县人社局", "工作总结", 2023, None),
    ("某某县教育体育局\n2022年度工作总结\n\n2022年，全县……\n", "某某县教育体育局", "工作总结", 2022, None),
    ("政府工作报告\n——2024年1月20日在某某市第十七届人民代表大会第四次会议上\n某某市市长 张三\n各位代表：\n"
     "现在，我代表市人民政府，向大会报告工作。\n一、2023年工作回顾\n", "某某市人民政府", GOV, 2023, date(2024, 1, 20)),
]


@pytest.mark.parametrize(("text", "org", "kind", "year", "published"), SHAPES)
def test_unseen_document_shapes(text: str, org: str, kind: str, year: int, published: date | None,
                                tmp_path: Path, config: DocConfig) -> None:
    (tmp_path / "doc.txt").write_text(text, encoding="utf-8")
    doc = read_document(tmp_path / "doc.txt", config)
    assert (doc.org, doc.kind, doc.period_year, doc.published_on) == (org, kind, year, published)


def test_linked_folder_outside_the_inbox_is_listed_to_be_refused(tmp_path: Path, config: DocConfig) -> None:
    inbox, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    (inbox / "real").mkdir(parents=True)
    outside.mkdir()
    (outside / "a_2022.txt").write_text(SEED, encoding="utf-8")
    (inbox / "real" / "b_2022.txt").write_text(SEED, encoding="utf-8")
    (inbox / "out").symlink_to(outside, target_is_directory=True)
    (inbox / "again").symlink_to(inbox / "real", target_is_directory=True)  # inside: not walked twice
    listed = iter_inbox(inbox)
    assert [p.relative_to(inbox).as_posix() for p in listed] == ["out", "real/b_2022.txt"]
    _rejected(inbox / "out", config, "outside the inbox", inbox=inbox)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_normalise_is_idempotent_on_real_documents(name: str) -> None:
    once = normalise((INBOX / name).read_text(encoding="utf-8"))
    assert normalise(once) == once


def test_gb18030_four_byte_characters_round_trip() -> None:
    text = "王䶮同志2022年获评先进，龑字与𠀀字。\n"  # CJK extension A and B: four-byte sequences in GB18030
    assert decode(text.encode("gb18030"), "x.txt") == (text, "gb18030")


def _earliest_marker_by_find(text: str, config: DocConfig) -> tuple[str, int] | None:
    """The rule as first written: one find per marker; the earliest wins, then the longest, then the first kind."""
    best: tuple[int, int, str] | None = None
    for rule in config.kinds:
        for marker in rule.markers:
            at = text.find(marker)
            if at >= 0 and (best is None or (at, -len(marker)) < best[:2]):
                best = (at, -len(marker), rule.kind)
    return None if best is None else (best[2], best[0])


def test_earliest_marker_is_the_first_then_the_longest(config: DocConfig) -> None:
    # 政府工作报告 starts before the 工作报告 inside it; at one position the longer marker wins
    assert config.earliest_marker("某市政府工作报告") == ("政府工作报告", 2)
    assert config.earliest_marker("2023年工作情况汇报与工作要点") == ("工作总结", 5)
    assert config.earliest_marker("没有标记的一行") is None


def test_earliest_marker_agrees_with_one_find_per_marker(config: DocConfig) -> None:
    markers = [m for rule in config.kinds for m in rule.markers]
    pieces = [*markers, *(m[: len(m) // 2] for m in markers), "，", "2023年", "某某局", "情况", "工作"]
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        assert config.earliest_marker(text) == _earliest_marker_by_find(text, config), text


@pytest.mark.parametrize(
    ("closing", "published"),
    [
        ("某某局\n二〇二三年三月五日\n", date(2023, 3, 5)),  # Chinese numerals: the year checked behind 年
        ("某某局\n2023年3月5日\n", date(2023, 3, 5)),
        ("某某局\n23年3月5日\n", None),  # a two-digit year is no date
        ("某某局\n2023年3月\n", None),
    ],
)
def test_publication_date_alone_on_its_line(closing: str, published: date | None, tmp_path: Path,
                                            config: DocConfig) -> None:
    (tmp_path / "doc.txt").write_text("某某局2022年工作总结\n正文。\n" + closing, encoding="utf-8")
    assert read_document(tmp_path / "doc.txt", config).published_on == published


def test_number_gaps_are_rejoined_as_one_pattern_would() -> None:
    # The rule as first written: one pattern starting at the digit (normalise uses one per blank that starts a
    # gap). No letters or zero-width characters here, so no other step of normalise changes these texts.
    one_pattern = re.compile("([0-9])(?:[ \t\u3000\u00a0]|\n)+(?=[万亿元个人%年月])")
    rng = random.Random(11)
    alphabet = ["1", "2.5", " ", "\t", "\u3000", "\u00a0", "\n", "万", "亿", "元", "个", "人", "%", "年", "月", "。"]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        assert normalise(text) == one_pattern.sub(r"\1", text), repr(text)
