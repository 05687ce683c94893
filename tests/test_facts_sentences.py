"""Score jobs.facts.extract on held-out sentences (tests/gold/sentences.tsv), written blind from the guideline.

Run as a script (`.venv/bin/python tests/test_facts_sentences.py`) for every sentence that differs.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from test_facts_gold import _problems  # noqa: E402  (one comparison for both gold formats)

from jobs.facts import extract  # noqa: E402
from jobs.read import normalise  # noqa: E402
from jobs.records import Fact  # noqa: E402

SENTENCES = ROOT / "tests" / "gold" / "sentences.tsv"
BAR = 0.98


@dataclass(frozen=True)
class Expected:
    raw: str
    value: float
    unit: str
    qualifier: str
    value_high: float | None
    start: int  # located span in the normalised sentence
    end: int
    flags: tuple[str, ...] = ()  # sentences name no flags; the shared comparison checks them when given


@dataclass
class Sentence:
    sid: str
    text: str  # normalised
    expected: list[Expected]
    facts: list[Fact]
    exact: int = 0
    lines: list[str] = field(default_factory=list)  # what differs, for the diff


def _locate(sid: str, text: str, items: list[dict[str, object]]) -> list[Expected]:
    rows, cursor = [], 0
    for item in items:
        raw = str(item["raw"])
        where = text.find(raw, cursor)
        assert where >= 0, f"{SENTENCES.name} {sid}: raw {raw!r} not found after {cursor} in {text}"
        high = item["value_high"]
        rows.append(Expected(raw, float(str(item["value"])), str(item["unit"]), str(item["qualifier"]),
                             None if high is None else float(str(high)), where, where + len(raw)))
        cursor = where + len(raw)
    return rows


def load() -> list[Sentence]:
    lines = SENTENCES.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["id", "sentence", "expected"], f"{SENTENCES.name}: bad header"
    out = []
    for line in lines[1:]:
        sid, sentence, expected = line.split("\t")
        text = normalise(sentence)
        out.append(Sentence(sid, text, _locate(sid, text, json.loads(expected)), extract(text)))
    return out


def score(sentence: Sentence) -> Sentence:
    """Pair expected rows and facts in order by overlapping spans, as tests/test_facts_gold.py does."""
    facts, j = sentence.facts, 0
    for row in sentence.expected:
        while j < len(facts) and facts[j].char_end <= row.start:
            sentence.lines.append(f"  EXTRA  {facts[j].raw!r} = {facts[j].value:g} {facts[j].unit!r} "
                                  f"{facts[j].qualifier}")
            j += 1
        if j < len(facts) and facts[j].char_start < row.end:
            problems = _problems(row, facts[j])
            if problems:
                sentence.lines.append(f"  WRONG  {row.raw!r}: {'; '.join(problems)}")
            else:
                sentence.exact += 1
            j += 1
        else:
            sentence.lines.append(f"  MISSED {row.raw!r} ({row.value:g} {row.unit!r} {row.qualifier})")
    for fact in facts[j:]:
        sentence.lines.append(f"  EXTRA  {fact.raw!r} = {fact.value:g} {fact.unit!r} {fact.qualifier}")
    return sentence


def report(scored: list[Sentence]) -> tuple[float, float, str]:
    exact = sum(s.exact for s in scored)
    n_facts = sum(len(s.facts) for s in scored)
    n_rows = sum(len(s.expected) for s in scored)
    precision = exact / n_facts if n_facts else 1.0
    recall = exact / n_rows if n_rows else 1.0
    failing = [s for s in scored if s.lines]
    head = (f"{len(scored)} sentences, {n_rows} expected, {n_facts} found, {exact} exact; "
            f"precision {precision:.1%}, recall {recall:.1%}; {len(failing)} sentences differ")
    body = [f"{s.sid} {s.text}\n" + "\n".join(s.lines) for s in failing]
    return precision, recall, "\n".join([head, *body])


def test_enough_held_out_sentences() -> None:
    scored = load()
    assert len(scored) >= 250
    assert sum(1 for s in scored if not s.expected) >= 20, "hard negatives (sentences with no quantity) are needed"


def test_held_out_precision_and_recall() -> None:
    precision, recall, text = report([score(s) for s in load()])
    assert precision >= BAR and recall >= BAR, text


def test_sentences_without_quantities_give_no_facts() -> None:
    empty = [s for s in load() if not s.expected and s.facts]
    assert not empty, "\n".join(f"{s.sid} {s.text}: {[f.raw for f in s.facts]}" for s in empty)


if __name__ == "__main__":
    print(report([score(s) for s in load()])[2])
