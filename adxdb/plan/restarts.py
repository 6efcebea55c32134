"""Which setting changes take effect only on a restart, known before the files are written
(the `--dry` plan names them): the wanted restart-only settings against the running server's
`pg_settings`, through the settings catalogue."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from adxdb.inventory.settings_data import Setting, base_number, catalogue


def restart_needed(version: int, names: Iterable[str]) -> list[str]:
    """The names among `names` that take effect only when the server restarts."""
    settings = catalogue(version).settings
    return [
        name
        for name in names
        if (setting := settings.get(name.lower())) is not None and setting.context == "postmaster"
    ]


def restart_changes(
    version: int,
    wanted: Mapping[str, object],
    running: Mapping[str, Mapping[str, str | None]],
    conf_file: str,
) -> list[str]:
    """The settings whose change the server will apply only on a restart, known before the
    files are written: a restart-only setting whose wanted value is not the running one, or
    one that `conf_file` set and the deploy no longer writes. `running` is pg_settings of the
    restart-only settings: name -> {"setting": value in its base unit, "sourcefile": ...}."""
    settings = catalogue(version).settings
    changed = []
    for name, row in running.items():
        setting = settings.get(name)
        if setting is None or setting.context != "postmaster":
            continue
        if name in wanted:
            if not same_value(setting, wanted[name], row.get("setting")):
                changed.append(name)
        elif row.get("sourcefile") == conf_file:
            changed.append(name)
    return sorted(changed)


def same_value(setting: Setting, wanted: object, running: str | None) -> bool:
    """Whether the inventory's value is the value PostgreSQL shows in pg_settings.setting
    (numbers in the setting's base unit, booleans as on/off, enums in lowercase)."""
    if running is None:
        return False
    if setting.type == "bool":
        if isinstance(wanted, str):
            wanted = wanted.lower() in ("on", "true", "yes", "1")
        return ("on" if bool(wanted) else "off") == running
    if setting.type == "enum":
        word = ("on" if wanted else "off") if isinstance(wanted, bool) else str(wanted)
        return word.lower() == running.lower()
    if setting.type == "string":
        return str(wanted) == running
    base = base_number(setting, wanted)
    try:
        shown = float(running)
    except ValueError:
        return False
    if base is None:
        return False
    if setting.type == "integer":
        return round(base) == shown
    return math.isclose(base, shown, rel_tol=1e-9)
