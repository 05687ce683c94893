"""Inbox file → Document: strict decoding, normalisation that keeps the meaning, metadata."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph
from selectolax.lexbor import LexborHTMLParser

from jobs.doctypes import DocConfig
from jobs.errors import DocumentError
from jobs.records import Document, KindRule

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
# `ch in text` runs at memory speed; a regex scan for a class of wide characters does not
_FULLWIDTH_CHARS = tuple(chr(c) for c in _FULLWIDTH_TABLE)
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
# One pattern per character a gap can start with, each checking the digit behind it: a pattern starting with one
# character is found several times faster than one starting with a class of characters (digits are everywhere).
_NUMBER_GAPS = tuple(
    re.compile(f"{re.escape(blank)}(?<=[0-9]{re.escape(blank)})(?:{_GAP}|\\n)*(?=[{_UNIT_START}])")
    for blank in _BLANKS_AND_BREAKS
)
# A subscript lost in conversion puts its digits on a line of their own: "M\n2\n增长", "PM\n2.5\n）".
# The pattern starts with its literal line break (fast to find); the letter before it is checked in _join_subscript.
_SUBSCRIPT = re.compile(r"\n([0-9]+(?:\.[0-9]+)?)\n(?=\S)")


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


def _join_subscript(match: re.Match[str]) -> str:
    start = match.start()
    before = match.string[start - 1] if start else ""
    return match.group(1) if before.isascii() and before.isalpha() else match.group()


def _to_ascii(match: re.Match[str]) -> str:
    return match.group().translate(_FULLWIDTH_TABLE)


def normalise(text: str) -> str:
    """The text as it reads, with the invisible and full-width noise taken out.

    Full-width digits, ％ and decimal points become ASCII, zero-width characters go, a number split
    from its unit is rejoined, line endings become "\\n". Chinese punctuation stays as it is.
    """
    if "\r" in text:
        text = _LINE_ENDINGS.sub("\n", text)
    if any(ch in text for ch in ZERO_WIDTH):
        text = _drop_zero_width(text)
    if any(ch in text for ch in _FULLWIDTH_CHARS):
        text = _FULLWIDTH.sub(_to_ascii, text)
    if "．" in text:
        text = _FULLWIDTH_POINT.sub(".", text)
    text = _SUBSCRIPT.sub(_join_subscript, text)
    for gap in _NUMBER_GAPS:  # the gaps start with different characters, so removing one never makes another
        text = gap.sub("", text)
    return text


# ---------------------------------------------------------------------------------------------
# Bounds. A document is a few hundred KB; these stop a hostile or mistaken file from eating the
# machine. Measured: reading a 20 MB text file (the limit) takes ~0.6 s and ~75 MB above the process
# baseline; a file over a limit is refused from its size (or a .docx from its zip directory) unread.
# For .docx, python-docx's XML tree costs ~12× the XML: 30 MB of XML peaked at 380 MB, so the XML is
# limited to 16 MB (~200 MB peak; a 100-page report has 1-3 MB).
# ---------------------------------------------------------------------------------------------
MAX_TEXT_BYTES = 20 * 1024 * 1024  # a .txt or .html file larger than this is rejected unread
MAX_DOCX_BYTES = 50 * 1024 * 1024  # a .docx (zip) file larger than this is rejected unread
MAX_DOCX_EXPANDED_BYTES = 128 * 1024 * 1024  # sum of the uncompressed sizes of all entries
MAX_DOCX_XML_BYTES = 16 * 1024 * 1024  # sum of the uncompressed sizes of its XML parts (parsed by lxml)
MAX_DOCX_RATIO = 100  # uncompressed / compressed over the whole archive; real .docx files are ~3-10
MAX_DOCX_ENTRIES = 10_000
LONG_LINE_CHARS = 100_000  # a longer line is read, with a warning: sentence splitting will suffer

SUFFIXES = (".txt", ".docx", ".html", ".htm")


# ---------------------------------------------------------------------------------------------
# Strict decoding: UTF-8 (BOM or not), UTF-16 with a BOM, then GB18030 (a superset of GBK and
# GB2312). GB18030 maps almost any byte sequence to some character, so its result is accepted only
# when it looks like text and no part of the file is UTF-8 (a file that switches encoding halfway).
# ---------------------------------------------------------------------------------------------
_RESAVE = "Open it in an editor and save it as UTF-8 text"
# C0 controls other than tab, line feed, form feed and carriage return (NUL included), and DEL.
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
# The same as bytes: in UTF-8 each is one byte, never part of another character's bytes, and bytes.translate
# finds one about twice as fast as the regex scans the decoded text.
_CONTROL_BYTES = bytes(code for code in range(128) if _CONTROL.match(chr(code)))
# What Chinese text in GB18030 is made of: ASCII, CJK ideographs and punctuation, full-width forms,
# general punctuation, Latin-1 signs (·×÷°), box drawing, Roman numerals and circled numbers. A few
# other characters are tolerated (a name in Greek, a symbol): the share, not one character, decides.
_UNCOMMON = re.compile(
    "[^\t\n\f\r\x20-\x7e\u00a0-\u00ff\u2000-\u206f\u2100-\u24ff\u2500-\u257f\u25a0-\u26ff"
    "\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3200-\u32ff\u3400-\u4dbf\u4e00-\u9fff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003134f]"  # CJK extensions B–G (rare characters in names)
)
_MAX_UNCOMMON_SHARE = 0.01
_UTF8_EVIDENCE_CHARS = 6  # a line this rich in valid multi-byte UTF-8 is UTF-8, not GBK by chance
_UTF8_SHARE = 0.1  # CJK characters per UTF-8 error above which a file is UTF-8 (GBK text: ~0.01)
_CJK = re.compile("[\u4e00-\u9fff]")


def decode(data: bytes, path: Path | str) -> tuple[str, str]:
    """The text of a file's bytes and the encoding that read it; DocumentError when none does cleanly."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _checked(_strict(data[3:], "utf-8", path), path), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _checked(_strict(data, "utf-16", path), path), "utf-16"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        utf8_error = error
    else:
        clean = len(data.translate(None, _CONTROL_BYTES)) == len(data)
        return (text if clean else _checked(text, path)), "utf-8"
    if b"\x00" in data:
        raise _binary(path, data.index(b"\x00"), data)
    _refuse_mixed(data, utf8_error, path)
    text = _checked(_strict(data, "gb18030", path), path)
    uncommon = len(_UNCOMMON.findall(text))
    if uncommon > _MAX_UNCOMMON_SHARE * len(text) + 2:
        raise DocumentError(
            path, f"is not UTF-8 (bad byte at {_where(data, utf8_error.start)}), and read as GB18030 "
            f"{uncommon} of its {len(text)} characters are not Chinese text (binary data, or another encoding)",
            _RESAVE,
        )
    return text, "gb18030"


