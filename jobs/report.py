"""Warehouse → static comparison reports (HTML pages or one Markdown file) through one Jinja environment.

At a province's scale (10,000 documents: 1,000 organisations, 21,000 pages) four decisions shape the HTML report:

- What a page shows is hashed in SQL, not in Python: one sum of row hashes per organisation-year page (over the
  years it quotes), per document and per indicator (reports/sql/page_keys.sql). A night that changed 1 % of the
  documents reads, assembles and renders only the pages that show them; the others are hard links to the current
  generation's files, byte-identical to a full render.
- Pages are rendered in chunks by forked workers (one per core), each reading only its chunk's rows from its own
  read-only connection (views that window over every observation are made tables once per render) and writing its
  pages; the parent plans and links. No step holds the whole warehouse as Python objects.
- Pages unusable at that scale are redesigned for the reader, not only made faster. The index lists the first
  INDEX_ORGS organisations and the newest INDEX_DOCUMENTS documents, each with a link to a full, filterable list page,
  and at most INDEX_ROWS rows of each list of problems (with their count): it was 5.5 MB. An indicator reported by
  more than SERIES_CHARTS organisations gets one chart of their spread per year (median, the middle half as a band,
  the median goal dashed) and a sortable, filterable table of each organisation's latest year whose numbers link to
  their sentences, instead of 1,500 charts (3.8 MB); with few organisations the page is as before, one chart each.
- The hot rows are built as strings, byte for byte what the templates wrote (comparison_table, document_text,
  observation rows), and a document's marked text comes whole from SQL (reports/sql/document_pages.sql), one row a
  document instead of one a fact, with the documents SQL cannot mark exactly as Python would assembled in Python.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import dataclasses
import fcntl
import functools
import gc
import hashlib
import math
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple

import duckdb
import jinja2
from markupsafe import Markup, escape

from jobs.errors import StorageError, UsageError

try:  # the C escaper itself: escape() wraps each result in a Markup, a third of the time of a province's rows
    from markupsafe._speedups import _escape_inner as _escape_text
except ImportError:  # pragma: no cover - markupsafe without its C speedups

    def _escape_text(s: str, /) -> str:
        return str(escape(s))
from jobs.settings import ROOT

TEMPLATES = ROOT / "reports" / "templates"
SQL_DIR = ROOT / "reports" / "sql"
# Every HTML page lives in a generation folder reports/g/<generation>/ (see render_html); reports/index.html is the
# one file outside, and the switch between generations. Folders of the layout before generations are emptied.
GENERATIONS = "g"
GENERATION_NAME = re.compile(r"[0-9a-f]{16}")
GENERATION_META = re.compile(r'<meta name="tongbi-generation" content="([0-9a-f]{16})">')
TEMP_PREFIX = ".tmp-"
LOCK_NAME = ".lock"
# beside a generation's pages: the fingerprint of the whole report, then one per page (what it shows), so a night
# that changed nothing renders nothing and a night that changed a little renders only the pages it reaches
INPUTS_NAME = ".inputs"
RUN_LINE = re.compile(r'<p class="meta run">[^\n]*</p>\n')
LEGACY_DIRS = ("org", "indicator", "doc")

Format = Literal["html", "md"]
Check = Literal["agrees", "differs", "cannot", "none"]
Row = dict[str, object]

# Units already carrying a magnitude: converted to the base unit so 万/亿 are chosen once, consistently.
MAGNITUDES: tuple[tuple[str, float], ...] = (("万亿", 1e12), ("亿", 1e8), ("万", 1e4))
PERCENT_UNITS = frozenset({"%", "‰"})
QUALIFIER_WORDS = {"about": "左右", "at_least": "以上", "at_most": "以内"}


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Source:
    """Where one number came from: the sentence, the span to highlight, the document."""

    doc_id: str
    fact_id: int | None
    sentence: str
    start: int | None  # span of the number inside `sentence`; None when it cannot be located
    end: int | None
    basis: str
    note: str
    doc_title: str
    doc_href: str  # relative to the reports folder, with the fact's anchor when there is one
    more: tuple[tuple[int, int], ...] = ()  # for a derived value: the spans of the figures it came from


@dataclass(frozen=True, slots=True)
class Quantity:
    """A value as an observation states it, with its source."""

    value: float
    value_high: float | None
    qualifier: str
    unit: str
    source: Source | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One indicator of one organisation in one year: this year, last year, the changes and last year's goal."""

    org: str
    indicator_id: str
    name: str
    unit: str
    year: int
    indicator_href: str
    value: Quantity | None
    prev_year: int | None
    prev: Quantity | None
    change: float | None
    change_pct: float | None
    stated_change: Quantity | None  # absolute change the document states (门店增加14个)
    stated_pct: Quantity | None  # the change in per cent the document states (比去年增幅18.4%)
    check: Check
    target: Quantity | None
    met: bool | None
    flags: tuple[str, ...]  # approximate, derived, ambiguous, restated
    others: tuple[Quantity, ...] = ()  # this year's value as other documents give it, when they differ

    @property
    def sources(self) -> tuple[tuple[str, Source], ...]:
        # a plain loop, no generators: every row of every organisation page asks
        found: list[tuple[str, Source]] = []
        for label, q in (("今年", self.value), ("去年", self.prev), ("所述变化", self.stated_change),
                         ("所述增幅", self.stated_pct), ("目标", self.target)):
            if q is not None and q.source is not None:
                found.append((label, q.source))
        for q in self.others:
            if q.source is not None:
                found.append(("他文所载", q.source))
        return tuple(found)

    @property
    def quotes(self) -> tuple[Quote, ...]:
        """The sources grouped by sentence: one quote with every number of this row marked in it."""
        grouped: dict[tuple[str, str], list[tuple[str, Source]]] = {}
        for label, source in self.sources:
            grouped.setdefault((source.doc_id, source.sentence), []).append((label, source))
        return tuple(_quote_of(sentence, items) for (_doc, sentence), items in grouped.items())


def _quote_of(sentence: str, items: list[tuple[str, Source]]) -> Quote:
    """One sentence's quote of the numbers `items` of a comparison row."""
    first = items[0][1]
    if len(items) == 1:  # most sentences give one number of the row: no set, no sort of one span
        own = ((first.start, first.end),) if first.start is not None and first.end is not None else ()
        return Quote((items[0][0],), sentence, tuple(sorted({*own, *first.more})) if first.more else own,
                     (first.note,) if first.note else (), first.doc_title, first.doc_href)
    return Quote(
        labels=tuple(label for label, _ in items), sentence=sentence,
        spans=tuple(sorted({(s.start, s.end) for _, s in items if s.start is not None and s.end is not None}
                           | {span for _, s in items for span in s.more})),
        notes=tuple(dict.fromkeys(s.note for _, s in items if s.note)),
        doc_title=first.doc_title, doc_href=first.doc_href,
    )


@dataclass(frozen=True, slots=True)
class Quote:
    """One source sentence of a comparison row, with the spans of the row's numbers in it."""

    labels: tuple[str, ...]  # 今年, 去年, 所述变化, …
    sentence: str
    spans: tuple[tuple[int, int], ...]  # sorted; overlapping spans are merged when marked
    notes: tuple[str, ...]
    doc_title: str
    doc_href: str


@dataclass(frozen=True, slots=True)
class Document:
    doc_id: str
    org: str
    title: str
    kind: str
    period_year: int
    published_on: str
    doc_number: str
    source_file: str
    sha256: str
    chars: int
    href: str


@dataclass(frozen=True, slots=True)
class Indicator:
    catalog: str
    indicator_id: str
    name: str
    unit: str
    aliases: tuple[str, ...]
    href: str


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    started_at: str
    finished_at: str
    status: str
    documents_loaded: int
    documents_rejected: int


class SentenceMarks(NamedTuple):
    """One sentence of a document with every quantity in it marked, for the document page (a named tuple, not a
    frozen dataclass: a province's document pages make 600,000 of them, and a tuple is made three times faster)."""

    section: str
    sentence: str
    marks: tuple[tuple[int, int, int], ...]  # (start, end, fact_id) inside sentence, sorted, non-overlapping


@dataclass(frozen=True, slots=True)
class Chart:
    """An inline SVG line chart: coordinates computed here, drawn by the template."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_ticks: tuple[tuple[float, str, bool], ...]  # x, label, minor (hidden at phone width)
    y_ticks: tuple[tuple[float, str], ...]
    actual_paths: tuple[str, ...]
    actual_points: tuple[tuple[float, float, str, bool], ...]  # x, y, label, derived
    goal_paths: tuple[str, ...]
    goal_points: tuple[tuple[float, float, float, str], ...]  # x, y, y_high, label
    x_label: str
    y_label: str
    band_paths: tuple[str, ...] = ()  # the middle half of many organisations, around their median


@dataclass(frozen=True, slots=True)
class Series:
    """One organisation's history of one indicator."""

    org: str
    rows: tuple[Comparison, ...]
    chart: Chart


@dataclass(frozen=True, slots=True)
class OrgYear:
    org: str
    year: int
    href: str
    rows: tuple[Comparison, ...]
    documents: tuple[Document, ...]
    missing: tuple[Indicator, ...]  # reported last year, not this year


# --------------------------------------------------------------------------- formatting (Jinja filters)


def _number(value: float) -> str:
    """Ten significant digits at most, no float noise, no exponent for ordinary values."""
    text = format(value, ".10g")
    if "e" in text:
        text = format(value, ".10f").rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _base(value: float, unit: str) -> tuple[float, str]:
    for prefix, factor in MAGNITUDES:
        if unit.startswith(prefix) and len(unit) > len(prefix):
            return value * factor, unit[len(prefix):]
    return value, unit


def cn_number(value: float) -> str:
    """A plain number as Chinese readers write large ones: 66720000 → 6672万, 1.2e8 → 1.2亿."""
    size = abs(value)
    for suffix, factor in (("万亿", 1e12), ("亿", 1e8), ("万", 1e4)):
        # below 10万 a number reads better in full (14476人次) unless it is round (6万, 3.5万)
        if size >= factor and (suffix != "万" or size >= 10 * factor or round(size / factor, 1) * factor == size):
            return _number(round(value / factor, 8)) + suffix
    return _number(round(value, 8))


# the same figures recur on a page and across a chunk's pages (a year's value is next year's previous one)
@functools.lru_cache(maxsize=1 << 16)
def amount(value: float | None, unit: str = "", qualifier: str = "exact", high: float | None = None) -> str:
    """A value in its unit: 6672万元, 5%左右, 6.5%–7%, 1700人以上; — when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit in PERCENT_UNITS or unit == "百分点":
        shown = _number(round(value, 6))
        text = f"{shown}{unit}" if unit in PERCENT_UNITS else f"{shown}个百分点"
        if high is not None:
            text = f"{shown}–{_number(round(high, 6))}{unit if unit in PERCENT_UNITS else '个百分点'}"
        return text + QUALIFIER_WORDS.get(qualifier, "")
    base, base_unit = _base(value, unit)
    if base == 0 and high is None:  # nothing to choose a magnitude from: keep the indicator's (±0万吨, not ±0吨)
        return "0" + unit + QUALIFIER_WORDS.get(qualifier, "")
    text = cn_number(base) + base_unit
    if high is not None:
        high_base, _ = _base(high, unit)
        text = f"{cn_number(base)}–{cn_number(high_base)}{base_unit}"
    return text + QUALIFIER_WORDS.get(qualifier, "")


def signed_amount(value: float | None, unit: str = "") -> str:
    """A change in the indicator's unit with its sign: +14个, −0.2个百分点 (a change of a rate is in points)."""
    if value is None:
        return "—"
    unit = "百分点" if unit in PERCENT_UNITS else unit
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return sign + amount(abs(value), unit)


