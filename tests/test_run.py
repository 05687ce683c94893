"""jobs.run and jobs.lock: the nightly job end to end on real documents, exit codes, lock, runs rows."""

from __future__ import annotations

import fcntl
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from jobs import lock
from jobs import warehouse as wh
from jobs.run import RunResult, ingest, run_job
from jobs.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
INBOX = ROOT / "warehouse" / "inbox"
TONGBI = [sys.executable, "-m", "jobs.cli"]
SMALL = ("xinjian-jiaoti_2022.txt", "gov-report-cn_2024.txt", "jiangxi-gov-report_2026.txt")

# Columns that say when or in which run, not what: left out when comparing contents.
VOLATILE = {
    "document_versions": "loaded_at, superseded_at, run_id",
    "inbox_files": "seen_at",
}
CONTENT_TABLES = (
    "document_versions", "document_texts", "fact_rows", "observation_rows", "indicator_rows", "inbox_files",
)


def table_checksums(
    path: Path, tables: tuple[str, ...] = CONTENT_TABLES, *, volatile: dict[str, str] = VOLATILE
) -> dict[str, tuple[int, str]]:
    """(row count, md5 over the sorted rows) of each table, leaving out the time and run columns."""
    result = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for table in tables:
            exclude = f" exclude ({volatile[table]})" if table in volatile else ""
            row = con.execute(
                f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) "
                f"from (select cast(t as varchar) as r from (select *{exclude} from {table}) as t)"
            ).fetchone()
            assert row is not None
            result[table] = (int(row[0]), str(row[1]))
    return result


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def make_inbox(folder: Path, names: tuple[str, ...] = SMALL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(INBOX / name, folder / name)
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        inbox=make_inbox(tmp_path / "inbox"), schemas=ROOT / "schemas", warehouse=tmp_path / "wh" / "tongbi.duckdb",
        reports=tmp_path / "reports",
    )


def cli(settings: Settings, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TONGBI_INBOX": str(settings.inbox), "TONGBI_SCHEMAS": str(settings.schemas),
           "TONGBI_WAREHOUSE": str(settings.warehouse), "TONGBI_REPORTS": str(settings.reports)}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [*TONGBI, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )


# ---------------------------------------------------------------- loads


def test_a_run_loads_every_document_and_leaves_one_runs_row(settings: Settings) -> None:
    result = run_job(settings, reports=False)
    assert (result.exit_code, result.status, result.documents_loaded) == (0, "ok", 3)
    assert query(settings.warehouse, "select source_file from documents order by 1") == [(n,) for n in sorted(SMALL)]
    assert query(settings.warehouse, "select org, period_year from documents where source_file like 'xinjian%'") \
        == [("南昌市新建区教体局", 2022)]
    (facts,) = query(settings.warehouse, "select count(*) from facts")[0]
    assert isinstance(facts, int) and facts > 100
    runs = query(settings.warehouse, "select run_id, status, documents_seen, documents_loaded from runs")
    assert runs == [(result.run_id, "ok", 3, 3)]
    # Every observation points at a fact of a current document and an indicator of the catalogs.
    orphans = query(settings.warehouse, """
        select count(*) from observations o
        left join facts f on o.doc_id = f.doc_id and o.fact_id = f.fact_id
        left join indicators i on o.indicator_id = i.indicator_id
        where (o.fact_id is not null and f.doc_id is null) or i.indicator_id is null""")
    assert orphans == [(0,)]


def test_a_second_run_over_the_same_inbox_changes_no_row(settings: Settings) -> None:
    run_job(settings, reports=False)
    stored = query(settings.warehouse, "select table_name from duckdb_tables() where table_name <> 'run_log'")
    tables = tuple(sorted(str(r[0]) for r in stored))
    assert len(tables) >= 6
    before = table_checksums(settings.warehouse, tables, volatile={})  # every column, timestamps too
    again = run_job(settings, reports=False)
    assert (again.exit_code, again.documents_loaded, again.documents_unchanged) == (0, 0, 3)
    assert table_checksums(settings.warehouse, tables, volatile={}) == before
    assert query(settings.warehouse, "select count(*) from runs") == [(2,)]