def _strict(data: bytes, encoding: str, path: Path | str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise DocumentError(
            path, f"is not valid {encoding.upper()}: bad byte at {_where(data, error.start)}", _RESAVE
        ) from error


def _checked(text: str, path: Path | str) -> str:
    control = _CONTROL.search(text)
    if control:
        raise _binary(path, control.start(), text)
    return text


def _binary(path: Path | str, at: int, content: bytes | str) -> DocumentError:
    return DocumentError(
        path, f"contains NUL or control characters ({_where(content, at)}): it looks like a binary file, "
        "or UTF-16 without a byte-order mark",
        "Give tongbi the document as .txt (UTF-8), .docx or .html",
    )


def _where(content: bytes | str, at: int) -> str:
    breaks = content.count(b"\n", 0, at) if isinstance(content, bytes) else content.count("\n", 0, at)
    return f"line {breaks + 1}, offset {at}"


def _refuse_mixed(data: bytes, utf8_error: UnicodeDecodeError, path: Path | str) -> None:
    """Refuse a file that is partly UTF-8: read as GB18030 its UTF-8 part would become wrong characters.

    Evidence is a line that decodes as UTF-8 with many multi-byte characters, or, over the whole file,
    many CJK characters decoding as UTF-8 next to few errors (GBK text yields ~1 per 100 errors).
    """
    for number, line in enumerate(data.split(b"\n"), start=1):
        if max(line, default=0) < 0x80:
            continue
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if sum(ord(c) > 0x7F for c in decoded) >= _UTF8_EVIDENCE_CHARS:
            raise DocumentError(
                path, f"switches encoding: line {number} is UTF-8 but {_where(data, utf8_error.start)} is not",
                f"{_RESAVE}, checking the text around that line (it was probably pasted from another file)",
            )
    as_utf8 = data.decode("utf-8", errors="replace")
    errors, cjk = as_utf8.count("\ufffd"), len(_CJK.findall(as_utf8))
    if cjk >= _UTF8_EVIDENCE_CHARS and cjk >= _UTF8_SHARE * errors:
        raise DocumentError(
            path, f"is UTF-8 with {errors} damaged or foreign bytes (the first at {_where(data, utf8_error.start)})",
            f"{_RESAVE}, checking the text around that line",
        )


# ---------------------------------------------------------------------------------------------
# Files: the inbox listing, bounds, and the three formats.
# ---------------------------------------------------------------------------------------------
def iter_inbox(inbox: Path) -> list[Path]:
    """Every document file under the inbox, sorted; hidden and editor temp files are left out.

    Symbolic links are listed wherever they point, so that `read_document` can refuse the ones that
    leave the inbox and the run can report them instead of skipping them silently; a linked folder
    that leaves the inbox is listed itself, for the same reason (one inside it is not walked twice).
    """
    inbox = Path(inbox)
    root = inbox.resolve()
    found: list[Path] = []
    for folder, dirs, files in os.walk(inbox):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in dirs:
            linked = Path(folder) / name
            if linked.is_symlink() and not linked.resolve().is_relative_to(root):
                found.append(linked)
        found += [Path(folder) / f for f in files if _is_document_name(f)]
    return sorted(found, key=lambda p: p.relative_to(inbox).as_posix())


def _is_document_name(name: str) -> bool:
    # ~$x.docx: Word's lock file; .#x and #x#: Emacs; .x.swp / .~lock.x#: hidden anyway
    if name.startswith((".", "~$", "#")):
        return False
    return name.lower().endswith(SUFFIXES)


def _checked_path(path: Path, inbox: Path | None) -> Path:
    """The real file behind a path, refused when it leaves the inbox or is not a regular file."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        raise DocumentError(path, f"cannot be opened ({error})", "Check that the file exists") from error
    if inbox is not None and not real.is_relative_to(Path(inbox).resolve()):
        raise DocumentError(
            path, f"is a link to {real}, outside the inbox {inbox}",
            "Copy the document into the inbox instead of linking to it",
        )
    if not stat.S_ISREG(real.stat().st_mode):
        raise DocumentError(path, "is not a regular file", "Put only document files (.txt, .docx, .html) in the inbox")
    return real


def _read_bounded(path: Path, real: Path, limit: int) -> bytes:
    size = real.stat().st_size
    if size > limit:
        raise DocumentError(
            path, f"is {size / 2**20:.0f} MB; documents are limited to {limit / 2**20:.0f} MB",
            "Split it into one file per document, or remove what is not the document's text",
        )
    with real.open("rb") as file:
        data = file.read(limit + 1)  # the file may have grown since stat()
    if len(data) > limit:
        raise DocumentError(path, f"grew past {limit / 2**20:.0f} MB while being read", "Wait until it is written")
    if not data.strip():
        raise DocumentError(path, "is empty", "Remove it, or save the document's text into it")
    return data


def read_text(path: Path, *, inbox: Path | None = None) -> tuple[str, str]:
    """The raw (not yet normalised) text of a document file and how it was decoded."""
    path = Path(path)
    try:
        return _read_text(path, inbox)
    except OSError as error:  # permissions, a file removed mid-run, an I/O error
        raise DocumentError(
            path, f"could not be read ({error.strerror or error})", "Check that the file exists and is readable"
        ) from error


def _read_text(path: Path, inbox: Path | None) -> tuple[str, str]:
    real = _checked_path(path, inbox)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return _docx_text(path, real), "docx"
    if suffix in (".html", ".htm"):
        return _html_text(_read_bounded(path, real, MAX_TEXT_BYTES), path), "html"
    if suffix == ".txt":
        return decode(_read_bounded(path, real, MAX_TEXT_BYTES), path)
    raise DocumentError(path, f"has the unsupported suffix {suffix!r}", "Save it as .txt (UTF-8), .docx or .html")


def _docx_text(path: Path, real: Path) -> str:
    """Paragraphs and table cells in document order, one paragraph a line; zip bombs refused unparsed."""
    data = _read_bounded(path, real, MAX_DOCX_BYTES)
    _check_zip(path, data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises bare KeyError/ValueError/lxml errors on broken files
        raise DocumentError(
            path, f"is a zip but not a Word document ({type(error).__name__}: {error})",
            "Open it in Word or LibreOffice and save it again as .docx",
        ) from error
    lines = list(_docx_lines(document, document.element.body))
    text = "\n".join(lines)
    if not text.strip():
        raise DocumentError(path, "has no text", "Check that it is the document and not a scanned image")
    return text


def _check_zip(path: Path, data: bytes) -> None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentError(
            path, "is not a .docx file (a .docx is a zip archive; this is not one)",
            "Open it in Word or LibreOffice and save it as .docx, or rename it to its real type",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DocumentError(path, f"is a damaged zip archive ({error})", "Save it again as .docx") from error
    expanded = sum(e.file_size for e in entries)
    xml = sum(e.file_size for e in entries if e.filename.endswith((".xml", ".rels")))
    packed = max(sum(e.compress_size for e in entries), 1)
    if (
        len(entries) > MAX_DOCX_ENTRIES
        or expanded > MAX_DOCX_EXPANDED_BYTES
        or xml > MAX_DOCX_XML_BYTES
        or (expanded > 2**20 and expanded / packed > MAX_DOCX_RATIO)
    ):
        raise DocumentError(
            path, f"would expand to {expanded / 2**20:.0f} MB ({xml / 2**20:.0f} MB of XML, {len(entries)} entries, "
            f"{expanded / packed:.0f}× its packed size); the limits are {MAX_DOCX_EXPANDED_BYTES / 2**20:.0f} MB, "
            f"{MAX_DOCX_XML_BYTES / 2**20:.0f} MB of XML and {MAX_DOCX_RATIO}×, so it was not opened",
            "If it is a genuine document, save its text as .txt (UTF-8) instead",
        )


def _docx_lines(document: Any, parent: Any) -> Iterator[str]:
    for child in parent.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, document).text
        elif tag == "tbl":
            yield from _table_lines(Table(child, document))
        elif tag == "sdt":  # content controls wrap ordinary paragraphs and tables
            for content in child.iterchildren():
                if content.tag.endswith("}sdtContent"):
                    yield from _docx_lines(document, content)


def _table_lines(table: Any) -> Iterator[str]:
    """One line per row, cells separated by a tab; a merged cell is read once."""
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is not previous:
                cells.append(cell.text.replace("\n", " "))
            previous = cell._tc
        yield "\t".join(cells)


_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_-]{2,30})""", re.IGNORECASE)
_HTML_DROP = (
    "script, style, noscript, template, iframe, object, svg, form, button, select, nav, header, footer, aside, menu, "
    "[role=navigation], [role=banner], [role=contentinfo], [class*=nav], [id*=nav], [class*=menu], [id*=menu], "
    "[class*=footer], [id*=footer], [class*=breadcrumb], [class*=share], [class*=toolbar]"
)
_HTML_BLOCKS = (
    "p, div, br, li, dt, dd, h1, h2, h3, h4, h5, h6, tr, table, section, article, blockquote, pre, hr"
)
_PAGE_TITLE_SUFFIX = re.compile(r"\s*(?:[_|｜]|\s-\s|——).*$")
_BLANK_LINES = re.compile(r"[ \t\u3000\u00a0]*\n(?:[ \t\u3000\u00a0]*\n)+")


