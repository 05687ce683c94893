"""Inbox file → Document: strict decoding, normalisation that keeps the meaning, metadata."""

from __future__ import annotations

import re

# Invisible characters that word processors and web pages leave inside words and numbers.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"

# Full-width digits and ％ (and the separators that mean a line break) to ASCII. Applied only to the
# runs that need it: str.translate over a whole document is several times slower than a regex scan.
_FULLWIDTH_TABLE: dict[int, int] = {
    **{0xFF10 + i: ord("0") + i for i in range(10)},
    0xFF05: ord("%"),
    0x2028: ord("\n"),
    0x2029: ord("\n"),
}
_FULLWIDTH = re.compile("[\uff10-\uff19\uff05\u2028\u2029]+")
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]+")
_FULLWIDTH_POINT = re.compile("(?<=[0-9])[．](?=[0-9])")
_LINE_ENDINGS = re.compile(r"\r\n?")

_BLANKS = " \t\u3000\u00a0"
_BLANKS_AND_BREAKS = _BLANKS + "\n"
_GAP = f"[{_BLANKS}]"
# Characters that end a sentence or clause: a line break after them is a real break.
_CLAUSE_END = "。！？；：…!?;:”’）)》】"
# A run of zero-width characters with the blanks and line breaks after it. Matching starts at the
# (rare) zero-width character so the scan stays linear even over long runs of blank lines.
_ZW_SPAN = re.compile(f"[{ZERO_WIDTH}][{ZERO_WIDTH}{_BLANKS}\\n]*")
# The first character of a unit, magnitude or modifier that follows a number: a number split from
# it by blanks or line breaks is rejoined ("74.4\n万亿元", "6.7 %").
_UNIT_START = (
    "%‰℃万亿千百十元角个人名所家项次件台辆吨米里亩公平立方余多年月日天时分秒户倍岁周期届批份"
    "册座条张本部间套只头匹架艘口场支篇层处栋宗笔克斤升度瓦兆位例床校园班"
)
# [0-9] rather than \d: the regex engine scans a plain range several times faster.
_NUMBER_GAP = re.compile(f"([0-9])(?:{_GAP}|\\n)+(?=[{_UNIT_START}])")
# A subscript lost in conversion puts its digits on a line of their own: "M\n2\n增长", "PM\n2.5\n）".
_SUBSCRIPT = re.compile(r"([A-Za-z])\n([0-9]+(?:\.[0-9]+)?)\n(?=\S)")


def _drop_zero_width(text: str) -> str:
    """Remove zero-width characters; rejoin a line broken at one when the line does not end a clause.

    Converted pages show a page break as "\\n<zero-width>\\n", often inside a word or between a
    number and its unit ("74.4" / U+200B / "万亿元"): the two halves are one.
    """
    pieces: list[str] = []
    done = 0
    for match in _ZW_SPAN.finditer(text):
        left = match.start()
        while left > done and text[left - 1] in _BLANKS_AND_BREAKS:
            left -= 1
        gap = text[left : match.end()]
        before = text[left - 1] if left else "\n"
        artifact = "\n" in gap and match.end() < len(text)
        artifact = artifact and before not in _CLAUSE_END and not before.isspace()
        pieces += (text[done:left], "" if artifact else _ZERO_WIDTH.sub("", gap))
        done = match.end()
    pieces.append(text[done:])
    return "".join(pieces)


def _to_ascii(match: re.Match[str]) -> str:
    return match.group().translate(_FULLWIDTH_TABLE)


def normalise(text: str) -> str:
    """The text as it reads, with the invisible and full-width noise taken out.

    Full-width digits, ％ and decimal points become ASCII, zero-width characters go, a number split
    from its unit is rejoined, line endings become "\\n". Chinese punctuation stays as it is.
    """
    if "\r" in text:
        text = _LINE_ENDINGS.sub("\n", text)
    if _ZERO_WIDTH.search(text):
        text = _drop_zero_width(text)
    text = _FULLWIDTH.sub(_to_ascii, text)
    if "．" in text:
        text = _FULLWIDTH_POINT.sub(".", text)
    text = _SUBSCRIPT.sub(r"\1\2", text)
    return _NUMBER_GAP.sub(r"\1", text)
