"""Indicator catalogs: read schemas/*.toml, validate every field, and pick the catalog for a document.

An indicator needs only id, name, unit and aliases. Optional fields refine it (INDICATOR_FIELDS says each):
measure (level / flow / growth), exclude (phrases that veto it), group, description, and goal — how a goal
stated without a bound is met: "ceiling" (居民消费价格涨幅3%左右 is met by anything up to 3 %), "floor" (达到6张
is met by 6 or more) or "about" (the default: within 10 % either side). A goal written with its bound
(5.5%以内, 1100万人以上) is read as written whatever this field says.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jobs import units
from jobs.errors import CatalogError
from jobs.records import Document

# level: a stock or a yearly amount (门店90家, 国内生产总值134.9万亿元, 新增教师145人).
# flow: what was added during the year (新增教师145人, 新增体育场地102个): 新增/增加 is part of its meaning,
#   not a change of it.
# growth: a year-over-year rate in per cent (国内生产总值增长5%, 居民消费价格上涨0.2%); its direction
#   word gives the sign (下降3.4% → −3.4).
Measure = Literal["level", "flow", "growth"]
MEASURES: tuple[Measure, ...] = ("level", "flow", "growth")
# How a goal without a bound (3%左右, 达到6张) is met: at most, at least, or within a tolerance either side.
GoalSense = Literal["about", "ceiling", "floor"]
GOAL_SENSES: tuple[GoalSense, ...] = ("about", "ceiling", "floor")

CATALOG_FIELDS: dict[str, str] = {
    "id": "required: lower-case name of the catalog, words joined by - or _ (gov-work-report)",
    "name": "required: what the catalog covers",
    "applies_to": "required: phrases; a document uses this catalog when its title, kind or opening lines hold one",
    "description": "optional: free text",
}
INDICATOR_FIELDS: dict[str, str] = {
    "id": "required: snake_case, unique across all catalogs (the warehouse key)",
    "name": "required: the indicator's name",
    "unit": "required: the unit observations are stored in (个, 万人, 亿元, %, …)",
    "aliases": "required: plain phrases that name the indicator in the text",
    "measure": "optional: 'level', 'flow' or 'growth'; by default 'growth' when the unit is % and the name says "
               "增长/涨幅/增幅, 'flow' when the name starts with 新增/新建/新成立, else 'level'",
    "exclude": "optional: plain phrases; a number whose subject holds one of them is not this indicator",
    "goal": "optional: how a goal stated without a bound (3%左右, 达到6张) is met: 'ceiling' (at most it), "
            "'floor' (at least it) or 'about' (within 10 %, the default)",
    "group": "optional: the part of the document it belongs to (党建, 学前教育, 体育, …), for reports",
    "description": "optional: free text",
}
REQUIRED_CATALOG = ("id", "name", "applies_to")
REQUIRED_INDICATOR = ("id", "name", "unit", "aliases")

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
CATALOG_ID = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")  # gov-work-report, as the file is named
GROWTH_WORDS = ("增长", "增速", "增幅", "涨幅", "上涨", "降幅", "下降", "降低", "增减", "变化", "变动")
FLOW_PREFIXES = ("新增", "新建", "新成立", "新招", "新开")
OPENING_CHARS = 300  # how much of the text counts as "opening lines" for applies_to


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator of a catalog, as written in the TOML file (defaults filled in)."""

    id: str
    name: str
    unit: str
    aliases: tuple[str, ...]
    catalog: str
    measure: Measure = "level"
    exclude: tuple[str, ...] = ()
    group: str = ""
    description: str = ""
    goal: GoalSense = "about"


@dataclass(frozen=True, slots=True)
class Catalog:
    """A validated catalog: which documents it applies to and the indicators to find in them."""

    id: str
    name: str
    applies_to: tuple[str, ...]
    indicators: tuple[Indicator, ...]
    path: str
    description: str = ""

    def indicator(self, indicator_id: str) -> Indicator:
        for item in self.indicators:
            if item.id == indicator_id:
                return item
        raise KeyError(indicator_id)


