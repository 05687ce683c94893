"""jobs.warehouse: schema from .sql files, versioned loads, one transaction, atomic publish, DuckDB's traps."""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from contextlib import nullcontext, suppress
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from jobs import warehouse as wh
from jobs.errors import StorageError
from jobs.records import Document, Fact, Observation

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 2, 3, 4, 5)


def make_doc(text: str, *, source: str = "a.txt", org: str = "南昌市新建区教体局", year: int = 2022) -> Document:
    sha = hashlib.sha256(text.encode()).hexdigest()
    return Document(
        doc_id=sha[:16], source_file=source, sha256=sha, text=text, org=org, title=f"{year}年工作总结",
        kind="工作总结", period_year=year,
    )


def facts_of(doc: Document) -> list[Fact]:
    """Every run of digits followed by 个, as a stand-in extractor."""
    return [
        Fact(value=float(m.group(1)), unit="个", raw=m.group(0), qualifier="exact", value_high=None,
             char_start=m.start(), char_end=m.end(), sentence=doc.text[max(0, m.start() - 10): m.end() + 1],
             section="", sentence_start=max(0, m.start() - 10))
        for m in re.finditer(r"(\d+)个", doc.text)
    ]


def observations_of(doc: Document, facts: list[Fact]) -> list[Observation]:
    return [
        Observation(org=doc.org, indicator_id="schools", year=doc.period_year, basis="actual", value=f.value,
                    value_high=None, qualifier="exact", unit="个", doc_id=doc.doc_id, fact_id=i, quote=f.sentence)
        for i, f in enumerate(facts)
    ]


def load(published: Path, *docs: Document, run_id: str = "r1") -> None:
    copy = wh.WorkingCopy.open(published, run_id)
    try:
        with copy.transaction():
            for doc in docs:
                copy.add_version(doc, run_id=run_id, loaded_at=NOW)
                found = facts_of(doc)
                copy.add_facts([(doc.doc_id, found)])
                copy.replace_observations([doc.doc_id], [("edu", o) for o in observations_of(doc, found)])
            copy.record_run(wh.RunRow(run_id, NOW, NOW, "ok", len(docs), len(docs), 0, "", "run", None))
        copy.publish()
    finally:
        copy.discard()


def rows(published: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(published), read_only=True) as con:
        return con.execute(sql).fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "tongbi.duckdb"


# ---------------------------------------------------------------- schema


def test_every_sql_file_holds_exactly_one_statement() -> None:
    con = duckdb.connect()
    files = sorted((ROOT / "warehouse" / "sql").rglob("*.sql"))
    assert len(files) >= 20
    for path in files:
        assert len(con.extract_statements(path.read_text(encoding="utf-8"))) == 1, path


def test_a_file_with_two_statements_is_refused_before_anything_runs(tmp_path: Path) -> None:
    sql = tmp_path / "sql"
    shutil.copytree(ROOT / "warehouse" / "sql", sql)
    (sql / "table_zz.sql").write_text("create table zz(x int); drop table run_log", encoding="utf-8")
    con = duckdb.connect()
    with pytest.raises(StorageError, match=r"table_zz\.sql: holds 2 SQL statements"):
        wh.apply_schema(con, sql)
    assert con.execute("select count(*) from duckdb_tables() where table_name = 'zz'").fetchone() == (0,)


def test_a_load_statement_file_with_two_statements_is_refused(tmp_path: Path) -> None:
    # DuckDB runs a multi-statement string up to the failing statement and keeps what ran before it.
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "sneaky.sql").write_text("delete from run_log; select 1", encoding="utf-8")
    with pytest.raises(StorageError, match=r"sneaky\.sql: holds 2 SQL statements"):
        wh.read_sql("sneaky", tmp_path)


