"""The nightly job: lock → read, extract and match each new or changed document → load → publish → reports.

Consistency when code or catalogs change: a run fingerprints schemas/**/*.toml together with the source of
the stages that turn text into facts and observations. When the fingerprint differs from the one stored in
the warehouse, the run re-extracts and re-matches every current document from its stored text in the same
transaction, so `facts`, `observations` and `indicators` always come from one catalog and one extractor.
Earlier (superseded) versions keep the rows they were loaded with.

The `runs` row: a run that publishes writes its row in its own load transaction (status `ok`, or `rejected`
when some documents were refused). A run that fails before publishing (catalog or usage error, storage error,
a bug) publishes a second, tiny working copy holding only its `failed` row. Two runs leave no row, and say so
on stderr: a run that finds the lock taken (exit 75: the warehouse belongs to the other run), and a run whose
warehouse cannot be read or written at all (exit 3: corrupt file, full disk, another program writing it),
because recording the row would need exactly what failed.

Unchanged files are skipped on (size, mtime) without being read; a touched file is hashed and, with the same
bytes, only its new mtime is remembered (a file over read's size limits is never hashed: read_document rejects
it unread). The others are read, hashed, extracted and matched in a pool of worker processes (TONGBI_WORKERS,
default every core; `spawn`, and each worker dies with the run, even by kill -9), a bounded window ahead of the
parent, which takes the results in file order and loads them a batch at a time into the one transaction, so
memory stays flat in the size of the inbox. A run that changes no row the reports read leaves the reports as
they are (a note beside the warehouse says which data they were written from); it still publishes its `runs`
row, which costs one copy of the warehouse file. Logs go to stderr, each line with the run id; on a terminal at INFO
with a progress bar, otherwise (cron) only warnings, errors and a one-line summary. TONGBI_LOG=info|debug
overrides the level.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import inspect
import json
import logging
import multiprocessing
import os
import secrets
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Literal, TypeVar

import polars as pl

from jobs import catalog as catalogs_
from jobs import doctypes, facts, lock, read, units
from jobs import match as matching
from jobs import warehouse as wh
from jobs.errors import BusyError, CatalogError, DocumentError, StorageError, TongbiError, UsageError
from jobs.records import Document
from jobs.settings import Settings

_In = TypeVar("_In")
_Out = TypeVar("_Out")
Status = Literal["ok", "rejected", "failed", "busy"]
# Parsed documents are held in memory until this many (or this much text) are pending, then written into
# the open load transaction: memory stays bounded by one batch, however large the inbox.
BATCH_DOCUMENTS = 256
BATCH_CHARS = 8_000_000
WORKERS_ENV = "TONGBI_WORKERS"  # how many processes extract documents; default: every core
# Fewer documents to extract than this are done in-process: starting two workers costs ~1.5 s on a loaded
# 2-core machine, about what 200 documents take in one process (the 1 % of a 10,000-document inbox: 100).
POOL_MIN = 200
# Documents queued ahead of the parent, per worker. The parent stops taking results while it writes a batch
# (~0.5–1 s for 256 documents); the workers must have that much work queued or they idle: with 4 a worker
# waited through every flush (1.56–1.77 of 2 cores busy). The window is also capped in bytes, so a few huge
# files never sit in memory together: it stays flat in the size of the inbox either way.
IN_FLIGHT_PER_WORKER = 48
IN_FLIGHT_BYTES = 48_000_000  # bytes of the queued documents (file size, or 3 per character of stored text)
DATA_KEY = "data_run_id"  # warehouse_meta: the last run that changed what the reports show
LOG_ENV = "TONGBI_LOG"  # debug|info|warning: overrides the level chosen from whether stderr is a terminal
# The code that turns stored text into facts and observations (read only makes the Document, which is stored).
_STAGES = (doctypes, facts, catalogs_, units, matching)


@dataclass(frozen=True)
class RunResult:
    """What a run did; `exit_code` is what `tongbi run` exits with."""

    run_id: str
    status: Status
    exit_code: int
    documents_seen: int = 0
    documents_loaded: int = 0
    documents_rejected: int = 0
    documents_unchanged: int = 0
    rejections: tuple[str, ...] = ()
    message: str = ""
    reports: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Pipeline:
    """What turns a document into rows: the catalogs, the document rules and their fingerprint."""

    catalogs: tuple[catalogs_.Catalog, ...]
    config: doctypes.DocConfig
    fingerprint: str


@dataclass(frozen=True)
class Parsed:
    """One document read, extracted and matched, ready to load (rows as frames: cheap to pass between processes)."""

    document: Document
    facts: pl.DataFrame
    observations: pl.DataFrame
    catalog: str | None


Note = tuple[int, str]  # (logging level, message) from a worker, logged by the parent with the run id


@dataclass(frozen=True)
class Job:
    """One candidate file that is not skipped on (size, mtime): examined in a worker."""

    path: Path
    inbox: Path | None
    key: str
    before: wh.FileState | None
    size: int = 0  # bytes when last stat'ed: what the job weighs in the pool's window


@dataclass(frozen=True)
class Outcome:
    """What examining one file found; applied to the run by the parent, in file order."""

    key: str
    parsed: Parsed | None = None  # the file holds content that was read and parsed
    state: wh.FileState | None = None  # what to remember about the file (None: read again next run)
    unchanged: bool = False  # touched, same bytes
    rejection: str | None = None
    changed_while_read: bool = False
    notes: tuple[Note, ...] = ()


@dataclass
class Scan:
    """The outcome of reading the candidate files of one run."""

    seen: int = 0
    unchanged: int = 0
    loaded: list[str] = field(default_factory=list)  # doc_ids of the new versions, in load order
    files: list[wh.FileState] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)


class Batch:
    """Rows of parsed documents, written into the open load transaction a few documents at a time.

    Memory stays bounded by BATCH_DOCUMENTS documents or BATCH_CHARS of text, however large the inbox.
    Two new versions that would retire one another (same source file, or same org/kind/year) never share
    a batch, so a batch loads exactly what loading its documents one by one would.
    """

    def __init__(self, copy: wh.WorkingCopy, run_id: str, loaded_at: datetime) -> None:
        self.copy, self.run_id, self.loaded_at = copy, run_id, loaded_at
        self.pending: list[tuple[Parsed, bool]] = []
        self.keys: set[tuple[object, ...]] = set()
        self.chars = 0
        self.known = copy.known_doc_ids()  # a doc_id never loaded has no rows to replace

    def add(self, parsed: Parsed, *, new_version: bool) -> None:
        doc = parsed.document
        keys = {("file", doc.source_file), ("period", doc.org, doc.kind, doc.period_year)} if new_version else set()
        if keys & self.keys:
            self.flush()
        self.keys |= keys
        self.pending.append((parsed, new_version))
        self.chars += doc.chars
        if len(self.pending) >= BATCH_DOCUMENTS or self.chars >= BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        every = [parsed for parsed, _ in self.pending]
        self.copy.add_versions(
            [parsed.document for parsed, new in self.pending if new], run_id=self.run_id, loaded_at=self.loaded_at
        )
        # Replaced, not only added: a version loaded again may carry facts of an older extractor, and its
        # observations (made now) must point at the facts made now.
        stale = [p.document.doc_id for p in every if p.document.doc_id in self.known]
        self.copy.replace_fact_frame(stale, pl.concat([p.facts for p in every], how="vertical"))
        self.copy.replace_observation_frame(stale, pl.concat([p.observations for p in every], how="vertical"))
        self.known.update(p.document.doc_id for p in every)
        self.pending.clear()
        self.keys.clear()
        self.chars = 0


def run_job(settings: Settings, *, reports: bool = True) -> RunResult:
    """The nightly job over the inbox."""
    return _Run(settings, "run").execute(None, reports=reports)


def ingest(settings: Settings, paths: Sequence[Path]) -> RunResult:
    """Load the given files, or every document in the given folders; no reports."""
    return _Run(settings, "ingest").execute(list(paths), reports=False)


# ---------------------------------------------------------------- pipeline pieces


def _reports_stamp(settings: Settings) -> Path:
    """Beside the warehouse: which data (and which report code) the reports folder was last written from."""
    return settings.warehouse.with_name(f".{settings.warehouse.name}.reports")


def _reports_key(settings: Settings, data: str) -> str:
    # The report code is hashed from its file, not imported: a run that writes no reports saves the import.
    spec = importlib.util.find_spec("jobs.report")
    module = Path(spec.origin if spec and spec.origin else __file__.replace("run.py", "report.py"))
    digest = hashlib.sha256(data.encode() + b"\0" + module.read_bytes())
    folder = module.resolve().parent.parent / "reports"
    for path in sorted(p for part in ("templates", "sql") for p in (folder / part).rglob("*") if p.is_file()):
        digest.update(path.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{digest.hexdigest()} {settings.reports.resolve()}\n"


def update_reports(settings: Settings, *, force: bool = False) -> tuple[Path, ...] | None:
    """Write the reports unless they were written from exactly this data with this code; None when skipped.

    The data is named by `data_run_id` in the warehouse, set by every run that changed a row the reports
    read (a run that loads nothing keeps it). The note is written only after the reports, so a run killed
    while writing them leaves reports that the next run writes again.
    """
    key = _reports_key(settings, wh.published_meta(settings.warehouse, DATA_KEY) or "")
    stamp = _reports_stamp(settings)
    with suppress(OSError):
        if not force and stamp.read_text(encoding="utf-8") == key and (settings.reports / "index.html").exists():
            return None
    from jobs import report  # only now: a night that changed nothing does not pay for importing it (0.12 s)

    wh.crash_point("reports")
    written = tuple(report.write_reports(settings.warehouse, settings.reports))
    with suppress(OSError):  # without the note the next run only writes the same reports again
        temporary = stamp.with_name(stamp.name + ".new")
        temporary.write_text(key, encoding="utf-8")
        os.replace(temporary, stamp)
    return written


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored as UTC in TIMESTAMP columns


def fingerprint(schemas: Path) -> str:
    """sha256 over every catalog and document rule, and the source of every stage that makes rows."""
    digest = hashlib.sha256()
    for path in sorted(schemas.rglob("*.toml")):
        digest.update(path.relative_to(schemas).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for module in _STAGES:
        digest.update(module.__name__.encode() + b"\0" + inspect.getsource(module).encode() + b"\0")
    return digest.hexdigest()


def load_pipeline(schemas: Path) -> Pipeline:
    """Catalogs and document rules, validated before anything is touched (CatalogError otherwise)."""
    if not schemas.is_dir():
        raise UsageError(f"{schemas}: the schemas folder does not exist. Pass --schemas DIR or set TONGBI_SCHEMAS.")
    return Pipeline(catalogs_.load_catalogs(schemas), doctypes.load(schemas), fingerprint(schemas))


def indicator_rows(catalogs: Iterable[catalogs_.Catalog]) -> list[wh.IndicatorRow]:
    return [
        wh.IndicatorRow(
            catalog=c.id, indicator_id=i.id, name=i.name, unit=i.unit, aliases=i.aliases,
            detail=json.dumps(
                {"measure": i.measure, "goal": i.goal, "exclude": list(i.exclude), "group": i.group,
                 "description": i.description, "catalog_name": c.name},
                ensure_ascii=False, sort_keys=True,
            ),
        )
        for c in catalogs
        for i in c.indicators
    ]


def parse(doc: Document, pipeline: Pipeline) -> tuple[Parsed, tuple[Note, ...]]:
    """Facts and observations of one document, and what the log should say about it."""
    found = facts.extract(doc.text)
    frame = wh.fact_frame([(doc.doc_id, found)])
    catalog = catalogs_.for_document(pipeline.catalogs, doc)
    if catalog is None:
        note = (logging.INFO, f"{doc.source_file}: no catalog applies to it (kind {doc.kind}); facts only")
        return Parsed(doc, frame, wh.observation_frame(()), None), (note,)
    try:
        rule = pipeline.config.rule(doc.kind)
    except KeyError as error:
        note = (logging.WARNING, f"{doc.source_file}: {error.args[0]}; loaded without observations")
        return Parsed(doc, frame, wh.observation_frame(()), catalog.id), (note,)
    observations = matching.match(doc, found, catalog, rule)
    return Parsed(doc, frame, wh.observation_frame((catalog.id, o) for o in observations), catalog.id), ()


def _too_big_to_hash(path: Path, size: int) -> bool:
    """Whether read_document would refuse the file unread for its size (then it is not hashed either)."""
    limit = read.MAX_DOCX_BYTES if path.suffix.lower() == ".docx" else read.MAX_TEXT_BYTES
    return size > limit


def examine(job: Job, pipeline: Pipeline) -> Outcome:
    """Read, hash, extract and match one file; runs in a worker process (or in the run's own process)."""
    path, before = job.path, job.before
    try:
        stat = path.stat()
        # Only a known file of the same size can hold the same bytes; it alone is hashed before reading.
        # (A symlink is left to read_document, which decides whether its target may be read at all.)
        if (
            before and before.size == stat.st_size and not path.is_symlink()
            and not _too_big_to_hash(path, stat.st_size)
        ):
            digest = wh.file_sha256(path)
            if before.bytes_sha256 == digest:  # touched, same bytes: remember the new mtime only
                state = wh.FileState(job.key, stat.st_size, stat.st_mtime_ns, digest, before.doc_id)
                return Outcome(job.key, state=state, unchanged=True)
        doc = read.read_document(path, pipeline.config, inbox=job.inbox)
        # Hashed after a successful read, so a file read_document refuses unread (too big) is never read.
        digest = wh.file_sha256(path)
        settled = path.stat()
    except DocumentError as error:
        return Outcome(job.key, rejection=str(error))
    except OSError as error:
        problem = DocumentError(path, f"could not be read ({error.strerror})", "Check the file and its permissions")
        return Outcome(job.key, rejection=str(problem))
    parsed, notes = parse(doc, pipeline)
    if (settled.st_size, settled.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
        # Written to while we read it: load what we read, but remember nothing, so it is read again.
        return Outcome(job.key, parsed=parsed, changed_while_read=True, notes=notes)
    state = wh.FileState(job.key, stat.st_size, stat.st_mtime_ns, digest, doc.doc_id)
    return Outcome(job.key, parsed=parsed, state=state, notes=notes)


# ---------------------------------------------------------------- the worker pool

# Set in each worker process by _start_worker: the pipeline of the run that started the pool.
_WORKER_PIPELINE: Pipeline | None = None
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def workers() -> int:
    """How many processes extract documents: TONGBI_WORKERS, or every core this process may use."""
    chosen = os.environ.get(WORKERS_ENV, "").strip()
    if chosen:
        try:
            return max(1, int(chosen))
        except ValueError:
            raise UsageError(
                f"{WORKERS_ENV}={chosen!r} is not a number. Set it to how many processes extract documents, e.g. 2."
            ) from None
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when the run dies, even by kill -9, so no orphan keeps files open."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pool's own pipe still ends idle workers
        pass
    if os.getppid() != parent:  # the run died before prctl took effect
        os._exit(1)


def _start_worker(pipeline: Pipeline, parent: int) -> None:
    global _WORKER_PIPELINE
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops the pool
    _WORKER_PIPELINE = pipeline


def _examine_in_worker(job: Job) -> Outcome:
    if _WORKER_PIPELINE is None:
        raise RuntimeError("worker started without a pipeline")
    return examine(job, _WORKER_PIPELINE)


def _parse_in_worker(doc: Document) -> tuple[Parsed, tuple[Note, ...]]:
    if _WORKER_PIPELINE is None:
        raise RuntimeError("worker started without a pipeline")
    return parse(doc, _WORKER_PIPELINE)


def _job_bytes(job: Job) -> int:
    return job.size


def _document_bytes(doc: Document) -> int:
    return 3 * doc.chars  # UTF-8 of Chinese text


class Pool:
    """Worker processes started on first use; results come back in submission order, a bounded window ahead.

    `spawn`, not `fork`: the parent holds a DuckDB connection and polars threads, neither safe across fork.
    Fewer than POOL_MIN documents are done in the run's own process, where starting workers would cost more.
    """

    def __init__(self, pipeline: Pipeline, size: int) -> None:
        self.pipeline, self.size = pipeline, size
        self.executor: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self.executor is None:
            context = multiprocessing.get_context("spawn")
            self.executor = ProcessPoolExecutor(
                self.size, mp_context=context, initializer=_start_worker, initargs=(self.pipeline, os.getpid())
            )
        return self.executor

    def map(
        self, local: Callable[[_In], _Out], remote: Callable[[_In], _Out], items: Sequence[_In] | Iterable[_In],
        count: int, weight: Callable[[_In], int],
    ) -> Iterator[_Out]:
        """Results in item order; at most IN_FLIGHT_PER_WORKER items a worker and IN_FLIGHT_BYTES (by `weight`)
        are submitted and not yet taken, but always one per worker."""
        if self.size <= 1 or count < POOL_MIN:
            yield from (local(item) for item in items)
            return
        executor = self._executor()
        window: deque[tuple[Future[_Out], int]] = deque()
        queued = 0
        for item in items:
            size = weight(item)
            window.append((executor.submit(remote, item), size))
            queued += size
            while len(window) > self.size and (
                len(window) >= self.size * IN_FLIGHT_PER_WORKER or queued >= IN_FLIGHT_BYTES
            ):
                future, size = window.popleft()
                queued -= size
                yield future.result()
        while window:
            yield window.popleft()[0].result()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


def source_key(path: Path, inbox: Path | None) -> str:
    """How a file is remembered: relative to the inbox when inside it (symlinks not followed)."""
    # Plain strings, not PurePath.relative_to: this runs for every file of every run (0.6 s at 10,000).
    absolute = os.path.abspath(path)
    if inbox is not None:
        root = _absolute(inbox).rstrip(os.sep)  # "" for the file system's root
        if absolute.startswith(root) and absolute[len(root) : len(root) + 1] == os.sep:
            return _posix(absolute[len(root) + 1 :])
    return _posix(absolute)


def _posix(path: str) -> str:
    return path if os.sep == "/" else Path(path).as_posix()


@lru_cache(maxsize=16)
def _absolute(folder: Path) -> str:
    return os.path.abspath(folder)


def candidates(settings: Settings, paths: list[Path] | None) -> list[tuple[Path, Path | None]]:
    """The files a run looks at, each with the folder it must stay inside (None: a file named directly)."""
    if paths is None:
        if not settings.inbox.is_dir():
            raise UsageError(f"{settings.inbox}: the inbox folder does not exist. Create it or pass --inbox DIR.")
        return [(path, settings.inbox) for path in read.iter_inbox(settings.inbox)]
    found: list[tuple[Path, Path | None]] = []
    for path in paths:
        if path.is_dir():
            found.extend((item, path) for item in read.iter_inbox(path))
        elif path.exists() or path.is_symlink():
            found.append((path, None))
        else:
            raise UsageError(f"{path}: no such file or folder. Check the path and run `tongbi ingest` again.")
    return found


# ---------------------------------------------------------------- logging and progress


class _Handler(logging.Handler):
    """Writes to the stderr of the moment (so pytest's capture and rich's live display both see it)."""

    def __init__(self, console: object | None) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        if self.console is not None:
            self.console.print(line, markup=False, highlight=False)  # type: ignore[attr-defined]
        else:
            print(line, file=sys.stderr, flush=True)


def _level(tty: bool) -> int:
    chosen = os.environ.get(LOG_ENV, "").upper()
    if chosen in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        return int(getattr(logging, chosen))
    return logging.INFO if tty else logging.WARNING


@contextmanager
def _logging(run_id: str) -> Iterator[tuple[logging.LoggerAdapter[logging.Logger], object | None]]:
    tty = sys.stderr.isatty()
    console = None
    if tty:
        from rich.console import Console

        console = Console(stderr=True)
    logger = logging.getLogger(f"tongbi.run.{run_id}")
    logger.propagate = False
    handler = _Handler(console)
    handler.setFormatter(logging.Formatter(f"tongbi {run_id} %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(_level(tty))
    try:
        yield logging.LoggerAdapter(logger, {}), console
    finally:
        logger.removeHandler(handler)


@contextmanager
def _progress(console: object | None, total: int) -> Iterator[object | None]:
    if console is None or total == 0:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]reading[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=console, transient=True,  # type: ignore[arg-type]
    ) as bar:
        bar.add_task("", total=total)
        yield bar


# ---------------------------------------------------------------- one run


class _Run:
    def __init__(self, settings: Settings, command: Literal["run", "ingest"]) -> None:
        self.settings = settings
        self.command = command
        self.run_id = new_run_id()
        self.started = _now()
        self.fingerprint: str | None = None
        self.workers = 1

    def execute(self, paths: list[Path] | None, *, reports: bool) -> RunResult:
        clock = time.monotonic()
        with _logging(self.run_id) as (log, console):
            self.log = log
            self.console = console
            try:
                with lock.hold(wh.lock_path(self.settings.warehouse)):
                    result = self._locked(paths, reports=reports)
            except BusyError as error:
                log.error("%s", error)
                return RunResult(self.run_id, "busy", error.exit_code, message=str(error))
            except StorageError as error:  # the lock folder itself could not be made
                log.error("%s", error)
                return RunResult(self.run_id, "failed", error.exit_code, message=str(error))
            self._summary(result, time.monotonic() - clock)
            return result

    def _summary(self, result: RunResult, seconds: float) -> None:
        line = (
            f"tongbi {self.run_id} {self.command} {result.status}: {result.documents_seen} seen, "
            f"{result.documents_loaded} loaded, {result.documents_unchanged} unchanged, "
            f"{result.documents_rejected} rejected in {seconds:.1f} s → {self.settings.warehouse}"
        )
        print(line, file=sys.stderr, flush=True)

    def _fail(self, error: TongbiError, scan: Scan | None = None) -> RunResult:
        """Log the error and leave a `runs` row for the failed run where the warehouse still allows it."""
        self.log.error("%s", error)
        scan = scan or Scan()
        row = self._row("failed", scan, loaded=0, message=str(error))
        try:
            wh.record_run_only(self.settings.warehouse, row)
        except TongbiError as second:
            same = str(second).replace(f"{self.run_id}-log", self.run_id) == str(error)
            why = "the same problem stops that too" if same else str(second)
            self.log.error("this run could not be recorded in runs: %s", why)
        return RunResult(
            self.run_id, "failed", error.exit_code, scan.seen, 0, len(scan.rejections), scan.unchanged,
            tuple(scan.rejections), str(error),
        )

    def _row(self, status: str, scan: Scan, *, loaded: int, message: str) -> wh.RunRow:
        return wh.RunRow(
            run_id=self.run_id, started_at=self.started, finished_at=_now(), status=status,
            documents_seen=scan.seen, documents_loaded=loaded, documents_rejected=len(scan.rejections),
            message=message, command=self.command, pipeline_sha256=self.fingerprint,
        )

    def _locked(self, paths: list[Path] | None, *, reports: bool) -> RunResult:
        log = self.log
        log.info("phase: catalogs")
        try:
            pipeline = load_pipeline(self.settings.schemas)
            self.fingerprint = pipeline.fingerprint
            files = candidates(self.settings, paths)
            self.workers = workers()
        except (CatalogError, UsageError) as error:
            return self._fail(error)
        log.info("phase: open working copy")
        try:
            copy = wh.WorkingCopy.open(self.settings.warehouse, self.run_id)
        except StorageError as error:
            return self._fail(error)
        scan = Scan(seen=len(files))
        try:
            loaded = self._load(copy, files, pipeline, scan)
            log.info("phase: publishing")
            copy.publish()
        except StorageError as error:
            copy.discard()
            return self._fail(error, scan)
        except BaseException as error:
            copy.discard()
            if isinstance(error, Exception):
                self._fail(StorageError(f"internal error, nothing was published: {error!r}"), scan)
            raise
        status: Status = "rejected" if scan.rejections else "ok"
        code, message = (1 if scan.rejections else 0), ""
        written: tuple[Path, ...] = ()
        if reports:
            try:
                written = self._reports()
            except TongbiError as error:  # the warehouse is published; only the reports are stale
                log.error("%s", error)
                status, code, message = "failed", error.exit_code, str(error)
        log.info("phase: done")
        return RunResult(
            self.run_id, status, code, scan.seen, loaded, len(scan.rejections), scan.unchanged,
            tuple(scan.rejections), message, written,
        )

    def _scan(self, files: list[tuple[Path, Path | None]], pool: Pool, scan: Scan, batch: Batch) -> None:
        known = batch.copy.file_states()
        current = set(batch.copy.current_doc_ids())
        jobs: list[Job] = []
        for path, inbox in files:
            key = source_key(path, self.settings.inbox)  # unique across inbox and ingested folders
            before = known.get(key)
            size = 0
            with suppress(OSError):  # a file that cannot be stat'ed is examined, and rejected, with a message
                stat = path.stat()
                if before and (before.size, before.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                    scan.unchanged += 1  # not even read
                    continue
                size = stat.st_size
            jobs.append(Job(path, inbox, key, before, size))
        self.log.info("phase: reading %d new or changed files of %d", len(jobs), len(files))
        with _progress(self.console, len(jobs)) as bar:
            local = partial(examine, pipeline=pool.pipeline)
            for outcome in pool.map(local, _examine_in_worker, jobs, len(jobs), _job_bytes):
                parsed = self._apply(scan, outcome, current)
                if parsed is not None:
                    batch.add(parsed, new_version=True)
                if bar is not None:
                    bar.advance(bar.task_ids[0])  # type: ignore[attr-defined]
        batch.flush()

    def _note(self, notes: Iterable[Note]) -> None:
        for level, message in notes:
            self.log.log(level, "%s", message)

    def _apply(self, scan: Scan, outcome: Outcome, current: set[str]) -> Parsed | None:
        """Count one examined file; the parsed document when it holds a new version."""
        key = outcome.key
        if outcome.rejection is not None:
            scan.rejections.append(outcome.rejection)
            self.log.warning("rejected %s", outcome.rejection)
            return None
        if outcome.state is not None:
            scan.files.append(outcome.state)
        if outcome.changed_while_read:
            self.log.warning("%s: changed while being read; it will be read again on the next run", key)
        if outcome.unchanged or outcome.parsed is None:
            scan.unchanged += 1  # touched, same bytes: only the new mtime is remembered
            return None
        doc = outcome.parsed.document
        if doc.doc_id in current:
            scan.unchanged += 1  # same content as a current document, under another name or encoding
            self.log.info("%s: same content as a loaded document (%s)", key, doc.doc_id)
            return None
        for warning in doc.warnings:  # loaded, but a reader of the cron mail should know
            self.log.warning("%s: %s", key, warning)
        current.add(doc.doc_id)
        scan.loaded.append(doc.doc_id)
        self.log.info("%s: new version %s (%s %s %d)", key, doc.doc_id, doc.org, doc.kind, doc.period_year)
        self._note(outcome.notes)
        return outcome.parsed

    def _load(
        self, copy: wh.WorkingCopy, files: list[tuple[Path, Path | None]], pipeline: Pipeline, scan: Scan
    ) -> int:
        """Everything of this run in one transaction; returns the number of new versions."""
        stale = copy.meta("pipeline_sha256") != pipeline.fingerprint
        loaded_at = _now()
        pool = Pool(pipeline, self.workers)
        try:
            with copy.transaction():
                batch = Batch(copy, self.run_id, loaded_at)
                self._scan(files, pool, scan, batch)
                wh.crash_point("read")
                self.log.info("phase: loading")
                if stale:
                    self._rematch(copy, scan, pool, batch)
                # The workers are done: gone before COMMIT, the run's most memory-hungry moment.
                pool.close()
                if stale:
                    copy.replace_indicators(indicator_rows(pipeline.catalogs))
                    copy.set_meta("pipeline_sha256", pipeline.fingerprint)
                if stale or scan.loaded or copy.meta(DATA_KEY) is None:
                    copy.set_meta(DATA_KEY, self.run_id)  # the reports read other data now
                copy.record_files(scan.files, loaded_at)
                message = "; ".join(scan.rejections)
                status = "rejected" if scan.rejections else "ok"
                copy.record_run(self._row(status, scan, loaded=len(scan.loaded), message=message))
        finally:
            pool.close()
        return len(scan.loaded)

    def _rematch(self, copy: wh.WorkingCopy, scan: Scan, pool: Pool, batch: Batch) -> None:
        """Catalogs or extractor changed: every current document not loaded now is extracted and matched again."""
        fresh = set(scan.loaded)
        ids = [doc_id for doc_id in copy.current_doc_ids() if doc_id not in fresh]
        if ids:
            self.log.info("catalogs or extractor changed: re-matching %d current documents", len(ids))

        def documents() -> Iterator[Document]:
            for start in range(0, len(ids), BATCH_DOCUMENTS):
                yield from copy.current_documents(ids[start : start + BATCH_DOCUMENTS])

        local = partial(parse, pipeline=pool.pipeline)
        for parsed, notes in pool.map(local, _parse_in_worker, documents(), len(ids), _document_bytes):
            self._note(notes)
            batch.add(parsed, new_version=False)
        batch.flush()

    def _reports(self) -> tuple[Path, ...]:
        self.log.info("phase: reports")
        written = update_reports(self.settings)
        if written is None:
            self.log.info("reports: already written from this data; left as they are")
            return ()
        return written

