"""Document pages built by document_pages.sql are what the Assembler path wrote: every edge case of a fact's offsets,
on a real DuckDB file, compared with `_sentences_of` + `document_text` and `_doc_observations` + `observation_rows`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_report import Builder, write_warehouse

from jobs import report

ORG = "测试<区>教体局"
RUNS = "('r1', '2026-01-01 02:00:00', '2026-01-01 02:05:00', 'ok', 8, 8, 0, '')"
# one fact a row: doc, fact id, value, unit, raw, qualifier, high, char_start, char_end, sentence, section, flags,
# sentence_start
RAW, CHAR_START, SENTENCE, SECTION, SENTENCE_START = 4, 7, 9, 10, 12


def _replace(b: Builder, doc_id: str, fact_id: int, **columns: object) -> None:
    """Change columns of one fact row, as a warehouse holding odd offsets would."""
    at = {"raw": RAW, "char_start": CHAR_START, "sentence": SENTENCE, "section": SECTION,
          "sentence_start": SENTENCE_START}
    facts = b.rows["facts"]
    i = next(i for i, f in enumerate(facts) if f[0] == doc_id and f[1] == fact_id)
    row = list(facts[i])
    for name, value in columns.items():
        row[at[name]] = value
    facts[i] = tuple(row)


def _document(b: Builder, text: str, title: str, year: int = 2023) -> str:
    return b.document(text, ORG, title, "工作总结", year, date(year + 1, 1, 5), None, f"{title}.txt")


def build(path: Path) -> dict[str, str]:
    """Documents named by the case they hold → doc_id."""
    b = Builder()
    docs: dict[str, str] = {}

    # handled in SQL: escaping, a section's heading, a raw found only by searching, a raw found nowhere, an empty raw,
    # facts whose ids run against their order in the sentence, characters outside the BMP before a number
    text = ("标题\n今年新增<体育>场地5个，比去年增加2个“&”'x'\"y\"。\n"
            "彩票门店90家，😀销售额300万元。\n"
            "另有说明，共12所学校。\n"
            "没有数字的句子也有一个空的数。\n")
    doc = docs["plain"] = _document(b, text, "plain")
    venues = b.fact(doc, "今年新增", "5个", 5, "个")
    change = b.fact(doc, "比去年增加2个", "2个", 2, "个")
    sales = b.fact(doc, "😀销售额300万元", "300万元", 300, "万元")  # an id below the number before it
    shops = b.fact(doc, "彩票门店90家", "90家", 90, "家")
    moved = b.fact(doc, "共12所学校", "12所", 12, "所")
    b.fact(doc, "没有数字的句子", "一个", 1, "个")
    _replace(b, doc, sales[0], section="二、<彩票> & “销售”")
    _replace(b, doc, shops[0], section="二、<彩票> & “销售”")
    _replace(b, doc, moved[0], char_start=text.index("共12所学校") + 9)  # the offset misses: found by searching
    _replace(b, doc, 5, raw="")
    b.fact(doc, "彩票门店90家", "90家", 95, "家")
    _replace(b, doc, 6, raw="95家", section="二、<彩票> & “销售”")  # neither at its offset nor in its sentence: no mark
    b.observe(ORG, "new_sports_venues", 2023, "actual", 5, "个", doc, venues, note="<注>")
    b.observe(ORG, "new_sports_venues", 2023, "change", 2, "个", doc, change)
    b.observe(ORG, "new_sports_venues", 2022, "derived", 3, "个", doc, None, quote=venues[1])
    b.observe(ORG, "lottery_shops", 2023, "actual", 90, "家", doc, shops)
    b.observe(ORG, "lottery_sales", 2023, "actual", 300, "万元", doc, sales, qualifier="about")
    b.observe(ORG, "school_investment", 2023, "target", 12, "所", doc, (99, "不存在的句子"))

    # assembled in Python: a sentence whose facts name two sections (headed by its first fact id's)
    text = "标题\n门店90家，销售额300万元。\n"
    doc = docs["sections"] = _document(b, text, "sections")
    b.fact(doc, "销售额300万元", "300万元", 300, "万元")
    b.fact(doc, "门店90家", "90家", 90, "家")
    _replace(b, doc, 1, section="二、彩票")

    # a fact without a sentence offset
    text = "标题\n今年新增体育场地7个。\n门店80家。\n"
    doc = docs["unkeyed"] = _document(b, text, "unkeyed")
    seven = b.fact(doc, "今年新增", "7个", 7, "个")
    b.fact(doc, "门店80家", "80家", 80, "家")
    _replace(b, doc, seven[0], sentence_start=None)
    b.observe(ORG, "new_sports_venues", 2023, "actual", 7, "个", doc, seven)

    # overlapping marks: the later one dropped
    text = "标题\n销售额1.2亿元。\n"
    doc = docs["overlap"] = _document(b, text, "overlap")
    whole = b.fact(doc, "销售额1.2亿元", "1.2亿元", 1.2, "亿元")
    b.fact(doc, "销售额1.2亿元", "2亿", 2, "亿")
    b.observe(ORG, "lottery_sales", 2023, "actual", 12000, "万元", doc, whole)

    # an offset before its sentence: Python's slice counts from the end
    text = "标题\n门店增加14家。\n"
    doc = docs["before"] = _document(b, text, "before")
    added = b.fact(doc, "门店增加14家", "14家", 14, "家")
    start = text.index("门店增加14家")
    _replace(b, doc, added[0], char_start=start - 3)
    b.observe(ORG, "lottery_shops", 2023, "change", 14, "家", doc, added)

    # two sentences at one offset
    text = "标题\n新增教师145人。\n新增教师150人。\n"
    doc = docs["same offset"] = _document(b, text, "same offset")
    first = b.fact(doc, "新增教师145人", "145人", 145, "人")
    second = b.fact(doc, "新增教师150人", "150人", 150, "人")
    _replace(b, doc, second[0], sentence_start=text.index("新增教师145人"),
             char_start=text.index("新增教师145人") + 4)
    b.observe(ORG, "new_teachers", 2023, "actual", 145, "人", doc, first)

    # a fact id twice: the Assembler keeps the last
    text = "标题\n新增教师20人。\n新增教师30人。\n"
    doc = docs["twice"] = _document(b, text, "twice")
    twenty = b.fact(doc, "新增教师20人", "20人", 20, "人")
    b.fact(doc, "新增教师30人", "30人", 30, "人")
    _replace(b, doc, 1, sentence_start=None)
    b.rows["facts"] = [(*f[:1], 0, *f[2:]) if f[0] == doc else f for f in b.rows["facts"]]
    b.observe(ORG, "new_teachers", 2023, "actual", 20, "人", doc, twenty)

    # a derived value whose next-year figure is fact 0 (looked up as fact -1, as the Assembler does: not marked)
    text = "标题\n门店比上年增加5家，达到60家。\n"
    doc = docs["derived"] = _document(b, text, "derived", 2024)
    level = b.fact(doc, "达到60家", "60家", 60, "家")
    step = b.fact(doc, "增加5家", "5家", 5, "家")
    b.observe(ORG, "lottery_shops", 2024, "actual", 60, "家", doc, level)
    b.observe(ORG, "lottery_shops", 2024, "change", 5, "家", doc, step)
    b.observe(ORG, "lottery_shops", 2023, "derived", 55, "家", doc, None, quote=level[1])

    # no facts at all, an observation quoting its own sentence; and a document with nothing
    doc = docs["no facts"] = _document(b, "标题\n全年销售额8千万元。\n", "no facts")
    b.observe(ORG, "lottery_sales", 2023, "actual", 8000, "万元", doc, None, quote="全年销售额8千万元。")
    docs["empty"] = _document(b, "标题\n", "empty")

    write_warehouse(b, path, runs=RUNS)
    return docs


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("docpages") / "docpages.duckdb"
    return path, build(path)


def _pages(path: Path, docs: tuple[str, ...]) -> dict[str, dict[str, object]]:
    with report._connect(path) as con:
        documents = {d: report._document(r) for r in report._scoped_rows(con, "documents", report.Scope(docs=docs))
                     for d in [report._str(r["doc_id"])]}
        pages = report._document_pages(con, docs, frozenset(d.href for d in documents.values()))
    by_href = {d.href: d.doc_id for d in documents.values()}
    return {by_href[href]: context for href, _template, context in pages}


def _assembled(path: Path, docs: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Each document's (text, table) the old way, for every document."""
    with report._connect(path) as con:
        documents = {report._str(r["doc_id"]): report._document(r)
                     for r in report._scoped_rows(con, "documents", report.Scope(docs=docs))}
        tables: dict[str, str] = {}
        texts = report._assembled_texts(con, docs, documents, tables)
    return {d: (texts[d], tables[d]) for d in docs}


