"""The benchmark's corpus generator makes a province-shaped corpus: distinct organisations, ten consecutive years each,
every document current, and a regenerated file stays the same document (organisation and year) with new numbers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from jobs import doctypes, read
from jobs.settings import ROOT

sys.path.insert(0, str(ROOT / "tests"))
import corpus_gen

NUMBER = re.compile(r"\d+(?:\.\d+)?")


def test_organisations_publish_ten_consecutive_years(tmp_path: Path) -> None:
    made = list(corpus_gen.generate(60, tmp_path, seed=5))
    config = doctypes.load(ROOT / "schemas")
    docs = [read.read_document(g.path, config, inbox=tmp_path) for g in made]
    # what the reader finds in the text is what the generator meant: organisation and year
    assert [(d.org, d.period_year) for d in docs] == [(g.org, _reviewed(g)) for g in made]
    years: dict[str, list[int]] = {}
    for g in made:
        years.setdefault(g.org, []).append(g.year)
    assert len(years) == 6
    for org, seen in years.items():
        assert seen == list(range(seen[0], seen[0] + 10)), org
    assert len({d.doc_id for d in docs}) == 60
    # the three sample families all appear, interleaved
    assert {g.source.rsplit("_", 1)[0] for g in made} == {"gov-report-cn", "jiangxi-gov-report", "xinjian-jiaoti"}


def test_organisation_names_are_distinct() -> None:
    for family in ("gov-report-cn", "jiangxi-gov-report", "xinjian-jiaoti"):
        names = [corpus_gen.organisation(family, k) for k in range(20_000)]
        assert len(set(names)) == len(names)


def test_regenerate_keeps_the_document_and_changes_its_numbers(tmp_path: Path) -> None:
    (first, *_rest) = list(corpus_gen.generate(3, tmp_path, seed=2))
    before = first.path.read_text(encoding="utf-8")
    again = corpus_gen.regenerate(first.path, seed=2, version=1)
    after = first.path.read_text(encoding="utf-8")
    assert (again.org, again.year) == (first.org, first.year)
    assert after != before
    assert NUMBER.sub("#", after) == NUMBER.sub("#", before)  # the same text but for the numbers


def test_the_same_seed_makes_the_same_corpus(tmp_path: Path) -> None:
    one = [g.path.read_bytes() for g in corpus_gen.generate(12, tmp_path / "a", seed=9)]
    two = [g.path.read_bytes() for g in corpus_gen.generate(12, tmp_path / "b", seed=9)]
    assert one == two


def _reviewed(g: corpus_gen.Generated) -> int:
    """The year a document reviews: a government work report of year Y reviews Y − 1; a summary its own year."""
    return g.year - 1 if "gov-report" in g.source else g.year
