"""schemas/documents/*.toml → DocConfig: the kinds of document and the organisations, validated."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from jobs.errors import CatalogError
from jobs.records import BASES, Basis, KindRule

KINDS_FILE = "kinds.toml"
ORGS_FILE = "organisations.toml"

_KIND_FIELDS = {f for f in KindRule.__dataclass_fields__}
_ORG_FIELDS = {"name", "aliases"}
_ORGS_TOP = {"patterns", "organisation"}
_KINDS_TOP = {"kind"}
_BLANK = re.compile(r"\s+")


@dataclass(frozen=True)
class OrgPattern:
    """A regex with a named group `org`; `name` builds the organisation from it ("{org}人民政府")."""

    pattern: str
    name: str = "{org}"

    def find(self, text: str) -> str | None:
        match = re.search(self.pattern, text, re.MULTILINE)
        return self.name.format(org=match.group("org")) if match and match.group("org") else None


@dataclass(frozen=True)
class DocConfig:
    """How documents are recognised: kind rules, organisation patterns and aliases."""

    kinds: tuple[KindRule, ...]
    org_patterns: tuple[OrgPattern, ...] = ()  # tried in order
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias (and name) → canonical name

    def rule(self, kind: str) -> KindRule:
        """The rule for a kind; KeyError names the kinds there are."""
        for rule in self.kinds:
            if rule.kind == kind:
                return rule
        known = "、".join(r.kind for r in self.kinds)
        raise KeyError(f"no kind {kind!r} in {KINDS_FILE} (known: {known})")

    def earliest_marker(self, text: str) -> tuple[str, int] | None:
        """(kind, position) of the marker that starts first in the text — the longest where several start there."""
        pattern, kind_of = self._markers
        found = pattern.search(text)
        return None if found is None else (kind_of[found.group()], found.start())

    @cached_property
    def _markers(self) -> tuple[re.Pattern[str], dict[str, str]]:
        """Every kind's markers as one pattern, longest first, and the kind each names (the first kind, if several
        share one): one search instead of one per marker, for each of the opening's candidate titles."""
        kind_of: dict[str, str] = {}
        for rule in self.kinds:
            for marker in rule.markers:
                kind_of.setdefault(marker, rule.kind)
        words = sorted(kind_of, key=len, reverse=True)
        return re.compile("|".join(map(re.escape, words)) if words else "(?!)"), kind_of

    def canonical_org(self, name: str) -> str:
        """One name per organisation: an alias maps to its canonical name; blanks are ignored."""
        compact = _BLANK.sub("", name)
        return self.aliases.get(compact, compact)


def load(schemas_dir: Path) -> DocConfig:
    """Read and validate schemas/documents/kinds.toml and organisations.toml."""
    folder = Path(schemas_dir) / "documents"
    kinds_path, orgs_path = folder / KINDS_FILE, folder / ORGS_FILE
    kinds = _kinds(kinds_path, _read_toml(kinds_path, required=True))
    orgs = _read_toml(orgs_path, required=False)
    _no_unknown(orgs_path, "", orgs, _ORGS_TOP)
    patterns = _org_patterns(orgs_path, orgs.get("patterns", []))
    return DocConfig(kinds=kinds, org_patterns=patterns, aliases=_aliases(orgs_path, orgs))


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if not required:
            return {}
        raise CatalogError(path, "", "the file is missing", "create it: it declares the kinds of document")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CatalogError(path, "", f"is not valid TOML ({error})", "fix the syntax at that line") from error