def _html_text(data: bytes, path: Path) -> str:
    """The readable text of a saved web page: no scripts, styles, menus, headers or footers."""
    html, _ = _decode_html(data, path)
    tree = LexborHTMLParser(html)
    for node in tree.css(_HTML_DROP):
        node.decompose()
    for node in tree.css(_HTML_BLOCKS):
        node.insert_after("\n")
    for node in tree.css("td, th"):  # cells of a row stay on one line, apart (as in a .docx table)
        node.insert_after("\t")
    # the page <title> ("…工作总结_某某市人民政府") stands in for a heading only when the page has none
    title = tree.css_first("title") if tree.css_first("h1") is None else None
    heading = _PAGE_TITLE_SUFFIX.sub("", title.text(strip=True)) if title is not None else ""
    body = tree.body.text(deep=True, separator="") if tree.body is not None else ""
    text = _BLANK_LINES.sub("\n\n", f"{heading}\n{body}").strip()
    if not text:
        raise DocumentError(path, "has no readable text", "Check that it is the saved page of the document")
    return text


def _decode_html(data: bytes, path: Path) -> tuple[str, str]:
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        encoding = "gb18030" if name in ("gb2312", "gbk", "gb18030", "x-gbk", "cp936") else name
        try:
            return _checked(data.decode(encoding), path), encoding
        except (UnicodeDecodeError, LookupError):
            pass  # pages are often saved in another encoding than they declare: decide from the bytes
    return decode(data, path)


