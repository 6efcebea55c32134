"""Migration planning: the files read at load + the ledger of a database -> what to apply.

A target is one schema of one database and the streams it receives (DESIGN.md decision 4).
Planning is pure: it reads the ledger rows the `PgMigrationLedger` fact returns and never
touches a database. `adxdb.plan.migration_scripts` renders the plan as psql text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adxdb.errors import MigrationError
from adxdb.inventory.migration_files import STREAMS, MigrationFile, Stream


@dataclass(frozen=True)
class Target:
    """One schema of one database that receives the given streams."""

    database: str
    schema: str
    streams: tuple[Stream, ...]
    # Roles that get data privileges on the tenant stream's tables of this target only (a
    # dedicated database's own role), granted again after its tenant-stream files of a run.
    table_roles: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.database}.{self.schema}"


@dataclass(frozen=True)
class Step:
    target: Target
    migration: MigrationFile


@dataclass(frozen=True)
class Timeouts:
    lock_timeout: str = "10s"
    statement_timeout: str = "30min"
    # How long a deploy waits for another deploy's migration lock before it gives up.
    lock_wait_seconds: int = 180


def plan(
    files: Sequence[MigrationFile],
    targets: Sequence[Target],
    ledger: Sequence[Mapping[str, Any]],
    invalid_indexes: Sequence[str] = (),
) -> list[Step]:
    """The pending steps of one database, in order; raise MigrationError on any drift.

    `ledger` rows carry stream, target_schema, version, name, checksum. A file changed after it
    was applied, or a ledger row whose file is gone, stops the plan: nothing is applied.
    """
    by_key = {(m.stream, m.version): m for m in files}
    applied = {
        (str(r["stream"]), str(r["target_schema"]), int(r["version"])): r
        for r in ledger
        if r["stream"] in STREAMS
    }
    labels: dict[str, str] = {}
    for target in targets:
        labels.setdefault(target.schema, target.label)
    problems: list[str] = []
    for (stream, schema, version), row in sorted(applied.items()):
        migration = by_key.get((stream, version))  # type: ignore[arg-type]
        where = labels.get(schema, schema)
        if migration is None:
            problems.append(
                f"{stream}/{version:03d}_{row['name']}.sql was applied to {where} but the file "
                "is missing: restore it (applied migrations are never removed)"
            )
        elif migration.checksum != row["checksum"]:
            problems.append(
                f"{migration.label} changed after it was applied to {where}: "
                f"applied sha256 {row['checksum']}, file sha256 {migration.checksum}; "
                "restore the file and put the change in a new migration"
            )
    if problems:
        raise MigrationError(problems)
    invalid = set(invalid_indexes)
    steps: list[Step] = []
    for target in targets:
        for migration in files:
            if migration.stream not in target.streams:
                continue
            key = (migration.stream, target.schema, migration.version)
            broken = any(
                f"{target.schema}.{index}" in invalid for index in migration.concurrent_indexes()
            )
            if key not in applied or broken:
                steps.append(Step(target, migration))
    return steps


def host_file_name(migration: MigrationFile) -> str:
    """The name a migration file gets on the host: its label and checksum (errors name it)."""
    return (
        f"{migration.stream}-{migration.version:03d}_{migration.name}-{migration.checksum[:12]}.sql"
    )


def describe(steps: Sequence[Step]) -> list[str]:
    """Human lines for --dry and logs: `<target>: <file>`."""
    return [f"{step.target.label}: {step.migration.label}" for step in steps]
