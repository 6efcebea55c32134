"""The settings catalogue of DESIGN.md decision 9: the inventory's `postgres.settings` checked
against the settings of the major version that will run them, before any host is touched.

A catalogue is `pg_settings/<version>.json` next to this module, generated from a real server
by `python -m tools.settings_catalogue <version>` (pg_stat_statements loaded, so its settings
are in it). Its format, one setting per line:

    {"extensions": ["pg_stat_statements"], "format": 1, "server_version": "15.14 ...",
     "settings": {
      "shared_buffers": {"context": "postmaster", "max": 1073741823, "min": 16,
                         "type": "integer", "unit": "8kB"},
      "wal_level": {"context": "postmaster", "type": "enum",
                    "values": ["minimal", "replica", "logical"]},
      ...}, "version": 15}

Names are lowercase (PostgreSQL's are case-insensitive); `unit` is pg_settings' base unit (a
bare number counts in it: `shared_buffers = 16` is 16 blocks of 8kB); `min`/`max` are in that
unit. Values are converted the way PostgreSQL's `parse_int`/`parse_real` convert them (units
are case-sensitive, a fractional value is rounded to the next smaller unit, an integer to the
nearest), and only values that `adxdb.plan.config.quote_value` renders to text PostgreSQL
reads back as the same value are accepted.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping

from adxdb.inventory.settings_data import (
    NUMBER,
    UNIT_TABLES,
    Catalogue,
    CatalogueMissing,
    Setting,
    Unit,
    catalogue,
    to_base_unit,
)

SETTINGS_PATH = "postgres.settings"
VERSION_PATH = "postgres.version"

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

# What the deploy writes itself (adxdb.plan.config.owned_settings: TLS, listen_addresses,
# password_encryption, archiving; its logging defaults may be overridden), what places the server's
# files, sockets and includes, and what would carry a secret in the file (restore and
# replication commands): an inventory may set none of them.
MANAGED_PREFIXES = ("ssl_", "archive_")
MANAGED_NAMES = frozenset(
    {
        "ssl",
        "restore_command",
        "primary_conninfo",
        "primary_slot_name",
        "port",
        "listen_addresses",
        "unix_socket_directories",
        "password_encryption",
        "data_directory",
        "hba_file",
        "ident_file",
        "config_file",
        "external_pid_file",
        "include",
        "include_dir",
        "include_if_exists",
    }
)

_BOOL_WORDS = frozenset({"on", "off", "true", "false", "yes", "no", "1", "0"})
# The bare INTEGER and REAL tokens of PostgreSQL's configuration file lexer: a float that
# `quote_value` writes unquoted must be one of them (an exponent needs a point: str(1e-05)
# is not one, str(1.5e-05) is).
_CONF_NUMBER = re.compile(r"[+-]?(?:[0-9]+|[0-9]*\.[0-9]*(?:[eE][+-]?[0-9]+)?)")


def is_managed(name: str) -> bool:
    """Whether the deploy owns the setting (the inventory may not set it)."""
    lowered = name.lower()
    return lowered in MANAGED_NAMES or lowered.startswith(MANAGED_PREFIXES)


def setting_problems(version: int, settings: Mapping[str, object]) -> list[tuple[str, str]]:
    """(dotted path, message) for every setting the inventory may not set as given; no
    catalogue for the version is one problem at `postgres.version`."""
    try:
        known = catalogue(version)
    except CatalogueMissing as error:
        return [(VERSION_PATH, str(error))]
    problems: list[tuple[str, str]] = []
    for name, value in settings.items():
        message = _name_problem(known, name)
        if message is None:
            message = _value_problem(known.settings[name.lower()], value)
        if message is not None:
            problems.append((f"{SETTINGS_PATH}.{name}", message))
    return problems


def _name_problem(known: Catalogue, name: str) -> str | None:
    lowered = name.lower()
    if is_managed(lowered):
        return f"'{name}' is managed by the deploy and cannot be set in the inventory"
    setting = known.settings.get(lowered)
    if setting is not None:
        if setting.context == "internal":
            return (
                f"'{name}' is fixed when PostgreSQL is built or the cluster is initialized "
                "and cannot be set"
            )
        return None
    settable = [n for n, s in known.settings.items() if s.context != "internal"]
    close = difflib.get_close_matches(lowered, settable, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    prefix, dot, _ = lowered.partition(".")
    if dot and prefix not in known.extensions:
        extensions = ", ".join(sorted(known.extensions)) or "none"
        return (
            f"'{name}' is not a setting of an extension the PostgreSQL {known.version} "
            f"catalogue knows (extensions: {extensions}){hint}"
        )
    return f"'{name}' is not a PostgreSQL {known.version} setting{hint}"


def _value_problem(setting: Setting, value: object) -> str | None:
    if isinstance(value, str):
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            return (
                f"the value of '{setting.name}' contains a control character (a line break, "
                "tab or similar), which postgresql.conf cannot hold"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"the value of '{setting.name}' is not valid UTF-8 text"
    if isinstance(value, float) and (message := _float_problem(setting, value)):
        return message
    if setting.type == "bool":
        return _bool_problem(setting, value)
    if setting.type == "enum":
        return _enum_problem(setting, value)
    if setting.type == "string":
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return None
        return f"'{setting.name}' takes a string; got {_shown(value)} (quote it in the YAML)"
    return _number_problem(setting, value)


def _float_problem(setting: Setting, value: float) -> str | None:
    """A float `quote_value` would write as text PostgreSQL does not read as that number."""
    if not math.isfinite(value):
        return f"'{setting.name}' takes a finite number; got {_shown(value)}"
    if not _CONF_NUMBER.fullmatch(str(value)):
        return (
            f"'{setting.name}': {value!r} cannot be written unquoted in postgresql.conf; "
            f"quote it in the YAML ('{value!r}')"
        )
    return None


def _bool_problem(setting: Setting, value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value in (0, 1):
        return None
    if isinstance(value, str) and value.lower() in _BOOL_WORDS:
        return None
    return (
        f"'{setting.name}' takes a boolean (true/false, on/off, yes/no, 1/0); got {_shown(value)}"
    )


def _enum_problem(setting: Setting, value: object) -> str | None:
    allowed = {v.lower() for v in setting.values}
    if isinstance(value, bool):
        word = "on" if value else "off"
    elif isinstance(value, str | int):
        word = str(value).lower()
    else:
        word = None
    if word is not None and word in allowed:
        return None
    return f"'{setting.name}' takes one of: {', '.join(setting.values)}; got {_shown(value)}"


def _number_problem(setting: Setting, value: object) -> str | None:
    """Integer and real settings: the value in the setting's base unit, then its range."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return _number_type_message(setting, value)
    if isinstance(value, str):
        match = NUMBER.fullmatch(value)
        if match is None:
            return _number_type_message(setting, value)
        number, unit_text = float(match.group("number")), match.group("unit")
        fractional = not number.is_integer()
    else:
        number, unit_text = float(value), ""
        fractional = isinstance(value, float) and not value.is_integer()
    if unit_text:
        base = to_base_unit(number, unit_text, setting)
        if base is None:
            return _unit_message(setting, value, unit_text)
    elif setting.type == "integer" and fractional:
        return _number_type_message(setting, value)
    else:
        base = number
    if setting.type == "integer":
        base = float(round(base))
        if not _INT_MIN <= base <= _INT_MAX:
            return _range_message(setting, value)
    if (setting.min is not None and base < setting.min) or (
        setting.max is not None and base > setting.max
    ):
        return _range_message(setting, value)
    return None


