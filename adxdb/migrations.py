"""Migration planning: files on disk + the ledger of a database -> what to apply, where.

Two streams (DESIGN.md decision 4): `shared/` (control plane) and `tenant/` (tenant data). A
target is one schema of one database and the streams it receives. Planning is pure: it reads
the ledger rows the `PgMigrationLedger` fact returns and never touches a database.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from psycopg import sql

from adxdb.sqlfiles import SQL_ROOT

Stream = Literal["shared", "tenant"]
STREAMS: tuple[Stream, ...] = ("shared", "tenant")
MIGRATIONS_ROOT = SQL_ROOT / "migrations"
LEDGER_SCHEMA = "adx_migrations"
LEDGER_TABLE = "ledger"
NON_TRANSACTIONAL = "-- adx:transaction=off"
# One lock for every migration of a database, held for the whole session (a transaction-level
# lock would end with the first COMMIT; a blocking one deadlocks with CREATE INDEX CONCURRENTLY).
ADVISORY_LOCK_KEY = 0x41445844  # "ADXD"
_FILE_NAME = re.compile(r"^(?P<version>\d{3})_(?P<name>[a-z0-9_]+)\.sql$")
_CONCURRENT_INDEX = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE
)


class MigrationError(Exception):
    """Migrations that cannot be planned; `problems` holds one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


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


@dataclass(frozen=True)
class Target:
    """One schema of one database that receives the given streams."""

    database: str
    schema: str
    streams: tuple[Stream, ...]

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
    problems: list[str] = []
    for (stream, schema, version), row in sorted(applied.items()):
        migration = by_key.get((stream, version))  # type: ignore[arg-type]
        where = next((t.label for t in targets if t.schema == schema), schema)
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
    steps: list[Step] = []
    for target in targets:
        for migration in files:
            if migration.stream not in target.streams:
                continue
            key = (migration.stream, target.schema, migration.version)
            broken = any(
                f"{target.schema}.{index}" in invalid_indexes
                for index in migration.concurrent_indexes()
            )
            if key not in applied or broken:
                steps.append(Step(target, migration))
    return steps


def _literal(value: object) -> str:
    return sql.Literal(value).as_string()


def _ident(*names: str) -> str:
    return sql.Identifier(*names).as_string()


def _search_path(target: Target) -> str:
    schemas = [target.schema] if target.schema == "public" else [target.schema, "public"]
    return ", ".join(_ident(s) for s in schemas)


def ledger_setup(readers: Sequence[str]) -> str:
    ledger = _ident(LEDGER_SCHEMA, LEDGER_TABLE)
    grants = "".join(
        f"GRANT USAGE ON SCHEMA {_ident(LEDGER_SCHEMA)} TO {_ident(r)};\n"
        f"GRANT SELECT ON {ledger} TO {_ident(r)};\n"
        for r in readers
    )
    return (
        f"CREATE SCHEMA IF NOT EXISTS {_ident(LEDGER_SCHEMA)};\n"
        f"CREATE TABLE IF NOT EXISTS {ledger} (\n"
        "    stream text NOT NULL CHECK (stream IN ('shared', 'tenant', 'seed')),\n"
        "    target_schema text NOT NULL,\n"
        "    version integer NOT NULL,\n"
        "    name text NOT NULL,\n"
        "    checksum text NOT NULL,\n"
        "    applied_at timestamptz NOT NULL DEFAULT now(),\n"
        "    duration_ms integer NOT NULL,\n"
        "    applied_by text NOT NULL,\n"
        "    PRIMARY KEY (stream, target_schema, version)\n"
        ");\n"
        f"REVOKE ALL ON SCHEMA {_ident(LEDGER_SCHEMA)} FROM PUBLIC;\n" + grants
    )


def lock_block(attempts: int = 40, max_sleep: float = 5.0) -> str:
    """Take the session-level migration lock with a try-lock and backoff, or fail clearly.

    Each try is a statement of its own and the backoff sleeps in psql (`\\! sleep`), outside
    any transaction: a waiting deploy holds no snapshot, so the CREATE INDEX CONCURRENTLY of
    the deploy holding the lock never waits for it (a blocking lock, or a loop inside one DO
    block, would hold one and stall that build until lock_timeout)."""
    try_lock = f"SELECT pg_try_advisory_lock({ADVISORY_LOCK_KEY}) AS adx_locked \\gset\n"
    parts = [try_lock]
    for attempt in range(1, int(attempts)):
        sleep = min(0.05 * 2**attempt, max_sleep)
        parts.append(f"\\if :adx_locked\n\\else\n\\! sleep {sleep:g}\n{try_lock}\\endif\n")
    parts.append(
        "\\if :adx_locked\n\\else\n"
        "DO $adx$ BEGIN RAISE EXCEPTION 'another deploy holds the migration lock of this database' "
        "USING ERRCODE = 'lock_not_available'; END $adx$;\n"
        "\\endif\n"
    )
    return "".join(parts)


def _pending_check(step: Step) -> str:
    """Checked again under the lock: a concurrent deploy may have applied it meanwhile. A
    non-transactional file is also pending while one of its indexes is INVALID."""
    m, schema = step.migration, step.target.schema
    condition = (
        "NOT EXISTS (SELECT 1 FROM "
        f"{_ident(LEDGER_SCHEMA, LEDGER_TABLE)} WHERE stream = {_literal(m.stream)} "
        f"AND target_schema = {_literal(schema)} AND version = {int(m.version)})"
    )
    names = m.concurrent_indexes()
    if names:
        condition += (
            " OR EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid "
            f"AND n.nspname = {_literal(schema)} "
            f"AND c.relname IN ({', '.join(_literal(n) for n in names)}))"
        )
    return f"SELECT {condition} AS adx_pending \\gset\n"


