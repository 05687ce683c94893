"""The nightly job at scale: full run, nothing changed, 1 % changed, reports, and the regex ceiling, in one go.

A script, not a test (pytest does not collect it):

    .venv/bin/python tests/benchmarks/bench_run.py                 # 10,000 documents (~180 M characters)
    .venv/bin/python tests/benchmarks/bench_run.py --docs 1000     # a quicker run

It generates N documents with tests/corpus_gen.py, snapshots the code (jobs/, schemas/, warehouse/sql/,
reports/templates|sql) so that edits made while it runs cannot change the pipeline fingerprint between
steps, and runs every step as its own `tongbi` process, timing it from outside:

- full run at N/10, N/2 and N (fresh warehouse, `--no-reports`): documents/s, characters/s, wall time, and a
  memory-vs-N line (peak RSS of the tree, of the run's own process and of its workers at each size), so "flat in
  N" is shown, not claimed;
- reports: `jobs.run.update_reports(force=True)` — index, organisation and indicator pages;
- nothing changed: `tongbi run` with reports (it must skip both the load and the reports);
- 1 % changed: 1 % of the files rewritten with new perturbations, `tongbi run --no-reports`, then (once the
  reports are brought up to date, untimed) another 1 % with `tongbi run` including the reports;
- the regular-expression ceiling: one compiled `finditer` pass over the same files, in this process.

Peak memory is the largest sum of RSS over the step's whole process tree (the run and its workers), polled
from /proc every 50 ms (the run's own process and the sum of its descendants are also tracked apart); `cores`
is the CPU time of the tree (getrusage of waited-for children) over wall time.
The load average (shared machine) is printed next to every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

import corpus_gen  # noqa: E402

CEILING = re.compile(r"[0-9]+(?:\.[0-9]+)?[万亿]?")  # one pattern, no work per match (as bench_facts.py)
SNAPSHOT = ("jobs", "schemas", "warehouse/sql", "reports/templates", "reports/sql")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Step:  # one measured step of the benchmark
    name: str
    docs: int
    chars: int
    seconds: float
    peak_mb: float
    cores: float
    load: str
    exit_code: int
    note: str = ""
    parent_mb: float = 0.0  # peak RSS of the run's own process
    workers_mb: float = 0.0  # peak of the summed RSS of its descendants (worker pool)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _tree(root: int) -> list[int]:
    """The process and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, ()))
    return found


def _rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


def _rss_split(root: int) -> tuple[int, int]:
    """RSS of the process itself and the summed RSS of its descendants."""
    pids = _tree(root)
    return _rss(pids[:1]), _rss(pids[1:])