# ---------------------------------------------------------------------------------------------
# Metadata: organisation, title, kind, the year reviewed, publication date, document number.
# ---------------------------------------------------------------------------------------------
OPENING_CHARS = 6000  # titles, speakers, review headings and dates live in the opening…
CLOSING_CHARS = 1500  # …or, for dates and signatures, at the very end
_TITLE_MAX_CHARS = 60
_NOT_IN_TITLE = re.compile("[，。；！？,;!?]")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
# The delivery date under a report's title ("——2024年3月5日在…"), an issue date ("2023年1月28日印发"),
# or a date alone on its line (the date under a signature), in that order of trust; GB/T 9704 dates
# are in Arabic or Chinese numerals.
_NUM = "(?:[0-9]{1,4}|[〇○零一二三四五六七八九十]{1,4})"
# (The lookahead, a single character class, lets the engine skip to where a year can start: 2× faster.)
_DATE = (f"(?=[12〇○零一二三四五六七八九])(?P<y>(?:19|20)[0-9]{{2}}|[〇○零一二三四五六七八九]{{4}})"
         f"年(?P<m>{_NUM})月(?P<d>{_NUM})日")
_DATE_PATTERNS = (
    re.compile(f"——\\s*{_DATE}\\s*在"),
    re.compile(f"{_DATE}\\s*在[^，。\n]{{0,40}}(?:会议|大会)"),
    re.compile(f"{_DATE}\\s*(?:印发|发布|印制)"),
    re.compile(f"^[ \\t\\u3000]*{_DATE}[ \\t\\u3000]*$", re.MULTILINE),
)
# Every match of the patterns above holds one of these. Found from its 年 (one character: quick to scan for),
# the year checked behind it.
_ANY_DATE = re.compile(
    f"年(?<=(?:(?:19|20)[0-9]{{2}}|[〇○零一二三四五六七八九]{{4}})年)(?P<m>{_NUM})月(?P<d>{_NUM})日"
)
# 发文字号 (GB/T 9704): issuer abbreviation, year in 〔〕 (or look-alike brackets), serial number, 号.
_DOC_NUMBER_TAIL = "[〔\\[［【(（]\\s*(?:19|20)[0-9]{2}\\s*[〕\\]］】)）]\\s*[0-9]{1,5}\\s*号"
_DOC_NUMBER_ISSUER_MAX = 12
_DOC_NUMBER = re.compile(f"[\u4e00-\u9fff]{{1,{_DOC_NUMBER_ISSUER_MAX}}}{_DOC_NUMBER_TAIL}")
# Found first: a scan for the bracketed year is ~10× faster than trying an issuer at every character.
_DOC_NUMBER_TAIL_RE = re.compile(_DOC_NUMBER_TAIL)
_FILE_YEAR = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")
_SPACES = re.compile(r"\s+")


