"""The HTML report at scale: a full render, an incremental one after some documents changed, and one of nothing.

    .venv/bin/python tests/benchmarks/bench_report.py --warehouse W [--changed W2] [--work DIR]

- full: `write_reports(W, DIR/reports)` into an empty folder — every page rendered.
- incremental (with --changed W2, a later version of W: the same warehouse after a run that loaded changed
  documents): `write_reports(W2, DIR/reports)` over the full render — only the pages whose key changed rendered.
- nothing changed: `write_reports(W2 or W, …)` once more — the run line rewritten, no page rendered.

Each step runs in its own process (the report forks its workers); wall time, CPU seconds of the whole process tree,
pages rendered and reused, and the peak of the RSS summed over the process tree (polled every 50 ms) are printed
with the load average, as a Markdown table. The warehouses are only read. A script, not a test: timings on a shared
machine are noisy, so compare CPU seconds and give the load average with any wall-clock figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _rss, _tree, load_average  # noqa: E402  (the same process-tree polling as the run bench)

STEP = """
import json, sys, time
from pathlib import Path
from jobs import report
started = time.perf_counter()
files = report.write_reports(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - started, "files": len(files),
                  "rendered": report.LAST_RENDER.rendered, "reused": report.LAST_RENDER.reused}))
"""


@dataclass
class Step:
    name: str
    wall: float
    cpu: float
    rendered: int
    reused: int
    files: int
    peak_mb: float
    load: str


def measure(name: str, warehouse: Path, reports: Path) -> Step:
    """One `write_reports` in a child process, its tree's RSS polled."""
    load = load_average()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", STEP, str(warehouse), str(reports)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss(_tree(proc.pid)))
            done.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    poller.join()
    if proc.returncode != 0:
        raise SystemExit(f"{name}: exit {proc.returncode}\n{err[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = json.loads(out.strip().splitlines()[-1])
    step = Step(name, wall, cpu, result["rendered"], result["reused"], result["files"], peak / 1e6, load)
    print(f"  {name}: {wall:.1f} s wall, {cpu:.1f} CPU s, {step.rendered} rendered, {step.reused} reused, "
          f"{step.peak_mb:.0f} MB", file=sys.stderr)
    return step


def table(steps: list[Step]) -> str:
    lines = ["| step | wall s | CPU s (tree) | pages rendered | pages reused | peak RSS (tree) | load average |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for s in steps:
        lines.append(f"| {s.name} | {s.wall:.1f} | {s.cpu:.1f} | {s.rendered:,} | {s.reused:,} | {s.peak_mb:,.0f} MB "
                     f"| {s.load} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True, help="the warehouse to render (only read)")
    parser.add_argument("--changed", type=Path, help="a later version of it, for the incremental step")
    parser.add_argument("--work", type=Path, default=Path("/tmp/tongbi-bench-report"), help="scratch folder")
    parser.add_argument("--skip-full", action="store_true", help="reuse the full render already in --work")
    args = parser.parse_args(argv)
    reports = args.work / "reports"
    steps: list[Step] = []
    if not args.skip_full:
        shutil.rmtree(reports, ignore_errors=True)
        steps.append(measure("full render", args.warehouse, reports))
    if args.changed:
        steps.append(measure("incremental (changed warehouse)", args.changed, reports))
    steps.append(measure("nothing changed", args.changed or args.warehouse, reports))
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"`{uptime}` · {os.cpu_count()} cores · {args.warehouse}" + (f" → {args.changed}" if args.changed else ""))
    print(table(steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