def test_unchanged_files_are_not_even_read(settings: Settings) -> None:
    run_job(settings, reports=False)
    # Same size and mtime, other bytes: only a run that skips on (size, mtime) without reading leaves it alone.
    path = settings.inbox / "xinjian-jiaoti_2022.txt"
    stat = path.stat()
    path.write_bytes(b"\x00" * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = run_job(settings, reports=False)
    assert (result.exit_code, result.documents_rejected, result.documents_unchanged) == (0, 0, 3)
    # Touched with the same bytes: hashed, recognised, not parsed again, and the new mtime is remembered.
    os.utime(settings.inbox / "gov-report-cn_2024.txt")
    before = table_checksums(settings.warehouse, ("document_versions", "fact_rows"))
    result = run_job(settings, reports=False)
    assert (result.exit_code, result.documents_loaded, result.documents_unchanged) == (0, 0, 3)
    assert table_checksums(settings.warehouse, ("document_versions", "fact_rows")) == before
    mtime = query(settings.warehouse, "select mtime_ns from inbox_files where source_file = 'gov-report-cn_2024.txt'")
    assert mtime == [((settings.inbox / "gov-report-cn_2024.txt").stat().st_mtime_ns,)]


def test_a_file_written_to_while_it_is_read_is_read_again_next_run(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from jobs import read

    real = read.read_document
    path = settings.inbox / "xinjian-jiaoti_2022.txt"

    def read_then_append(target: Path, *args: object, **kwargs: object) -> object:
        doc = real(target, *args, **kwargs)  # type: ignore[arg-type]
        if target.name == path.name:  # someone is still copying the file into the inbox
            with path.open("a", encoding="utf-8") as handle:
                handle.write("\n另：全年新增学位1200个。\n")
        return doc

    monkeypatch.setattr(read, "read_document", read_then_append)
    first = run_job(settings, reports=False)
    assert "changed while being read" in capsys.readouterr().err
    monkeypatch.setattr(read, "read_document", real)
    second = run_job(settings, reports=False)
    assert (first.documents_loaded, second.documents_loaded) == (3, 1)  # the finished file is loaded
    assert query(settings.warehouse, "select count(*) from facts where raw = '1200个'") == [(1,)]


def test_same_content_under_another_name_and_encoding_is_the_same_document(settings: Settings) -> None:
    run_job(settings, reports=False)
    before = table_checksums(settings.warehouse, ("document_versions", "fact_rows", "observation_rows"))
    text = (INBOX / "xinjian-jiaoti_2022.txt").read_text(encoding="utf-8")
    (settings.inbox / "copy-in-gbk.txt").write_bytes(text.encode("gb18030"))
    result = run_job(settings, reports=False)
    assert (result.exit_code, result.documents_loaded, result.documents_unchanged) == (0, 0, 4)
    assert table_checksums(settings.warehouse, ("document_versions", "fact_rows", "observation_rows")) == before


def test_a_changed_file_becomes_a_new_version_and_the_old_one_stays_queryable(settings: Settings) -> None:
    run_job(settings, reports=False)
    path = settings.inbox / "xinjian-jiaoti_2022.txt"
    current_sql = "select doc_id from documents where source_file = 'xinjian-jiaoti_2022.txt'"
    (old_id,) = query(settings.warehouse, current_sql)[0]
    path.write_text(path.read_text(encoding="utf-8") + "\n另：全年新增学位1200个。\n", encoding="utf-8")
    result = run_job(settings, reports=False)
    assert (result.exit_code, result.documents_loaded) == (0, 1)
    current = query(settings.warehouse, current_sql)
    assert len(current) == 1 and current[0][0] != old_id
    versions = query(settings.warehouse, """
        select doc_id, superseded_at is not null, superseded_by from document_versions
        where source_file = 'xinjian-jiaoti_2022.txt' order by version_id""")
    assert versions == [(old_id, True, current[0][0]), (current[0][0], False, None)]
    assert query(settings.warehouse, "select count(*) from documents") == [(3,)]
    assert query(settings.warehouse, "select count(*) from facts where raw = '1200个'") == [(1,)]
    assert query(settings.warehouse, f"select count(*) > 0 from fact_rows where doc_id = '{old_id}'") == [(True,)]


def test_two_files_of_one_period_in_one_run_leave_one_current_version(settings: Settings) -> None:
    # The restated copy sorts after the original, so it is loaded later in the same run and must retire it
    # (a batch skips the search for versions to retire only when it shares no key with a current version).
    text = (settings.inbox / "xinjian-jiaoti_2022.txt").read_text(encoding="utf-8")
    restated = settings.inbox / "xinjian-jiaoti_2022_restated.txt"
    restated.write_text(text + "\n另：全年新增学位1200个。\n", encoding="utf-8")
    assert run_job(settings, reports=False).documents_loaded == 4
    periods = query(settings.warehouse, """
        select org, kind, period_year, count(*) from document_versions where superseded_at is null
        group by all having count(*) > 1""")
    assert periods == []
    assert query(settings.warehouse, "select count(*) from facts where raw = '1200个'") == [(1,)]


def test_small_batches_load_exactly_what_one_batch_loads(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jobs.run

    whole = run_job(settings, reports=False)
    monkeypatch.setattr(jobs.run, "BATCH_DOCUMENTS", 1)  # every document flushed on its own
    one_by_one = Settings(settings.inbox, settings.schemas, tmp_path / "other" / "tongbi.duckdb", settings.reports)
    assert run_job(one_by_one, reports=False).documents_loaded == whole.documents_loaded == 3
    assert table_checksums(one_by_one.warehouse) == table_checksums(settings.warehouse)


def test_a_pool_of_workers_loads_exactly_what_one_process_loads(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    import corpus_gen

    import jobs.run

    inbox = tmp_path / "generated"
    list(corpus_gen.generate(24, inbox, seed=3))
    shutil.copy2(INBOX / "gov-report-cn_2024.txt", inbox / "z-same-content.txt")  # same content, other name
    shutil.copy2(INBOX / "gov-report-cn_2024.txt", inbox / "gov-report-cn_2024.txt")
    results, warehouses = [], []
    for count in ("1", "2"):
        monkeypatch.setenv("TONGBI_WORKERS", count)
        monkeypatch.setattr(jobs.run, "POOL_MIN", 2)
        monkeypatch.setattr(jobs.run, "BATCH_DOCUMENTS", 5)
        one = Settings(inbox, settings.schemas, tmp_path / count / "tongbi.duckdb", settings.reports)
        results.append(run_job(one, reports=False))
        warehouses.append(one.warehouse)
    assert [(r.exit_code, r.documents_loaded, r.documents_unchanged) for r in results] == [(0, 25, 1)] * 2
    assert table_checksums(warehouses[0]) == table_checksums(warehouses[1])


@pytest.mark.parametrize(("cap", "most_ahead"), [(25, range(2, 4)), (10**9, range(30, 41))])
def test_the_pool_runs_a_bounded_window_ahead_and_yields_in_order(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, cap: int, most_ahead: range
) -> None:
    import jobs.run
    from jobs.run import Job, Pool, _job_bytes, load_pipeline

    monkeypatch.setattr(jobs.run, "POOL_MIN", 1)
    monkeypatch.setattr(jobs.run, "IN_FLIGHT_BYTES", cap)
    pulled = 0

    def jobs_() -> Iterator[Job]:
        nonlocal pulled
        for i in range(40):
            pulled += 1
            yield Job(Path(f"f{i}.txt"), None, f"f{i}.txt", None, size=10 + i % 3)

    pool = Pool(load_pipeline(settings.schemas), 2)
    taken: list[int] = []
    ahead = []
    try:
        for size in pool.map(_job_bytes, _job_bytes, jobs_(), 40, _job_bytes):
            taken.append(size)
            ahead.append(pulled - len(taken))
    finally:
        pool.close()
    assert taken == [10 + i % 3 for i in range(40)]  # in submission order, computed by the workers
    # A byte cap of ~2 documents keeps one per worker in flight; without it the window runs far ahead.
    assert max(ahead) in most_ahead


def test_workers_setting_must_be_a_number(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBI_WORKERS", "many")
    result = run_job(settings, reports=False)
    assert result.exit_code == 2 and "TONGBI_WORKERS='many' is not a number" in result.message


# ---------------------------------------------------------------- bad input


BAD = {
    "empty_2022.txt": b"",
    "noise_2022.txt": bytes(range(256)) * 40,
    "switches-encoding_2022.txt": "2022年工作总结\n新增学校3所。\n".encode() + "新增教师45人。\n".encode("gbk"),
    "not-a-zip_2022.docx": b"this is not a zip file at all",
    "no-year.txt": "某某局工作总结\n一年来新增学校3所。\n".encode(),
}


def zip_bomb() -> bytes:
    """A .docx whose document.xml expands to 40 MB of zeros (rejected from the zip directory, unparsed)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as entry:
            for _ in range(40):
                entry.write(bytes(1 << 20))
    return buffer.getvalue()


def earlier_rows(path: Path) -> list[tuple[object, ...]]:
    """The rows of the three sample documents, versions and facts, as they are stored."""
    names = ", ".join(f"'{n}'" for n in SMALL)
    return query(path, f"""
        select v.*, count(f.fact_id), sum(f.value) from document_versions v
        left join fact_rows f using (doc_id) where v.source_file in ({names})
        group by all order by v.version_id""")


def test_bad_documents_are_rejected_one_line_each_and_the_others_still_load(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    run_job(settings, reports=False)
    before = earlier_rows(settings.warehouse)
    for name, data in BAD.items():
        (settings.inbox / name).write_bytes(data)
    (settings.inbox / "bomb_2022.docx").write_bytes(zip_bomb())
    (settings.inbox / "outside_2022.txt").symlink_to("/etc/passwd")
    good = "南昌市新建区教体局2023年工作总结\n2023年，新增学校3所，新增教师45人。\n"
    (settings.inbox / "xinjian-jiaoti_2023.txt").write_bytes(b"\xef\xbb\xbf" + good.encode())  # UTF-8 with BOM
    capfd.readouterr()
    result = run_job(settings, reports=False)
    err = capfd.readouterr().err
    assert (result.exit_code, result.status) == (1, "rejected")
    assert (result.documents_loaded, result.documents_rejected) == (1, len(BAD) + 2)
    for name in [*BAD, "bomb_2022.docx", "outside_2022.txt"]:
        lines = [line for line in err.splitlines() if name in line and "rejected" in line]
        assert len(lines) == 1, (name, err)
    assert query(settings.warehouse, "select count(*) from documents") == [(4,)]
    runs = query(settings.warehouse, "select status, documents_rejected, message from runs order by started_at")
    assert runs[-1][:2] == ("rejected", len(BAD) + 2) and "no-year.txt" in str(runs[-1][2])
    # Nothing already in the warehouse changed: the three earlier documents keep their rows, untouched.
    assert earlier_rows(settings.warehouse) == before


def test_a_file_over_the_size_limit_is_rejected_without_being_hashed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobs import read

    assert run_job(settings, reports=False).documents_loaded == 3
    big = settings.inbox / "huge_2022.txt"
    with big.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # 200 MB (sparse): read_document refuses it by its size alone
    touched = settings.inbox / "xinjian-jiaoti_2022.txt"
    os.utime(touched, ns=(time.time_ns(), time.time_ns()))  # same size, new mtime: normally hashed first
    monkeypatch.setattr(read, "MAX_TEXT_BYTES", touched.stat().st_size - 1)  # the limit is now below it too
    hashed: list[str] = []
    real = wh.file_sha256

    def recording(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(wh, "file_sha256", recording)
    result = run_job(settings, reports=False)
    assert result.documents_rejected == 2 and result.exit_code == 1
    assert hashed == []  # neither the 200 MB file nor the now-too-big known one was read to hash it


def test_a_document_of_one_enormous_line_loads_with_a_warning_on_stderr(settings: Settings) -> None:
    line = "各项工作稳步推进，" * 15_000 + "新增学校3所。"
    (settings.inbox / "one-line_2023.txt").write_text(f"南昌市新建区教体局2023年工作总结\n{line}\n", encoding="utf-8")
    done = cli(settings, "run", "--no-reports")
    assert done.returncode == 0, done.stderr
    [warning] = [w for w in done.stderr.splitlines() if " WARNING " in w]
    assert "one-line_2023.txt" in warning and "characters" in warning
    assert query(settings.warehouse, "select len(warnings) from documents where source_file = 'one-line_2023.txt'") \
        == [(1,)]


def test_the_cli_exits_1_with_a_rejection_on_stderr_naming_file_and_fix(settings: Settings) -> None:
    (settings.inbox / "empty_2022.txt").write_bytes(b"")
    done = cli(settings, "run", "--no-reports")
    assert done.returncode == 1, done.stderr
    [line] = [line for line in done.stderr.splitlines() if "empty_2022.txt" in line]
    assert "is empty" in line and "Remove it" in line
    assert "3 loaded" in done.stderr.splitlines()[-1]


# ---------------------------------------------------------------- exit codes 2, 3, 75


def test_a_catalog_error_exits_2_before_loading_and_is_recorded(settings: Settings, tmp_path: Path) -> None:
    run_job(settings, reports=False)
    before = table_checksums(settings.warehouse)
    schemas = tmp_path / "schemas"
    shutil.copytree(settings.schemas, schemas)
    first = sorted(schemas.glob("*.toml"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n[[indicator]]\nid = 'Bad Id'\n", encoding="utf-8")
    (settings.inbox / "new_2023.txt").write_text("南昌市新建区教体局2023年工作总结\n新增学校3所。\n", encoding="utf-8")
    broken = Settings(settings.inbox, schemas, settings.warehouse, settings.reports)
    result = run_job(broken, reports=False)
    assert (result.exit_code, result.status) == (2, "failed")
    assert first.name in result.message
    assert table_checksums(settings.warehouse) == before
    assert query(settings.warehouse, "select status from runs order by started_at") == [("ok",), ("failed",)]


@pytest.mark.parametrize("how", ["zero bytes", "text", "truncated"])
def test_a_corrupt_warehouse_exits_3_and_is_left_as_it_was(settings: Settings, how: str) -> None:
    assert run_job(settings, reports=False).exit_code == 0
    data = settings.warehouse.read_bytes()
    corrupt = {"zero bytes": b"", "text": "不是数据库\n".encode() * 100, "truncated": data[: len(data) // 2]}[how]
    settings.warehouse.write_bytes(corrupt)
    shutil.copy2(INBOX / "gov-report-cn_2015.txt", settings.inbox)
    done = cli(settings, "run", "--no-reports")
    assert done.returncode == 3, done.stderr
    line = next(line for line in done.stderr.splitlines() if " ERROR " in line)
    assert str(settings.warehouse) in line and "backup" in line and "move it away" in line
    assert "could not be recorded" in done.stderr  # no runs row: the file is not readable
    assert settings.warehouse.read_bytes() == corrupt


def _limit_file_size(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing us


def test_a_full_disk_exits_3_and_keeps_the_published_warehouse(settings: Settings) -> None:
    assert run_job(settings, reports=False).exit_code == 0
    before = table_checksums(settings.warehouse)
    size = settings.warehouse.stat().st_size
    for name in ("gov-report-cn_2015.txt", "gov-report-cn_2016.txt", "gov-report-cn_2017.txt"):
        shutil.copy2(INBOX / name, settings.inbox / name)
    done = cli(settings, "run", "--no-reports", preexec_fn=lambda: _limit_file_size(size + 16 * 1024))
    assert done.returncode == 3, done.stderr
    assert "full" in done.stderr
    assert table_checksums(settings.warehouse) == before
    assert "could not be recorded in runs: the same problem stops that too" in done.stderr


def test_a_second_run_exits_75_at_once_naming_the_holder(settings: Settings) -> None:
    path = wh.lock_path(settings.warehouse)
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time; from pathlib import Path; from jobs import lock\n"
            "with lock.hold(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n"
        ), str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        done = cli(settings, "run", "--no-reports")
        assert time.monotonic() - started < 10
        assert done.returncode == 75
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pid {holder.pid} on " in lines[0] and "since" in lines[0]
    finally:
        holder.kill()
        holder.wait()
    # The kernel released the lock with the killed holder: the next run goes ahead.
    assert cli(settings, "run", "--no-reports").returncode == 0


def test_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with lock.hold(path):
        fd = os.open(path, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        assert f"pid {os.getpid()}" in lock.holder(path)


# ---------------------------------------------------------------- analysts hold the file


def wait_until_opened(path: Path, proc: subprocess.Popen[str], timeout: float = 20.0) -> None:
    """Until `proc` holds DuckDB's lock on the file (a reader's shared lock excludes our exclusive probe)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the DuckDB CLI exited before opening the warehouse"
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fd, fcntl.LOCK_UN)
        except OSError:
            return
        finally:
            os.close(fd)
        time.sleep(0.05)
    raise AssertionError(f"the DuckDB CLI did not open {path} within {timeout} s")


def test_an_analyst_holding_the_warehouse_in_the_duckdb_cli_does_not_block_the_run(settings: Settings) -> None:
    duckdb_cli = Path(sys.executable).parent / "duckdb"
    if not duckdb_cli.exists():
        pytest.skip("the duckdb CLI (pip install duckdb-cli) is not installed")
    run_job(settings, reports=False)
    analyst = subprocess.Popen(
        [str(duckdb_cli), "-readonly", "-csv", "-noheader", str(settings.warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert analyst.stdin is not None
    try:
        wait_until_opened(settings.warehouse, analyst)
        shutil.copy2(INBOX / "gov-report-cn_2015.txt", settings.inbox)
        done = cli(settings, "run", "--no-reports")
        assert done.returncode == 0, done.stderr
        out, _ = analyst.communicate("select count(*) from documents;\n", timeout=30)
    finally:
        if analyst.poll() is None:
            analyst.kill()
    assert out.strip() == "3"  # the analyst's session kept the old warehouse, whole
    assert query(settings.warehouse, "select count(*) from documents") == [(4,)]  # a new session sees the new


def test_a_program_holding_the_warehouse_for_writing_stops_the_run_with_exit_3(settings: Settings) -> None:
    duckdb_cli = Path(sys.executable).parent / "duckdb"
    if not duckdb_cli.exists():
        pytest.skip("the duckdb CLI (pip install duckdb-cli) is not installed")
    run_job(settings, reports=False)
    before = table_checksums(settings.warehouse)
    writer = subprocess.Popen([str(duckdb_cli), str(settings.warehouse)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_opened(settings.warehouse, writer)
        shutil.copy2(INBOX / "gov-report-cn_2015.txt", settings.inbox)
        done = cli(settings, "run", "--no-reports")
    finally:
        writer.communicate(".quit\n", timeout=30)
    assert done.returncode == 3
    assert "open for writing" in done.stderr and "-readonly" in done.stderr
    assert table_checksums(settings.warehouse) == before
    assert cli(settings, "run", "--no-reports").returncode == 0  # once it is closed, the run goes ahead


# ---------------------------------------------------------------- catalogs change


def test_a_catalog_change_rematches_the_current_documents(settings: Settings, tmp_path: Path) -> None:
    run_job(settings, reports=False)
    schemas = tmp_path / "schemas"
    shutil.copytree(settings.schemas, schemas)
    (indicator,) = query(settings.warehouse, """
        select indicator_id from observations group by 1 order by count(*) desc, 1 limit 1""")[0]
    path = next(p for p in sorted(schemas.glob("*.toml")) if f'"{indicator}"' in p.read_text(encoding="utf-8")
                or f"'{indicator}'" in p.read_text(encoding="utf-8"))
    text = path.read_text(encoding="utf-8")
    renamed = text.replace(f'"{indicator}"', f'"{indicator}_v2"').replace(f"'{indicator}'", f"'{indicator}_v2'")
    path.write_text(renamed, encoding="utf-8")
    result = run_job(Settings(settings.inbox, schemas, settings.warehouse, settings.reports), reports=False)
    assert (result.exit_code, result.documents_loaded) == (0, 0)
    ids = {r[0] for r in query(settings.warehouse, "select distinct indicator_id from observations")}
    assert indicator not in ids and f"{indicator}_v2" in ids
    catalog_ids = {r[0] for r in query(settings.warehouse, "select indicator_id from indicators")}
    assert ids <= catalog_ids


# ---------------------------------------------------------------- ingest, reports, logging


def test_ingest_loads_a_real_docx_without_reports(settings: Settings) -> None:
    result = ingest(settings, [ROOT / "tests" / "data" / "jiangxi-gov-report_2025.docx"])
    assert isinstance(result, RunResult) and result.exit_code == 0 and result.reports == ()
    assert query(settings.warehouse, "select encoding, period_year from documents") == [("docx", 2024)]
    assert query(settings.warehouse, "select command from runs") == [("ingest",)]
    assert not settings.reports.exists()


def test_ingest_of_a_missing_path_is_a_usage_error(settings: Settings, tmp_path: Path) -> None:
    result = ingest(settings, [tmp_path / "nowhere.txt"])
    assert result.exit_code == 2 and "nowhere.txt" in result.message


def test_the_run_writes_the_reports(settings: Settings) -> None:
    result = run_job(settings)
    assert result.exit_code == 0, result.message
    index = settings.reports / "index.html"
    assert index in result.reports and index.exists()
    assert "南昌市新建区教体局" in index.read_text(encoding="utf-8")


def test_a_run_that_changes_nothing_leaves_the_reports_and_a_changed_one_rewrites_them(settings: Settings) -> None:
    index = settings.reports / "index.html"
    assert index in run_job(settings).reports
    written = index.stat().st_mtime_ns
    again = run_job(settings)
    assert (again.exit_code, again.reports) == (0, ())  # nothing changed: no page rewritten
    assert index.stat().st_mtime_ns == written
    assert len(query(settings.warehouse, "select * from runs")) == 2  # but the run is recorded
    index.unlink()  # someone deleted the reports: they are written again though the data is the same
    assert index in run_job(settings).reports
    path = settings.inbox / "xinjian-jiaoti_2022.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n另：全年新增学位1200个。\n", encoding="utf-8")
    assert index in run_job(settings).reports  # new data: new reports


def test_quiet_without_a_terminal_one_summary_line(settings: Settings) -> None:
    done = cli(settings, "run", "--no-reports")
    assert done.returncode == 0
    [line] = done.stderr.splitlines()
    assert " run ok: 3 seen, 3 loaded, 0 unchanged, 0 rejected" in line and str(settings.warehouse) in line
    run_id = line.split()[1]  # every line of a run carries its id, the one in the runs view
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", run_id)
    assert query(settings.warehouse, "select run_id from runs") == [(run_id,)]


def test_progress_and_phases_on_a_terminal(settings: Settings) -> None:
    import pty

    primary, secondary = pty.openpty()
    env = {**os.environ, "TONGBI_INBOX": str(settings.inbox), "TONGBI_WAREHOUSE": str(settings.warehouse),
           "TONGBI_SCHEMAS": str(settings.schemas), "COLUMNS": "120"}
    proc = subprocess.Popen([*TONGBI, "run", "--no-reports"], cwd=ROOT, env=env, stderr=secondary,
                            stdout=subprocess.DEVNULL)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(primary)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "INFO phase: reading 3 new or changed files of 3" in screen and "INFO phase: publishing" in screen
