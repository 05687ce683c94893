"""Make N documents of realistic shape from the real corpus: numbers perturbed, organisations and years varied.

    python tests/corpus_gen.py --docs 10000 --out /tmp/corpus   # about 180 million characters

Shaped like a province: organisations that each publish one document a year for ten consecutive years (10,000
documents are 1,000 organisations), so every document is current and most have a previous year to compare with.
Each document is a real sample document with its organisation renamed (a county education bureau from the district
summary, a county government from the national reports, a district government from the provincial ones — always the
same name for the same organisation), every year shifted by the same offset (dates and document numbers too, so the
text stays consistent), and every quantity scaled by a random factor near 1 with the same number of decimals.
Organisations take their sample family in turn, one family per sample file, so the mix of lengths is that of the
samples. Files are written one at a time, so memory stays flat in N.

`regenerate(path)` rewrites one generated file as a new version of the same document (same organisation and year,
new perturbation): the benchmark's "1 % changed".
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "warehouse" / "inbox"
YEARS = 10  # documents per organisation: one a year, consecutive

# Syllables for plausible place names: 31 × 26 = 806 places, 649,636 pairs of them.
_FIRST = "青东西南北安新永兴宁丰德福华长清平武临江河山云金泰瑞昌乐阳和庆吉广"
_SECOND = "山湖城原川江林溪泉州县桥岭丰安平宁阳源都溪冈峰"
_PLACES = [a + b for a in _FIRST for b in _SECOND]
# organisation k → a pair of places: k times a stride coprime to 806² (= 2² · 13² · 31²) permutes the pairs; the
# stride is not near a multiple of 806, so neighbouring organisations differ in both places
_STRIDE = 806 * 97 + 331

# Who the sample documents are by, and how to rename them in kind.
_COUNTY_BUREAU = re.compile(r"(南昌市)?新建区教体局")
_PROVINCE_GOV = re.compile(r"江西省人民政府|江西省")
_STATE_COUNCIL = re.compile(r"国务院")

_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?=年|-\d|〕|\]|届)")
_FILE_YEAR = re.compile(r"_(\d{4})$")
_FILE_NAME = re.compile(r"^(?P<family>.+)-(?P<index>\d{6})_(?P<year>\d{4})$")
# A number that is a quantity here: not a year, date, ordinal or document number (those keep their digits).
_NUMBER = re.compile(r"(?<![\d.第〔])(\d+(?:\.\d+)?)(?![\d.]|年|月|日|号|届|级|〕|·|\+)")


@dataclass(frozen=True)
class Generated:
    path: Path
    source: str
    org: str
    year: int
    chars: int


def _pair(k: int) -> tuple[str, str]:
    a, b = divmod((k * _STRIDE + 12_345) % len(_PLACES) ** 2, len(_PLACES))
    return _PLACES[a], _PLACES[b]


def organisation(family: str, k: int) -> str:
    """The name of organisation k of a sample family: distinct for every k and family."""
    a, b = _pair(k)
    if family.startswith("xinjian"):
        return f"{a}市{b}区教体局"
    if family.startswith("jiangxi"):
        return f"{a}市{b}区人民政府"
    return f"{a}市{b.removesuffix('县')}县人民政府"  # 广县 → 某市广县, not 广县县


def _rename(text: str, family: str, org: str) -> str:
    if family.startswith("xinjian"):
        return _COUNTY_BUREAU.sub(org, text)
    if family.startswith("jiangxi"):
        place = org.removesuffix("人民政府")
        return _PROVINCE_GOV.sub(lambda m: org if m.group(0).endswith("人民政府") else place, text)
    return _STATE_COUNCIL.sub(org, text)


def _scale(match: re.Match[str], factor: float) -> str:
    digits = match.group(1)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value = float(digits) * factor
    if decimals == 0:
        return str(max(1, round(value)))
    return f"{value:.{decimals}f}"


def transform(text: str, stem: str, *, year_shift: int, rng: random.Random, org: str | None = None) -> str:
    """One new document from a sample: renamed, years shifted, quantities perturbed (±15 %)."""
    family = stem.rsplit("_", 1)[0]
    text = _rename(text, family, org or organisation(family, rng.randrange(len(_PLACES) ** 2)))
    text = _YEAR.sub(lambda m: str(int(m.group(1)) + year_shift), text)
    factor = rng.uniform(0.85, 1.15)
    return _NUMBER.sub(lambda m: _scale(m, factor), text)


def _families(sources: Path) -> list[tuple[str, list[Path]]]:
    """Sample files grouped by family (the name before _YEAR), oldest first; families in sample-file order."""
    samples = sorted(sources.glob("*.txt"))
    if not samples:
        raise SystemExit(f"no sample documents in {sources}")
    grouped: dict[str, list[Path]] = {}
    for sample in samples:
        grouped.setdefault(sample.stem.rsplit("_", 1)[0], []).append(sample)
    # one entry per sample file: a family with ten samples gets ten organisations in thirteen
    return [(sample.stem.rsplit("_", 1)[0], grouped[sample.stem.rsplit("_", 1)[0]]) for sample in samples]


def _base_year(sample: Path) -> int:
    found = _FILE_YEAR.search(sample.stem)
    return int(found.group(1)) if found else 2022


def _document(i: int, seed: int, families: list[tuple[str, list[Path]]], version: int = 0) -> tuple[str, int, str,
                                                                                                     Path, str]:
    """Document i: (family, year, organisation, sample, text). The same i and seed give the same organisation and
    year; `version` changes only the perturbation."""
    k, j = divmod(i, YEARS)
    family, samples = families[k * 5 % len(families)]  # 5 is coprime to 13 samples: families interleave
    plan = random.Random(f"{seed}:{k}")
    first = plan.randint(2008, 2017)  # the organisation's ten years end 2017–2026
    sample = samples[j % len(samples)]
    year = first + j
    org = organisation(family, k + seed * 7_919)
    rng = random.Random(f"{seed}:{i}:{version}")
    text = transform(sample.read_text(encoding="utf-8"), sample.stem, year_shift=year - _base_year(sample), rng=rng,
                     org=org)
    return family, year, org, sample, text


def generate(n: int, out: Path, *, seed: int = 0, sources: Path = SOURCES) -> Iterator[Generated]:
    families = _families(sources)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        family, year, org, sample, text = _document(i, seed, families)
        path = out / f"{family}-{i:06d}_{year}.txt"
        path.write_text(text, encoding="utf-8")
        yield Generated(path, sample.name, org, year, len(text))


def regenerate(path: Path, *, seed: int = 0, version: int = 1, sources: Path = SOURCES) -> Generated:
    """Rewrite a file made by `generate` (same seed) as another version of the same document."""
    found = _FILE_NAME.match(path.stem)
    if found is None:
        raise ValueError(f"{path}: not a file made by corpus_gen.generate")
    family, year, org, sample, text = _document(int(found.group("index")), seed, _families(sources), version)
    if (family, year) != (found.group("family"), int(found.group("year"))):
        raise ValueError(f"{path}: made with another seed or other samples than seed={seed}, {sources}")
    path.write_text(text, encoding="utf-8")
    return Generated(path, sample.name, org, year, len(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, required=True, help="how many documents")
    parser.add_argument("--out", type=Path, required=True, help="folder to write them to")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    chars = 0
    for count, doc in enumerate(generate(args.docs, args.out, seed=args.seed), start=1):
        chars += doc.chars
        if count % 1000 == 0:
            print(f"{count} documents, {chars / 1e6:.0f}M characters", file=sys.stderr)
    print(f"wrote {args.docs} documents ({chars / 1e6:.1f}M characters) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
