"""Where things live: options, environment variables and defaults, declared once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (name, environment variable, default inside the repo, help)
PATH_SETTINGS: tuple[tuple[str, str, Path, str], ...] = (
    ("inbox", "TONGBI_INBOX", ROOT / "warehouse" / "inbox", "folder of documents to load"),
    ("schemas", "TONGBI_SCHEMAS", ROOT / "schemas", "folder of indicator catalogs (*.toml)"),
    ("warehouse", "TONGBI_WAREHOUSE", ROOT / "warehouse" / "tongbi.duckdb", "the DuckDB warehouse file"),
    ("reports", "TONGBI_REPORTS", ROOT / "reports", "folder the reports are written to"),
)


@dataclass(frozen=True)
class Settings:
    inbox: Path
    schemas: Path
    warehouse: Path
    reports: Path

    @classmethod
    def resolve(cls, **given: Path | str | None) -> Settings:
        """An option given on the command line wins, then the environment, then the default."""
        values: dict[str, Path] = {}
        for name, env, default, _help in PATH_SETTINGS:
            chosen = given.get(name) or os.environ.get(env) or default
            values[name] = Path(chosen).expanduser()
        return cls(**values)
