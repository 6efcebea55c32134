"""The settings catalogue's data (DESIGN.md decision 9): `pg_settings/<version>.json` next to
this module, written by `python -m tools.settings_catalogue <version>` from a real server, read
as `Catalogue` objects; and PostgreSQL's own way of turning a value with a unit into the
setting's base unit. The checks of an inventory's settings are `settings_catalogue`."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from adxdb.errors import AdxError

CATALOGUE_DIR = Path(__file__).parent / "pg_settings"
FORMAT = 1

# Multipliers of PostgreSQL's unit tables, largest first, to the smallest unit of each kind
# (bytes, microseconds). The order matters: a fractional value rounds to the next unit down.
MEMORY_UNITS: dict[str, int] = {
    "TB": 1024**4,
    "GB": 1024**3,
    "MB": 1024**2,
    "kB": 1024,
    "B": 1,
}
TIME_UNITS: dict[str, int] = {
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "min": 60_000_000,
    "s": 1_000_000,
    "ms": 1_000,
    "us": 1,
}
UNIT_TABLES: dict[str, dict[str, int]] = {"memory": MEMORY_UNITS, "time": TIME_UNITS}
# A number as PostgreSQL's strtol/strtod read it, then an optional unit. Leading zeros are
# refused: strtol would read '010' as octal 8 for an integer setting.
NUMBER = re.compile(
    r" *(?P<number>[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r" *(?P<unit>[A-Za-z]*) *"
)

SettingType = Literal["bool", "integer", "real", "string", "enum"]
_TYPES: tuple[SettingType, ...] = ("bool", "integer", "real", "string", "enum")


class CatalogueMissing(AdxError):
    """No settings catalogue was generated for a major version."""


class CatalogueFormatError(ValueError):
    """A catalogue file that is not what `tools.settings_catalogue` writes."""


@dataclass(frozen=True)
class Unit:
    """A setting's base unit: `size` of the smallest unit of its kind (bytes, microseconds)."""

    kind: Literal["memory", "time"]
    size: int
    text: str


@dataclass(frozen=True)
class Setting:
    name: str
    type: SettingType
    context: str
    unit: Unit | None = None
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    version: int
    server_version: str
    settings: Mapping[str, Setting]
    extensions: frozenset[str]


def parse_unit(text: str) -> Unit:
    """pg_settings' unit text (`8kB`, `kB`, `ms`, `min`) as a `Unit`; ValueError if unknown."""
    match = re.fullmatch(r"([0-9]*)([A-Za-z]+)", text)
    if match:
        count = int(match.group(1) or "1")
        for kind, table in (("memory", MEMORY_UNITS), ("time", TIME_UNITS)):
            if match.group(2) in table and count > 0:
                size = count * table[match.group(2)]
                return Unit("memory" if kind == "memory" else "time", size, text)
    raise ValueError(f"unknown pg_settings unit {text!r}")


def available_versions() -> list[int]:
    return sorted(int(path.stem) for path in CATALOGUE_DIR.glob("*.json") if path.stem.isdigit())


@functools.cache
def catalogue(version: int) -> Catalogue:
    """The catalogue of a major version; `CatalogueMissing` if none was generated."""
    path = CATALOGUE_DIR / f"{version}.json"
    if not path.is_file():
        available = ", ".join(str(v) for v in available_versions()) or "none"
        raise CatalogueMissing(
            f"no settings catalogue for PostgreSQL {version} (available: {available}); "
            f"generate one with python -m tools.settings_catalogue {version}"
        )
    loaded = parse_catalogue(path.read_text(encoding="utf-8"))
    if loaded.version != version:
        raise CatalogueFormatError(f"{path} holds the catalogue of {loaded.version}")
    return loaded


def parse_catalogue(text: str) -> Catalogue:
    """A catalogue from the JSON text `tools.settings_catalogue` writes."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CatalogueFormatError(f"not a settings catalogue of format {FORMAT}")
    try:
        version = data["version"]
        server_version = data["server_version"]
        extensions = data["extensions"]
        rows = data["settings"]
        if not (
            isinstance(version, int)
            and isinstance(server_version, str)
            and isinstance(extensions, list)
            and all(isinstance(e, str) for e in extensions)
            and isinstance(rows, dict)
        ):
            raise CatalogueFormatError("a catalogue's top-level fields have the wrong types")
        settings = {name: _parse_setting(name, row) for name, row in rows.items()}
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogueFormatError(f"malformed settings catalogue: {error}") from None
    return Catalogue(version, server_version, settings, frozenset(extensions))


def _parse_setting(name: str, row: Any) -> Setting:
    if not isinstance(row, dict):
        raise CatalogueFormatError(f"setting {name!r} is not an object")
    kind = row["type"]
    context = row["context"]
    if kind not in _TYPES or not isinstance(context, str):
        raise CatalogueFormatError(f"setting {name!r} has an unknown type or context")
    unit = parse_unit(row["unit"]) if "unit" in row else None
    bounds = [row.get("min"), row.get("max")]
    if not all(
        b is None or (isinstance(b, int | float) and not isinstance(b, bool)) for b in bounds
    ):
        raise CatalogueFormatError(f"setting {name!r} has a non-numeric range")
    values = row.get("values", [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise CatalogueFormatError(f"setting {name!r} has malformed enum values")
    return Setting(name, kind, context, unit, bounds[0], bounds[1], tuple(values))


def to_base_unit(number: float, unit_text: str, setting: Setting) -> float | None:
    """PostgreSQL's convert_to_base_unit: None if the unit is not one of the setting's kind."""
    unit = setting.unit
    if unit is None:
        return None
    table = UNIT_TABLES[unit.kind]
    if unit_text not in table:
        return None
    names = list(table)
    value = number * (table[unit_text] / unit.size)
    position = names.index(unit_text)
    if position + 1 < len(names):
        # "30.1GB": rounded to a whole number of the next smaller unit, as PostgreSQL does.
        smaller = table[names[position + 1]] / unit.size
        value = round(value / smaller) * smaller
    return value


def base_number(setting: Setting, value: object) -> float | None:
    """A number setting's value in its base unit (None if it is not a number)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if not isinstance(value, str):
        return float(value)
    match = NUMBER.fullmatch(value)
    if match is None:
        return None
    number, unit_text = float(match.group("number")), match.group("unit")
    return to_base_unit(number, unit_text, setting) if unit_text else number
