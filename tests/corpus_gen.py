"""Make N documents of realistic shape from the real corpus: numbers perturbed, organisations and years varied.

    python tests/corpus_gen.py --docs 10000 --out /tmp/corpus   # about 150 million characters

Each output document is a real sample document with its organisation renamed (a county bureau, a province, a
city government), every year shifted by the same offset (dates and document numbers too, so the text stays
consistent), and every quantity scaled by a random factor near 1 with the same number of decimals. Files are written
one at a time, so memory stays flat in N.
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

# Syllables for plausible place names; combinations give thousands of distinct organisations.
_FIRST = "青东西南北安新永兴宁丰德福华长清平武临江河山云金泰瑞昌乐阳和庆吉广"
_SECOND = "山湖城原川江林溪泉州县桥岭丰安平宁阳源都溪冈峰"
_PROVINCES = ["江西省", "湖南省", "湖北省", "安徽省", "浙江省", "福建省", "广东省", "四川省", "河南省", "山东省"]

# Who the sample documents are by, and how to rename them in kind.
_COUNTY_BUREAU = re.compile(r"(南昌市)?新建区教体局")
_PROVINCE_GOV = re.compile(r"江西省人民政府|江西省")
_STATE_COUNCIL = re.compile(r"国务院")

_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?=年|-\d|〕|\]|届)")
_FILE_YEAR = re.compile(r"_(\d{4})$")
# A number that is a quantity here: not a year, date, ordinal or document number (those keep their digits).
_NUMBER = re.compile(r"(?<![\d.第〔])(\d+(?:\.\d+)?)(?![\d.]|年|月|日|号|届|级|〕|·|\+)")


@dataclass(frozen=True)
class Generated:
    path: Path
    source: str
    org: str
    year: int
    chars: int


def _place(rng: random.Random) -> str:
    return rng.choice(_FIRST) + rng.choice(_SECOND)


def _rename(text: str, stem: str, rng: random.Random) -> str:
    if stem.startswith("xinjian"):
        org = f"{_place(rng)}市{_place(rng)}区教体局"
        return _COUNTY_BUREAU.sub(org, text)
    if stem.startswith("jiangxi"):
        return _PROVINCE_GOV.sub(lambda m: rng_province(m.group(0), rng), text)
    return _STATE_COUNCIL.sub(f"{_place(rng)}市人民政府", text)


def rng_province(found: str, rng: random.Random) -> str:
    province = _PROVINCES[rng.randrange(len(_PROVINCES))]
    return province + "人民政府" if found.endswith("人民政府") else province


def _scale(match: re.Match[str], factor: float) -> str:
    digits = match.group(1)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value = float(digits) * factor
    if decimals == 0:
        return str(max(1, round(value)))
    return f"{value:.{decimals}f}"


def transform(text: str, stem: str, *, year_shift: int, rng: random.Random) -> str:
    """One new document from a sample: renamed, years shifted, quantities perturbed (±15 %)."""
    text = _rename(text, stem, rng)
    text = _YEAR.sub(lambda m: str(int(m.group(1)) + year_shift), text)
    factor = rng.uniform(0.85, 1.15)
    return _NUMBER.sub(lambda m: _scale(m, factor), text)


def generate(n: int, out: Path, *, seed: int = 0, sources: Path = SOURCES) -> Iterator[Generated]:
    rng = random.Random(seed)
    samples = sorted(sources.glob("*.txt"))
    if not samples:
        raise SystemExit(f"no sample documents in {sources}")
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        source = samples[i % len(samples)]
        year_match = _FILE_YEAR.search(source.stem)
        base_year = int(year_match.group(1)) if year_match else 2022
        shift = rng.randint(-8, 2)
        text = transform(source.read_text(encoding="utf-8"), source.stem, year_shift=shift, rng=rng)
        prefix = source.stem.rsplit("_", 1)[0]
        path = out / f"{prefix}-{i:06d}_{base_year + shift}.txt"
        path.write_text(text, encoding="utf-8")
        yield Generated(path, source.name, prefix, base_year + shift, len(text))


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
