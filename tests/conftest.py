"""Shared fixtures: the real sample documents, and one warehouse built from them per test session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from test_browser import Browser

ROOT = Path(__file__).resolve().parent.parent
INBOX = ROOT / "warehouse" / "inbox"
SCHEMAS = ROOT / "schemas"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def sample_inbox() -> Path:
    """The bundled real documents (read-only: copy before changing anything)."""
    return INBOX


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One full `tongbi run` over the sample inbox: warehouse and reports, shared by the tests that read them."""
    from jobs.run import run_job
    from jobs.settings import Settings

    base = tmp_path_factory.mktemp("built")
    inbox = base / "inbox"
    shutil.copytree(INBOX, inbox)
    settings = Settings(inbox=inbox, schemas=SCHEMAS, warehouse=base / "tongbi.duckdb", reports=base / "reports")
    result = run_job(settings)
    assert result.exit_code == 0, f"sample run failed with exit code {result.exit_code}"
    return {"inbox": inbox, "warehouse": settings.warehouse, "reports": settings.reports, "base": base}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium driven over its DevTools pipe (tests/test_browser.py), one per test module."""
    from test_browser import Browser

    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        b.attach()
        yield b
    finally:
        b.close()