def read_document(path: Path, config: DocConfig, *, inbox: Path | None = None) -> Document:
    """Read, decode, normalise and describe one document; DocumentError says what is wrong and how to fix it."""
    path = Path(path)
    raw, encoding = read_text(path, inbox=inbox)
    text = normalise(raw)
    if not text.strip():
        raise DocumentError(path, "has no text", "Remove it, or save the document's text into it")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    # The identity ignores white space: a .docx and the .txt saved from it differ only in line breaks.
    # (str.split() splits at exactly the characters \s matches, and is several times faster than re.sub.)
    content_id = hashlib.sha256("".join(text.split()).encode("utf-8")).hexdigest()[:16]
    opening, closing = text[:OPENING_CHARS], text[-CLOSING_CHARS:]
    title, kind = _title_and_kind(opening, config, path)
    rule = config.rule(kind)
    return Document(
        doc_id=content_id,
        source_file=_source_name(path, inbox),
        sha256=digest,
        text=text,
        org=_org(title, opening, closing, config, path),
        title=title or kind,
        kind=kind,
        period_year=_period_year(title, opening, rule, path),
        published_on=_published_on(opening, closing),
        doc_number=_doc_number(opening),
        encoding=encoding,
        warnings=_warnings(text),
    )


def _source_name(path: Path, inbox: Path | None) -> str:
    if inbox is not None:
        try:
            return path.absolute().relative_to(Path(inbox).absolute()).as_posix()
        except ValueError:
            pass
    return str(path)


