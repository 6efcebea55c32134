"""The psql text of a migration plan: one script per database, a block per pending step.

Statements are composed with `psycopg.sql` (constant text in `SQL`, every variable part an
`Identifier` or `Literal`) and rendered once; the psql meta-commands around them (`\\gset`,
`\\if`, `\\i`) are plain lines. The ledger's DDL is static and lives in `sql/deploy/ledger.sql`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from psycopg import sql

from adxdb import sqlfiles
from adxdb.contract import (
    LEDGER_SCHEMA,
    LEDGER_TABLE,
    MIGRATIONS_LOCK_KEY,
    MIGRATOR_ROLE,
    STREAM_TABLES_TABLE,
    TENANT_FENCES_TABLE,
)
from adxdb.inventory.migration_files import MigrationFile
from adxdb.plan.migrations import Step, Target, Timeouts
from adxdb.plan.schema_grants import tenant_table_grants

LEDGER = sql.Identifier(LEDGER_SCHEMA, LEDGER_TABLE)
STREAM_TABLES = sql.Identifier(LEDGER_SCHEMA, STREAM_TABLES_TABLE)
TENANT_FENCES = sql.Identifier(LEDGER_SCHEMA, TENANT_FENCES_TABLE)
# The move bookkeeping adx_migrator writes when a move reaches a database over TLS.
MOVER_TABLES = (TENANT_FENCES_TABLE, "move_captures", "move_changes")
_ELAPSED_MS = sql.SQL(
    "(extract(epoch FROM clock_timestamp() - :'adx_started'::timestamptz) * 1000)::integer"
)
_LEDGER_GRANTS = sql.SQL(
    "GRANT USAGE ON SCHEMA {schema} TO {role};\nGRANT SELECT ON {ledger} TO {role};\n"
)
_INVALID_INDEXES = sql.SQL(
    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE NOT i.indisvalid AND n.nspname = {schema} AND c.relname IN ({names})"
)


def _render(statement: sql.Composable) -> str:
    return statement.as_string()


def _search_path(target: Target) -> sql.Composable:
    schemas = [target.schema] if target.schema == "public" else [target.schema, "public"]
    return sql.SQL(", ").join(sql.Identifier(s) for s in schemas)


def _literals(values: Sequence[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Literal(v) for v in values)


def ledger_setup(readers: Sequence[str]) -> str:
    """The ledger (static DDL, `sql/deploy/ledger.sql`) and read access for `readers`."""
    grants = "".join(
        _render(
            sql.SQL(
                "GRANT USAGE ON SCHEMA {schema} TO {role};\n"
                "GRANT SELECT ON {ledger}, {tables} TO {role};\n"
            ).format(
                schema=sql.Identifier(LEDGER_SCHEMA),
                ledger=LEDGER,
                tables=STREAM_TABLES,
                role=sql.Identifier(r),
            )
        )
        for r in readers
    )
    # A move reaches a dedicated database as adx_migrator: a copy into it fences the tenant
    # there until the switch, which lifts it; a move out of it captures the tenant's writes
    # there, freezes them, and fences them for good after the switch.
    fences = _render(
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {};\n").format(
            sql.SQL(", ").join(sql.Identifier(LEDGER_SCHEMA, t) for t in MOVER_TABLES),
            sql.Identifier(MIGRATOR_ROLE),
        )
    )
    return sqlfiles.load("deploy/ledger").strip() + "\n" + grants + fences


def tenant_fence(schema: str) -> str:
    """The move hooks of `schema`: the write fence (its function and the tenant tables'
    restrictive policies, `sql/deploy/tenant_fence.sql`) and the change capture (its trigger
    function and the tenant tables' triggers, `sql/deploy/tenant_capture.sql`); idempotent."""
    return "".join(
        _render(sql.SQL(sqlfiles.load(f"deploy/{name}")).format(schema=sql.Literal(schema))).strip()
        + "\n"
        for name in ("tenant_fence", "tenant_capture")
    )


def render_fences(readers: Sequence[str], schemas: Sequence[str]) -> str:
    """A script for a database whose migrations are applied but whose write fences are missing
    (a database migrated before the deploy made them): the ledger objects, then each fence."""
    return (
        "\\set ON_ERROR_STOP on\nSET client_min_messages = warning;\n"
        + ledger_setup(readers)
        + "".join(tenant_fence(schema) for schema in schemas)
    )


def backoff(wait_seconds: float, max_sleep: float = 5.0) -> list[float]:
    """The sleeps between tries: doubling from 0.1 s up to `max_sleep`, `wait_seconds` in all."""
    sleeps: list[float] = []
    attempt = 1
    while sum(sleeps) < wait_seconds:
        sleeps.append(min(0.05 * 2**attempt, max_sleep))
        attempt += 1
    return sleeps


def lock_block(wait_seconds: float = 180, max_sleep: float = 5.0) -> str:
    """Take the session-level migration lock with a try-lock and backoff, or fail clearly.

    Each try is a statement of its own and the backoff sleeps in psql (`\\! sleep`), outside
    any transaction: a waiting deploy holds no snapshot, so the CREATE INDEX CONCURRENTLY of
    the deploy holding the lock never waits for it (a blocking lock, or a loop inside one DO
    block, would hold one and stall that build until lock_timeout)."""
    try_lock = _render(
        sql.SQL("SELECT pg_try_advisory_lock({}) AS adx_locked").format(
            sql.Literal(MIGRATIONS_LOCK_KEY)
        )
    )
    try_lock += " \\gset\n"
    parts = [try_lock]
    for sleep in backoff(wait_seconds, max_sleep):
        parts.append(f"\\if :adx_locked\n\\else\n\\! sleep {sleep:g}\n{try_lock}\\endif\n")
    message = (
        f"another deploy holds the migration lock of this database (waited {wait_seconds:g} s; "
        "migrations.lock_wait sets how long)"
    )
    refuse = sql.SQL(
        "DO $adx$ BEGIN RAISE EXCEPTION {} USING ERRCODE = 'lock_not_available'; END $adx$;"
    ).format(sql.Literal(message))
    parts.append("\\if :adx_locked\n\\else\n" + _render(refuse) + "\n\\endif\n")
    return "".join(parts)


def _pending_check(step: Step) -> str:
    """Checked again under the lock: a concurrent deploy may have applied it meanwhile. A
    non-transactional file is also pending while one of its indexes is INVALID."""
    m, schema = step.migration, step.target.schema
    condition = sql.SQL(
        "NOT EXISTS (SELECT 1 FROM {} WHERE stream = {} AND target_schema = {} AND version = {})"
    ).format(LEDGER, sql.Literal(m.stream), sql.Literal(schema), sql.Literal(m.version))
    names = m.concurrent_indexes()
    if names:
        invalid = _INVALID_INDEXES.format(schema=sql.Literal(schema), names=_literals(names))
        condition = sql.SQL("{} OR EXISTS (SELECT 1 {})").format(condition, invalid)
    return _render(sql.SQL("SELECT {} AS adx_pending").format(condition)) + " \\gset\n"


def _drift_check(step: Step) -> str:
    """Checked under the lock too: a concurrent deploy may have applied another version of
    this file meanwhile; then this deploy stops rather than skip it silently."""
    m, schema = step.migration, step.target.schema
    message = (
        f"{m.label} was applied to {step.target.label} with another checksum meanwhile (by a "
        "concurrent deploy): restore the file and put the change in a new migration"
    )
    return _render(
        sql.SQL(
            "DO $adx_drift$ BEGIN IF EXISTS (SELECT 1 FROM {} WHERE stream = {} AND "
            "target_schema = {} AND version = {} AND checksum <> {}) THEN RAISE EXCEPTION {}; "
            "END IF; END $adx_drift$;\n"
        ).format(
            LEDGER,
            sql.Literal(m.stream),
            sql.Literal(schema),
            sql.Literal(m.version),
            sql.Literal(m.checksum),
            sql.Literal(message),
        )
    )


def _ledger_insert(
    stream: str, schema: str, migration: MigrationFile, applied_by: str, update_checksum: bool
) -> str:
    updates = ["applied_at = now()", "duration_ms = EXCLUDED.duration_ms"]
    updates.append("applied_by = EXCLUDED.applied_by")
    if update_checksum:
        updates.insert(0, "checksum = EXCLUDED.checksum")
    return _render(
        sql.SQL(
            "INSERT INTO {} (stream, target_schema, version, name, checksum, duration_ms, "
            "applied_by) VALUES ({}, {}, {}, {}, {}, {}, {}) "
            "ON CONFLICT (stream, target_schema, version) DO UPDATE SET {};\n"
        ).format(
            LEDGER,
            sql.Literal(stream),
            sql.Literal(schema),
            sql.Literal(migration.version),
            sql.Literal(migration.name),
            sql.Literal(migration.checksum),
            _ELAPSED_MS,
            sql.Literal(applied_by),
            sql.SQL(", ".join(updates)),
        )
    )


def record_stream_tables(schema: str, stream: str, version: int) -> str:
    """The relations of `schema` no file has claimed yet become `stream`'s (after a file)."""
    template = sql.SQL(sqlfiles.load("deploy/record_stream_tables"))
    return (
        _render(
            template.format(
                schema=sql.Literal(schema), stream=sql.Literal(stream), version=sql.Literal(version)
            )
        ).strip()
        + "\n"
    )


def _after_file(step: Step) -> str:
    m, target = step.migration, step.target
    return record_stream_tables(target.schema, m.stream, m.version)


def tenant_hooks(target: Target) -> str:
    """After a target's tenant-stream files of a run (once, not after each file: each is a
    look at the schema's tables): its own role's table grants (a dedicated database), the write
    fence and the change capture. Outside the files' `\\if` blocks: a file a concurrent deploy
    applied meanwhile is skipped, its tables still get their hooks (idempotent)."""
    grants = "".join(tenant_table_grants(target.schema, role) for role in target.table_roles)
    return grants + tenant_fence(target.schema)


def _steps_with_hooks(
    steps: Sequence[Step], owner: str, applied_by: str, paths: Mapping[str, str]
) -> list[str]:
    """Each step's block, then a target's tenant hooks after its last tenant-stream step."""
    last_tenant_step = {
        step.target: index for index, step in enumerate(steps) if step.migration.stream == "tenant"
    }
    parts: list[str] = []
    for index, step in enumerate(steps):
        parts.append(render_step(step, owner, applied_by, paths.get(step.migration.checksum)))
        if last_tenant_step.get(step.target) == index:
            parts.append(tenant_hooks(step.target))
    return parts


def _drop_invalid_indexes(step: Step) -> str:
    """An interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would
    keep: drop those (of this file, in this schema) so the file builds them again."""
    names = step.migration.concurrent_indexes()
    if not names:
        return ""
    invalid = _INVALID_INDEXES.format(
        schema=sql.Literal(step.target.schema), names=_literals(names)
    )
    drop = sql.SQL(
        "SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', n.nspname, c.relname) {}"
    ).format(invalid)
    return _render(drop) + " \\gexec\n"


def render_step(step: Step, owner: str, applied_by: str, path: str | None = None) -> str:
    """The psql text of one step. With `path` the file is included from the host (`\\i`), so a
    script for a thousand targets stays small; without it, the file's text is inlined."""
    m, target = step.migration, step.target
    body_text = f"\\i {path}\n;\n" if path is not None else f"{m.text.rstrip()}\n;\n"
    head = (
        f"\\echo 'adx: applying {m.label} to {target.label}'\n"
        + _drift_check(step)
        + _pending_check(step)
        + "\\if :adx_pending\n"
        + "SELECT clock_timestamp() AS adx_started \\gset\n"
    )
    role, search_path = sql.Identifier(owner), _search_path(target)
    insert = _ledger_insert(m.stream, target.schema, m, applied_by, update_checksum=False)
    if m.transactional:
        body = (
            "BEGIN;\n"
            + _render(sql.SQL("SET LOCAL ROLE {};\n").format(role))
            + _render(sql.SQL("SET LOCAL search_path = {};\n").format(search_path))
            + body_text
            + "RESET ROLE;\n"
            + _after_file(step)
            + insert
            + "COMMIT;\n"
        )
    else:
        body = (
            _drop_invalid_indexes(step)
            + _render(sql.SQL("SET ROLE {};\n").format(role))
            + _render(sql.SQL("SET search_path = {};\n").format(search_path))
            + body_text
            + "RESET ROLE;\nRESET search_path;\n"
            + _after_file(step)
            + insert
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
        _render(sql.SQL("SET lock_timeout = {};\n").format(sql.Literal(timeouts.lock_timeout))),
        _render(
            sql.SQL("SET statement_timeout = {};\n").format(sql.Literal(timeouts.statement_timeout))
        ),
        "SET client_min_messages = warning;\n",
        lock_block(timeouts.lock_wait_seconds),
        ledger_setup(readers),
        sqlfiles.load("deploy/forget_dropped_relations").rstrip() + "\n",
    ]
    parts += _steps_with_hooks(steps, owner, applied_by, paths or {})
    unlock = sql.SQL("SELECT pg_advisory_unlock({}) AS adx_unlocked").format(
        sql.Literal(MIGRATIONS_LOCK_KEY)
    )
    parts.append(_render(unlock) + " \\gset\n")
    return "".join(parts)


def render_seed(seed: MigrationFile, applied_by: str) -> str:
    """A seed runs as the superuser (RLS does not filter it) in one transaction with its row."""
    return (
        "\\set ON_ERROR_STOP on\n"
        "SET client_min_messages = warning;\n"
        "SELECT clock_timestamp() AS adx_started \\gset\n"
        "BEGIN;\nSET LOCAL search_path = public;\n"
        f"{seed.text.rstrip()}\n;\n"
        + _ledger_insert("seed", "public", seed, applied_by, update_checksum=True)
        + "COMMIT;\n"
    )


def render_test_data_removal(clean_text: str, seed_version: int) -> str:
    """The `clean` job: the test seed's rows and its ledger row go in one transaction."""
    forget = sql.SQL("DELETE FROM {} WHERE stream = 'seed' AND version = {};\n").format(
        LEDGER, sql.Literal(seed_version)
    )
    return (
        "\\set ON_ERROR_STOP on\nSET client_min_messages = warning;\nBEGIN;\n"
        "SET LOCAL search_path = public;\n"
        f"{clean_text.rstrip()}\n;\n" + _render(forget) + "COMMIT;\n"
    )
