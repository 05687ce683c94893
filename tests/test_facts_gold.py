"""Score jobs.facts.extract against the gold lists in tests/gold/*.tsv, made by reading the text.

Run as a script (`.venv/bin/python tests/test_facts_gold.py`) for a per-file summary with every miss.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jobs.facts import extract  # noqa: E402
from jobs.read import normalise  # noqa: E402
from jobs.records import Fact  # noqa: E402

GOLD = ROOT / "tests" / "gold"
INBOX = ROOT / "warehouse" / "inbox"
SEED = "xinjian-jiaoti_2022"
NATIONAL = ("gov-report-cn_2024", "gov-report-cn_2017", "gov-report-cn_2021")
COLUMNS = ("context", "raw", "value", "unit", "qualifier", "value_high", "note")


@dataclass(frozen=True)
class Row:
    line: int  # line number in the .tsv, for the diff
    context: str
    raw: str
    value: float
    unit: str
    qualifier: str
    value_high: float | None
    flags: tuple[str, ...]
    start: int  # located span in the normalised text
    end: int


@dataclass
class Score:
    name: str
    rows: list[Row]
    facts: list[Fact]  # the facts inside the region
    exact: list[tuple[Row, Fact]] = field(default_factory=list)
    wrong: list[tuple[Row, Fact, list[str]]] = field(default_factory=list)
    missed: list[Row] = field(default_factory=list)
    extra: list[Fact] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return len(self.exact) / len(self.facts) if self.facts else 1.0

    @property
    def recall(self) -> float:
        return len(self.exact) / len(self.rows) if self.rows else 1.0

    def summary(self) -> str:
        return (f"{self.name}: {len(self.exact)}/{len(self.rows)} rows exact, {len(self.wrong)} wrong, "
                f"{len(self.missed)} missed, {len(self.extra)} false positives; "
                f"precision {self.precision:.1%}, recall {self.recall:.1%}")

    def diff(self) -> str:
        lines = [self.summary()]
        for row, _fact, problems in self.wrong:
            lines.append(f"  WRONG  line {row.line} {row.context}|{row.raw}: {'; '.join(problems)}")
        for row in self.missed:
            lines.append(f"  MISSED line {row.line} {row.context}|{row.raw} ({row.value} {row.unit} {row.qualifier})")
        for fact in self.extra:
            lines.append(f"  EXTRA  {fact.raw!r} = {fact.value:g} {fact.unit} {fact.qualifier} "
                         f"@{fact.char_start} in …{fact.sentence[:60]}")
        return "\n".join(lines)


def _number(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


def read_gold(path: Path, text: str) -> tuple[list[Row], int, int]:
    """The rows of a gold file located in `text`, and the scored region [start, end)."""
    region_start, region_end = 0, len(text)
    rows: list[Row] = []
    cursor = 0
    header_seen = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("#"):
            key, _, snippet = line[1:].partition(":")
            where = text.find(snippet.strip())
            if where < 0:
                raise AssertionError(f"{path.name}:{number}: {key.strip()} {snippet.strip()!r} is not in the text")
            if key.strip() == "region_start":
                region_start = cursor = where
            elif key.strip() == "region_end":
                region_end = where
            continue
        if not line.strip():
            continue
        cells = (line.split("\t") + [""] * len(COLUMNS))[: len(COLUMNS)]
        if not header_seen:
            header_seen = True
            if cells[0] == "context":
                continue
        context, raw, value, unit, qualifier, high, note = cells
        where = text.find(context + raw, cursor)
        if where < 0:
            raise AssertionError(f"{path.name}:{number}: {context + raw!r} not found after offset {cursor}")
        start = where + len(context)
        flags = tuple(word[5:] for word in note.split() if word.startswith("flag:"))
        value_f = _number(value)
        assert value_f is not None, f"{path.name}:{number}: no value"
        rows.append(Row(number, context, raw, value_f, unit, qualifier, _number(high), flags, start,
                        start + len(raw)))
        cursor = start + len(raw)
    return rows, region_start, region_end


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _problems(row: Row, fact: Fact) -> list[str]:
    problems = []
    if not _close(row.value, fact.value):
        problems.append(f"value {fact.value:g} ≠ {row.value:g}")
    if row.unit != fact.unit:
        problems.append(f"unit {fact.unit!r} ≠ {row.unit!r}")
    if row.qualifier != fact.qualifier:
        problems.append(f"qualifier {fact.qualifier} ≠ {row.qualifier}")
    if not _close(row.value_high, fact.value_high):
        problems.append(f"value_high {fact.value_high} ≠ {row.value_high}")
    missing = [flag for flag in row.flags if flag not in fact.flags]
    if missing:
        problems.append(f"flags {fact.flags} lack {missing}")
    return problems


def score(name: str) -> Score:
    text = normalise((INBOX / f"{name}.txt").read_text(encoding="utf-8"))
    rows, lo, hi = read_gold(GOLD / f"{name}.tsv", text)
    facts = [f for f in extract(text) if lo <= f.char_start < hi]
    result = Score(name, rows, facts)
    # Facts and rows are both in document order: walk them together, pairing a row with the next
    # fact whose span overlaps it; a fact passed over is a false positive.
    j = 0
    for row in rows:
        while j < len(facts) and facts[j].char_end <= row.start:
            result.extra.append(facts[j])
            j += 1
        if j < len(facts) and facts[j].char_start < row.end:
            problems = _problems(row, facts[j])
            if problems:
                result.wrong.append((row, facts[j], problems))
            else:
                result.exact.append((row, facts[j]))
            j += 1
        else:
            result.missed.append(row)
    result.extra.extend(facts[j:])
    return result


def _require(name: str) -> None:
    if not (GOLD / f"{name}.tsv").exists():
        pytest.skip(f"tests/gold/{name}.tsv is not written yet (the gold helpers make it by reading the text)")


def test_seed_district_summary() -> None:
    _require(SEED)
    result = score(SEED)
    assert len(result.exact) >= len(result.rows) - 1 and len(result.exact) >= 133, result.diff()
    assert len(result.extra) <= 1, result.diff()


@pytest.mark.parametrize("name", NATIONAL)
def test_national_report(name: str) -> None:
    _require(name)
    result = score(name)
    assert result.precision >= 0.98 and result.recall >= 0.98, result.diff()


# sentences.tsv is not a document's list: tests/test_facts_sentences.py scores it.
DOCUMENT_LISTS = sorted(p.stem for p in GOLD.glob("*.tsv") if p.stem != "sentences")
OTHERS = [name for name in DOCUMENT_LISTS if name not in (SEED, *NATIONAL)]


@pytest.mark.parametrize("name", OTHERS)
def test_other_gold_lists(name: str) -> None:
    """Gold lists beyond the issue's four: the same bar, so no document silently regresses."""
    assert (INBOX / f"{name}.txt").exists(), f"tests/gold/{name}.tsv has no document in warehouse/inbox"
    result = score(name)
    assert result.rows, f"tests/gold/{name}.tsv has no rows"
    assert result.precision >= 0.98 and result.recall >= 0.98, result.diff()


if __name__ == "__main__":
    for name in DOCUMENT_LISTS:
        print(score(name).diff())
        print()