def test_views_folder_runs_after_the_base_views_in_name_order_and_may_be_absent(tmp_path: Path) -> None:
    sql = tmp_path / "sql"
    shutil.copytree(ROOT / "warehouse" / "sql", sql, ignore=shutil.ignore_patterns("views"))
    con = duckdb.connect()
    wh.apply_schema(con, sql)  # no views/ folder at all
    (sql / "views").mkdir()
    (sql / "views" / "a_counts.sql").write_text(
        "with final as (select count(*) as n from documents)\nselect * from final\n", encoding="utf-8")
    (sql / "views" / "b_double.sql").write_text(
        "create view b_double as select n * 2 as n2 from a_counts;", encoding="utf-8")
    names = [view for view, _ in wh.schema_files(sql) if view]
    assert names == ["documents", "facts", "indicators", "observations", "runs", "a_counts", "b_double"]
    wh.apply_schema(con, sql)
    wh.apply_schema(con, sql)  # again, as every run does on an existing warehouse
    assert con.execute("select n2 from b_double").fetchone() == (0,)


def test_a_broken_view_names_its_file(tmp_path: Path) -> None:
    sql = tmp_path / "sql"
    shutil.copytree(ROOT / "warehouse" / "sql", sql, ignore=shutil.ignore_patterns("views"))
    (sql / "views").mkdir()
    (sql / "views" / "yoy.sql").write_text("select nothing from nowhere", encoding="utf-8")
    with pytest.raises(StorageError, match=r"views/yoy\.sql: could not create it"):
        wh.apply_schema(duckdb.connect(), sql)


# ---------------------------------------------------------------- versioned loads


def test_a_new_warehouse_has_every_view_and_the_contract_columns(published: Path) -> None:
    load(published, make_doc("新建学校3个。"))
    expected = {
        "documents": "doc_id, org, title, kind, period_year, published_on, doc_number, source_file, sha256, "
                     "chars, loaded_at",
        "facts": "doc_id, fact_id, value, unit, raw, qualifier, value_high, char_start, char_end, sentence, "
                 "section, flags",
        "indicators": "catalog, indicator_id, name, unit, aliases",
        "observations": "org, indicator_id, year, basis, value, value_high, qualifier, unit, doc_id, fact_id, "
                        "quote, flags, note",
        "runs": "run_id, started_at, finished_at, status, documents_seen, documents_loaded, "
                "documents_rejected, message",
    }
    for view, columns in expected.items():
        names = [r[0] for r in rows(published, f"describe {view}")]
        contract = columns.split(", ")
        assert names[: len(contract)] == contract, view


def test_a_changed_file_replaces_the_current_rows_and_keeps_the_earlier_version(published: Path) -> None:
    first = make_doc("新建学校3个，幼儿园5个。")
    load(published, first, run_id="r1")
    second = make_doc("新建学校4个，幼儿园5个，托育点2个。")  # restated figures, same file
    load(published, second, run_id="r2")
    assert rows(published, "select doc_id from documents") == [(second.doc_id,)]
    assert rows(published, "select count(*), sum(value) from facts") == [(3, 11.0)]
    assert rows(published, "select count(*) from observations where doc_id = ?".replace("?", f"'{first.doc_id}'")) \
        == [(0,)]
    history = rows(published, "select doc_id, superseded_by, run_id from document_versions order by version_id")
    assert history == [(first.doc_id, second.doc_id, "r1"), (second.doc_id, None, "r2")]
    # The earlier version stays queryable with its own facts.
    assert rows(published, f"select sum(value) from fact_rows where doc_id = '{first.doc_id}'") == [(8.0,)]


def test_same_org_kind_and_year_under_another_file_name_supersedes(published: Path) -> None:
    old = make_doc("新建学校3个。", source="xinjian_2022.txt")
    new = make_doc("新建学校30个。", source="renamed/xinjian-2022-final.txt")
    other_year = make_doc("新建学校7个。", source="xinjian_2023.txt", year=2023)
    load(published, old, other_year)
    load(published, new, run_id="r2")
    assert sorted(rows(published, "select doc_id from documents")) == sorted([(new.doc_id,), (other_year.doc_id,)])


def test_reloading_a_superseded_version_makes_it_current_again_without_duplicate_facts(published: Path) -> None:
    a, b = make_doc("学校3个。"), make_doc("学校4个。")
    load(published, a, run_id="r1")
    load(published, b, run_id="r2")
    load(published, a, run_id="r3")  # the file was reverted
    assert rows(published, "select doc_id from documents") == [(a.doc_id,)]
    assert rows(published, "select count(*) from facts") == [(1,)]
    assert rows(published, "select count(*) from document_versions") == [(3,)]