def _no_unknown(path: Path, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CatalogError(
            path, where, f"unknown field {unknown[0]!r}", f"remove it or use one of: {', '.join(sorted(allowed))}"
        )


def _kinds(path: Path, data: Mapping[str, Any]) -> tuple[KindRule, ...]:
    _no_unknown(path, "", data, _KINDS_TOP)
    entries = data.get("kind")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(path, "", "declares no [[kind]] entries", "add at least one [[kind]] table")
    rules = tuple(_kind(path, i, entry) for i, entry in enumerate(entries, start=1))
    seen: set[str] = set()
    for rule in rules:
        if rule.kind in seen:
            raise CatalogError(path, f"kind {rule.kind}", "is declared twice", "keep one [[kind]] table per kind")
        seen.add(rule.kind)
    return rules


def _kind(path: Path, number: int, entry: Any) -> KindRule:
    where = f"kind #{number}"
    if not isinstance(entry, dict):
        raise CatalogError(path, where, "is not a table", "write it as a [[kind]] table")
    where = f"kind {entry.get('kind', f'#{number}')}"
    _no_unknown(path, where, entry, _KIND_FIELDS)
    missing = sorted(_KIND_FIELDS - set(entry))
    if missing:
        raise CatalogError(path, where, f"lacks the field {missing[0]!r}", f"add {missing[0]} = … to the table")
    basis = entry["default_basis"]
    if basis not in BASES:
        raise CatalogError(path, where, f"default_basis {basis!r} is not a basis", f"use one of: {', '.join(BASES)}")
    return KindRule(
        kind=_text(path, where, "kind", entry["kind"]),
        markers=_texts(path, where, "markers", entry["markers"], nonempty=True),
        year_patterns=_patterns(path, where, "year_patterns", entry["year_patterns"], group="year"),
        filename_year_offset=_int(path, where, "filename_year_offset", entry["filename_year_offset"]),
        default_basis=cast(Basis, basis),
        target_year_offset=_int(path, where, "target_year_offset", entry["target_year_offset"]),
    )


def _text(path: Path, where: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(path, where, f"{name} must be a non-empty string", f'write {name} = "…"')
    return value


def _texts(path: Path, where: str, name: str, value: Any, *, nonempty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogError(path, where, f"{name} must be a list of strings", f'write {name} = ["…", "…"]')
    if nonempty and not value:
        raise CatalogError(path, where, f"{name} is empty", f"give at least one entry in {name}")
    return tuple(cast(Sequence[str], value))


def _int(path: Path, where: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError(path, where, f"{name} must be a whole number", f"write {name} = 0 (or −1, 1)")
    return value


def _patterns(path: Path, where: str, name: str, value: Any, *, group: str) -> tuple[str, ...]:
    patterns = _texts(path, where, name, value)
    for i, pattern in enumerate(patterns, start=1):
        try:
            compiled = re.compile(pattern, re.MULTILINE)
        except re.error as error:
            raise CatalogError(
                path, where, f"{name}[{i}] {pattern!r} is not a valid regular expression ({error})",
                "fix the pattern (remember to double backslashes in TOML basic strings, or use '…')",
            ) from error
        if group not in compiled.groupindex:
            raise CatalogError(
                path, where, f"{name}[{i}] {pattern!r} has no named group `{group}`",
                f"mark the part to take with (?P<{group}>…)",
            )
    return patterns


def _org_patterns(path: Path, value: Any) -> tuple[OrgPattern, ...]:
    """Each entry a regex string, or a table {pattern = '…', name = '{org}人民政府'}."""
    if not isinstance(value, list):
        raise CatalogError(path, "patterns", "must be a list", "write patterns = ['…', { pattern = '…' }]")
    found: list[OrgPattern] = []
    for i, entry in enumerate(value, start=1):
        where = f"patterns[{i}]"
        if isinstance(entry, str):
            entry = {"pattern": entry}
        if not isinstance(entry, dict):
            raise CatalogError(path, where, "is neither a string nor a table", "write '…' or { pattern = '…' }")
        _no_unknown(path, where, entry, {"pattern", "name"})
        pattern = _patterns(path, where, "pattern", [entry.get("pattern")], group="org")[0]
        name = _text(path, where, "name", entry.get("name", "{org}"))
        try:
            name.format(org="")
        except (KeyError, IndexError, ValueError) as error:
            raise CatalogError(path, where, f"name {name!r} uses a placeholder other than {{org}}",
                               "write the name with {org} only, like '{org}人民政府'") from error
        found.append(OrgPattern(pattern, name))
    return tuple(found)


def _aliases(path: Path, data: Mapping[str, Any]) -> dict[str, str]:
    entries = data.get("organisation", [])
    if not isinstance(entries, list):
        raise CatalogError(path, "organisation", "is not a list of tables", "write each as an [[organisation]] table")
    aliases: dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise CatalogError(path, f"organisation #{number}", "is not a table", "write it as [[organisation]]")
        where = f"organisation {entry.get('name', f'#{number}')}"
        _no_unknown(path, where, entry, _ORG_FIELDS)
        name = _BLANK.sub("", _text(path, where, "name", entry.get("name")))
        for alias in (name, *_texts(path, where, "aliases", entry.get("aliases", []))):
            key = _BLANK.sub("", alias)
            if aliases.get(key, name) != name:
                raise CatalogError(
                    path, where, f"alias {alias!r} already belongs to {aliases[key]}",
                    "give each alias to one organisation only",
                )
            aliases[key] = name
    return aliases
