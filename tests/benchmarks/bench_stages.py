"""CPU per document of each stage a run's worker goes through (read → extract → catalog → match), in one process.

A script, not a test (pytest does not collect it):

    .venv/bin/python tests/benchmarks/bench_stages.py                       # 1,000 generated documents
    .venv/bin/python tests/benchmarks/bench_stages.py --corpus warehouse/inbox
    .venv/bin/python tests/benchmarks/bench_stages.py --corpus DIR --rounds 3   # best of 3 per stage

Each file is taken through the calls jobs.run's worker makes (`examine` → `parse`): read.read_document,
facts.extract, catalog.for_document, DocConfig.rule and match.match, with the same arguments. The frames
the worker builds for loading (warehouse) and hashing the file are left out: they are not these stages.
Times are CPU seconds of this process (time.process_time), so a busy machine inflates them less than
wall time; with --rounds N each stage's figure is the smallest of N passes over the corpus.

The digests are sha256 over the repr of every Document, Fact and Observation, in file order: two versions
of the code that print the same digests produced the same output, field for field. To compare with an earlier
version, unpack it beside this one and run both on the same folder, alternating (the machine is shared):

    git archive REV jobs schemas tests | tar -x -C /tmp/old
    .venv/bin/python /tmp/old/tests/benchmarks/bench_stages.py --corpus DIR     # then this script, then again
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import corpus_gen  # noqa: E402

from jobs import catalog, doctypes, facts, match, read  # noqa: E402
from jobs.errors import DocumentError  # noqa: E402

STAGES = ("read", "extract", "catalog", "match")


@dataclass
class Pass:
    """One pass over the corpus: CPU seconds per stage and a running digest per kind of record."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    digests: dict[str, hashlib._Hash] = field(
        default_factory=lambda: {name: hashlib.sha256() for name in ("documents", "facts", "observations")}
    )
    docs: int = 0
    chars: int = 0
    facts: int = 0
    observations: int = 0
    rejected: int = 0


def one_pass(paths: list[Path], inbox: Path, schemas: Path) -> Pass:
    catalogs, config = catalog.load_catalogs(schemas), doctypes.load(schemas)
    result = Pass()
    clock = time.process_time
    for path in paths:
        t0 = clock()
        try:
            doc = read.read_document(path, config, inbox=inbox)
        except DocumentError:
            result.rejected += 1
            continue
        t1 = clock()
        found = facts.extract(doc.text)
        t2 = clock()
        chosen = catalog.for_document(catalogs, doc)
        t3 = clock()
        observations = match.match(doc, found, chosen, config.rule(doc.kind)) if chosen is not None else []
        t4 = clock()
        for stage, seconds in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            result.seconds[stage] += seconds
        result.digests["documents"].update(repr(doc).encode())
        result.digests["facts"].update(repr(found).encode())
        result.digests["observations"].update(repr((chosen.id if chosen else None, observations)).encode())
        result.docs += 1
        result.chars += len(doc.text)
        result.facts += len(found)
        result.observations += len(observations)
    return result


def corpus(args: argparse.Namespace, scratch: Path) -> Path:
    if args.corpus is not None:
        return Path(args.corpus)
    folder = scratch / "corpus"
    for _ in corpus_gen.generate(args.docs, folder, seed=args.seed):
        pass
    return folder


def report(passes: list[Pass]) -> None:
    first = passes[0]
    best = {stage: min(p.seconds[stage] for p in passes) for stage in STAGES}
    total = sum(best.values())
    docs = max(first.docs, 1)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{first.docs} documents, {first.chars:,} characters, {first.rejected} rejected; "
          f"{first.facts:,} facts, {first.observations:,} observations; load average {load}")
    print(f"{'stage':<10}{'CPU s':>9}{'ms/doc':>9}{'docs/s':>10}{'M chars/s':>11}")
    for stage in (*STAGES, "total"):
        seconds = total if stage == "total" else best[stage]
        rate = first.docs / seconds if seconds else float("inf")
        chars = first.chars / seconds / 1e6 if seconds else float("inf")
        print(f"{stage:<10}{seconds:>9.3f}{seconds / docs * 1000:>9.3f}{rate:>10.1f}{chars:>11.2f}")
    for name, digest in first.digests.items():
        print(f"digest {name:<13}{digest.hexdigest()}")
    if any(p.digests[n].hexdigest() != first.digests[n].hexdigest() for p in passes for n in first.digests):
        print("WARNING: the passes disagree: output is not deterministic")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="a folder of documents (default: generate --docs of them)")
    parser.add_argument("--docs", type=int, default=1000, help="how many documents to generate (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="corpus_gen's seed (default 0)")
    parser.add_argument("--schemas", type=Path, default=ROOT / "schemas")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the corpus; the best is reported")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_stages-") as scratch:
        folder = corpus(args, Path(scratch))
        paths = read.iter_inbox(folder)
        if not paths:
            raise SystemExit(f"{folder}: no documents")
        report([one_pass(paths, folder, args.schemas) for _ in range(max(1, args.rounds))])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
