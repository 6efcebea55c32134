"""SQL text kept in the repository's `sql/` folder, loaded by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_ROOT = Path(__file__).resolve().parent.parent / "sql"


@cache
def load(name: str) -> str:
    """Return `sql/<name>.sql` without its comment lines, e.g. `load("facts/roles")`."""
    text = (SQL_ROOT / f"{name}.sql").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
