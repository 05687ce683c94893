"""The command line as a user meets it: help for every command, documented exit codes, README coverage."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["run", "ingest", "report", "sql", "schedule", "export"]


def _subcommands() -> list[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return sorted(actions[0].choices)  # type: ignore[attr-defined]


def test_every_command_is_listed() -> None:
    assert _subcommands() == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_for_every_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: tongbi {command}")
    assert "exit codes:" in out


def test_console_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jobs.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("tongbi ")


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--no-such-option"])
    assert exit_.value.code == 2


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from jobs.settings import Settings

    monkeypatch.setenv("TONGBI_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("TONGBI_REPORTS", str(tmp_path / "r"))
    settings = Settings.resolve(reports=str(tmp_path / "given"))
    assert settings.warehouse == tmp_path / "w.duckdb"
    assert settings.reports == tmp_path / "given"  # the option wins over the environment


def test_readme_documents_every_command_and_exit_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"tongbi {command}" in readme, f"README does not mention `tongbi {command}`"
    for code in ("0", "1", "2", "3", "75"):
        assert re.search(rf"\|\s*`?{code}`?\s*\|", readme), f"README has no row for exit code {code}"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash tests/check.sh" in readme
    assert "bash tests/check.sh" in ci


def test_report_prints_the_page_to_open(
    built: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    assert main(["report", "--warehouse", str(built["warehouse"]), "--reports", str(reports)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [str(reports / "index.html")]
    assert captured.err == ""  # cron mails whatever a job prints
