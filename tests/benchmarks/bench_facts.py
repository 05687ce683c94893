"""Throughput of jobs.facts.extract against a one-regex ceiling and JioNLP's money extraction, on the same text.

A script, not a test (pytest does not collect it):

    .venv/bin/python tests/benchmarks/bench_facts.py            # the corpus repeated to >= 50 MB
    .venv/bin/python tests/benchmarks/bench_facts.py --mb 5     # a quicker run

The documents of the corpus folder are normalised once and then streamed one after another, again and
again, until the requested size is reached; nothing is kept between documents but counters, so memory
stays flat in the corpus size. Peak RSS is printed after each method, so a method that grows shows it.
"""

from __future__ import annotations

import argparse
import platform
import re
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from jobs.facts import _NUMBER, extract  # noqa: E402
from jobs.read import normalise  # noqa: E402

# The rough ceiling for any Python extractor: one compiled pattern, no work per match.
CEILING = re.compile(r"[0-9]+(?:\.[0-9]+)?[万亿]?")


def documents(folder: Path) -> list[str]:
    texts = [normalise(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.txt"))]
    if not texts:
        raise SystemExit(f"{folder}: no .txt documents. Pass --corpus with a folder of documents.")
    return texts


def stream(texts: list[str], total_bytes: int) -> Iterator[str]:
    """The documents, cycled until `total_bytes` bytes of UTF-8 have been yielded (whole documents only)."""
    sizes = [len(text.encode("utf-8")) for text in texts]
    done = 0
    while done < total_bytes:
        for text, size in zip(texts, sizes, strict=True):
            yield text
            done += size
            if done >= total_bytes:
                return


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure(count: Callable[[str], int], texts: list[str], total_bytes: int,
            budget: float | None) -> tuple[float, int, int, float]:
    """chars/s, chars processed, items found, CPU seconds — stopping early when `budget` seconds are spent.

    CPU time of this process (time.process_time), not wall time: the machine may be shared, and the
    figure wanted is what one core does.
    """
    chars = found = 0
    elapsed = 0.0
    for text in stream(texts, total_bytes):
        start = time.process_time()
        found += count(text)
        elapsed += time.process_time() - start
        chars += len(text)
        if budget is not None and elapsed > budget:
            break
    return chars / elapsed, chars, found, elapsed


def jionlp_money() -> tuple[Callable[[str], int] | None, str]:
    """JioNLP's money extractor, or None and the reason it cannot be used."""
    try:
        import jionlp  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except Exception as error:  # any import failure means "unavailable", with its reason
        return None, f"{type(error).__name__}: {error} (install with `.venv/bin/pip install jionlp`)"
    extract_money = jionlp.ner.extract_money
    extract_money("预热500万元")  # it builds its patterns on the first call; keep that out of the timing
    return (lambda text: len(extract_money(text, with_parsing=True))), f"jionlp {jionlp.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="megabytes of UTF-8 text per method (default 50)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "warehouse" / "inbox", help="folder of .txt documents")
    parser.add_argument("--budget", type=float, default=None,
                        help="stop a method after this many seconds and report its rate on what it did")
    args = parser.parse_args()
    texts = documents(args.corpus)
    total = int(args.mb * 1_000_000)
    size = sum(len(text.encode("utf-8")) for text in texts)
    print(f"corpus: {len(texts)} documents, {sum(map(len, texts)):,} chars ({size / 1e6:.2f} MB), streamed to "
          f">= {args.mb:g} MB per method; Python {platform.python_version()} on {platform.machine()}; "
          "chars/s per CPU second of one core")
    jio, jio_note = jionlp_money()
    methods: list[tuple[str, Callable[[str], int] | None, str]] = [
        ("tongbi jobs.facts.extract (all quantities)", lambda t: len(extract(t)), "value, unit, qualifier, span, "
         "sentence, section"),
        ("one compiled regex finditer (ceiling)", lambda t: sum(1 for _ in CEILING.finditer(t)),
         "Arabic number spans only"),
        ("tongbi's candidate regex alone", lambda t: sum(1 for _ in _NUMBER.finditer(t)),
         "the scan inside extract, before any check"),
        ("JioNLP ner.extract_money (money only)", jio, jio_note),
    ]
    rows = []
    for name, count, note in methods:
        if count is None:
            rows.append((name, "unavailable", "", "", f"{peak_rss_mb():.0f}", note))
            print(f"  {name}: unavailable — {note}", flush=True)
            continue
        rate, chars, found, seconds = measure(count, texts, total, args.budget)
        partial = "" if args.budget is None or seconds <= args.budget else f" (stopped by --budget at {chars:,} chars)"
        rows.append((name, f"{rate:,.0f}", f"{chars / 1e6:.1f}", f"{found:,}", f"{peak_rss_mb():.0f}", note + partial))
        print(f"  {name}: {rate:,.0f} chars/s over {chars:,} chars in {seconds:.1f} CPU s{partial}", flush=True)
    print()
    print("| method | chars/s | million chars | items found | peak RSS MB | note |")
    print("|---|---:|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