def signed_stated(value: float | None, unit: str = "") -> str:
    """A change as the document states it, with its sign: +14家, +18.4%."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return sign + amount(abs(value), unit)


def signed_pct(value: float | None) -> str:
    """A change in per cent, one decimal: +18.4%."""
    if value is None:
        return "—"
    rounded = round(value, 1)
    sign = "+" if rounded > 0 else "−" if rounded < 0 else "±"
    return f"{sign}{abs(rounded):.1f}%"


def direction(value: float | None) -> str:
    if value is None:
        return ""
    return "▲ 上升" if value > 0 else "▼ 下降" if value < 0 else "＝ 持平"


def direction_class(value: float | None) -> str:
    if value is None:
        return ""
    return "up" if value > 0 else "down" if value < 0 else "flat"


@functools.lru_cache(maxsize=1 << 16)
def sort_key(value: float | None) -> str:
    """The data-sort attribute of a numeric cell: empty sorts last."""
    return "" if value is None else _number(round(value, 8))


def _spans(item: Source | Quote) -> tuple[tuple[int, int], ...]:
    if isinstance(item, Quote):
        spans = item.spans
    else:
        own = ((item.start, item.end),) if item.start is not None and item.end is not None else ()
        spans = own + item.more
    return tuple(_merged(spans))


def highlight(item: Source | Quote) -> Markup:
    """The sentence with the number(s) marked; everything escaped."""
    return Markup(_highlighted(item))


def _highlighted(item: Source | Quote) -> str:
    """`highlight` as a plain string, for the rows built in Python (a Markup per quote costs as much as its text)."""
    # plain joins of escaped pieces: Markup.format was a third of the time of a large report
    sentence = item.sentence
    if type(item) is Source and not item.more:  # one number in its sentence: most quotes
        start, end = item.start, item.end
        if start is None or end is None:
            return _escape_text(sentence)
        return (f"{_escape_text(sentence[:start])}<mark>{_escape_text(sentence[start:end])}</mark>"
                f"{_escape_text(sentence[end:])}")
    return _marked_quote(sentence, _spans(item))  # already merged: merging again keeps them


def highlight_md(item: Source | Quote) -> str:
    """The sentence with the number(s) in bold, safe in a Markdown line."""
    parts: list[str] = []
    pos = 0
    for start, end in _spans(item):
        parts += [item.sentence[pos:start], f"**{item.sentence[start:end]}**"]
        pos = end
    parts.append(item.sentence[pos:])
    return md_cell("".join(parts))


def mark_sentence(item: SentenceMarks) -> Markup:
    """A document sentence with every quantity marked and anchored (#f-<fact_id>)."""
    return Markup(_marked(item))


def _marked(item: SentenceMarks) -> str:
    """`mark_sentence` as a plain string, for `document_text`."""
    out: list[str] = []
    pos = 0
    sentence = item.sentence
    for start, end, fact_id in item.marks:
        out += [_escape_text(sentence[pos:start]), f'<mark id="f-{int(fact_id)}">',
                _escape_text(sentence[start:end]), "</mark>"]
        pos = end
    out.append(_escape_text(sentence[pos:]))
    return "".join(out)


def document_text(sentences: Sequence[SentenceMarks]) -> Markup:
    """A document's sentences with their quantities marked, a section heading where the section changes: built here,
    byte for byte as the template wrote it, because a province's document pages hold 700,000 marked quantities."""
    out: list[str] = []
    section: str | None = None
    for s in sentences:
        if s.section != section:
            out += ['<p class="sec">', _escape_text(s.section), "</p>"]
            section = s.section
        out += ['<p class="s">', _marked(s), "</p>\n"]
    return Markup("".join(out))


def _qty(q: Quantity | None, root: str, *, signed: bool = False, hover: bool = True) -> str:
    """A figure linking to its sentence, as the template's `qty` macro writes it."""
    if q is None:
        return "—"
    shown = _escape_text(signed_stated(q.value, q.unit) if signed
                         else amount(q.value, q.unit, q.qualifier, q.value_high))
    if q.source is None:
        return str(shown)
    title = f' title="{_escape_text(q.source.sentence)}"' if hover else ""
    return f'<a class="src" href="{_escape_text(root)}{_escape_text(q.source.doc_href)}"{title}>{shown}</a>'


def _quote(q: Quote, root: str) -> str:
    notes = "".join(f" · {_escape_text(note)}" for note in q.notes)
    return (f'<blockquote><span class="who">{_escape_text("、".join(q.labels))} · <a href="{_escape_text(root)}'
            f'{_escape_text(q.doc_href)}">《{_escape_text(q.doc_title)}》</a>{notes}</span>{_highlighted(q)}</blockquote>')


def _quotes_html(c: Comparison, root: str) -> tuple[int, str]:
    """How many quotes a row has, and their HTML: `_quote` of each of `c.quotes`, without the Quote records when
    each number comes from its own sentence (nearly every row)."""
    sources = c.sources
    if len(sources) > 1 and len({(s.doc_id, s.sentence) for _, s in sources}) != len(sources):
        quotes = c.quotes
        return len(quotes), "".join([_quote(q, root) for q in quotes])
    e = _escape_text
    out: list[str] = []
    for label, s in sources:
        if s.more:  # a derived value marks the figures it came from too: the general path
            out.append(_quote(_quote_of(s.sentence, [(label, s)]), root))
            continue
        note = f" · {e(s.note)}" if s.note else ""
        out.append(f'<blockquote><span class="who">{e(label)} · <a href="{e(root)}{e(s.doc_href)}">《{e(s.doc_title)}》'
                   f"</a>{note}</span>{_highlighted(s)}</blockquote>")
    return len(out), "".join(out)


@functools.lru_cache(maxsize=1 << 12)
def _indicator_cell(root: str, href: str, name: str, unit: str) -> str:
    shown = f'<span class="meta">（{_escape_text(unit)}）</span>' if unit else ""
    return f'<th scope="row"><a href="{_escape_text(root)}{_escape_text(href)}">{_escape_text(name)}</a>{shown}</th>\n'


def comparison_rows(rows: Sequence[Comparison], root: str, first: str = "indicator",
                    quotes_inline: bool = True) -> Markup:
    """The rows of a comparison table, built here byte for byte as the template's loop wrote them: the organisation
    pages of a province hold 150,000 rows, and through Jinja's macros they were two thirds of the report's time."""
    e = _escape_text
    figure = _qty
    out: list[str] = []
    for c in rows:
        out.append(f'<tr data-indicator="{e(c.indicator_id)}" data-year="{c.year}">\n')
        if first == "year":
            out.append(f'<th scope="row" data-sort="{c.year}">{c.year}</th>\n')
        else:
            out.append(_indicator_cell(root, c.indicator_href, c.name, c.unit))
        value, prev, target, change, change_pct = c.value, c.prev, c.target, c.change, c.change_pct
        prev_year = (f'<span class="meta">（{c.prev_year}）</span>' if c.prev_year and c.prev_year != c.year - 1
                     else "")
        if change_pct is not None:
            pct = f'{signed_pct(change_pct)} <span class="dir">{direction(change_pct)}</span>'
        elif change is not None:
            pct = f'<span class="dir">{direction(change)}</span>'
        else:
            pct = "—"
        stated = figure(c.stated_pct, root, signed=True) if c.stated_pct else ""
        stated += "<br>" if c.stated_pct and c.stated_change else ""
        stated += figure(c.stated_change, root, signed=True) if c.stated_change else ""
        stated = stated or "—"
        flags = "".join(f'<span class="flag {e(f)}" title="{e(f)}">{e(flag_word(f))}</span>' for f in c.flags)
        out += [
            f'<td class="num value{"" if value else " blank"}" data-label="今年" '
            f'data-sort="{sort_key(value.value if value else None)}">{figure(value, root) if value else "—"}</td>\n',
            f'<td class="num prev{"" if prev else " blank"}" data-label="去年" '
            f'data-sort="{sort_key(prev.value if prev else None)}">{figure(prev, root) if prev else "—"}{prev_year}'
            '</td>\n',
            f'<td class="num change {direction_class(change)}{" blank" if change is None else ""}" '
            f'data-label="变化" data-sort="{sort_key(change)}">{e(signed_amount(change, c.unit))}</td>\n',
            f'<td class="num pct {direction_class(change_pct)}'
            f'{" blank" if change_pct is None and change is None else ""}" data-label="同比" '
            f'data-sort="{sort_key(change_pct)}">{pct}</td>\n',
            f'<td class="num stated{"" if c.stated_pct or c.stated_change else " blank"}" data-label="文件所述">'
            f'{stated}</td>\n',
            f'<td class="check {e(c.check)}{" blank" if c.check == "none" else ""}" data-label="核对">'
            f'{e(check_word(c.check))}</td>\n',
            f'<td class="num goal{"" if target else " blank"}" data-label="去年定的目标" '
            f'data-sort="{sort_key(target.value if target else None)}">{figure(target, root) if target else "—"}'
            '</td>\n',
            f'<td class="met{"" if target else " blank"}" data-label="目标完成">'
            f'{met_word(c.met) if target else ""}</td>\n',
            f'<td class="flags{"" if c.flags else " blank"}" data-label="标记">{flags}</td>\n',
        ]
        if quotes_inline:
            count, cell = _quotes_html(c, root)
            if count:
                cell = f"<details><summary>原文 {count} 句</summary>\n{cell}</details>"
            out.append(f'<td class="sources{"" if count else " blank"}" data-label="原文">{cell}</td>\n')
        out.append("</tr>\n")
    return Markup("".join(out))


def comparison_table(rows: Sequence[Comparison], caption: str, root: str, table_id: str, first: str = "indicator",
                     quotes_inline: bool = True) -> Markup:
    """A comparison table, as the `comparison_table` macro of _table.html wrote it: through Jinja's macro call it was a
    tenth of an organisation page's time."""
    table_id = str(escape(table_id))  # the macro's arguments: text escaped, Markup kept as it is
    return Markup(
        f'<p class="filter"><label>筛选 <input type="search" data-filter="{table_id}" placeholder="输入指标名称或数字">'
        f'</label></p>\n<div class="scroll">\n<table class="sortable cards" id="{table_id}">\n'
        f'<caption>{escape(caption)}</caption>\n<thead><tr>\n<th scope="col"><button type="button">'
        f'{"年份" if first == "year" else "指标"}</button></th>\n{_TABLE_HEAD}{_SOURCES_HEAD if quotes_inline else ""}'
        f'</tr></thead>\n<tbody>\n{comparison_rows(rows, root, first, quotes_inline)}</tbody>\n</table>\n</div>'
    )


_TABLE_HEAD = "".join(f'<th scope="col"{cls}><button type="button">{name}</button></th>\n' for cls, name in (
    (' class="num"', "今年"), (' class="num"', "去年"), (' class="num"', "变化"), (' class="num"', "同比"),
    (' class="num"', "文件所述"), ("", "核对"), (' class="num"', "去年定的目标"), ("", "目标完成"))) + \
    '<th scope="col">标记</th>\n'
_SOURCES_HEAD = '<th scope="col">原文</th>'


def observation_rows(observations: Sequence[tuple[Indicator, Quantity, int, str]], root: str) -> Markup:
    """The rows of a document page's table of observations, built here byte for byte as the template wrote them."""
    e = _escape_text
    out: list[str] = []
    for ind, q, year, basis in observations:
        source = q.source
        quote = _highlighted(source) if source is not None else "None"
        note = f' <span class="meta">（{e(source.note)}）</span>' if source is not None and source.note else ""
        out.append(f'<tr><th scope="row"><a href="{e(root)}{e(ind.href)}">{e(ind.name)}</a></th>'
                   f'<td class="num" data-label="年份">{year}</td><td data-label="性质">{e(basis_word(basis))}</td>'
                   f'<td class="num" data-label="数值">{_qty(q, root)}</td><td class="quote" data-label="原文">'
                   f'{quote}{note}</td></tr>\n')
    return Markup("".join(out))


def md_cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return re.sub(r"\s+", " ", str(text)).replace("|", "\\|").strip()


CHECK_WORDS: dict[str, str] = {"agrees": "一致", "differs": "不一致", "cannot": "无法核对", "none": ""}
FLAG_WORDS: dict[str, str] = {
    "approximate": "约数", "derived": "推算", "ambiguous": "有歧义", "restated": "数据修订",
}


def check_word(check: str) -> str:
    return CHECK_WORDS.get(check, check)


def flag_word(flag: str) -> str:
    return FLAG_WORDS.get(flag, flag)


BASIS_WORDS: dict[str, str] = {
    "actual": "实际", "target": "目标", "derived": "推算", "change": "所述变化", "change_pct": "所述增幅",
}


def basis_word(basis: str) -> str:
    return BASIS_WORDS.get(basis, basis)


def met_word(met: bool | None) -> str:
    return "—" if met is None else "完成" if met else "未完成"


# --------------------------------------------------------------------------- environment and writing


@cache
def environment() -> jinja2.Environment:
    """The one Jinja environment: autoescaped, strict about undefined names, filters registered by name."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The one inline script, allowed by its hash: even a page that failed to escape something could run no other.
    script = (TEMPLATES / "_script.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    env.globals.update(script=Markup(script), script_hash=f"sha256-{digest}", index_spans=INDEX_SPANS)
    env.filters.update(
        amount=amount, signed_amount=signed_amount, signed_stated=signed_stated, signed_pct=signed_pct,
        direction=direction,
        direction_class=direction_class, sort_key=sort_key, highlight=highlight, highlight_md=highlight_md,
        mark_sentence=mark_sentence, md=md_cell, check_word=check_word, flag_word=flag_word,
        met_word=met_word, cn_number=cn_number, org_year_href=org_year_href,
        basis_word=basis_word, svg=svg, document_text=document_text,
        comparison_rows=comparison_rows, comparison_table=comparison_table, observation_rows=observation_rows,
    )
    return env


def write_atomic(path: Path, text: str | bytes) -> Path:
    """Write through a temp file in the same folder, fsync and os.replace it: readers never see half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    # an unchanged page keeps its file (and mtime): nightly runs touch only what changed
    if _same_bytes(path, data):
        return path
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@functools.lru_cache(maxsize=1 << 16)  # a province's pages name the same documents and years thousands of times
def safe_name(key: str, *, stem: str = "") -> str:
    """A file name safe for any organisation or indicator: ASCII slug + short hash of the full key."""
    slug = re.sub(r"[^a-z0-9]+", "-", (stem or key).lower()).strip("-")[:40]
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest


def org_year_href(org: str, year: int) -> str:
    return f"org/{safe_name(org)}-{year}.html"


def indicator_href(catalog: str, indicator_id: str) -> str:
    return f"indicator/{safe_name(f'{catalog}/{indicator_id}', stem=indicator_id)}.html"


def doc_href(doc_id: str) -> str:
    return f"doc/{safe_name(doc_id, stem=doc_id[:16])}.html"


# --------------------------------------------------------------------------- reading the warehouse


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _rows(con: duckdb.DuckDBPyConnection, name: str, params: Sequence[object] = ()) -> list[Row]:
    cursor = con.execute(_sql(name), list(params))
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _str(value: object) -> str:
    if type(value) is str:  # nearly every call: a province's pages make ~5 million
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _float(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _tags(value: object) -> tuple[str, ...]:
    """Flags or aliases stored as a list, or as text separated by commas."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if str(v))
    return tuple(t.strip() for t in re.split(r"[,，;；]", str(value).strip("[]")) if t.strip(" '\""))


def _bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "t", "1", "yes", "met", "完成"):
        return True
    if text in ("false", "f", "0", "no", "not met", "未完成"):
        return False
    return None


def _check(value: object, stated: float | None) -> Check:
    text = _str(value).strip().lower()
    if "disagree" in text or "differ" in text or "不" in text or text == "false":
        return "differs"
    if "agree" in text or "一致" in text or text in ("ok", "true"):
        return "agrees"
    return "none" if stated is None else "cannot"


def _fact_span(fact: Row | FactRow, sentence: str) -> tuple[int | None, int | None]:
    """Where a fact's number stands in its sentence: char_start relative to sentence_start, checked against raw."""
    offset = _int(fact.get("sentence_start"))
    relative = None if offset is None else (_int(fact["char_start"]) or 0) - offset
    return _locate(sentence, _str(fact["raw"]), relative)


def _ordinal(iso: str) -> int:
    try:
        return date.fromisoformat(iso[:10]).toordinal()
    except ValueError:
        return 0


def _locate(sentence: str, raw: str, start: int | None) -> tuple[int | None, int | None]:
    """The span of `raw` in the sentence: from the offsets when they fit, else by searching."""
    if raw and start is not None and sentence[start : start + len(raw)] == raw:
        return start, start + len(raw)
    found = sentence.find(raw) if raw else -1
    return (found, found + len(raw)) if found >= 0 else (None, None)


class FactRow:
    """The columns of one fact a page needs, in slots: a province's warehouse holds ~700,000 facts, and as dicts
    they were most of the report's memory."""

    __slots__ = ("char_start", "raw", "section", "sentence", "sentence_start")

    def __init__(self, raw: object, char_start: object, sentence: object, sentence_start: object,
                 section: object) -> None:
        self.raw = raw
        self.char_start = char_start
        # the sentence of every fact in it is one string, not one copy per fact
        self.sentence = sys.intern(_str(sentence))
        self.sentence_start = sentence_start
        self.section = sys.intern(_str(section))

    def __getitem__(self, key: str) -> object:
        return getattr(self, key)

    def get(self, key: str, default: object = None) -> object:
        return getattr(self, key, default)


@dataclass(frozen=True, slots=True)
class Warehouse:
    """Everything the pages need, read once in a deterministic order."""

    run: Run | None
    documents: dict[str, Document]
    indicators: dict[tuple[str, str], Indicator]
    facts: dict[tuple[str, int], FactRow]
    observations: tuple[Row, ...]
    yoy: dict[tuple[str, str, int], Row]
    goals: dict[tuple[str, str, int], Row]


def read_warehouse(path: Path) -> Warehouse:
    with _connect(path) as con:
        return _load(con)


@contextlib.contextmanager
def _connect(path: Path, *, shown: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse read-only, with its errors turned into a message naming the file (`shown`: the file a pinned
    link stands for) and the fix."""
    name = shown or path
    if not path.is_file():
        raise StorageError(f"{name}: the warehouse does not exist. Run `tongbi run` first, or pass --warehouse FILE.")
    # no progress bar of DuckDB's own: the report is quiet under cron, and draws its own on a terminal
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach {_quoted(path)} as {WAREHOUSE_ALIAS} (read_only)")
        con.execute(f"use {WAREHOUSE_ALIAS}")
    except duckdb.Error as error:
        con.close()
        raise StorageError(
            f"{name}: the warehouse could not be opened read-only ({error}). "
            "If a run is in progress, wait for it to finish and run `tongbi report` again."
        ) from error
    try:
        yield con
    except duckdb.Error as error:
        raise StorageError(
            f"{name}: the warehouse lacks a view the report needs ({str(error).splitlines()[0]}). "
            "Run `tongbi run` with this version of tongbi to create the views."
        ) from error
    finally:
        con.close()


def _derive(con: duckdb.DuckDBPyConnection, derived: Path) -> None:
    """A small database beside the render holding the views that window over every observation (yoy, goals) as
    tables, and what was compared (reports/sql/compared.sql), made once by the planning connection and read by every
    worker: a chunk's query on the view read all of it again (0.3–0.4 s each at 10,000 documents), on the table it
    reads its rows. Every query run after it may read `compared`; queries that run without it (the Markdown report)
    must not."""
    con.execute(f"attach {_quoted(derived)} as derived")
    for view in DERIVED:
        con.execute(f"create table derived.{view} as select * from {WAREHOUSE_ALIAS}.{view}")
    con.execute(f"set search_path = 'derived.main,{WAREHOUSE_ALIAS}.main'")
    # from the tables just made: the keys three queries of the plan and the index start from
    con.execute(f"create table derived.compared as {_sql('compared')}")


WAREHOUSE_ALIAS = "warehouse"
DERIVED = ("yoy", "goals")


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which part of the warehouse a page needs: some organisations, indicators or documents (None: all of them)."""

    orgs: tuple[str, ...] | None = None
    indicators: tuple[str, ...] | None = None
    docs: tuple[str, ...] | None = None

    def params(self) -> dict[str, object]:
        return {"orgs": _listed(self.orgs), "indicators": _listed(self.indicators), "docs": _listed(self.docs)}


def _listed(names: tuple[str, ...] | None) -> list[str] | None:
    return None if names is None else list(names)


def _params(sql: str, scope: Scope) -> dict[str, object]:
    """The scope's lists a statement names (DuckDB refuses a named parameter a statement does not use)."""
    return {name: value for name, value in scope.params().items() if f"${name}" in sql}


def _scoped(con: duckdb.DuckDBPyConnection, name: str, scope: Scope) -> duckdb.DuckDBPyConnection:
    sql = _sql(name)
    return con.execute(sql, _params(sql, scope))


def _latest_run(con: duckdb.DuckDBPyConnection) -> Run | None:
    runs = _rows(con, "latest_run")
    if not runs:
        return None
    r = runs[0]
    return Run(_str(r["run_id"]), _str(r["started_at"]), _str(r["finished_at"]), _str(r["status"]),
               _int(r["documents_loaded"]) or 0, _int(r["documents_rejected"]) or 0)


def _load(con: duckdb.DuckDBPyConnection, scope: Scope = Scope(), *, whole_documents: bool = True) -> Warehouse:
    """The rows of a scope: all of the warehouse for the Markdown report, one chunk of pages for HTML.

    `whole_documents`: every fact of the documents (their pages mark each one) and every document of the scope;
    else only the facts and documents the scope's observations quote (what comparison pages show)."""
    run = _latest_run(con)
    # a document's page: its own row; a comparison page: the documents its numbers quote, and its organisations'
    listed = "documents" if whole_documents or scope.docs is not None else "cited_documents"
    documents = {_str(r["doc_id"]): _document(r) for r in _scoped_rows(con, listed, scope)}
    indicators = _indicators(con)
    if whole_documents:
        # tuples, not dicts: a province's warehouse holds ~700,000 facts (columns as facts.sql)
        facts = {(_str(doc_id), _int(fact_id) or 0): FactRow(raw, char_start, sentence, sentence_start, section)
                 for doc_id, fact_id, raw, char_start, _end, sentence, sentence_start, section, _flags
                 in _scoped_tuples(con, "facts", scope)}
        observations = tuple(_scoped_rows(con, "observations", scope))
    else:
        observations, facts = _cited(con, scope)
    yoy: dict[tuple[str, str, int], Row] = {}
    goals: dict[tuple[str, str, int], Row] = {}
    if scope.docs is None:  # a document's page shows no change and no goal
        yoy = {(_str(r["org"]), _str(r["indicator_id"]), _int(r["year"]) or 0): r
               for r in _scoped_rows(con, "yoy", scope)}
        goals = {(_str(r["org"]), _str(r["indicator_id"]), _int(r["year"]) or 0): r
                 for r in _scoped_rows(con, "goals", scope)}
    return Warehouse(run, documents, indicators, facts, observations, yoy, goals)


def _cited(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[tuple[Row, ...], dict[tuple[str, int], FactRow]]:
    """The observations of a scope and the facts they quote, from one query (cited_observations.sql): as two queries,
    the observations and then the facts they cite, they were a third of a chunk's time in DuckDB. The rows are
    observations.sql's, with the quote dropped where the fact's sentence stands for it."""
    cursor = _scoped(con, "cited_observations", scope)
    names = [d[0] for d in cursor.description or ()][:OBSERVATION_COLUMNS]
    observations: list[Row] = []
    facts: dict[tuple[str, int], FactRow] = {}
    while batch := cursor.fetchmany(10_000):
        for values in batch:
            observations.append(dict(zip(names, values[:OBSERVATION_COLUMNS], strict=True)))
            if values[OBSERVATION_COLUMNS]:  # has_fact
                key = (_str(values[8]), _int(values[9]) or 0)  # doc_id, fact_id
                if key not in facts:
                    facts[key] = FactRow(*values[OBSERVATION_COLUMNS + 1:])
    return tuple(observations), facts


OBSERVATION_COLUMNS = 14  # of cited_observations.sql: observations.sql's, then has_fact and the fact's


def _indicators(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], Indicator]:
    indicators: dict[tuple[str, str], Indicator] = {}
    for r in _rows(con, "indicators"):
        key = (_str(r["catalog"]), _str(r["indicator_id"]))
        indicators.setdefault(key, Indicator(key[0], key[1], _str(r["name"]), _str(r["unit"]),
                                             _tags(r["aliases"]), indicator_href(*key)))
    return indicators


def _document(r: Row) -> Document:
    doc_id = _str(r["doc_id"])
    return Document(doc_id, _str(r["org"]), _str(r["title"]), _str(r["kind"]), _int(r["period_year"]) or 0,
                    _str(r["published_on"]), _str(r["doc_number"]), _str(r["source_file"]), _str(r["sha256"]),
                    _int(r["chars"]) or 0, doc_href(doc_id))


def _scoped_rows(con: duckdb.DuckDBPyConnection, name: str, scope: Scope, *, batched: bool = False) -> Iterator[Row]:
    """Rows of a scoped query; in batches when `batched`, so the facts of a province never exist as one list."""
    cursor = _scoped(con, name, scope)
    names = [d[0] for d in cursor.description or ()]
    while batch := cursor.fetchmany(10_000 if batched else 1_000_000):
        for values in batch:
            yield dict(zip(names, values, strict=True))


def _scoped_tuples(con: duckdb.DuckDBPyConnection, name: str, scope: Scope) -> Iterator[tuple[object, ...]]:
    """The rows of a scoped query as tuples, in batches (for the many rows read by position)."""
    cursor = _scoped(con, name, scope)
    while batch := cursor.fetchmany(10_000):
        yield from batch


# --------------------------------------------------------------------------- assembling comparisons


_NO_ROWS: dict[str, list[Row]] = {}
_NO_VALUES: Row = {}  # a comparison with no row in yoy or goals


class Assembler:
    """Turns the views into Comparison records, choosing for each number the observation it came from."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        # organisation, indicator, year → basis → rows: one lookup gives a comparison all its observations
        self.obs: dict[tuple[str, str, int], dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
        for r in wh.observations:
            self.obs[(_str(r["org"]), _str(r["indicator_id"]), _int(r["year"]) or 0)][_str(r["basis"])].append(r)
        self.by_id = _indicators_by_id(wh.indicators)
        # a row's source is the same on every page and row that quotes it (a year's value is next year's previous
        # value): built once per row, keyed by the row's identity (the rows live as long as the assembler)
        self._sources: dict[int, Source] = {}
        # minus each document's publication day, for ranking candidate observations: computed once per document
        self._newest: dict[str, int] = {}
        self._quantities: dict[tuple[int, float | None, str], Quantity] = {}
        self._indicators: dict[tuple[str, str], Indicator] = {}  # by id and catalog, as resolve_indicator gives them

    def indicator(self, indicator_id: str, catalog: str = "") -> Indicator:
        found = self._indicators.get((indicator_id, catalog))
        if found is None:
            found = self._indicators[(indicator_id, catalog)] = resolve_indicator(
                self.wh.indicators, self.by_id, indicator_id, catalog)
        return found

    def rows(self, key: tuple[str, str, int]) -> dict[str, list[Row]]:
        """The observations of an organisation's indicator in a year, by basis (empty when there are none)."""
        return self.obs.get(key, _NO_ROWS)

    def comparison_keys(self) -> list[tuple[str, str, int]]:
        found = set(self.obs) | set(self.wh.yoy) | set(self.wh.goals)
        return sorted(found)

    def source(self, r: Row) -> Source:
        found = self._sources.get(id(r))
        if found is None:
            found = self._sources[id(r)] = self._source(r)
        return found

    def _source(self, r: Row) -> Source:
        doc_id = _str(r["doc_id"])
        fact_id = _int(r.get("fact_id"))
        doc = self.wh.documents.get(doc_id)
        fact = self.wh.facts.get((doc_id, fact_id)) if fact_id is not None else None
        sentence = _str(r.get("quote"))
        start = end = None
        if fact is not None:
            sentence = fact.sentence or sentence
            offset = _int(fact.sentence_start)  # _fact_span, by attribute: a source per quoted number
            start, end = _locate(sentence, _str(fact.raw),
                                 None if offset is None else (_int(fact.char_start) or 0) - offset)
        href = doc.href if doc else doc_href(doc_id)
        if fact is not None:
            href += f"#f-{fact_id}"
        more = self.derived_from(r, sentence) if fact is None else ()
        return Source(doc_id, fact_id, sentence, start, end, _str(r["basis"]), _str(r.get("note")),
                      doc.title if doc else doc_id, href, more)

    def derived_from(self, r: Row, sentence: str) -> tuple[tuple[int, int], ...]:
        """For a derived value, the spans of what it came from: the next year's level and change in its sentence."""
        if _str(r["basis"]) != "derived":
            return ()
        key = (_str(r["org"]), _str(r["indicator_id"]), (_int(r["year"]) or 0) + 1)
        spans = []
        for basis in ("actual", "change"):
            for other in self.rows(key).get(basis, ()):
                fact = self.wh.facts.get((_str(other["doc_id"]), _int(other.get("fact_id")) or -1))
                if other["doc_id"] == r["doc_id"] and fact is not None and _str(fact["sentence"]) == sentence:
                    start, end = _fact_span(fact, sentence)
                    if start is not None and end is not None:
                        spans.append((start, end))
        return tuple(sorted(set(spans)))

    def pick(self, key: tuple[str, str, int], bases: Sequence[str], near: float | None) -> Row | None:
        """The observation that gave a number: closest value, then actual before derived, then newest document."""
        of_key = self.obs.get(key)
        if not of_key:  # a year with no observation: most previous years and most goals-only rows
            return None
        candidates = of_key.get(bases[0], ()) if len(bases) == 1 else [r for b in bases for r in of_key.get(b, ())]
        if len(candidates) < 2:  # most numbers have one observation: nothing to rank
            return candidates[0] if candidates else None

        def rank(r: Row) -> tuple[float, int, int, str, int]:
            value = _float(r["value"]) or 0.0
            distance = abs(value - near) if near is not None else 0.0
            return (round(distance, 9), bases.index(_str(r["basis"])), self.newest(_str(r["doc_id"])),
                    _str(r["doc_id"]), _int(r.get("fact_id")) or -1)

        return min(candidates, key=rank)

    def newest(self, doc_id: str) -> int:
        """Minus the document's publication day: the newest document speaks for a figure two documents give."""
        found = self._newest.get(doc_id)
        if found is None:
            doc = self.wh.documents.get(doc_id)
            found = self._newest[doc_id] = -_ordinal(doc.published_on) if doc else 0
        return found

    def quantity(self, r: Row | None, value: float | None = None, unit: str = "") -> Quantity | None:
        if r is None:
            return None if value is None else Quantity(value, None, "exact", unit, None)
        # one record per row, value and unit: a year's value is the next year's previous value, so its row's figure
        # is formatted once for both pages (0.0 is not cached: −0.0 equals it and would be shown as the other)
        cache_key = (id(r), value, unit)
        cached = value != 0
        found = self._quantities.get(cache_key) if cached else None
        if found is None:
            shown = value if value is not None else _float(r["value"]) or 0.0
            found = Quantity(shown, _float(r.get("value_high")), _str(r.get("qualifier")) or "exact",
                             _str(r.get("unit")) or unit, self.source(r))
            if cached:
                self._quantities[cache_key] = found
        return found

    def comparison(self, key: tuple[str, str, int]) -> Comparison:
        org, indicator_id, year = key
        y = self.wh.yoy.get(key, _NO_VALUES)
        g = self.wh.goals.get(key, _NO_VALUES)
        of_key = self.obs.get(key, _NO_ROWS)
        # most comparisons have one observation of a basis or none: taken as they are, ranked only when there are more
        actual = of_key.get("actual", ())
        derived = of_key.get("derived", ())
        any_obs = next((r for b in _BASES for r in of_key.get(b, ())), None) if of_key else None
        ind = self.indicator(indicator_id, _str(any_obs.get("catalog")) if any_obs else "")
        unit = ind.unit or (_str(any_obs["unit"]) if any_obs else "")

        value_v = _float(y.get("value"))
        # a year known only as derived from the next year's document still shows its (flagged) value
        if derived or len(actual) > 1:
            value_row = self.pick(key, ("actual", "derived"), value_v)
        else:
            value_row = actual[0] if actual else None
        value = self.quantity(value_row, value_v, unit)
        prev_year = _int(y.get("prev_year"))
        prev_v = _float(y.get("prev_value"))
        prev_row = self.pick((org, indicator_id, prev_year), ("actual", "derived"), prev_v) if prev_year else None
        prev = self.quantity(prev_row, prev_v, unit) if prev_v is not None else None
        stated_v = _float(y.get("stated_change_pct"))
        stated_pct = None
        if "change_pct" in of_key or stated_v is not None:
            stated_pct = self.quantity(self.pick(key, ("change_pct",), stated_v), stated_v, "%")
            if stated_pct is not None and stated_pct.unit != "%":
                stated_pct = Quantity(stated_pct.value, stated_pct.value_high, stated_pct.qualifier, "%",
                                      stated_pct.source)
        stated_change = self.quantity(self.pick(key, ("change",), None), None, unit) if "change" in of_key else None
        target_v = _float(g.get("target"))
        target_row = self.pick(key, ("target",), target_v) if "target" in of_key else None
        target = self.quantity(target_row, target_v, unit) if (target_v is not None or target_row) else None
        if target is not None and target_v is not None and _float(g.get("target_high")) is not None:
            target = Quantity(target.value, _float(g.get("target_high")), target.qualifier, target.unit,
                              target.source)
        return Comparison(
            org, indicator_id, ind.name, unit, year, ind.href, value, prev_year if prev is not None else None, prev,
            _float(y.get("change")),
            # the per-cent change of a rate (7.4 % → 6.9 % is −6.8 %) misleads: a rate changes in points
            None if unit in PERCENT_UNITS else _float(y.get("change_pct")),
            stated_change, stated_pct, _check(y.get("check"), stated_v),
            target, _bool(g.get("met")) if target is not None else None,
            self.flags(key, value_row, prev_row) if of_key or prev_row is not None else (),
            self.others(key, value_row) if len(actual) > 1 or (actual and value_row is not actual[0]) else (),
        )

    def others(self, key: tuple[str, str, int], value_row: Row | None) -> tuple[Quantity, ...]:
        """A restated figure: the same year's value where another document gives a different one."""
        actual = self.rows(key).get("actual", ())
        if value_row is None or not actual or (len(actual) == 1 and actual[0] is value_row):
            return ()  # one document gives this year's value: nothing restated
        chosen = round(_float(value_row["value"]) or 0.0, 9)
        found: dict[str, Row] = {}
        for r in actual:
            if _str(r["doc_id"]) != _str(value_row["doc_id"]) and round(_float(r["value"]) or 0.0, 9) != chosen:
                found.setdefault(_str(r["doc_id"]), r)
        return tuple(q for r in found.values() if (q := self.quantity(r)) is not None)

    def flags(self, key: tuple[str, str, int], value_row: Row | None, prev_row: Row | None) -> tuple[str, ...]:
        found: set[str] = set()
        of_key = self.rows(key)
        for b in _BASES:
            for r in of_key.get(b, ()):
                if r.get("flags"):  # most observations carry no flag
                    found.update(f for f in _tags(r.get("flags")) if f in ("ambiguous", "restated"))
        # "approximate" speaks of this year's value only: a goal of 5%左右 does not make the result approximate
        if value_row is not None and (_str(value_row.get("qualifier")) not in ("", "exact")
                                      or (value_row.get("flags") and "approximate" in _tags(value_row.get("flags")))):
            found.add("approximate")
        if value_row is not None and _str(value_row["basis"]) == "derived":
            found.add("derived")
        if prev_row is not None and _str(prev_row["basis"]) == "derived":
            found.add("derived")
        actual = of_key.get("actual", ())
        if len(actual) > 1:  # restated: more than one document, more than one value
            actual_values = {(_str(r["doc_id"]), round(_float(r["value"]) or 0.0, 9)) for r in actual}
            if len({d for d, _ in actual_values}) > 1 and len({v for _, v in actual_values}) > 1:
                found.add("restated")
        return tuple(f for f in FLAG_WORDS if f in found) if found else ()


_BASES = ("actual", "target", "derived", "change", "change_pct")  # a comparison's observations, in this order


# --------------------------------------------------------------------------- charts


def _nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / max(target_ticks, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def _path(points: Iterable[tuple[int, float, float]]) -> tuple[str, ...]:
    """SVG path strings, broken where a year is missing."""
    paths: list[str] = []
    current: list[str] = []
    last_year: int | None = None
    for year, x, y in points:
        if last_year is not None and year != last_year + 1 and current:
            paths.append(" ".join(current))
            current = []
        current.append(f"{'M' if not current else 'L'}{x:.1f},{y:.1f}")
        last_year = year
    if current:
        paths.append(" ".join(current))
    return tuple(p for p in paths if "L" in p)


@dataclass(frozen=True, slots=True)
class _Axes:
    """The scale of a chart: years across, values up, with room on the left for the longest value label."""

    lo_year: int
    hi_year: int
    lo_v: float
    hi_v: float
    left: int
    x_ticks: tuple[tuple[float, str, bool], ...]
    y_ticks: tuple[tuple[float, str], ...]

    def x(self, year: int) -> float:
        return self.left + (year - self.lo_year) / (self.hi_year - self.lo_year) * (CHART_W - self.left - CHART_R)

    def y(self, value: float) -> float:
        return CHART_T + (self.hi_v - value) / (self.hi_v - self.lo_v) * (CHART_H - CHART_T - CHART_B)


CHART_W, CHART_H, CHART_L, CHART_R, CHART_T, CHART_B = 640, 300, 56, 24, 16, 56


def _axes(years: Sequence[int], values: Sequence[float], unit: str) -> _Axes:
    lo_year, hi_year = (min(years), max(years)) if years else (0, 1)
    if lo_year == hi_year:
        lo_year, hi_year = lo_year - 1, hi_year + 1
    lo_v, hi_v = min([*values, 0.0]), max([*values, 0.0])
    if lo_v == hi_v:
        hi_v = lo_v + 1
    step = _nice_step(hi_v - lo_v)
    lo_v, hi_v = math.floor(lo_v / step) * step, math.ceil(hi_v / step) * step
    count = round((hi_v - lo_v) / step)
    y_labels = [amount(lo_v + i * step, unit) for i in range(count + 1)]
    # room for the longest tick label at the phone font size (CSS: 18 px), CJK glyphs twice as wide as digits
    left = max(CHART_L, 34 + max(sum(18 if ord(ch) > 0x2E80 else 10 for ch in label) for label in y_labels))
    axes = _Axes(lo_year, hi_year, lo_v, hi_v, left, (), ())
    every = max(1, math.ceil((hi_year - lo_year + 1) / 12))
    shown = [yr for yr in range(lo_year, hi_year + 1) if (yr - lo_year) % every == 0]
    # at phone width every other year label is hidden (CSS .minor) so the larger labels do not collide
    x_ticks = tuple((axes.x(yr), str(yr), len(shown) > 6 and i % 2 == 1) for i, yr in enumerate(shown))
    y_ticks = tuple((axes.y(lo_v + i * step), label) for i, label in enumerate(y_labels))
    return dataclasses.replace(axes, x_ticks=x_ticks, y_ticks=y_ticks)


def chart(rows: Sequence[Comparison], name: str, unit: str) -> Chart:
    """The history of one indicator: results as a solid line, goals as a dashed one, axes labelled."""
    actual = [(r.year, r.value.value) for r in rows if r.value is not None]
    derived = [(r.prev_year, r.prev.value) for r in rows if r.prev is not None and r.prev_year is not None
               and "derived" in r.flags]
    seen = {y for y, _ in actual}
    derived = [(y, v) for y, v in derived if y not in seen]
    goals = [(r.year, r.target.value, r.target.value_high) for r in rows if r.target is not None]
    years = [y for y, _ in actual] + [y for y, _ in derived] + [y for y, _, _ in goals]
    values = [v for _, v in actual] + [v for _, v in derived] + [v for _, v, _ in goals] + [
        h for _, _, h in goals if h is not None]
    a = _axes(years, values, unit)
    points = sorted([(yr, v, False) for yr, v in actual] + [(yr, v, True) for yr, v in derived])
    return Chart(
        CHART_W, CHART_H, a.left, CHART_R, CHART_T, CHART_B, a.x_ticks, a.y_ticks,
        actual_paths=_path((yr, a.x(yr), a.y(v)) for yr, v, _ in points),
        actual_points=tuple((a.x(yr), a.y(v), f"{yr}年 {amount(v, unit)}{'（推算）' if d else ''}", d)
                            for yr, v, d in points),
        goal_paths=_path((yr, a.x(yr), a.y(v)) for yr, v, _ in sorted(goals)),
        goal_points=tuple((a.x(yr), a.y(v), a.y(h) if h is not None else a.y(v),
                           f"{yr}年目标 {amount(v, unit, high=h)}") for yr, v, h in sorted(goals)),
        x_label="年份", y_label=f"{name}（{unit}）" if unit else name,
    )


def spread_chart(years: Sequence[SpreadYear], name: str, unit: str) -> Chart:
    """An indicator across organisations: the median per year as the line, the middle half of the organisations as
    a band around it, the median goal dashed; axes labelled as in `chart`."""
    goals = [(s.year, s.goal) for s in years if s.goal is not None]
    a = _axes([s.year for s in years], [v for s in years for v in (s.low, s.high)] + [g for _, g in goals], unit)
    bands: list[str] = []
    run: list[SpreadYear] = []
    for s in [*years, None]:
        if s is None or (run and s.year != run[-1].year + 1):
            if len(run) > 1:  # a polygon along the third quartiles and back along the first
                ring = [(a.x(r.year), a.y(r.high)) for r in run] + [(a.x(r.year), a.y(r.low)) for r in reversed(run)]
                bands.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + " Z")
            run = []
        if s is not None:
            run.append(s)
    return Chart(
        CHART_W, CHART_H, a.left, CHART_R, CHART_T, CHART_B, a.x_ticks, a.y_ticks,
        actual_paths=_path((s.year, a.x(s.year), a.y(s.median)) for s in years),
        actual_points=tuple((a.x(s.year), a.y(s.median),
                             f"{s.year}年 中位数 {amount(s.median, unit)}（{s.orgs} 个单位；中间一半 "
                             f"{amount(s.low, unit)}–{amount(s.high, unit)}）", False) for s in years),
        goal_paths=_path((yr, a.x(yr), a.y(g)) for yr, g in goals),
        goal_points=tuple((a.x(yr), a.y(g), a.y(g), f"{yr}年目标中位数 {amount(g, unit)}") for yr, g in goals),
        x_label="年份", y_label=f"{name}（{unit}）" if unit else name, band_paths=tuple(bands),
    )


def svg(c: Chart, index: int, title: str) -> Markup:
    """The chart as inline SVG, built here: an indicator page of a province holds a thousand of them, and through
    the template they took half of the report's time (byte for byte what indicator.html wrote before)."""
    e = escape
    bottom = c.height - c.bottom
    out = [f'<svg viewBox="0 0 {c.width} {c.height}" role="img" aria-labelledby="chart-{index}-title">\n'
           f'<title id="chart-{index}-title">{e(title)}</title>\n']
    for y, label in c.y_ticks:
        out.append(f'<line class="grid" x1="{c.left}" x2="{c.width - c.right}" y1="{y:.1f}" y2="{y:.1f}"/>\n'
                   f'<text x="{c.left - 6}" y="{y:.1f}" dy="0.35em" text-anchor="end">{e(label)}</text>\n')
    out.append(f'<line class="axis" x1="{c.left}" x2="{c.left}" y1="{c.top}" y2="{bottom}"/>\n'
               f'<line class="axis" x1="{c.left}" x2="{c.width - c.right}" y1="{bottom}" y2="{bottom}"/>\n')
    for x, label, minor in c.x_ticks:
        out.append(f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}"/>\n'
                   f'<text class="xtick{" minor" if minor else ""}" x="{x:.1f}" y="{bottom + 20}" '
                   f'text-anchor="middle">{e(label)}</text>\n')
    middle = (c.top + bottom) // 2
    out.append(f'<text class="axis-label" x="{(c.left + c.width - c.right) // 2}" y="{c.height - 6}" '
               f'text-anchor="middle">{e(c.x_label)}</text>\n'
               f'<text class="axis-label" x="14" dy="0.35em" y="{middle}" text-anchor="middle" '
               f'transform="rotate(-90 14 {middle})">{e(c.y_label)}</text>\n')
    # its colour as an attribute, not in the pages' style sheet: pages without a band keep their bytes
    out += [f'<path class="band" fill="#cfe0f5" stroke="none" d="{e(d)}"/>' for d in c.band_paths]
    out += [f'<path class="goal" d="{e(d)}"/>' for d in c.goal_paths]
    for x, y, yh, label in c.goal_points:
        span = (f'<line class="goalpt" x1="{x:.1f}" x2="{x:.1f}" y1="{y:.1f}" y2="{yh:.1f}"/>' if yh != y else "")
        out.append(f'<g class="goalmark"><title>{e(label)}</title>{span}<line class="goalpt" x1="{x - 7:.1f}" '
                   f'x2="{x + 7:.1f}" y1="{y:.1f}" y2="{y:.1f}"/></g>\n')
    out += [f'<path class="actual" d="{e(d)}"/>' for d in c.actual_paths]
    for x, y, label, derived in c.actual_points:
        out.append(f'<circle class="pt{" derived" if derived else ""}" cx="{x:.1f}" cy="{y:.1f}" r="4">'
                   f'<title>{e(label)}</title></circle>\n')
    out.append("</svg>\n")
    return Markup("".join(out))


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class Site:
    """The whole report, assembled once and rendered to HTML pages or Markdown."""

    run: Run | None
    org_years: tuple[OrgYear, ...]
    indicators: tuple[tuple[Indicator, tuple[Series, ...]], ...]
    documents: tuple[Document, ...]
    doc_sentences: dict[str, tuple[SentenceMarks, ...]]
    doc_observations: dict[str, tuple[tuple[Indicator, Quantity, int, str], ...]]
    movers: tuple[Comparison, ...]
    differs: tuple[Comparison, ...]
    unchecked: tuple[Comparison, ...]
    ambiguous: tuple[Comparison, ...]
    goals_open: tuple[Comparison, ...]


def build_site(wh: Warehouse) -> Site:
    asm = Assembler(wh)
    comparisons = [asm.comparison(k) for k in asm.comparison_keys()]
    by_org_year: dict[tuple[str, int], list[Comparison]] = defaultdict(list)
    for c in comparisons:
        by_org_year[(c.org, c.year)].append(c)
    for doc in wh.documents.values():
        by_org_year.setdefault((doc.org, doc.period_year), [])
    docs_of: dict[tuple[str, int], list[Document]] = defaultdict(list)
    for doc in wh.documents.values():
        docs_of[(doc.org, doc.period_year)].append(doc)
    org_years = tuple(_org_year(asm, org, year, by_org_year, docs_of[(org, year)])
                      for org, year in sorted(by_org_year))

    by_indicator: dict[str, dict[str, list[Comparison]]] = defaultdict(lambda: defaultdict(list))
    for c in comparisons:
        by_indicator[c.indicator_id][c.org].append(c)
    catalog_of = {_str(r["indicator_id"]): _str(r.get("catalog")) for r in reversed(wh.observations)}
    indicators = tuple(
        (ind, tuple(Series(org, tuple(rows), chart(rows, ind.name, ind.unit or rows[0].unit))
                    for org, rows in sorted(by_indicator[ind.indicator_id].items())))
        for ind in sorted({asm.indicator(i, catalog_of.get(i, "")) for i in by_indicator},
                          key=lambda i: (i.catalog, i.indicator_id))
    )
    movers = sorted(
        (c for c in comparisons if c.change_pct is not None and c.unit not in PERCENT_UNITS | {"百分点"}),
        key=lambda c: (-abs(c.change_pct or 0.0), c.org, c.indicator_id, c.year),
    )[:15]
    return Site(
        run=wh.run, org_years=org_years, indicators=indicators,
        documents=tuple(sorted(wh.documents.values(), key=lambda d: (d.org, d.period_year, d.title, d.doc_id))),
        doc_sentences=_doc_sentences(wh), doc_observations=_doc_observations(asm),
        movers=tuple(movers),
        differs=tuple(c for c in comparisons if c.check == "differs"),
        # a stated change with nothing to hold it against: 门店增加14个 with no level for either year
        unchecked=tuple(c for c in comparisons if c.check == "cannot" or (
            c.check == "none" and c.stated_change is not None and c.prev is None)),
        ambiguous=tuple(c for c in comparisons if "ambiguous" in c.flags),
        # the most recent goals first: those are the ones a result may still come for
        goals_open=tuple(sorted((c for c in comparisons if c.target is not None and c.met is None),
                                key=lambda c: (-c.year, c.org, c.indicator_id))),
    )


def _org_year(asm: Assembler, org: str, year: int, by: dict[tuple[str, int], list[Comparison]],
              documents: list[Document]) -> OrgYear:
    # what changed or was checked comes first, then the rest in the order the document gives them
    rows = tuple(sorted(by[(org, year)], key=lambda c: (not (c.prev or c.stated_pct or c.stated_change or c.target),
                                                        _position(c), c.indicator_id)))
    shown = {c.indicator_id for c in rows if c.value is not None}
    missing = tuple(sorted(
        {asm.indicator(c.indicator_id) for c in by.get((org, year - 1), []) if c.value is not None
         and c.indicator_id not in shown},
        key=lambda i: i.indicator_id,
    ))
    docs = tuple(sorted(documents, key=lambda d: (d.title, d.doc_id)))
    return OrgYear(org, year, org_year_href(org, year), rows, docs, missing)


def _position(c: Comparison) -> tuple[str, int]:
    """Where the row's first number stands in its document, for reading order."""
    # c.sources without its labels: the sort key of every row of a page
    for q in (c.value, c.prev, c.stated_change, c.stated_pct, c.target, *c.others):
        if q is not None and (source := q.source) is not None and source.fact_id is not None:
            return (source.doc_id, source.fact_id)
    return ("~", 0)


def _doc_sentences(wh: Warehouse) -> dict[str, tuple[SentenceMarks, ...]]:
    grouped: dict[tuple[str, int, str], list[tuple[int, int, int]]] = defaultdict(list)
    sections: dict[tuple[str, int, str], str] = {}
    for (doc_id, fact_id), f in sorted(wh.facts.items()):
        sentence = _str(f["sentence"])
        offset = _int(f.get("sentence_start"))
        key = (doc_id, offset if offset is not None else -1, sentence)
        sections.setdefault(key, _str(f.get("section")))
        start, end = _fact_span(f, sentence)
        if start is not None and end is not None:
            grouped[key].append((start, end, fact_id))
        else:
            grouped.setdefault(key, [])
    out: dict[str, list[SentenceMarks]] = defaultdict(list)
    for key in sorted(grouped, key=lambda k: (k[0], k[1], k[2])):
        marks: list[tuple[int, int, int]] = []
        for start, end, fact_id in sorted(grouped[key]):
            if not marks or start >= marks[-1][1]:
                marks.append((start, end, fact_id))
        out[key[0]].append(SentenceMarks(sections[key], key[2], tuple(marks)))
    return {k: tuple(v) for k, v in out.items()}


def _doc_observations(asm: Assembler) -> dict[str, tuple[tuple[Indicator, Quantity, int, str], ...]]:
    out: dict[str, list[tuple[Indicator, Quantity, int, str]]] = defaultdict(list)
    for r in asm.wh.observations:
        ind = asm.indicator(_str(r["indicator_id"]), _str(r.get("catalog")))
        q = asm.quantity(r, None, ind.unit)
        if q is not None:
            out[_str(r["doc_id"])].append((ind, q, _int(r["year"]) or 0, _str(r["basis"])))
    def reading_order(t: tuple[Indicator, Quantity, int, str]) -> tuple[int, str, int, str, float]:
        fact_id = t[1].source.fact_id if t[1].source else None
        # in the order the document gives them; derived values (no fact of their own) last
        return (fact_id if fact_id is not None else 1 << 30, t[0].indicator_id, t[2], t[3], t[1].value)

    return {k: tuple(sorted(v, key=reading_order)) for k, v in out.items()}


def _document_context(doc: Document, text: str, observations: str) -> dict[str, object]:
    """A document page's context: its marked text and the rows of its observations, both HTML built already."""
    return {"doc": doc, "text": Markup(text), "observations": Markup(observations),
            "org_year_href": org_year_href(doc.org, doc.period_year), "root": "../"}


# --------------------------------------------------------------------------- the page plan, from SQL alone
#
# A province's report is ~21,000 pages. What each page shows is hashed in SQL (reports/sql/page_keys.sql: one sum
# of row hashes per organisation-year page, document and indicator) without reading a row into Python, so a night
# that changed 1 % of the documents renders the pages showing those documents only. The pages are rendered in
# chunks (some organisations, some documents, some indicators) by forked workers, each reading just its chunk from
# its own read-only connection and writing its pages; the parent plans and links the unchanged pages.
#
# A year's page quotes the documents of the years beside it (last year's value, a value derived from next year's
# change, last year's goal) and of the year a change was computed from, so its key sums the rows of those years,
# not of its year alone: a changed document of year y re-renders the pages of y - 1, y and y + 1 (and of a later
# year whose change starts at y), not every year page of its organisation.

PageKind = Literal["index", "org", "indicator", "spread", "document", "list"]
ORGS_PAGE = "orgs.html"
DOCUMENTS_PAGE = "documents.html"
# Above these the index lists the first organisations / the newest documents and links to a page with all of them:
# the index of a province listed 1,505 organisations, 6,576 documents and, per indicator, every organisation's
# years — 5.5 MB that took seconds to open on a phone. Below them (a county, the samples) it lists everything.
INDEX_ORGS = 60
INDEX_DOCUMENTS = 50
INDEX_ROWS = 30  # rows of each problem list on the index; the organisations' year pages list every one
INDEX_SPANS = 4  # organisations named with their years in the index's list of indicators; above it, a count
# Above this many organisations an indicator page shows the spread across organisations (median and middle half
# per year, one chart) and a sortable table of each organisation's latest year, not one chart per organisation:
# 1,505 charts made a 3.8 MB page nobody can compare by eye. Up to it the page is as it was (one chart each).
SERIES_CHARTS = 12


@dataclass(frozen=True, slots=True)
class PagePlan:
    """One page of a generation: where it goes, what it shows (a chunk's unit) and the hash of what it shows."""

    rel: str
    kind: PageKind
    unit: str  # the organisation, indicator id or document id whose rows the page shows; the list's name
    key: str  # equal keys (with equal code, which every key includes) render equal bytes


@dataclass(frozen=True, slots=True)
class OrgYearLink:
    org: str
    year: int
    href: str
    rows: int  # indicators compared that year


@dataclass(frozen=True, slots=True)
class IndicatorEntry:
    indicator: Indicator
    spans: tuple[tuple[str, int, int], ...]  # (organisation, first year, last year), sorted by organisation

    @property
    def first(self) -> int:
        return min(first for _org, first, _last in self.spans)

    @property
    def last(self) -> int:
        return max(last for _org, _first, last in self.spans)


@dataclass(frozen=True, slots=True)
class Plan:
    """Every page of the report with its key, and the lists the index and the list pages show."""

    run: Run | None
    inputs: str  # the whole report's fingerprint (all but the run)
    pages: tuple[PagePlan, ...]
    org_years: tuple[OrgYearLink, ...]
    indicators: tuple[IndicatorEntry, ...]
    documents: tuple[Document, ...]  # sorted by organisation, year, title


def _digests(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """(kind, name) → the row count and hash sum of what that organisation's, document's or indicator's pages show."""
    rows = con.execute(_sql("page_keys")).fetchall()
    return {(kind, name): f"{count}:{digest}" for kind, name, count, digest in rows}


def _inputs(digests: dict[tuple[str, str], str]) -> str:
    """The whole report's fingerprint: every digest and the code. Equal fingerprints give equal pages."""
    digest = hashlib.sha256(f"code {_code_key()}\n".encode())
    for (kind, name), value in sorted(digests.items()):
        digest.update(f"{kind}\0{name}\0{value}\n".encode())
    return digest.hexdigest()


def plan_site(con: duckdb.DuckDBPyConnection, digests: dict[tuple[str, str], str], inputs: str) -> Plan:
    """The pages of the report and their keys, from the warehouse's digests and three small queries."""
    code, catalog = _code_key(), digests.get(("catalog", ""), "")

    def key(*parts: str) -> str:
        return hashlib.sha256("\0".join((code, catalog, *parts)).encode()).hexdigest()[:32]

    org_years = tuple(OrgYearLink(org, year, org_year_href(org, year), rows)
                      for org, year, rows in con.execute(_sql("org_years")).fetchall())
    indicators = _indicator_entries(con)
    documents = tuple(sorted((_document(r) for r in _scoped_rows(con, "documents", Scope())),
                             key=lambda d: (d.org, d.period_year, d.title, d.doc_id)))
    pages = [PagePlan("index.html", "index", "", "")]
    pages += [PagePlan(oy.href, "org", oy.org,
                       key("org", oy.org, str(oy.year), digests.get(("org_year", f"{oy.year} {oy.org}"), "")))
              for oy in org_years]
    pages += [PagePlan(e.indicator.href, "indicator" if len(e.spans) <= SERIES_CHARTS else "spread",
                       e.indicator.indicator_id,
                       key("indicator", repr(e.indicator), digests.get(("indicator", e.indicator.indicator_id), "")))
              for e in indicators]
    pages += [PagePlan(d.href, "document", d.doc_id, key("document", d.doc_id, digests.get(("document", d.doc_id), "")))
              for d in documents]
    if len({oy.org for oy in org_years}) > INDEX_ORGS:
        pages.append(PagePlan(ORGS_PAGE, "list", "orgs", key("orgs", _kind_digest(digests, "org_year"))))
    if len(documents) > INDEX_DOCUMENTS:
        pages.append(PagePlan(DOCUMENTS_PAGE, "list", "documents", key("documents", _kind_digest(digests, "document"))))
    return Plan(_latest_run(con), inputs, tuple(pages), org_years, indicators, documents)


def _kind_digest(digests: dict[tuple[str, str], str], kind: str) -> str:
    return hashlib.sha256("".join(f"{name}\0{value}\n" for (k, name), value in sorted(digests.items())
                                  if k == kind).encode()).hexdigest()


def _indicator_entries(con: duckdb.DuckDBPyConnection) -> tuple[IndicatorEntry, ...]:
    """Every indicator with data, named as its first observation's catalog names it, with each organisation's years."""
    known: dict[tuple[str, str], Indicator] = {}
    for r in _rows(con, "indicators"):
        key = (_str(r["catalog"]), _str(r["indicator_id"]))
        known.setdefault(key, Indicator(key[0], key[1], _str(r["name"]), _str(r["unit"]), _tags(r["aliases"]),
                                        indicator_href(*key)))
    by_id = _indicators_by_id(known)
    spans: dict[Indicator, list[tuple[str, int, int]]] = defaultdict(list)
    for indicator_id, catalog, org, first, last in con.execute(_sql("indicator_spans")).fetchall():
        spans[resolve_indicator(known, by_id, indicator_id, catalog)].append((org, first, last))
    return tuple(IndicatorEntry(ind, tuple(sorted(rows)))
                 for ind, rows in sorted(spans.items(), key=lambda item: (item[0].catalog, item[0].indicator_id)))


def _indicators_by_id(known: dict[tuple[str, str], Indicator]) -> dict[str, list[Indicator]]:
    by_id: dict[str, list[Indicator]] = defaultdict(list)
    for ind in known.values():
        by_id[ind.indicator_id].append(ind)
    return by_id


def resolve_indicator(known: dict[tuple[str, str], Indicator], by_id: dict[str, list[Indicator]],
                      indicator_id: str, catalog: str = "") -> Indicator:
    """The catalog's indicator an observation names; one no catalog lists any more is still shown, under its id."""
    if (catalog, indicator_id) in known:
        return known[(catalog, indicator_id)]
    found = by_id.get(indicator_id)
    if found:
        return found[0]
    return Indicator(catalog, indicator_id, indicator_id, "", (), indicator_href(catalog, indicator_id))


# --------------------------------------------------------------------------- pages of one chunk

Chunk = tuple[PageKind, tuple[str, ...], frozenset[str]]  # kind, units (organisations, documents, …), wanted paths
PageOut = tuple[str, str, dict[str, object]]


def _comparisons(asm: Assembler) -> list[Comparison]:
    return [asm.comparison(k) for k in asm.comparison_keys()]


def _org_year_pages(con: duckdb.DuckDBPyConnection, orgs: tuple[str, ...], wanted: frozenset[str]) -> list[PageOut]:
    with _collector_paused():
        wh = _load(con, Scope(orgs=orgs), whole_documents=False)
        return [(oy.href, "org_year.html", {"page": oy, "root": "../"})
                for oy in _org_years(Assembler(wh), wh, wanted)]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cycle collection while a chunk's rows are read and assembled: its ~100,000 new records (acyclic, freed by
    their reference counts) made the collector walk the worker's whole heap again and again, a fifth of the time of
    an organisation's pages. Cycles made meanwhile are collected once it runs again."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _org_years(asm: Assembler, wh: Warehouse, wanted: frozenset[str] | None = None) -> Iterator[OrgYear]:
    """The year pages of the organisations in `wh` (only those at `wanted` paths, when given), sorted."""
    keys = asm.comparison_keys()
    if wanted is not None:  # a night's few pages: only their years' comparisons, and the year before's (`missing`)
        shown = {(org, year) for org, _i, year in keys} | {(d.org, d.period_year) for d in wh.documents.values()}
        pages = {(org, year) for org, year in shown if org_year_href(org, year) in wanted}
        needed = pages | {(org, year - 1) for org, year in pages}
        keys = [k for k in keys if (k[0], k[2]) in needed]
    by_org_year: dict[tuple[str, int], list[Comparison]] = defaultdict(list)
    for key in keys:
        c = asm.comparison(key)
        by_org_year[(c.org, c.year)].append(c)
    docs_of: dict[tuple[str, int], list[Document]] = defaultdict(list)
    for doc in wh.documents.values():
        by_org_year.setdefault((doc.org, doc.period_year), [])
        docs_of[(doc.org, doc.period_year)].append(doc)
    for org, year in sorted(by_org_year):
        if wanted is None or org_year_href(org, year) in wanted:
            yield _org_year(asm, org, year, by_org_year, docs_of[(org, year)])


def _indicator_pages(con: duckdb.DuckDBPyConnection, plan: Plan, ids: tuple[str, ...],
                     wanted: frozenset[str]) -> list[PageOut]:
    wh = _load(con, Scope(indicators=ids), whole_documents=False)
    asm = Assembler(wh)
    by_indicator: dict[str, dict[str, list[Comparison]]] = defaultdict(lambda: defaultdict(list))
    for c in _comparisons(asm):
        by_indicator[c.indicator_id][c.org].append(c)
    pages: list[PageOut] = []
    for entry in plan.indicators:
        ind = entry.indicator
        if ind.href in wanted:
            pages.append((ind.href, "indicator.html",
                          _indicator_context(ind, _series(ind, by_indicator[ind.indicator_id]))))
    return pages


def _series(ind: Indicator, by_org: dict[str, list[Comparison]]) -> tuple[Series, ...]:
    """Each organisation's history, charted."""
    return tuple(Series(org, tuple(rows), chart(rows, ind.name, ind.unit or rows[0].unit))
                 for org, rows in sorted(by_org.items()))


def _indicator_context(ind: Indicator, series: tuple[Series, ...]) -> dict[str, object]:
    return {"indicator": ind, "series": series, "spread": None, "root": "../"}


def _spread_pages(con: duckdb.DuckDBPyConnection, plan: Plan, ids: tuple[str, ...],
                  wanted: frozenset[str]) -> list[PageOut]:
    entries = [e for e in plan.indicators if e.indicator.indicator_id in ids and e.indicator.href in wanted]
    spreads = _spreads(con, entries, "../")
    return [(e.indicator.href, "indicator.html", {"indicator": e.indicator, "series": (),
                                                  "spread": spreads[e.indicator.indicator_id], "root": "../"})
            for e in entries]


def _document_pages(con: duckdb.DuckDBPyConnection, docs: tuple[str, ...], wanted: frozenset[str]) -> list[PageOut]:
    scope = Scope(docs=docs)
    documents = {_str(r["doc_id"]): _document(r) for r in _scoped_rows(con, "documents", scope)}
    # a document's text and table come from one read of its facts, as a row a document and a row an observation;
    # the few documents SQL cannot mark as Python would (see document_pages.sql) are assembled the old way
    rows = con.execute(_sql("document_pages"), {"docs": list(docs)}).fetchall()
    texts: dict[str, str | None] = {}
    observed: list[tuple[object, ...]] = []
    for r in rows:
        if r[0] == 0:
            texts[r[2]] = r[3]
        else:
            observed.append(r)
    tables, unusual = _observation_tables(observed, documents, _indicators(con))
    odd = tuple(sorted({d for d, text in texts.items() if text is None} | unusual))
    if odd:
        texts.update(_assembled_texts(con, odd, documents, tables))
    return [(doc.href, "document.html", _document_context(doc, texts.get(doc.doc_id) or "",
                                                          tables.get(doc.doc_id, "")))
            for doc in sorted(documents.values(), key=lambda d: d.doc_id) if doc.href in wanted]


def _assembled_texts(con: duckdb.DuckDBPyConnection, docs: tuple[str, ...], documents: dict[str, Document],
                     tables: dict[str, str]) -> dict[str, str]:
    """The text and table of some documents through `_sentences_of` and the Assembler (the Markdown report's path):
    the pages whose facts break an assumption of document_pages.sql. `tables` is updated in place."""
    scope = Scope(docs=docs)
    observations = tuple(_scoped_rows(con, "observations", scope))
    cited = {(_str(r["doc_id"]), _int(r["fact_id"])) for r in observations if r["fact_id"] is not None}
    sentences, facts = _sentences_of(con, scope, cited)
    wh = Warehouse(None, {d: documents[d] for d in docs if d in documents}, _indicators(con), facts, observations,
                   {}, {})
    quoted = _doc_observations(Assembler(wh))
    for doc_id in docs:
        tables[doc_id] = str(observation_rows(quoted.get(doc_id, ()), "../"))
    return {doc_id: str(document_text(sentences.get(doc_id, ()))) for doc_id in docs}


# the columns of an observation's row of document_pages.sql (part 1)
_ORG, _INDICATOR, _YEAR, _BASIS, _VALUE, _HIGH, _QUALIFIER, _UNIT, _FACT, _NOTE, _CATALOG = range(4, 15)
_COPIES, _SENTENCE, _START, _END, _QUOTE = range(15, 20)
_CitedFact = tuple[str, int | None, int | None]  # a quoted fact's sentence and the span of its number in it


def _observation_tables(rows: list[tuple[object, ...]], documents: dict[str, Document],
                        indicators: dict[tuple[str, str], Indicator]) -> tuple[dict[str, str], set[str]]:
    """The rows of each document's table of observations, byte for byte what `observation_rows` writes of
    `_doc_observations`, built from the rows of document_pages.sql without a Source or Quantity; and the documents
    quoting a fact id the warehouse holds twice (the Assembler keeps the last one: they go the old way)."""
    e = _escape_text
    by_id = _indicators_by_id(indicators)
    # the facts the observations quote, by (document, fact id), as `Assembler.wh.facts` holds them: sentence, span
    cited: dict[tuple[object, object], _CitedFact] = {}
    unusual: set[str] = set()
    deriving: set[object] = set()  # the documents stating a value derived from another year's
    for r in rows:
        if r[_COPIES] is not None:
            cited[(r[2], r[_FACT])] = (_str(r[_SENTENCE]), _int(r[_START]), _int(r[_END]))
            if r[_COPIES] != 1:
                unusual.add(_str(r[2]))
        elif r[_BASIS] == "derived":
            deriving.add(r[2])
    derived: dict[tuple[str, str, int], list[tuple[object, ...]]] | None = None
    # an indicator's cell and a basis's cell are the same on every row that names them
    heads: dict[tuple[object, object], tuple[Indicator, str]] = {}
    bases: dict[object, str] = {}
    by_doc: dict[str, list[tuple[tuple[int, str, int, str, float, int], str]]] = defaultdict(list)
    for r in rows:
        doc_id, fact_id = r[2], r[_FACT]
        head = heads.get((r[_INDICATOR], r[_CATALOG]))
        if head is None:
            ind = resolve_indicator(indicators, by_id, _str(r[_INDICATOR]), _str(r[_CATALOG]))
            head = heads[(r[_INDICATOR], r[_CATALOG])] = (
                ind, f'<tr><th scope="row"><a href="../{e(ind.href)}">{e(ind.name)}</a></th><td class="num" '
                     'data-label="年份">')
        ind = head[0]
        basis = _str(r[_BASIS])
        basis_cell = bases.get(basis)
        if basis_cell is None:
            basis_cell = bases[basis] = (f'</td><td data-label="性质">{e(basis_word(basis))}</td><td class="num" '
                                         'data-label="数值"><a class="src" href="../')
        value = _float(r[_VALUE]) or 0.0
        year = _int(r[_YEAR]) or 0
        doc = documents.get(_str(doc_id))
        href = doc.href if doc else doc_href(_str(doc_id))
        spans: tuple[tuple[int, int], ...] = ()
        fact = cited.get((doc_id, fact_id)) if fact_id is not None else None
        if fact is not None:
            sentence = fact[0] or _str(r[_QUOTE])
            if fact[1] is not None and fact[2] is not None:
                spans = ((fact[1], fact[2]),)
            href += f"#f-{fact_id}"
        else:
            sentence = _str(r[_QUOTE])
            if basis == "derived":
                if derived is None:
                    derived = _next_year_rows([r for r in rows if r[2] in deriving])
                spans = _derived_spans(derived.get((_str(r[_ORG]), _str(r[_INDICATOR]), year + 1), []), doc_id,
                                       sentence, cited)
        shown = amount(value, _str(r[_UNIT]) or ind.unit, _str(r[_QUALIFIER]) or "exact", _float(r[_HIGH]))
        note = _str(r[_NOTE])
        meta = f' <span class="meta">（{e(note)}）</span>' if note else ""
        by_doc[_str(doc_id)].append((
            (fact_id if isinstance(fact_id, int) else 1 << 30, ind.indicator_id, year, basis, value, _int(r[1]) or 0),
            f'{head[1]}{year}{basis_cell}{e(href)}" title="{e(sentence)}">{e(shown)}</a></td><td class="quote" '
            f'data-label="原文">{_marked_quote(sentence, spans)}{meta}</td></tr>\n'))
    # in the order the document gives them, then in the order of observations.sql (`_doc_observations`'s stable sort)
    return {doc_id: "".join(row for _, row in sorted(found, key=lambda t: t[0]))
            for doc_id, found in by_doc.items()}, unusual


def _next_year_rows(rows: list[tuple[object, ...]]) -> dict[tuple[str, str, int], list[tuple[object, ...]]]:
    """The levels and changes among some rows of document_pages.sql by organisation, indicator and year, as
    `Assembler.rows` gives them to `derived_from` (which takes those of the derived value's own document only)."""
    found: dict[tuple[str, str, int], list[tuple[object, ...]]] = defaultdict(list)
    for r in rows:
        if r[_BASIS] in ("actual", "change"):
            found[(_str(r[_ORG]), _str(r[_INDICATOR]), _int(r[_YEAR]) or 0)].append(r)
    return found


def _derived_spans(candidates: list[tuple[object, ...]], doc_id: object, sentence: str,
                   cited: dict[tuple[object, object], _CitedFact]) -> tuple[tuple[int, int], ...]:
    """`Assembler.derived_from` of the rows of document_pages.sql: the spans, in a derived value's sentence, of the
    next year's level and change it came from."""
    spans = set()
    for other in candidates:
        fact = cited.get((other[2], _int(other[_FACT]) or -1))
        if other[2] == doc_id and fact is not None and fact[0] == sentence and fact[1] is not None \
                and fact[2] is not None:
            spans.add((fact[1], fact[2]))
    return tuple(sorted(spans))


def _marked_quote(sentence: str, spans: tuple[tuple[int, int], ...]) -> str:
    """`_highlighted` of a sentence and the spans of its source."""
    e = _escape_text
    if len(spans) == 1:  # nearly every row: its own number, nothing to merge
        start, end = spans[0]
        return "".join((e(sentence[:start]), "<mark>", e(sentence[start:end]), "</mark>", e(sentence[end:])))
    out: list[str] = []
    pos = 0
    for start, end in _merged(spans):
        out += [e(sentence[pos:start]), "<mark>", e(sentence[start:end]), "</mark>"]
        pos = end
    out.append(e(sentence[pos:]))
    return "".join(out)


def _merged(spans: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """Spans sorted, overlapping ones merged (a quote's marks)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _sentences_of(con: duckdb.DuckDBPyConnection, scope: Scope, cited: set[tuple[str, int | None]]) -> tuple[
        dict[str, tuple[SentenceMarks, ...]], dict[tuple[str, int], FactRow]]:
    """The marked sentences of the scope's documents (as `_doc_sentences`), grouped by sentence in SQL, and the
    `cited` facts among them."""
    out: dict[str, list[SentenceMarks]] = defaultdict(list)
    facts: dict[tuple[str, int], FactRow] = {}
    cited_of: dict[str, set[int | None]] = defaultdict(set)
    for doc_id, fact_id in cited:
        cited_of[doc_id].add(fact_id)
    cursor = _scoped(con, "document_sentences", scope)
    # one pass over ~100 facts a document, the province's hottest loop: no call for a number where its offsets fit
    current: tuple[str, object, str, str] | None = None  # the sentence being marked: doc_id, key, text, section
    spans: list[tuple[int, int, int]] = []
    quoted: set[int | None] | tuple[()] = ()
    start_of: int | None = None
    while batch := cursor.fetchmany(20_000):
        for doc_id, key, sentence, offset, section, char_start, raw, fact_id in batch:
            if current is None or key != current[1] or sentence != current[2] or doc_id != current[0]:
                if current is not None:
                    out[current[0]].append(SentenceMarks(current[3], current[2], _marks(spans)))
                # the sentence's section and offset are its first fact's
                current, spans, start_of = (doc_id, key, sentence, _str(section)), [], offset
                quoted = cited_of.get(doc_id, ())
            if fact_id in quoted:
                facts[(doc_id, fact_id)] = FactRow(raw, char_start, sentence, start_of, current[3])
            if raw and start_of is not None:  # _locate's first case, inline
                start = (char_start or 0) - start_of
                end = start + len(raw)
                if sentence[start:end] == raw:
                    spans.append((start, end, fact_id or 0))
                    continue
            found, found_end = _locate(sentence, _str(raw), None)
            if found is not None and found_end is not None:
                spans.append((found, found_end, fact_id or 0))
    if current is not None:
        out[current[0]].append(SentenceMarks(current[3], current[2], _marks(spans)))
    return {k: tuple(v) for k, v in out.items()}, facts


def _marks(spans: list[tuple[int, int, int]]) -> tuple[tuple[int, int, int], ...]:
    """A sentence's facts' spans as marks: in order, an overlapping one dropped."""
    if len(spans) < 2:  # half the sentences hold one number
        return tuple(spans)
    marks: list[tuple[int, int, int]] = []
    for start, end, fact_id in sorted(spans):
        if not marks or start >= marks[-1][1]:
            marks.append((start, end, fact_id))
    return tuple(marks)


def _list_pages(plan: Plan, names: tuple[str, ...]) -> list[PageOut]:
    pages: list[PageOut] = []
    if "orgs" in names:
        pages.append((ORGS_PAGE, "orgs.html", {"org_years": plan.org_years, "root": ""}))
    if "documents" in names:
        pages.append((DOCUMENTS_PAGE, "documents.html", {"documents": plan.documents, "root": ""}))
    return pages


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True, slots=True)
class Problem:
    """One list of what could not be checked: the rows shown (the first INDEX_ROWS) and how many there are."""

    rows: tuple[Comparison, ...]
    total: int
    caption: str
    table_id: str


@dataclass(frozen=True, slots=True)
class Overview:
    """What the index shows: short lists, each with its full length and the page listing all of it."""

    run: Run | None
    org_years: tuple[OrgYearLink, ...]  # the first INDEX_ORGS organisations' years
    orgs: int  # organisations in all
    orgs_href: str  # the page listing every organisation, when the index lists only some
    movers: tuple[Comparison, ...]
    problems: tuple[Problem, ...]
    indicators: tuple[IndicatorEntry, ...]
    documents: tuple[Document, ...]  # every document, or the newest INDEX_DOCUMENTS
    documents_total: int
    documents_href: str


PROBLEMS = (
    ("differs", "文件所述变化与前后两年数值不一致"),
    ("unchecked", "文件给出了变化，但缺少上年数值，无法核对"),
    ("ambiguous", "同一句中有多个候选数值，读数有歧义"),
    ("goals-open", "定了目标，但尚无当年结果"),
)


def _index_overview(con: duckdb.DuckDBPyConnection, plan: Plan) -> Overview:
    """The index from SQL: its lists sorted and cut in the warehouse, and only the rows shown assembled."""
    lists: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    totals: dict[str, int] = {}
    for name, org, indicator_id, year, total in con.execute(_sql("comparison_lists"), {"rows": INDEX_ROWS}).fetchall():
        lists[name].append((org, indicator_id, year))
        totals[name] = total
    compared = _assembled(con, [key for keys in lists.values() for key in keys])
    orgs = sorted({oy.org for oy in plan.org_years})
    capped = len(orgs) > INDEX_ORGS
    listed = set(orgs[:INDEX_ORGS])
    documents = plan.documents
    if len(documents) > INDEX_DOCUMENTS:  # the newest: what a reader of a nightly report looks for first
        documents = tuple(sorted(documents, key=lambda d: (d.period_year, d.published_on),
                                 reverse=True)[:INDEX_DOCUMENTS])  # stable: ties stay by organisation and title
    return Overview(
        run=plan.run, org_years=tuple(oy for oy in plan.org_years if oy.org in listed), orgs=len(orgs),
        orgs_href=ORGS_PAGE if capped else "", movers=tuple(compared[k] for k in lists["movers"]),
        problems=tuple(Problem(tuple(compared[k] for k in lists[name]), totals.get(name, 0), caption, name)
                       for name, caption in PROBLEMS),
        indicators=plan.indicators, documents=documents, documents_total=len(plan.documents),
        documents_href=DOCUMENTS_PAGE if len(plan.documents) > INDEX_DOCUMENTS else "",
    )


def _assembled(con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str, int],
                                                                                               Comparison]:
    """The comparisons at `keys`, from the rows of their organisations' indicators only."""
    if not keys:
        return {}
    scope = Scope(orgs=tuple(sorted({k[0] for k in keys})), indicators=tuple(sorted({k[1] for k in keys})))
    asm = Assembler(_load(con, scope, whole_documents=False))
    return {key: asm.comparison(key) for key in sorted(set(keys))}


# --------------------------------------------------------------------------- an indicator across many organisations


@dataclass(frozen=True, slots=True)
class SpreadYear:
    year: int
    orgs: int
    low: float  # the first quartile of the organisations' values
    median: float
    high: float  # the third quartile
    goal: float | None  # the median of the goals set for the year


@dataclass(frozen=True, slots=True)
class Spread:
    """An indicator across many organisations: the spread per year, charted, and each organisation's latest year."""

    chart: Chart
    unit: str
    years: tuple[SpreadYear, ...]
    orgs: int  # organisations with a value
    rows: Markup  # the table of each organisation's latest year, one row each, sorted by organisation


def _figure(value: float | None, high: object, qualifier: object, unit: str, doc_id: object, fact_id: object,
            root: str) -> str:
    """A figure linking to its sentence (the document page marks it under #f-<fact id>)."""
    if value is None:
        return "—"
    shown = _escape_text(amount(value, unit, _str(qualifier) or "exact", _float(high)))
    if doc_id is None:
        return shown
    anchor = f"#f-{int(fact_id)}" if fact_id is not None else ""  # type: ignore[call-overload]
    return f'<a class="src" href="{_escape_text(root)}{_escape_text(doc_href(_str(doc_id)))}{anchor}">{shown}</a>'


def _spreads(con: duckdb.DuckDBPyConnection, entries: Sequence[IndicatorEntry], root: str) -> dict[str, Spread]:
    """The spread pages' contents of some indicators from two queries, without assembling a comparison: the table's
    rows are written straight from the query's (a province's indicator has 1,500 of them)."""
    units = {e.indicator.indicator_id: e.indicator.unit for e in entries}
    scope = Scope(indicators=tuple(sorted(units)))
    years: dict[str, list[SpreadYear]] = defaultdict(list)
    for r in _scoped_rows(con, "indicator_spread", scope):
        years[_str(r["indicator_id"])].append(SpreadYear(
            _int(r["year"]) or 0, _int(r["orgs"]) or 0, _float(r["low"]) or 0.0, _float(r["median"]) or 0.0,
            _float(r["high"]) or 0.0, _float(r["goal"])))
    rows: dict[str, list[str]] = defaultdict(list)
    row_units: dict[str, str] = {}
    e = _escape_text
    cursor = _scoped(con, "indicator_latest", scope)
    for (indicator_id, org, year, first_year, value, prev_year, prev_value, change, change_pct, target, target_high,
         met, value_high, qualifier, unit, value_doc, value_fact, prev_high, prev_qualifier, prev_doc, prev_fact,
         target_qualifier, target_doc, target_fact) in cursor.fetchall():
        unit = units.get(indicator_id) or _str(unit)
        row_units.setdefault(indicator_id, unit)
        value, prev, goal = _float(value), _float(prev_value), _float(target)
        # the per-cent change of a rate misleads: a rate changes in points
        pct = None if unit in PERCENT_UNITS else _float(change_pct)
        change = _float(change)
        shown, sort = (signed_pct(pct), sort_key(pct)) if pct is not None else (signed_amount(change, unit),
                                                                                sort_key(change))
        gap = (f'<span class="meta">（{prev_year}）</span>' if prev is not None and prev_year
               and prev_year != year - 1 else "")
        span = str(year) if first_year == year else f"{first_year}–{year}"
        rows[indicator_id].append(
            f'<tr><th scope="row"><a href="{e(root)}{e(org_year_href(org, year))}">{e(org)}</a></th>'
            f'<td class="num" data-label="年份">{year}</td>'
            f'<td class="num value" data-label="数值" data-sort="{sort_key(value)}">'
            f'{_figure(value, value_high, qualifier, unit, value_doc, value_fact, root)}</td>'
            f'<td class="num prev{"" if prev is not None else " blank"}" data-label="上年" '
            f'data-sort="{sort_key(prev)}">'
            f'{_figure(prev, prev_high, prev_qualifier, unit, prev_doc, prev_fact, root)}{gap}</td>'
            f'<td class="num pct {direction_class(pct if pct is not None else change)}'
            f'{" blank" if change is None and pct is None else ""}" data-label="同比" data-sort="{sort}">'
            f'{e(shown)}</td>'
            f'<td class="num goal{"" if goal is not None else " blank"}" data-label="去年定的目标" '
            f'data-sort="{sort_key(goal)}">'
            f'{_figure(goal, target_high, target_qualifier, unit, target_doc, target_fact, root)}</td>'
            f'<td class="met{"" if goal is not None else " blank"}" data-label="目标完成">'
            f'{met_word(_bool(met)) if goal is not None else ""}</td>'
            f'<td class="num" data-label="有数据的年份">{span}</td></tr>\n')
    out: dict[str, Spread] = {}
    for entry in entries:
        ind = entry.indicator
        unit = ind.unit or row_units.get(ind.indicator_id, "")
        found = tuple(years.get(ind.indicator_id, ()))
        listed = rows.get(ind.indicator_id, [])
        out[ind.indicator_id] = Spread(spread_chart(found, ind.name, unit), unit, found, len(listed),
                                       Markup("".join(listed)))
    return out



# --------------------------------------------------------------------------- rendering chunks in forked workers


PARALLEL_FROM = 400  # pages; below this forking costs more than it saves
MAX_WORKERS = 4
# the fewest units per chunk: organisations (~7 year pages each), documents, indicators (charted one by one per
# organisation), indicators of many organisations (two queries for all the chunk's indicators)
ORG_CHUNK, DOC_CHUNK, INDICATOR_CHUNK, SPREAD_CHUNK = 60, 200, 8, 26
CHUNKS_PER_WORKER = 6
# inherited by forked workers (nothing of the plan is pickled): the plan and the warehouse file to read
_PLAN: Plan | None = None
_SOURCE: Path | None = None
_DERIVED: Path | None = None
_CON: duckdb.DuckDBPyConnection | None = None


def _worker_connection(source: Path, derived: Path | None) -> duckdb.DuckDBPyConnection:
    """A worker's own connection: the warehouse and the derived tables, both read-only, one thread."""
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute(f"attach {_quoted(source)} as {WAREHOUSE_ALIAS} (read_only)")
    con.execute(f"use {WAREHOUSE_ALIAS}")
    if derived is not None:
        con.execute(f"attach {_quoted(derived)} as derived (read_only)")
        con.execute(f"set search_path = 'derived.main,{WAREHOUSE_ALIAS}.main'")
    con.execute("set threads = 1")  # one worker per core already
    return con


def _chunks(todo: Sequence[PagePlan], workers: int) -> list[Chunk]:
    """The pages to render, grouped by what they read: the index, some indicators, some organisations, some
    documents. Each chunk runs a few queries that scan the warehouse's tables (~0.1 s each at 10,000 documents), so
    a full render makes about CHUNKS_PER_WORKER chunks of each kind per worker, and a night that changed a few
    organisations makes small ones. The slowest come first, so the workers finish together."""
    units: dict[PageKind, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for page in todo:
        units[page.kind][page.unit].add(page.rel)
    chunks: list[Chunk] = []
    if "index" in units:
        chunks.append(("index", (), frozenset({"index.html"})))
    smallest: tuple[tuple[PageKind, int], ...] = (
        ("spread", SPREAD_CHUNK), ("list", 1), ("indicator", INDICATOR_CHUNK), ("org", ORG_CHUNK),
        ("document", DOC_CHUNK))
    for kind, least in smallest:
        names = sorted(units[kind])
        size = max(least, math.ceil(len(names) / (workers * CHUNKS_PER_WORKER)))
        for start in range(0, len(names), size):
            group = tuple(names[start:start + size])
            chunks.append((kind, group, frozenset().union(*(units[kind][n] for n in group))))
    return chunks


def _chunk_pages(chunk: Chunk) -> tuple[list[tuple[str, bytes]], Overview | None]:
    """Render one chunk from the warehouse: its pages' bytes, and the index's contents for the index chunk."""
    global _CON
    assert _PLAN is not None and _SOURCE is not None
    if _CON is None:
        _CON = _worker_connection(_SOURCE, _DERIVED)
    kind, units, wanted = chunk
    overview = None
    if kind == "index":
        overview = _index_overview(_CON, _PLAN)
        pages: list[PageOut] = [("index.html", "index.html", {"site": overview, "root": "", "generation": ""})]
    elif kind == "list":
        pages = _list_pages(_PLAN, units)
    elif kind == "org":
        pages = _org_year_pages(_CON, units, wanted)
    elif kind == "indicator":
        pages = _indicator_pages(_CON, _PLAN, units, wanted)
    elif kind == "spread":
        pages = _spread_pages(_CON, _PLAN, units, wanted)
    else:
        pages = _document_pages(_CON, units, wanted)
    env = environment()
    return [(rel, env.get_template(template).render(**context).encode("utf-8"))
            for rel, template, context in pages], overview


def _close_worker_connection() -> None:
    global _CON
    if _CON is not None:
        _CON.close()
        _CON = None


@dataclass(frozen=True, slots=True)
class Written:
    """What a chunk left in the new generation's folder: the pages written (to be made durable) and linked (the same
    bytes as the current generation's page, which keeps its file and mtime), and the index's bytes and contents."""

    written: tuple[str, ...]
    linked: int
    index: bytes | None
    overview: Overview | None


# set before forking, inherited by the workers: where the pages go and the generation they may be the same as
_TARGET: str | None = None
_PREVIOUS: str | None = None


def _chunk_write(chunk: Chunk) -> Written:
    """Render one chunk and write its pages into the new generation's folder, in the process that rendered them:
    a province's 800 MB of pages never cross a pipe, and the parent is free to link the unchanged pages meanwhile.
    A page whose bytes equal the current generation's is a hard link to that file instead (same bytes, old mtime)."""
    assert _TARGET is not None
    pages, overview = _chunk_pages(chunk)
    written: list[str] = []
    linked = 0
    index = None
    for rel, data in pages:
        target = os.path.join(_TARGET, rel)
        if rel == "index.html":
            index = data
        elif _PREVIOUS is not None and _same_bytes(Path(_PREVIOUS, rel), data):
            try:
                os.link(os.path.join(_PREVIOUS, rel), target)
                linked += 1
                continue
            except OSError:
                pass  # gone meanwhile, or links refused: written below
        with open(target, "wb") as handle:
            handle.write(data)
        written.append(rel)
    return Written(tuple(written), linked, index, overview)


def _render_chunks(plan: Plan, source: Path, derived: Path | None, todo: Sequence[PagePlan], target: Path,
                   previous: Path | None, meanwhile: Callable[[], None]) -> Iterator[Written]:
    """The chunks of `todo` rendered and written into `target`, in the order they finish; `meanwhile` runs in this
    process while the workers render (or first, when there are none).

    Rendering is CPU-bound, so a large report is rendered by one forked worker per core, each reading its chunks
    from its own read-only connection and writing their pages; the parent learns only their names. Chunks arrive
    one by one, so a report of any size never holds more than a few pages in memory.
    """
    global _PLAN, _SOURCE, _DERIVED, _TARGET, _PREVIOUS
    workers = min(len(os.sched_getaffinity(0)), MAX_WORKERS) if len(todo) >= PARALLEL_FROM else 1
    chunks = _chunks(todo, workers)
    _PLAN, _SOURCE, _DERIVED = plan, source, derived
    _TARGET, _PREVIOUS = str(target), None if previous is None else str(previous)
    try:
        if workers <= 1:
            meanwhile()
            with _progress(len(todo)) as advance:
                for chunk in chunks:
                    done = _chunk_write(chunk)
                    yield done
                    advance(len(done.written) + done.linked)
            return
        for template in ("index.html", "org_year.html", "indicator.html", "document.html", "orgs.html",
                         "documents.html"):
            environment().get_template(template)  # compiled once here, inherited compiled by every worker
        # the plan and everything else inherited stays out of the workers' garbage collections (each full one walked
        # all of it) and their pages are not copied on write by the collector touching them; a worker's own garbage
        # is almost all freed by reference counting, so it collects seldom (GC_THRESHOLD)
        gc.freeze()
        # forked before the progress bar starts its thread: a child never inherits a lock held by it
        with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_gc) as pool:
            results = pool.imap_unordered(_chunk_write, chunks)  # the workers start at once
            meanwhile()
            with _progress(len(todo)) as advance:
                for done in results:
                    yield done
                    advance(len(done.written) + done.linked)
    finally:
        gc.unfreeze()
        _close_worker_connection()
        _PLAN, _SOURCE, _DERIVED, _TARGET, _PREVIOUS = None, None, None, None, None


GC_THRESHOLD = (50_000, 20, 20)  # a worker's collections: after 50,000 new objects, not the default 700


def _worker_gc() -> None:
    if GC_THRESHOLD:
        gc.set_threshold(*GC_THRESHOLD)


def current_generation(reports: Path) -> Path | None:
    """The generation folder reports/index.html points to, or None when there is none."""
    try:
        head = (reports / "index.html").read_bytes()[:4096].decode("utf-8", "replace")
    except OSError:
        return None
    found = GENERATION_META.search(head)
    return reports / GENERATIONS / found.group(1) if found else None


def render_html(plan: Plan, reports: Path, source: Path, derived: Path | None = None) -> list[Path]:
    """Write a whole generation beside the old one, then switch reports/index.html to it in one os.replace.

    At every instant reports/index.html links into one complete generation. The pages of a new one are written into
    a hidden temp folder (a page whose key did not change is a hard link to the current generation's file, neither
    read nor rendered), fsynced, and the folder is renamed to g/<generation> — a hash of every page's key and of the
    index, the line naming the run left out — before the index names it. Older generations and temp folders of
    killed runs are deleted only after the switch. The same data gives the same folder, whatever run loaded it: a
    night that changed nothing drops its temp folder of links and rewrites one line of one page.

    Why not a symlink swap (reports/current -> g/<generation>): with stable page paths every click resolves through
    the link at click time, so a reader who opened the old index and clicks after the swap mixes generations; and a
    report that is a plain folder of files survives copying, zipping, file shares and web servers that refuse
    symlinks. The price: a deep link into g/<generation>/ lives as long as its data (reports/index.html is the
    stable address), and a page left open across a swap finds its old generation deleted — reloading the index helps.
    """
    base = reports / GENERATIONS
    tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=base))
    os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the published pages from a web server's user
    try:
        gen, index, overview, stored = _write_generation(plan, tmp, current_generation(reports), source, derived)
        _write_hidden(tmp, INPUTS_NAME, stored)
        folder = base / gen
        if folder.is_dir():
            shutil.rmtree(tmp)
            write_atomic(folder / "index.html", index)
            write_atomic(folder / INPUTS_NAME, stored)
        else:
            os.rename(tmp, folder)
            _fsync_dir(base)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    top = environment().get_template("index.html").render(site=overview, root=f"{GENERATIONS}/{gen}/",
                                                          generation=gen)
    write_atomic(reports / "index.html", top)  # the switch
    _fsync_dir(reports)
    _remove_stale(reports, keep=folder)
    return [reports / "index.html", *(folder / page.rel for page in sorted(plan.pages, key=lambda p: p.rel))]


def _write_hidden(folder: Path, name: str, text: str) -> None:
    """The fingerprints the generation was made from, beside its pages (hidden: no reader's file)."""
    with open(folder / name, "w", encoding="ascii") as handle:
        handle.write(text)
        os.fsync(handle.fileno())
    _fsync_dir(folder)


@dataclass(frozen=True, slots=True)
class RenderCount:
    """How the last HTML report was made: pages rendered by Jinja, and pages reused unrendered."""

    rendered: int
    reused: int


LAST_RENDER = RenderCount(0, 0)


@cache
def _code_key() -> str:
    """What turns the warehouse's rows into bytes: the templates, the queries, this module and the template engine."""
    digest = hashlib.sha256(f"jinja2 {jinja2.__version__}\n".encode())
    for path in sorted([*TEMPLATES.iterdir(), *SQL_DIR.iterdir()]):
        digest.update(f"{path.parent.name}/{path.name}:{path.stat().st_size}:".encode() + path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def _read_page_keys(previous: Path | None) -> dict[str, str]:
    """The page keys of the current generation, or nothing when they were made by other code (or are missing)."""
    if previous is None:
        return {}
    try:
        lines = (previous / INPUTS_NAME).read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    # line 1 is the whole report's fingerprint, line 2 names the code the page keys were made with
    if len(lines) < 2 or lines[1] != f"code {_code_key()}":
        return {}
    keys: dict[str, str] = {}
    for line in lines[2:]:
        key, _, rel = line.partition(" ")
        keys[rel] = key
    return keys


def _write_generation(plan: Plan, tmp: Path, previous: Path | None, source: Path,
                      derived: Path | None) -> tuple[str, bytes, Overview, str]:
    """Every page into `tmp`, fsynced; returns the generation's name, its index page and contents, and the keys to
    store beside the pages.

    A page whose key equals the current generation's is not rendered: its file there is hard-linked. Every other
    page is rendered; the index always is (it names the run).
    """
    global LAST_RENDER
    known = _read_page_keys(previous)
    reuse = [page.rel for page in plan.pages if page.kind != "index" and previous is not None
             and known.get(page.rel) == page.key]
    reused = set(reuse)
    # every folder first, in this process: workers and links then only create files
    folders = {tmp}
    for page in plan.pages:
        folder = (tmp / page.rel).parent
        if folder not in folders:
            folder.mkdir(parents=True, exist_ok=True)
            folders.add(folder)
    late: list[PagePlan] = []

    def link_unchanged() -> None:
        """An unchanged page is shared with the current generation (it keeps its mtime): linked while the workers
        render the others. Strings, not Paths: a province's night links 20,000 pages."""
        old, new = str(previous), str(tmp)
        for rel in reuse:
            try:
                os.link(os.path.join(old, rel), os.path.join(new, rel))
            except OSError:
                late.append(by_rel[rel])  # gone meanwhile, or links refused here: rendered after all

    by_rel = {page.rel: page for page in plan.pages}
    todo = [page for page in plan.pages if page.rel not in reused]
    index, overview, fresh = b"", None, 0
    # a few pages are fsynced by threads while the next are written (one at a time took 1.4 ms a page here); many
    # are made durable by one syncfs of the file system at the end instead: 21,000 fsyncs cost ~8 CPU s of the
    # parent, on the two cores the workers render with, and one syncfs ~1.5 s.
    whole = len(todo) >= SYNCFS_FROM and _syncfs_available()
    written: list[Path] = []
    with ThreadPoolExecutor(max_workers=FSYNC_THREADS) as syncer:
        synced: list[Future[None]] = []

        def collect(done: Written) -> None:
            nonlocal fresh, index, overview
            fresh += len(done.written) + done.linked
            index = done.index if done.index is not None else index
            overview = overview or done.overview
            paths = [tmp / rel for rel in done.written]
            if whole:
                written.extend(paths)
            else:
                synced.extend(syncer.submit(_fsync_file, path) for path in paths)

        for done in _render_chunks(plan, source, derived, todo, tmp, previous, link_unchanged):
            collect(done)
        if late:  # rare: pages the current generation lost while this one was made
            for done in _render_chunks(plan, source, derived, late, tmp, previous, lambda: None):
                collect(done)
        if whole and not _syncfs(tmp):  # refused after all: each page on its own, as below
            synced += [syncer.submit(_fsync_file, target) for target in written]
        for future in synced:
            future.result()
    for path in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        _fsync_dir(path)
    assert overview is not None  # the index is always rendered
    LAST_RENDER = RenderCount(fresh, len(plan.pages) - fresh)
    digest = hashlib.sha256()
    for page in plan.pages:
        shown = hashlib.sha256(_unstamped(overview, index)).hexdigest() if page.kind == "index" else page.key
        digest.update(f"{page.rel}\0{shown}\n".encode())
    stored = "".join(f"{page.key} {page.rel}\n" for page in plan.pages if page.kind != "index")
    return digest.hexdigest()[:16], index, overview, f"{plan.inputs}\ncode {_code_key()}\n{stored}"


def _unstamped(overview: Overview, index: bytes) -> bytes:
    """The index as the generation's name sees it: without the line naming the run, which changes every night while
    the data need not. That line is swapped for the one of no run (the index shows the run nowhere else), which
    costs a regular expression instead of rendering the index a second time; rendered when it cannot be swapped."""
    line = environment().get_template("_run.html").render(run=None)
    swapped, count = RUN_LINE.subn(lambda _m: line, index.decode("utf-8"), count=1)
    if count == 1 and RUN_LINE.fullmatch(line):
        return swapped.encode("utf-8")
    return environment().get_template("index.html").render(
        site=dataclasses.replace(overview, run=None), root="", generation="").encode("utf-8")


def _first_line(path: Path) -> str | None:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.readline().rstrip("\n")
    except (OSError, UnicodeDecodeError):
        return None


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


FSYNC_THREADS = 8
SYNCFS_FROM = 1000  # pages written; below this, one fsync each costs less than flushing the whole file system


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to load
        return None


def _syncfs_available() -> bool:
    libc = _libc()
    return libc is not None and hasattr(libc, "syncfs")


def _syncfs(folder: Path) -> bool:
    """Everything written to the file system holding `folder` made durable (Linux's syncfs); False if refused."""
    libc = _libc()
    if libc is None or not hasattr(libc, "syncfs"):
        return False
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        return int(libc.syncfs(fd)) == 0
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in a folder durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _reports_lock(reports: Path) -> Iterator[None]:
    """One writer of a reports folder at a time: a second `tongbi report` waits instead of deleting the first's work."""
    reports.mkdir(parents=True, exist_ok=True)
    with open(reports / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _remove_stale(reports: Path, keep: Path) -> None:
    """After the switch: older generations, temp folders of killed runs, and pages of the pre-generation layout."""
    for path in sorted((reports / GENERATIONS).iterdir()):
        ours = path.name.startswith(TEMP_PREFIX) or GENERATION_NAME.fullmatch(path.name)
        if path != keep and path.is_dir() and ours:
            shutil.rmtree(path, ignore_errors=True)
    for folder in LEGACY_DIRS:
        for page in sorted((reports / folder).glob("*.html")):
            page.unlink()
        with contextlib.suppress(OSError):
            (reports / folder).rmdir()
    for leftover in sorted(reports.glob(".*.tmp")):
        leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; nothing at all under cron or in a pipe."""
    if not sys.stderr.isatty():
        yield lambda _pages: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("reports"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("pages", total=total)
        yield lambda pages: bar.advance(task, pages)


def render_markdown(site: Site, reports: Path) -> list[Path]:
    text = environment().get_template("report.md").render(site=site)
    path = write_atomic(reports / "report.md", text)
    _fsync_dir(reports)
    return [path]


def write_reports(warehouse: Path, reports: Path, *, fmt: Format = "html") -> list[Path]:
    """Read the warehouse (read-only) and write the reports; returns the files of the report."""
    if fmt not in ("html", "md"):
        raise UsageError(f"unknown report format {fmt!r}: use --format html or --format md.")
    global LAST_RENDER
    LAST_RENDER = RenderCount(0, 0)
    try:
        if fmt == "md":
            with _connect(warehouse) as con:
                site = build_site(_load(con))
            return render_markdown(site, reports)
        with _reports_lock(reports):
            (reports / GENERATIONS).mkdir(parents=True, exist_ok=True)
            with _pinned(warehouse, reports / GENERATIONS) as (source, scratch):
                derived = scratch / "derived.duckdb"
                with _connect(source, shown=warehouse) as con:
                    _derive(con, derived)  # first: the page keys read yoy and goals too
                    digests = _digests(con)
                    inputs = _inputs(digests)
                    if (done := _refresh_run_line(reports, inputs, _latest_run(con))) is not None:
                        return done
                    plan = plan_site(con, digests, inputs)
                # the planning connection closed before forking: a worker opens its own
                try:
                    return render_html(plan, reports, source, derived)
                except duckdb.Error as error:
                    raise StorageError(f"{warehouse}: the report could not read it ({error}).") from error
    except OSError as error:
        raise StorageError(
            f"{reports}: the reports could not be written ({error.strerror or error}). "
            "Check that the folder is writable and the disk has room, or pass --reports DIR."
        ) from error


@contextlib.contextmanager
def _pinned(warehouse: Path, base: Path) -> Iterator[tuple[Path, Path]]:
    """The warehouse as it is now, for the whole render: a hard link in a hidden temp folder of the reports.

    The planning connection and every worker's read the same file even if a run publishes a new warehouse meanwhile
    (publishing replaces the file, so the link keeps the old one), and the page keys stored match the pages. Where
    a link cannot be made (another file system) or a write-ahead log sits beside the file, the path itself is read.
    Yields the file to read and the temp folder (for the derived tables), both deleted at the end."""
    if not warehouse.is_file():
        raise StorageError(
            f"{warehouse}: the warehouse does not exist. Run `tongbi run` first, or pass --warehouse FILE.")
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=base))
    source = warehouse
    try:
        if not Path(f"{warehouse}.wal").exists():
            with contextlib.suppress(OSError):
                os.link(warehouse, folder / warehouse.name)
                source = folder / warehouse.name
        yield source, folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _refresh_run_line(reports: Path, inputs: str, run: Run | None) -> list[Path] | None:
    """When the published generation was made from these very inputs, only the line naming the run can differ:
    rewrite it in the two index pages and return the report's files; None when the pages must be rendered (called
    under the reports lock)."""
    folder = current_generation(reports)
    if folder is None or _first_line(folder / INPUTS_NAME) != inputs:
        return None
    line = environment().get_template("_run.html").render(run=run)
    for index in (folder / "index.html", reports / "index.html"):
        old = index.read_text(encoding="utf-8")
        new, count = RUN_LINE.subn(lambda _m: line, old, count=1)
        if count != 1:
            return None
        write_atomic(index, new)
    _remove_stale(reports, keep=folder)
    return [reports / "index.html", *sorted(folder.rglob("*.html"), key=lambda p: p.relative_to(folder).as_posix())]