def _warnings(text: str) -> tuple[str, ...]:
    longest = max(map(len, text.split("\n"))) if len(text) > LONG_LINE_CHARS else 0
    if longest > LONG_LINE_CHARS:
        return (f"has a line of {longest} characters; sentences there may be split poorly",)
    return ()


def _title_lines(opening: str) -> Iterator[tuple[str, int]]:
    """Candidate titles with the length of their first line: each short line of the opening, alone and
    joined with the next one or two (titles are broken over lines: "政府工作报" / "告")."""
    lines = [s for s in ("".join(line.split()) for line in opening.split("\n")) if s]
    for i, line in enumerate(lines):
        if len(line) > _TITLE_MAX_CHARS:
            continue
        joined = line
        yield joined, len(line)
        for following in lines[i + 1 : i + 3]:
            if len(joined) + len(following) > _TITLE_MAX_CHARS:
                break
            joined += following
            yield joined, len(line)


def _title_and_kind(opening: str, config: DocConfig, path: Path) -> tuple[str, str]:
    """The title (the first short line naming a kind) and the kind; without a title, the earliest marker."""
    for candidate, first_line in _title_lines(opening):
        if _NOT_IN_TITLE.search(candidate):
            continue
        found = config.earliest_marker(candidate)
        # lines are joined only to repair a title broken over them: the marker, or the 《 that quotes
        # the title, must start on the first line ("政府工作报" / "告", "《…2022年" / "工作总结》")
        if found is not None and (found[1] < first_line or 0 <= candidate.rfind("《", 0, found[1]) < first_line):
            return _title_from(candidate, found[1]), found[0]
    found = config.earliest_marker("".join(opening.split()))
    if found is None:
        markers = "、".join(m for rule in config.kinds for m in rule.markers)
        raise DocumentError(
            path, f"names no kind of document in its opening (looked for: {markers})",
            "Give it a title line such as 某某局2022年工作总结, or add a marker to schemas/documents/kinds.toml",
        )
    return "", found[0]