def load_catalogs(schemas_dir: Path) -> tuple[Catalog, ...]:
    """Every schemas_dir/*.toml, validated as a whole: one bad file raises CatalogError, none is returned.

    Indicator ids are unique across all catalogs, not just within one, because observations are keyed
    by (org, indicator_id, year, basis) without the catalog.
    """
    catalogs = tuple(_load_file(path) for path in sorted(Path(schemas_dir).glob("*.toml")))
    _check_unique_across(catalogs)
    return catalogs


def for_document(catalogs: tuple[Catalog, ...], doc: Document) -> Catalog | None:
    """The catalog one of whose applies_to phrases is in the title, else the kind, else the opening lines.

    Where several catalogs match at the same place, the longest phrase wins (教育体育局 over 政府).
    """
    for place in (doc.title, doc.kind, doc.text[:OPENING_CHARS]):
        found = [(len(phrase), catalog) for catalog in catalogs for phrase in catalog.applies_to if phrase in place]
        if found:
            return max(found, key=lambda item: item[0])[1]
    return None


def _load_file(path: Path) -> Catalog:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise CatalogError(path, "", f"is not UTF-8 ({error.reason})", "Save the file as UTF-8.") from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(path, "", f"is not valid TOML ({error})", "Fix the TOML syntax at that line.") from error
    unknown = sorted(set(data) - {"catalog", "indicator"})
    if unknown:
        raise CatalogError(path, "", f"has unknown table(s) {', '.join(unknown)}",
                           "A catalog holds one [catalog] table and [[indicator]] tables; remove or rename the others.")
    head = data.get("catalog")
    if not isinstance(head, dict):
        raise CatalogError(path, "catalog", "has no [catalog] table",
                           'Start the file with [catalog] and id, name, applies_to = ["…"].')
    _check_fields(path, "catalog", head, CATALOG_FIELDS, REQUIRED_CATALOG)
    catalog_id = _snake_id(path, "catalog", head["id"], pattern=CATALOG_ID)
    rows = data.get("indicator", [])
    if not isinstance(rows, list) or not rows:
        raise CatalogError(path, "catalog", "defines no indicators",
                           "Add at least one [[indicator]] table with id, name, unit and aliases.")
    indicators = tuple(_indicator(path, catalog_id, index, row) for index, row in enumerate(rows, start=1))
    _check_unique_within(path, indicators)
    return Catalog(
        id=catalog_id,
        name=_text(path, "catalog", "name", head["name"]),
        applies_to=_phrases(path, "catalog", "applies_to", head["applies_to"]),
        indicators=indicators,
        path=str(path),
        description=_text(path, "catalog", "description", head.get("description", ""), empty_ok=True),
    )


def _indicator(path: Path, catalog_id: str, index: int, row: Any) -> Indicator:
    where = f"indicator #{index}"
    if not isinstance(row, dict):
        raise CatalogError(path, where, "is not a table", "Write each indicator as an [[indicator]] table.")
    if isinstance(row.get("id"), str):
        where = f"indicator {row['id']}"
    _check_fields(path, where, row, INDICATOR_FIELDS, REQUIRED_INDICATOR)
    indicator_id = _snake_id(path, where, row["id"])
    name = _text(path, where, "name", row["name"])
    unit = _text(path, where, "unit", row["unit"])
    if not units.is_known(unit):
        raise CatalogError(path, where, f"has unit {unit!r}, which tongbi cannot convert to",
                           "Use a known unit such as 个, 人, 万人, 元, 万元, 亿元, 万亿元, 吨, 万吨, 亿斤, "
                           "平方米, %, 百分点.")
    measure = row.get("measure", _default_measure(name, unit))
    if measure not in MEASURES:
        raise CatalogError(path, where, f"has measure {measure!r}",
                           'Write measure = "level", "flow" or "growth", or leave it out.')
    if measure == "growth" and units.dimension(unit) not in ("percent", "points"):
        raise CatalogError(path, where, f"is a growth rate with unit {unit!r}",
                           'Give a growth indicator unit = "%", or write measure = "level" for an amount.')
    goal = row.get("goal", "about")
    if goal not in GOAL_SENSES:
        raise CatalogError(path, where, f"has goal {goal!r}",
                           'Write goal = "ceiling" (a goal is met at or below it), "floor" (at or above it) or '
                           '"about" (within 10 %), or leave it out.')
    aliases = _phrases(path, where, "aliases", row["aliases"])
    exclude = _phrases(path, where, "exclude", row.get("exclude", []), empty_ok=True)
    clash = [phrase for phrase in exclude if any(phrase in alias for alias in aliases)]
    if clash:
        raise CatalogError(path, where, f"excludes {clash[0]!r}, which is part of its own alias",
                           "Remove it from exclude: a phrase in exclude vetoes every sentence that names the "
                           "indicator by that alias.")
    return Indicator(
        id=indicator_id,
        name=name,
        unit=unit,
        aliases=aliases,
        catalog=catalog_id,
        measure=measure,
        exclude=exclude,
        group=_text(path, where, "group", row.get("group", ""), empty_ok=True),
        description=_text(path, where, "description", row.get("description", ""), empty_ok=True),
        goal=goal,
    )


