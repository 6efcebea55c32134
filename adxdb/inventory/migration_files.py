"""Migration files on the control machine: both streams read, named and checked once.

Two streams (DESIGN.md decision 4): `shared/` (control plane) and `tenant/` (tenant data), each
`NNN_lowercase_name.sql`. The inventory loader reads them once; planning uses what it read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from adxdb.errors import MigrationError
from adxdb.sqlfiles import SQL_ROOT

Stream = Literal["shared", "tenant"]
STREAMS: tuple[Stream, ...] = ("shared", "tenant")
MIGRATIONS_ROOT = SQL_ROOT / "migrations"
NON_TRANSACTIONAL = "-- adx:transaction=off"
_FILE_NAME = re.compile(r"^(?P<version>\d{3})_(?P<name>[a-z0-9_]+)\.sql$")
_CONCURRENT_INDEX = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE
)


@dataclass(frozen=True)
class MigrationFile:
    stream: Stream
    version: int
    name: str
    text: str

    @property
    def label(self) -> str:
        return f"{self.stream}/{self.version:03d}_{self.name}.sql"

    # Cached: a plan over a thousand targets asks each file for these a thousand times.
    @cached_property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def transactional(self) -> bool:
        return not self.text.startswith(NON_TRANSACTIONAL)

    def concurrent_indexes(self) -> list[str]:
        """Names of the indexes this file builds concurrently (comments are not statements)."""
        return list(self._concurrent_indexes)

    @cached_property
    def _concurrent_indexes(self) -> tuple[str, ...]:
        code = "\n".join(line.split("--", 1)[0] for line in self.text.splitlines())
        return tuple(_CONCURRENT_INDEX.findall(code))


def discover(root: Path = MIGRATIONS_ROOT) -> list[MigrationFile]:
    """Every migration file of both streams, ordered by version (shared first on a tie)."""
    problems: list[str] = []
    found: list[MigrationFile] = []
    for stream in STREAMS:
        seen: dict[int, str] = {}
        for path in sorted((root / stream).glob("*.sql")):
            match = _FILE_NAME.match(path.name)
            if match is None:
                problems.append(f"{stream}/{path.name}: name must be NNN_lowercase_name.sql")
                continue
            version = int(match["version"])
            if version in seen:
                problems.append(
                    f"{stream}/{path.name}: version {version:03d} repeats {seen[version]}"
                )
                continue
            seen[version] = path.name
            found.append(MigrationFile(stream, version, match["name"], path.read_text("utf-8")))
    if problems:
        raise MigrationError(problems)
    return order(found)


def order(files: Iterable[MigrationFile]) -> list[MigrationFile]:
    return sorted(files, key=lambda m: (m.version, STREAMS.index(m.stream)))
