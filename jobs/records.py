"""The frozen records that pass between stages: Document → Fact → Observation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Qualifier = Literal["exact", "about", "at_least", "at_most", "range"]
QUALIFIERS: tuple[Qualifier, ...] = ("exact", "about", "at_least", "at_most", "range")

# actual: a result for the year; target: a goal for the year; derived: computed from other figures
# of the same document (e.g. last year's level = this year's level − the stated increase);
# change / change_pct: a change the document states for the year (absolute, or in per cent).
Basis = Literal["actual", "target", "derived", "change", "change_pct"]
BASES: tuple[Basis, ...] = ("actual", "target", "derived", "change", "change_pct")


@dataclass(frozen=True, slots=True)
class Document:
    """One yearly summary, decoded and normalised; knows nothing of indicators."""

    doc_id: str  # 16 hex digits of sha256 over the normalised text less white space: same content, same id
    source_file: str  # path as found (relative to the inbox where possible)
    sha256: str  # of the normalised text
    text: str  # the normalised text; every char_start/char_end points into it
    org: str  # canonical organisation name (aliases resolved)
    title: str
    kind: str  # 工作总结, 工作要点, 政府工作报告, …
    period_year: int  # the year the document reviews
    published_on: date | None = None
    doc_number: str | None = None  # 新教发〔2023〕1号
    encoding: str = "utf-8"  # how the bytes were decoded (utf-8, utf-8-sig, gb18030, utf-16, docx, html)
    warnings: tuple[str, ...] = ()  # things a user should know but that did not stop the load

    @property
    def chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True, slots=True)
class Fact:
    """One quantity in the text, with its span. Values are in base units (万元 → 元)."""

    value: float
    unit: str  # the unit as the text counts it: 个 所 人 元 吨 % 百分点 …; "" for a bare count
    raw: str  # text[char_start:char_end]
    qualifier: Qualifier
    value_high: float | None  # upper end of a range; None otherwise
    char_start: int
    char_end: int
    sentence: str  # the sentence that holds it
    section: str  # the heading path, e.g. "一、突出党建为基… › 1.赓续初心铸忠诚"
    flags: tuple[str, ...] = ()  # e.g. "ambiguous_unit" (投资2亿万元), "odd_counter" (14个家)
    sentence_start: int = 0  # offset of `sentence` in the document text


@dataclass(frozen=True, slots=True)
class Observation:
    """A fact read as the value of a catalog indicator for an organisation and year."""

    org: str
    indicator_id: str
    year: int
    basis: Basis
    value: float
    value_high: float | None
    qualifier: Qualifier
    unit: str  # the indicator's unit; value is converted to it
    doc_id: str
    fact_id: int | None  # index into the document's facts; None for a derived value
    quote: str  # the sentence it came from
    flags: tuple[str, ...] = ()  # "ambiguous" (several candidates), "approximate", …
    note: str = ""  # how a derived value was derived, or why a flag was raised
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class KindRule:
    """How to read one kind of document (schemas/documents/kinds.toml): data, not code."""

    kind: str  # 工作总结, 工作要点, 政府工作报告, …
    markers: tuple[str, ...]  # any of these in the title or opening lines identifies the kind
    year_patterns: tuple[str, ...]  # regexes with a named group `year` finding the reviewed year, in order
    filename_year_offset: int  # period_year = year in the file name + this (政府工作报告: −1)
    default_basis: Basis  # what a plain figure is: "actual" in a review, "target" in a plan
    target_year_offset: int  # goals stated in the document are for period_year + this (usually 1)