def _number_type_message(setting: Setting, value: object) -> str:
    whole = "an integer" if setting.type == "integer" else "a number"
    unit = setting.unit
    if unit is None:
        return f"'{setting.name}' takes {whole}; got {_shown(value)}"
    what = "a memory size" if unit.kind == "memory" else "a duration"
    units = ", ".join(reversed(UNIT_TABLES[unit.kind]))
    bare = "a whole number" if setting.type == "integer" else "a number"
    return (
        f"'{setting.name}' takes {what} (a number with a unit: {units}; case matters; "
        f"or {bare} of {unit.text}); got {_shown(value)}"
    )


def _unit_message(setting: Setting, value: object, unit_text: str) -> str:
    unit = setting.unit
    other = next((kind for kind, table in UNIT_TABLES.items() if unit_text in table), None)
    if unit is None:
        whole = "an integer" if setting.type == "integer" else "a number"
        return f"'{setting.name}' takes {whole} without a unit; got {_shown(value)}"
    if other is not None and other != unit.kind:
        what, wrong = (
            ("a memory size", "a duration")
            if unit.kind == "memory"
            else ("a duration", "a memory size")
        )
        return f"'{setting.name}' takes {what}, not {wrong}; got {_shown(value)}"
    return _number_type_message(setting, value)


def _range_message(setting: Setting, value: object) -> str:
    low = "any" if setting.min is None else _human(setting.min, setting.unit)
    high = "any" if setting.max is None else _human(setting.max, setting.unit)
    return f"'{setting.name}' must be between {low} and {high}; got {_shown(value)}"


def _human(value: float, unit: Unit | None) -> str:
    """A bound in the largest unit that holds it exactly, and roughly in the largest unit
    when that is not the same: `8589934584kB (about 8TB)`."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}{unit.text if unit else ''}"
    if unit is None or value <= 0:
        return f"{value:g}" if isinstance(value, float) and abs(value) >= 1e16 else str(int(value))
    total = int(value) * unit.size
    table = UNIT_TABLES[unit.kind]
    exact = next(name for name, size in table.items() if total % size == 0)
    rough = next(name for name, size in table.items() if total >= size)
    text = f"{total // table[exact]}{exact}"
    if rough != exact:
        text += f" (about {round(total / table[rough], 1):g}{rough})"
    return text


def _shown(value: object) -> str:
    """The value as the inventory wrote it (for a type or range problem)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return f"'{value}'"
    return f"a {type(value).__name__}"