def test_every_document_page_is_what_the_assembler_path_wrote(warehouse: tuple[Path, dict[str, str]]) -> None:
    path, docs = warehouse
    ids = tuple(sorted(docs.values()))
    new = _pages(path, ids)
    old = _assembled(path, ids)
    assert set(new) == set(ids)
    for case, doc_id in docs.items():
        assert (str(new[doc_id]["text"]), str(new[doc_id]["observations"])) == old[doc_id], case


def test_sql_marks_the_ordinary_cases_and_leaves_the_odd_ones_to_python(
        warehouse: tuple[Path, dict[str, str]]) -> None:
    path, docs = warehouse
    with report._connect(path) as con:
        rows = con.execute(report._sql("document_pages"), {"docs": sorted(docs.values())}).fetchall()
    texts = {r[2]: r[3] for r in rows if r[0] == 0}
    copies = {r[2]: r[15] for r in rows if r[0] == 1 and r[15] is not None}
    assert texts[docs["plain"]] is not None
    assert texts[docs["derived"]] is not None
    for case in ("sections", "unkeyed", "overlap", "before", "same offset"):
        assert texts[docs[case]] is None, case
    assert copies[docs["twice"]] == 2
    assert docs["no facts"] not in texts and docs["empty"] not in texts


def test_the_plain_document_reads_as_its_text(warehouse: tuple[Path, dict[str, str]]) -> None:
    path, docs = warehouse
    page = _pages(path, (docs["plain"],))[docs["plain"]]
    text = str(page["text"])
    assert text.startswith('<p class="sec">七、突出创先争优</p><p class="s">今年新增&lt;体育&gt;场地'
                           '<mark id="f-0">5个</mark>')
    assert "“&amp;”&#39;x&#39;&#34;y&#34;" in text
    assert ('<p class="sec">二、&lt;彩票&gt; &amp; “销售”</p><p class="s">彩票门店<mark id="f-3">90家</mark>，'
            '😀销售额<mark id="f-2">300万元</mark>。</p>\n<p class="sec">七、突出创先争优</p>') in text
    assert '共<mark id="f-4">12所</mark>学校' in text  # found by searching when the offset misses
    assert "<p class=\"s\">没有数字的句子也有一个空的数。</p>" in text
    assert 'id="f-6"' not in text
    table = str(page["observations"])
    assert '<span class="meta">（&lt;注&gt;）</span>' in table
    assert "不存在的句子" in table  # a fact the warehouse lacks: the observation's own quote


def test_the_markdown_path_marks_the_same_sentences(warehouse: tuple[Path, dict[str, str]]) -> None:
    """`_doc_sentences` (the whole warehouse at once) and the pages agree, but where a fact id is twice: it holds the
    facts by id, so one of the two is marked (the pages mark both, as they always have)."""
    path, docs = warehouse
    marked = report._doc_sentences(report.read_warehouse(path))
    pages = _pages(path, tuple(sorted(docs.values())))
    for case, doc_id in docs.items():
        if case == "twice":
            continue
        assert str(report.document_text(marked.get(doc_id, ()))) == str(pages[doc_id]["text"]), case
