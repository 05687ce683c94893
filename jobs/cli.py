"""The command line: parse, call one function of `jobs`, print. No business logic here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from jobs import __version__
from jobs.errors import TongbiError
from jobs.settings import PATH_SETTINGS, ROOT, Settings

EXIT_CODES = """exit codes:
  0   every document loaded (or nothing to do)
  1   some documents were rejected; the others loaded (see the messages)
  2   usage or catalog error; nothing was changed
  3   storage error (warehouse unreadable, disk full); nothing published was damaged
  75  another run holds the lock; try again later
"""


def _add_paths(parser: argparse.ArgumentParser, *names: str) -> None:
    for name, env, default, help_ in PATH_SETTINGS:
        if name in names:
            rel = default.relative_to(ROOT)
            parser.add_argument(
                f"--{name}",
                metavar="FILE" if name == "warehouse" else "DIR",
                help=f"{help_} (env {env}; default {rel})",
            )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tongbi",
        description="同比 — turn yearly work summaries into a DuckDB warehouse and year-over-year reports.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tongbi {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help_, description=description, epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = command(
        "run", "the nightly job: ingest, extract, compare, write reports",
        "Load new or changed documents from the inbox, extract every quantity, match the indicator "
        "catalogs, publish the warehouse atomically and rewrite the reports. Safe to run from cron.",
    )
    _add_paths(run, "inbox", "schemas", "warehouse", "reports")
    run.add_argument("--no-reports", action="store_true", help="load only; do not rewrite the reports")

    ingest = command(
        "ingest", "load the given documents (files or folders) into the warehouse",
        "Load the given files (.txt, .docx, .html) or every document in the given folders.",
    )
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _add_paths(ingest, "schemas", "warehouse")

    report = command(
        "report", "rewrite the reports from the warehouse",
        "Write the comparison reports (index, one page per organisation and year, one per indicator).",
    )
    _add_paths(report, "warehouse", "reports")
    report.add_argument(
        "--format", choices=["html", "md"], default="html", help="html pages (default) or one Markdown file"
    )

    sql = command(
        "sql", "run one read-only query against the warehouse",
        "Run one read-only SQL query in a sandbox (no file or network access, time and memory limits).\n"
        "Views: documents, facts, indicators, observations, yoy, goals, runs.",
    )
    sql.add_argument("query", metavar="QUERY")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="stop the query after this long (default 30)"
    )
    sql.add_argument("--memory", default="1GB", metavar="SIZE", help="memory limit for the query (default 1GB)")
    _add_paths(sql, "warehouse")

    sched = command(
        "schedule", "run the nightly job every day at a given time (instead of cron)",
        "Stay in the foreground and run `tongbi run` every day at --at. Runs at once on start if the last "
        "successful run is older than a day. A failed run is logged and the loop goes on; SIGTERM stops it.",
    )
    sched.add_argument("--at", default="02:00", metavar="HH:MM", help="time of day (default 02:00)")
    sched.add_argument("--tz", default=None, metavar="ZONE", help="time zone, e.g. Asia/Shanghai (default: local)")
    _add_paths(sched, "inbox", "schemas", "warehouse", "reports")

    export = command(
        "export", "write every view as Parquet for another engine",
        "Write every view as Parquet files, hive-partitioned by year, for Spark, DuckDB or others.",
    )
    export.add_argument("--parquet", required=True, type=Path, metavar="DIR")
    _add_paths(export, "warehouse")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.resolve(**{name: getattr(args, name, None) for name, *_ in PATH_SETTINGS})


def dispatch(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.command == "run":
        from jobs.run import run_job

        return run_job(settings, reports=not args.no_reports).exit_code
    if args.command == "ingest":
        from jobs.run import ingest

        return ingest(settings, args.paths).exit_code
    if args.command == "report":
        from jobs.report import write_reports

        written = write_reports(settings.warehouse, settings.reports, fmt=args.format)
        # The first path is the one to open (index.html or report.md); the rest are the pages it links to.
        print(written[0])
        return 0
    if args.command == "sql":
        from jobs.sql import format_result, query

        result = query(settings.warehouse, args.query, timeout=args.timeout, memory_limit=args.memory)
        sys.stdout.write(format_result(result, args.format))
        return 0
    if args.command == "schedule":
        from jobs.scheduler import serve

        return serve(settings, at=args.at, tz=args.tz)
    if args.command == "export":
        from jobs.export import export_parquet

        for path in export_parquet(settings.warehouse, args.parquet):
            print(path)
        return 0
    raise AssertionError(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return dispatch(args)
    except TongbiError as error:
        print(f"tongbi: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("tongbi: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