def test_rebuilt_documents_equal_the_loaded_ones(published: Path) -> None:
    doc = make_doc("学校3个。")
    load(published, doc)
    copy = wh.WorkingCopy.open(published, "r2")
    try:
        assert copy.current_documents() == [doc]
    finally:
        copy.discard()


def test_file_states_are_remembered(published: Path) -> None:
    copy = wh.WorkingCopy.open(published, "r1")
    with copy.transaction():
        copy.record_files([wh.FileState("a.txt", 10, 123, "ab" * 32, "d1")], NOW)
    copy.publish()
    copy = wh.WorkingCopy.open(published, "r2")
    try:
        assert copy.file_states() == {"a.txt": wh.FileState("a.txt", 10, 123, "ab" * 32, "d1")}
    finally:
        copy.discard()


# ---------------------------------------------------------------- DuckDB's traps


def test_an_error_inside_the_load_transaction_rolls_everything_back(published: Path) -> None:
    load(published, make_doc("学校3个。"))
    before = digest(published)
    copy = wh.WorkingCopy.open(published, "r2")
    doc = make_doc("学校9个。", source="b.txt", year=2023)
    failed = r"insert_fact_rows\.sql on the working copy: Constraint Error.*Nothing was published"
    with pytest.raises(StorageError, match=failed), copy.transaction():
        copy.add_version(doc, run_id="r2", loaded_at=NOW)
        found = facts_of(doc)
        copy.add_facts([(doc.doc_id, found), (doc.doc_id, found)])  # duplicate (doc_id, fact_id)
    # Nothing of the failed transaction is in the working copy, and nothing was published.
    assert copy.con.execute("select count(*) from document_versions").fetchone() == (1,)
    copy.discard()
    assert digest(published) == before
    assert not any(wh.work_root(published).iterdir())


def test_a_commit_that_duckdb_silently_rolled_back_is_detected(published: Path) -> None:
    copy = wh.WorkingCopy.open(published, "r1")
    with pytest.raises(StorageError, match="rolled back at COMMIT"), copy.transaction():
        copy.add_version(make_doc("学校3个。"), run_id="r1", loaded_at=NOW)
        # A caller that swallows an error: DuckDB's COMMIT would now roll back without a word.
        with suppress(duckdb.Error):
            copy.con.execute("insert into fact_rows (doc_id) values (null)")
    assert copy.con.execute("select count(*) from document_versions").fetchone() == (0,)
    copy.discard()
    assert not published.exists()


def test_writes_outside_the_transaction_are_refused(published: Path) -> None:
    copy = wh.WorkingCopy.open(published, "r1")
    try:
        with pytest.raises(StorageError, match="outside the load transaction"):
            copy.add_version(make_doc("学校3个。"), run_id="r1", loaded_at=NOW)
    finally:
        copy.discard()


def _string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


@pytest.mark.parametrize("module", ["warehouse.py", "run.py"])
def test_no_multi_statement_sql_strings_in_load_paths(module: str) -> None:
    keyword = re.compile(r";\s*(select|insert|update|delete|create|drop|alter|begin|commit|copy|attach)\b", re.I)
    offenders = [s for s in _string_constants(ROOT / "jobs" / module) if keyword.search(s)]
    assert offenders == []


