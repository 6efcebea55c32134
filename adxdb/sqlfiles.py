"""SQL text kept in `sql/` (migrations, seeds, facts, jobs, static deploy and move SQL), by name.

In a checkout the folder is the repository's `sql/`; an installed package carries the same
files as package data (`adxdb/sql/`), so the library works outside a checkout too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGED = Path(__file__).resolve().parent / "sql"
_CHECKOUT = Path(__file__).resolve().parent.parent / "sql"
SQL_ROOT = _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


@cache
def load(name: str) -> str:
    """Return `sql/<name>.sql` without its comment lines, e.g. `load("facts/roles")`."""
    text = (SQL_ROOT / f"{name}.sql").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