def _title_from(line: str, at: int) -> str:
    """A title quoted in a notice (关于印发《…》的通知) is the document's own title."""
    opened, closed = line.rfind("《", 0, at), line.find("》", at)
    if 0 <= opened < at < closed:
        return line[opened + 1 : closed]
    return line


def _org(title: str, opening: str, closing: str, config: DocConfig, path: Path) -> str:
    for pattern in config.org_patterns:
        for where in (title, opening, closing):
            found = pattern.find(where)
            if found:
                return config.canonical_org(found)
    raise DocumentError(
        path, "does not say which organisation wrote it",
        "Give it a title that starts with the organisation (某某局2022年工作总结), or add a pattern to "
        "schemas/documents/organisations.toml",
    )


def _period_year(title: str, opening: str, rule: KindRule, path: Path) -> int:
    for pattern in rule.year_patterns:
        for where in (title, opening):
            match = re.search(pattern, where, re.MULTILINE)
            year = _year(match.group("year")) if match else None
            if year is not None:
                return year
    named = _FILE_YEAR.findall(path.stem)
    if named:
        return int(named[-1]) + rule.filename_year_offset
    reviewed = "the year it reviews" if rule.filename_year_offset else "its year"
    raise DocumentError(
        path, f"names no year: neither the text nor the file name says which year this {rule.kind} covers",
        f"Put {reviewed} in the file name, like name_2022.txt"
        + (f" (a {rule.kind} is named by the year it is delivered, here 2023 for one reviewing 2022)"
           if rule.filename_year_offset == -1 else ""),
    )


def _year(value: str) -> int | None:
    digits = value.translate(_CN_DIGITS)
    year = int(digits) if digits.isdigit() and len(digits) == 4 else None
    return year if year is not None and 1949 <= year <= 2100 else None


def _number(value: str) -> int | None:
    """An Arabic or Chinese month or day number: 3, 十二, 二十八, 三十一."""
    digits = value.translate(_CN_DIGITS)
    if digits.isdigit():
        return int(digits)
    tens, ten, units = digits.partition("十")
    if not ten or not all(part.isdigit() for part in (tens, units) if part):
        return None
    return int(tens or 1) * 10 + int(units or 0)


def _published_on(opening: str, closing: str) -> date | None:
    places = [where for where in (opening, closing) if _ANY_DATE.search(where)]  # most hold no date at all
    for pattern in _DATE_PATTERNS:
        for where in places:
            for match in pattern.finditer(where):
                found = _date(match)
                if found is not None:
                    return found
    return None


def _date(match: re.Match[str]) -> date | None:
    year, month, day = _year(match.group("y")), _number(match.group("m")), _number(match.group("d"))
    if year is None or month is None or day is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _doc_number(opening: str) -> str | None:
    head = opening[:1500]
    tail = _DOC_NUMBER_TAIL_RE.search(head)
    if tail is None:
        return None
    # every number's bracket is at or after the first one, and its issuer at most that many characters before it
    match = _DOC_NUMBER.search(head, max(0, tail.start() - _DOC_NUMBER_ISSUER_MAX))
    return _SPACES.sub("", match.group()) if match else None