def test_nothing_in_tongbi_deletes_wal_files() -> None:
    deleting = re.compile(r"(unlink|remove|rmtree|rm\s)[^\n]*wal|wal[^\n]*(unlink|remove|rmtree)", re.I)
    for path in sorted((ROOT / "jobs").glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not deleting.search(line), f"{path.name}:{number}: {line.strip()}"


def test_a_wal_beside_the_published_file_stops_the_run_and_is_kept(published: Path) -> None:
    load(published, make_doc("学校3个。"))
    wal = published.with_name(published.name + ".wal")
    wal.write_bytes(b"someone else's uncommitted work")
    before = digest(published)
    with pytest.raises(StorageError, match=r"tongbi\.duckdb\.wal beside it"):
        wh.WorkingCopy.open(published, "r2")
    assert wal.read_bytes() == b"someone else's uncommitted work"
    assert digest(published) == before


# ---------------------------------------------------------------- corrupt files and full disks


def _corrupt(published: Path, how: str) -> None:
    if how == "zero bytes":
        published.write_bytes(b"")
    elif how == "text":
        published.write_text("这不是数据库 — this is not a database\n" * 50, encoding="utf-8")
    else:
        data = published.read_bytes()
        published.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("how", ["zero bytes", "text", "truncated"])
def test_a_corrupt_warehouse_is_refused_with_a_clear_message_and_left_alone(published: Path, how: str) -> None:
    load(published, make_doc("新建学校3个。" * 2000))
    _corrupt(published, how)
    before = digest(published)
    with pytest.raises(StorageError) as caught:
        wh.WorkingCopy.open(published, "r2")
    message = str(caught.value)
    assert str(published) in message
    assert "backup" in message and "move it away" in message
    assert digest(published) == before
    assert not any(wh.work_root(published).iterdir())


def test_a_full_disk_while_loading_fails_cleanly_and_keeps_the_published_file(published: Path) -> None:
    load(published, make_doc("学校3个。"))
    before = digest(published)
    limit = published.stat().st_size + 64 * 1024  # room to copy the warehouse, none to load much more
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_warehouse import load, make_doc
        from jobs.errors import StorageError
        import random
        random.seed(1)
        big = "".join(random.choice("学校幼儿园教师体育场馆") + str(random.randint(1, 999)) + "个，"
                      for _ in range(100_000))
        try:
            load(Path({str(published)!r}), make_doc(big, source="big.txt", year=2023), run_id="r2")
        except StorageError as error:
            print(error, file=sys.stderr)
            sys.exit(error.exit_code)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "full" in done.stderr and str(published.parent) in done.stderr
    assert digest(published) == before
    assert rows(published, "select count(*) from documents") == [(1,)]


# ---------------------------------------------------------------- publishing


def test_stale_working_copies_of_killed_runs_are_replaced(published: Path) -> None:
    load(published, make_doc("学校3个。"))
    stale = wh.work_root(published) / "killed-run"
    stale.mkdir(parents=True)
    (stale / published.name).write_bytes(b"half a database")
    (stale / (published.name + ".wal")).write_bytes(b"half a log")
    load(published, make_doc("学校4个。"), run_id="r2")
    assert not stale.exists()
    assert rows(published, "select count(*) from document_versions") == [(2,)]


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from documents").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("select count(*) from documents").fetchone()[0], flush=True)
"""


def test_a_reader_holding_the_published_file_keeps_its_view_and_does_not_block(published: Path) -> None:
    load(published, make_doc("学校3个。"))
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    try:
        assert reader.stdout.readline().strip() == "1"
        load(published, make_doc("学校7个。", source="b.txt", year=2023), run_id="r2")  # must not block or fail
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # the old view, whole
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert rows(published, "select count(*) from documents") == [(2,)]  # a new session sees the new data


def test_publish_leaves_no_working_copy_and_no_wal(published: Path) -> None:
    load(published, make_doc("学校3个。"))
    # Besides the file: the empty work folder and the note of what was published (so the next run need not
    # read every block again); no WAL.
    names = sorted(p.name for p in published.parent.iterdir())
    assert names == [".tongbi.duckdb.published", ".tongbi.duckdb.work", "tongbi.duckdb"]
    assert list(wh.work_root(published).iterdir()) == []
    assert os.stat(published).st_size > 0


# ---------------------------------------------------------------- memory: flat in the size of the load


def _random_text(seed: int, chars: int) -> str:
    import random

    rng = random.Random(seed)
    return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(chars))


def test_the_loading_connection_caps_duckdb_memory(published: Path) -> None:
    copy = wh.WorkingCopy.open(published, "r1")
    try:
        value, unit = copy.con.execute("select current_setting('memory_limit')").fetchall()[0][0].split()
        assert 128 * 2**20 <= float(value) * {"MiB": 2**20, "GiB": 2**30}[unit] <= 512 * 2**20
    finally:
        copy.discard()


@pytest.mark.slow
def test_a_load_larger_than_duckdbs_memory_spills_inside_the_private_folder_and_commits(published: Path) -> None:
    load(published, make_doc("学校3个。"))
    copy = wh.WorkingCopy.open(published, "r2")
    # DuckDB keeps uncommitted rows uncompressed, so repeating one text costs as much memory as different ones.
    # (Short texts: COMMIT pins 2,048 rows at a time, which must fit under the limit whatever was spilled.)
    base = _random_text(0, 3_000)
    docs = [make_doc(f"{i}{base}", source=f"d{i}.txt", org=f"局{i}") for i in range(8_000)]
    try:
        copy.con.execute("set memory_limit = '48MB'")  # ~72 MB of text: more than DuckDB may keep in memory
        with copy.transaction():
            for start in range(0, len(docs), 500):
                copy.add_versions(docs[start : start + 500], run_id="r2", loaded_at=NOW)
            spilled = copy.con.execute("select sum(temporary_storage_bytes) from duckdb_memory()").fetchall()[0][0]
            assert spilled > 0  # the transaction's rows went to a temporary file, not into memory
            temporary = [p for p in copy.folder.rglob("*") if p.is_file() and p != copy.path]
            assert temporary and all(copy.folder in p.parents for p in temporary)
        copy.publish()
    finally:
        copy.discard()
    texts = dict(rows(published, "select doc_id, text from document_texts"))  # type: ignore[arg-type]
    assert len(texts) == 8_001 and all(texts[d.doc_id] == d.text for d in docs)
    assert list(wh.work_root(published).iterdir()) == []  # the spill went with the working copy


def test_a_fact_frame_of_a_document_that_still_has_facts_fails_instead_of_doubling(published: Path) -> None:
    doc = make_doc("学校3个，教师5个。")
    load(published, doc)
    frame = wh.fact_frame([(doc.doc_id, facts_of(doc))])
    copy = wh.WorkingCopy.open(published, "r2")
    try:
        with copy.transaction():
            copy.replace_fact_frame([doc.doc_id], frame)  # named as reloaded: its rows are replaced
        assert copy.con.execute("select count(*) from fact_rows").fetchall() == [(2,)]
        with pytest.raises(StorageError, match="Constraint Error"), copy.transaction():
            copy.replace_fact_frame([], frame)  # not named: the primary key refuses the second copy
    finally:
        copy.discard()


@pytest.mark.slow
@pytest.mark.parametrize("raised", [True, False])
def test_commit_gets_the_memory_that_2048_long_texts_need_and_the_cap_comes_back(
    published: Path, monkeypatch: pytest.MonkeyPatch, raised: bool
) -> None:
    monkeypatch.setitem(wh.LOAD_SETTINGS, "memory_limit", "48MB")
    if not raised:  # what COMMIT did before: the cap stays, and 2,048 texts of ~24 kB do not fit under 48 MB
        monkeypatch.setattr(wh.WorkingCopy, "_room_to_commit", lambda self: None)
    base = _random_text(1, 8_000)
    docs = [make_doc(f"{i}{base}", source=f"d{i}.txt", org=f"局{i}") for i in range(2_100)]
    copy = wh.WorkingCopy.open(published, "r1")
    try:
        expected = nullcontext() if raised else pytest.raises(StorageError, match="could not commit the load")
        with expected, copy.transaction():
            for start in range(0, len(docs), 256):
                copy.add_versions(docs[start : start + 256], run_id="r1", loaded_at=NOW)
        if raised:
            cap = copy.con.execute("select current_setting('memory_limit')").fetchall()[0][0]
            assert 45 <= wh._mib(cap) <= 46  # back to the cap for the checkpoint at publish
            copy.publish()
    finally:
        copy.discard()
    assert published.exists() == raised
    if raised:
        assert rows(published, "select count(*) from document_texts") == [(2_100,)]