def _ledger_insert(step: Step, applied_by: str) -> str:
    m = step.migration
    return (
        f"INSERT INTO {_ident(LEDGER_SCHEMA, LEDGER_TABLE)} "
        "(stream, target_schema, version, name, checksum, duration_ms, applied_by) VALUES ("
        f"{_literal(m.stream)}, {_literal(step.target.schema)}, {int(m.version)}, "
        f"{_literal(m.name)}, {_literal(m.checksum)}, "
        "(extract(epoch FROM clock_timestamp() - :'adx_started'::timestamptz) * 1000)::integer, "
        f"{_literal(applied_by)}) ON CONFLICT (stream, target_schema, version) DO UPDATE "
        "SET applied_at = now(), duration_ms = EXCLUDED.duration_ms, "
        "applied_by = EXCLUDED.applied_by;\n"
    )


def _drop_invalid_indexes(step: Step) -> str:
    """An interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would
    keep: drop those (of this file, in this schema) so the file builds them again."""
    names = step.migration.concurrent_indexes()
    if not names:
        return ""
    listed = ", ".join(_literal(n) for n in names)
    return (
        "SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', n.nspname, c.relname) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE NOT i.indisvalid AND n.nspname = {_literal(step.target.schema)} "
        f"AND c.relname IN ({listed}) \\gexec\n"
    )


def render_step(step: Step, owner: str, applied_by: str, path: str | None = None) -> str:
    """The psql text of one step. With `path` the file is included from the host (`\\i`), so a
    script for a thousand targets stays small; without it, the file's text is inlined."""
    m, target = step.migration, step.target
    body_text = f"\\i {path}\n;\n" if path is not None else f"{m.text.rstrip()}\n;\n"
    head = (
        f"\\echo 'adx: applying {m.label} to {target.label}'\n"
        + _pending_check(step)
        + "\\if :adx_pending\n"
        + "SELECT clock_timestamp() AS adx_started \\gset\n"
    )
    if m.transactional:
        body = (
            "BEGIN;\n"
            f"SET LOCAL ROLE {_ident(owner)};\n"
            f"SET LOCAL search_path = {_search_path(target)};\n"
            + body_text
            + "RESET ROLE;\n"
            + _ledger_insert(step, applied_by)
            + "COMMIT;\n"
        )
    else:
        body = (
            _drop_invalid_indexes(step)
            + f"SET ROLE {_ident(owner)};\n"
            + f"SET search_path = {_search_path(target)};\n"
            + body_text
            + "RESET ROLE;\nRESET search_path;\n"
            + _ledger_insert(step, applied_by)
        )
    return head + body + "\\endif\n"


def render_script(
    steps: Sequence[Step],
    owner: str,
    readers: Sequence[str],
    timeouts: Timeouts,
    applied_by: str,
    paths: Mapping[str, str] | None = None,
) -> str:
    """One psql script for one database: timeouts, the lock, the ledger, every pending step."""
    parts = [
        "\\set ON_ERROR_STOP on\n",
        f"SET lock_timeout = {_literal(timeouts.lock_timeout)};\n",
        f"SET statement_timeout = {_literal(timeouts.statement_timeout)};\n",
        "SET client_min_messages = warning;\n",
        lock_block(),
        ledger_setup(readers),
    ]
    paths = paths or {}
    parts += [
        render_step(step, owner, applied_by, paths.get(step.migration.checksum)) for step in steps
    ]
    parts.append(f"SELECT pg_advisory_unlock({ADVISORY_LOCK_KEY}) AS adx_unlocked \\gset\n")
    return "".join(parts)


def host_file_name(migration: MigrationFile) -> str:
    """The name a migration file gets on the host: its label and checksum (errors name it)."""
    return (
        f"{migration.stream}-{migration.version:03d}_{migration.name}-{migration.checksum[:12]}.sql"
    )


def describe(steps: Sequence[Step]) -> list[str]:
    """Human lines for --dry and logs: `<target>: <file>`."""
    return [f"{step.target.label}: {step.migration.label}" for step in steps]


def render_seed(seed: MigrationFile, applied_by: str) -> str:
    """A seed runs as the superuser (RLS does not filter it) in one transaction with its row."""
    ledger = _ident(LEDGER_SCHEMA, LEDGER_TABLE)
    return (
        "\\set ON_ERROR_STOP on\n"
        "SET client_min_messages = warning;\n"
        "SELECT clock_timestamp() AS adx_started \\gset\n"
        "BEGIN;\nSET LOCAL search_path = public;\n"
        f"{seed.text.rstrip()}\n;\n"
        f"INSERT INTO {ledger} (stream, target_schema, version, name, checksum, duration_ms, "
        f"applied_by) VALUES ('seed', 'public', {int(seed.version)}, {_literal(seed.name)}, "
        f"{_literal(seed.checksum)}, "
        "(extract(epoch FROM clock_timestamp() - :'adx_started'::timestamptz) * 1000)::integer, "
        f"{_literal(applied_by)}) ON CONFLICT (stream, target_schema, version) DO UPDATE SET "
        "checksum = EXCLUDED.checksum, applied_at = now(), duration_ms = EXCLUDED.duration_ms, "
        "applied_by = EXCLUDED.applied_by;\n"
        "COMMIT;\n"
    )
