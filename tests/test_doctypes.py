"""jobs.doctypes: the document kinds and organisations in schemas/documents, validated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jobs.doctypes import DocConfig, load
from jobs.errors import CatalogError

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    """A writable copy of the real schemas/documents folder."""
    shutil.copytree(SCHEMAS / "documents", tmp_path / "documents")
    return tmp_path


def test_real_kinds_and_rules() -> None:
    config = load(SCHEMAS)
    kinds = [rule.kind for rule in config.kinds]
    assert kinds[:4] == ["政府工作报告", "工作总结", "工作要点", "工作计划"]
    report = config.rule("政府工作报告")
    assert (report.filename_year_offset, report.default_basis, report.target_year_offset) == (-1, "actual", 1)
    summary = config.rule("工作总结")
    assert (summary.filename_year_offset, summary.default_basis, summary.target_year_offset) == (0, "actual", 1)
    for plan in ("工作要点", "工作计划"):
        assert (config.rule(plan).default_basis, config.rule(plan).target_year_offset) == ("target", 0)
    with pytest.raises(KeyError, match="工作总结"):
        config.rule("会议纪要")


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("新建区教体局", "南昌市新建区教体局"),
        ("南昌市新建区教体局", "南昌市新建区教体局"),
        ("南昌市 新建区教体局", "南昌市新建区教体局"),
        ("江西省政府", "江西省人民政府"),
        ("国务院", "国务院"),
        ("某某县教育局", "某某县教育局"),  # unknown names pass through
    ],
)
def test_canonical_org(name: str, canonical: str) -> None:
    assert load(SCHEMAS).canonical_org(name) == canonical


def test_config_without_organisations_file(schemas: Path) -> None:
    (schemas / "documents" / "organisations.toml").unlink()
    config = load(schemas)
    assert isinstance(config, DocConfig) and config.org_patterns == ()
    assert config.canonical_org("新建区教体局") == "新建区教体局"


def _broken(schemas: Path, file: str, old: str, new: str, *words: str) -> None:
    path = schemas / "documents" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load(schemas)
    message = str(caught.value)
    assert file in message and caught.value.fix in message
    for word in words:
        assert word in message


def test_unknown_field(schemas: Path) -> None:
    _broken(schemas, "kinds.toml", "target_year_offset = 0\n", "target_year_offset = 0\nyears = 1\n",
            "kind 工作要点", "unknown field 'years'", "remove it")


def test_bad_regex(schemas: Path) -> None:
    _broken(schemas, "kinds.toml", "'刚刚过去的(?P<year>", "'刚刚过去的((?P<year>",
            "kind 政府工作报告", "year_patterns[3]", "not a valid regular expression")


def test_pattern_without_named_group(schemas: Path) -> None:
    _broken(schemas, "kinds.toml", "'刚刚过去的(?P<year>", "'刚刚过去的(?P<yr>",
            "kind 政府工作报告", "no named group `year`", "(?P<year>")


def test_org_pattern_without_named_group(schemas: Path) -> None:
    _broken(schemas, "organisations.toml", "政府)(?P<org>", "政府)(?P<who>", "patterns[1]", "`org`")


def test_org_pattern_table(schemas: Path) -> None:
    config = load(schemas)
    congress = [p for p in config.org_patterns if p.name != "{org}"]
    assert congress and congress[0].find("——2024年1月20日在某某市第十七届人民代表大会第四次会议上") == "某某市人民政府"
    _broken(schemas, "organisations.toml", "大会', name = '{org}", "大会', name = '{place}",
            "patterns[5]", "{org}")


def test_org_pattern_unknown_key(schemas: Path) -> None:
    _broken(schemas, "organisations.toml", "大会', name = ", "大会', names = ",
            "patterns[5]", "unknown field 'names'")


def test_bad_basis(schemas: Path) -> None:
    _broken(schemas, "kinds.toml", 'default_basis = "target"', 'default_basis = "goal"',
            "kind 工作要点", "'goal'", "actual")


def test_missing_field(schemas: Path) -> None:
    _broken(schemas, "kinds.toml", "filename_year_offset = -1\n", "", "kind 政府工作报告", "filename_year_offset")


def test_wrong_type(schemas: Path) -> None:
    _broken(schemas, "kinds.toml", "filename_year_offset = -1", 'filename_year_offset = "-1"',
            "filename_year_offset must be a whole number")


def test_duplicate_kind(schemas: Path) -> None:
    _broken(schemas, "kinds.toml", 'kind = "工作计划"', 'kind = "工作要点"', "kind 工作要点", "twice")


def test_alias_of_two_organisations(schemas: Path) -> None:
    _broken(schemas, "organisations.toml", 'aliases = ["江西省政府"]', 'aliases = ["江西省政府", "国务院"]',
            "organisation 江西省人民政府", "'国务院' already belongs to 国务院")


def test_invalid_toml(schemas: Path) -> None:
    _broken(schemas, "kinds.toml", "[[kind]]", "[[kind]", "not valid TOML", "line")


def test_missing_kinds_file(schemas: Path) -> None:
    (schemas / "documents" / "kinds.toml").unlink()
    with pytest.raises(CatalogError, match=r"kinds\.toml.*missing"):
        load(schemas)