def measure(name: str, argv: list[str], env: dict[str, str], docs: int, chars: int) -> Step:
    """Run argv, polling the RSS of its process tree; wall time, peak MB, cores used."""
    load = load_average()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # cwd is the snapshot, so `python -m` and `-c` import the snapshot's jobs, not the repo's.
    proc = subprocess.Popen(argv, env=env, cwd=env["PYTHONPATH"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = peak_parent = peak_children = 0
    done = threading.Event()

    def poll() -> None:
        nonlocal peak, peak_parent, peak_children
        while not done.is_set():
            parent, children = _rss_split(proc.pid)
            peak, peak_parent = max(peak, parent + children), max(peak_parent, parent)
            peak_children = max(peak_children, children)
            done.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    _out, err = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    poller.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = [line for line in err.splitlines() if line.startswith("tongbi ")][-1:] or err.splitlines()[-3:]
    print(f"  {name}: {seconds:.1f} s, exit {proc.returncode} | {' / '.join(summary)}", file=sys.stderr)
    if proc.returncode not in (0, 1):
        print(err[-3000:], file=sys.stderr)
    return Step(name, docs, chars, seconds, peak / 1e6, cpu / seconds, load, proc.returncode,
                parent_mb=peak_parent / 1e6, workers_mb=peak_children / 1e6)


def snapshot(into: Path) -> Path:
    """A frozen copy of the code and catalogs (other people may be editing the repo while this runs)."""
    code = into / "code"
    shutil.rmtree(code, ignore_errors=True)
    for part in SNAPSHOT:
        if (ROOT / part).exists():
            shutil.copytree(ROOT / part, code / part, ignore=shutil.ignore_patterns("__pycache__"))
    return code


GENERATED = ".generated"  # in a corpus folder still as generated: N, seed and a hash of the generator and samples


def _generator_key(n: int, seed: int) -> str:
    digest = hashlib.sha256(Path(corpus_gen.__file__).read_bytes())
    for sample in sorted(corpus_gen.SOURCES.glob("*.txt")):
        digest.update(sample.read_bytes())
    return f"{n} {seed} {digest.hexdigest()}"


def generate(n: int, out: Path, seed: int) -> int:
    """N documents in `out`; a folder already holding exactly them (untouched since) is reused, not remade."""
    key = _generator_key(n, seed)
    with contextlib.suppress(OSError):
        if (out / GENERATED).read_text(encoding="ascii") == key:
            return corpus_chars(out)
    shutil.rmtree(out, ignore_errors=True)
    chars = sum(doc.chars for doc in corpus_gen.generate(n, out, seed=seed))
    (out / GENERATED).write_text(key, encoding="ascii")
    return chars


def corpus_chars(folder: Path) -> int:
    return sum(len(p.read_text(encoding="utf-8")) for p in folder.glob("*.txt"))


def rewrite(folder: Path, share: float, seed: int, corpus_seed: int, version: int) -> list[Path]:
    """Rewrite `share` of the files as new versions of the same documents (same organisation and year, new
    perturbation), as when bureaus republish corrected reports."""
    (folder / GENERATED).unlink(missing_ok=True)  # no longer as generated: the next bench makes it anew
    rng = random.Random(seed)
    files = sorted(folder.glob("*.txt"))
    chosen = rng.sample(files, max(1, round(len(files) * share)))
    for path in chosen:
        corpus_gen.regenerate(path, seed=corpus_seed, version=version)
    return chosen


def ceiling(folder: Path) -> Step:
    load = load_average()
    started, cpu0 = time.perf_counter(), time.process_time()
    matches = chars = docs = 0
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        chars += len(text)
        docs += 1
        matches += sum(1 for _ in CEILING.finditer(text))
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    cores = (time.process_time() - cpu0) / seconds
    return Step("regex ceiling (1 finditer pass)", docs, chars, seconds, rss, cores, load, 0, f"{matches} matches")


def table(steps: list[Step], command: str, workers: str) -> str:
    lines = [
        f"`{command}` — {os.cpu_count()} cores, TONGBI_WORKERS={workers}, Python {sys.version.split()[0]}",
        "",
        "| step | documents | characters | wall s | documents/s | M chars/s | peak RSS (tree) | cores used "
        "| load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in steps:
        rate = f"{s.docs / s.seconds:,.0f}" if s.docs else "–"
        mchars = f"{s.chars / s.seconds / 1e6:.2f}" if s.chars else "–"
        name = s.name + (f" ({s.note})" if s.note else "") + ("" if s.exit_code in (0, 1) else f" EXIT {s.exit_code}")
        lines.append(
            f"| {name} | {s.docs:,} | {s.chars:,} | {s.seconds:.1f} | {rate} | {mchars} | {s.peak_mb:,.0f} MB "
            f"| {s.cores:.2f} | {s.load} |"
        )
    return "\n".join(lines)


def memory_curve(full: list[Step]) -> str:
    """Peak RSS of the full runs against N: flat in N means the largest is within noise of the one at N/2."""
    points = ", ".join(
        f"N={s.docs:,}: {s.peak_mb:,.0f} MB (run {s.parent_mb:,.0f} + workers {s.workers_mb:,.0f})" for s in full
    )
    growth = full[-1].peak_mb / full[-2].peak_mb if full[-2].peak_mb else float("nan")
    return f"memory vs N (peak RSS of the tree, full runs): {points}; N / (N/2) = {growth:.2f} (flat: ~1.0)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000, help="N, the corpus size (default 10000)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/tongbi-bench"), help="scratch folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-linearity", action="store_true", help="skip the full runs at N/10 and N/2")
    parser.add_argument("--skip-reports", action="store_true",
                        help="no report steps (every run --no-reports); the reports take minutes at 10,000")
    args = parser.parse_args(argv)
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    code = snapshot(work)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"code snapshot of {ROOT} at {commit} (plus uncommitted edits) in {code}", file=sys.stderr)

    n, tenth, half = args.docs, max(1, args.docs // 10), max(1, args.docs // 2)
    print(f"generating {n}, {half} and {tenth} documents …", file=sys.stderr)
    chars = generate(n, work / "corpus", args.seed)
    chars_tenth = generate(tenth, work / "corpus-tenth", args.seed) if not args.no_linearity else 0
    chars_half = generate(half, work / "corpus-half", args.seed) if not args.no_linearity else 0
    print(f"corpus: {n} documents, {chars:,} characters ({chars / 1e6:.1f} M)", file=sys.stderr)

    env = {**os.environ, "PYTHONPATH": str(code), "TONGBI_SCHEMAS": str(code / "schemas")}
    env.pop("TONGBI_LOG", None)  # cron-like: quiet, one summary line
    python = sys.executable

    def tongbi(inbox: Path, name: str, *extra: str) -> tuple[list[str], dict[str, str]]:
        step_env = {**env, "TONGBI_INBOX": str(inbox), "TONGBI_WAREHOUSE": str(work / name / "tongbi.duckdb"),
                    "TONGBI_REPORTS": str(work / name / "reports")}
        return [python, "-m", "jobs.cli", "run", *extra], step_env

    steps: list[Step] = []
    if not args.no_linearity:
        shutil.rmtree(work / "wh-tenth", ignore_errors=True)
        cmd, step_env = tongbi(work / "corpus-tenth", "wh-tenth", "--no-reports")
        steps.append(measure(f"full run, N/10 = {tenth}", cmd, step_env, tenth, chars_tenth))
        shutil.rmtree(work / "wh-half", ignore_errors=True)
        cmd, step_env = tongbi(work / "corpus-half", "wh-half", "--no-reports")
        steps.append(measure(f"full run, N/2 = {half}", cmd, step_env, half, chars_half))
        shutil.rmtree(work / "wh-half", ignore_errors=True)

    shutil.rmtree(work / "wh", ignore_errors=True)
    cmd, step_env = tongbi(work / "corpus", "wh", "--no-reports")
    steps.append(measure(f"full run, N = {n}", cmd, step_env, n, chars))

    with_reports: tuple[str, ...] = ("--no-reports",) if args.skip_reports else ()
    if not args.skip_reports:
        reports_code = (
            "import sys, time\n"
            "from jobs.run import update_reports\n"
            "from jobs.settings import Settings\n"
            "t = time.perf_counter(); pages = update_reports(Settings.resolve(), force=True)\n"
            "print(f'tongbi reports: {len(pages or ())} files in {time.perf_counter() - t:.1f} s', file=sys.stderr)\n"
        )
        step_env = tongbi(work / "corpus", "wh")[1]
        steps.append(measure("reports (index + org + indicator pages)", [python, "-c", reports_code], step_env, 0, 0))
        pages = sum(1 for _ in (work / "wh" / "reports").rglob("*.html"))
        steps[-1].note = f"{pages} HTML pages"

    cmd, step_env = tongbi(work / "corpus", "wh", *with_reports)
    steps.append(measure(f"nothing changed ({'no' if with_reports else 'with'} reports)", cmd, step_env, n, 0))

    changed = rewrite(work / "corpus", 0.01, args.seed + 1, args.seed, version=1)
    cmd, step_env = tongbi(work / "corpus", "wh", "--no-reports")
    steps.append(measure("1 % changed, no reports", cmd, step_env, len(changed),
                         sum(len(p.read_text(encoding="utf-8")) for p in changed)))

    if not args.skip_reports:
        # the reports brought up to date first (not timed): else the step below renders the pages of both nights
        catch_up = tongbi(work / "corpus", "wh")[1]
        subprocess.run([python, "-c", reports_code], env=catch_up, cwd=catch_up["PYTHONPATH"], check=True,
                       capture_output=True)  # cwd: the snapshot's code, as every timed step (see measure)
        changed = rewrite(work / "corpus", 0.01, args.seed + 2, args.seed, version=2)
        cmd, step_env = tongbi(work / "corpus", "wh")
        steps.append(measure("1 % changed, with reports", cmd, step_env, len(changed),
                             sum(len(p.read_text(encoding="utf-8")) for p in changed)))

    steps.append(ceiling(work / "corpus"))

    size = (work / "wh" / "tongbi.duckdb").stat().st_size
    command = "python tests/benchmarks/bench_run.py" + ("" if n == 10_000 else f" --docs {n}") + (
        " --skip-reports" if args.skip_reports else ""
    )
    print()
    print(table(steps, command, os.environ.get("TONGBI_WORKERS", "default (every core)")))
    print(f"\nwarehouse file after the runs: {size / 1e6:,.0f} MB")
    if not args.no_linearity:
        ratio = steps[2].seconds / steps[0].seconds
        print(f"linearity: full run at N / full run at N/10 = {ratio:.2f} (10x the documents; target <= 11)")
        print(memory_curve(steps[:3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