def _default_measure(name: str, unit: str) -> Measure:
    """A per-cent indicator whose name says it is a change (增长, 涨幅) is a growth rate; 新增… is a flow."""
    if units.dimension(unit) in ("percent", "points") and any(word in name for word in GROWTH_WORDS):
        return "growth"
    if name.startswith(FLOW_PREFIXES):
        return "flow"
    return "level"


def _check_fields(path: Path, where: str, table: dict[str, Any], known: dict[str, str],
                  required: tuple[str, ...]) -> None:
    for key in table:
        if key not in known:
            raise CatalogError(path, where, f"has unknown field {key!r}",
                               f"Remove it or use one of: {', '.join(known)}.")
    for key in required:
        if key not in table:
            raise CatalogError(path, where, f"is missing the required field {key!r}",
                               f"Add {key} = … ({known[key].removeprefix('required: ')}).")


def _snake_id(path: Path, where: str, value: Any, *, pattern: re.Pattern[str] = SNAKE_CASE) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        if pattern is SNAKE_CASE:
            raise CatalogError(path, where, f"has id {value!r}, which is not snake_case",
                               "Use lower-case ASCII letters, digits and single underscores, starting with a letter "
                               "(e.g. gdp_growth).")
        raise CatalogError(path, where, f"has id {value!r}",
                           "Use lower-case ASCII letters and digits joined by - or _, starting with a letter "
                           "(e.g. gov-work-report).")
    return value


def _text(path: Path, where: str, key: str, value: Any, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise CatalogError(path, where, f"has {key} = {value!r}", f'Write {key} as a non-empty string: {key} = "…".')
    return value.strip()


def _phrases(path: Path, where: str, key: str, value: Any, *, empty_ok: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise CatalogError(path, where, f"has {key} = {value!r}",
                           f'Write {key} as a list of non-empty phrases: {key} = ["…", "…"].')
    if not value and not empty_ok:
        raise CatalogError(path, where, f"has empty {key}",
                           f"Give at least one phrase in {key}, e.g. the indicator's name as the text writes it.")
    return tuple(dict.fromkeys(item.strip() for item in value))


def _check_unique_within(path: Path, indicators: tuple[Indicator, ...]) -> None:
    seen: set[str] = set()
    for item in indicators:
        if item.id in seen:
            raise CatalogError(path, f"indicator {item.id}", "repeats an id already used in this file",
                               "Give each indicator its own id, or merge the two into one with both sets of aliases.")
        seen.add(item.id)


def _check_unique_across(catalogs: tuple[Catalog, ...]) -> None:
    catalog_ids: dict[str, str] = {}
    indicator_ids: dict[str, str] = {}
    for catalog in catalogs:
        if catalog.id in catalog_ids:
            other = catalog_ids[catalog.id]
            raise CatalogError(catalog.path, "catalog", f"has id {catalog.id!r}, also used by {other}",
                               "Give each catalog its own id.")
        catalog_ids[catalog.id] = catalog.path
        for item in catalog.indicators:
            if item.id in indicator_ids:
                raise CatalogError(catalog.path, f"indicator {item.id}",
                                   f"repeats an id already used in {indicator_ids[item.id]}",
                                   "Indicator ids are unique across all catalogs (they key the warehouse); "
                                   "rename one, e.g. with a prefix.")
            indicator_ids[item.id] = catalog.path
