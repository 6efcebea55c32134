"""Moving a tenant between isolation levels (DESIGN.md decision 5), planned from the model and
the registry, rendered as scripts that run on the primary.

The registry in adx_core says where a tenant's data lives now; the inventory says where it
should live. When they differ, the tenant moves, in three steps that each either finish or
change nothing:

1. copy: one REPEATABLE READ snapshot of the tenant's rows on the primary is streamed, as SQL,
   into the new location, inside one transaction there that first clears any copy an earlier,
   interrupted run left, then verifies row count and checksum per table before it commits;
2. switch: one transaction on the primary locks the old tables against writes, checks that
   the tenant's rows did not change since the snapshot, points the registry at the new
   location and deletes the old rows;
3. a second run finds registry and inventory agreeing and does nothing.

An interruption between 1 and 2 leaves the registry and the data at the old location (the
application keeps using it); the next run copies again. Nothing is ever split.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from adxdb.contract import MAIN_DATABASE
from adxdb.errors import MoveRefused
from adxdb.inventory.migration_files import MigrationFile
from adxdb.plan.catalog import plan_registry
from adxdb.plan.tenants import LOCATION_COLUMNS, RegistryRow

MOVE_WORK_DIR = "/var/lib/postgresql/adx-moves"
COMMITTED = "adx-move-committed"
BATCH_ROWS = 500
_CREATE_TABLE = re.compile(
    r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)\s*\(",
    re.IGNORECASE | re.MULTILINE,
)
LOST_TRACK = "the registry no longer says where this deploy found it; nothing was copied"


@dataclass(frozen=True)
class Location:
    database: str
    schema: str
    address: str | None  # None: on the primary itself


@dataclass(frozen=True)
class Move:
    slug: str
    tenant_id: str
    from_level: str
    to_level: str
    source: Location
    target: Location
    registry_row: RegistryRow
    # The registry's location columns as they are now: the scripts re-check them in their
    # own snapshot, so a move another deploy finished meanwhile is never copied again.
    registry_before: tuple[tuple[str, Any], ...] = ()

    @property
    def target_streams(self) -> tuple[str, ...]:
        """The migration streams the new location holds (DESIGN.md decision 4)."""
        return ("tenant",) if self.target.schema != "public" else ("shared", "tenant")

    def describe(self) -> str:
        def where(location: Location) -> str:
            place = f"{location.database}.{location.schema}"
            return place if location.address is None else f"{location.address}:{place}"

        return (
            f"move tenant {self.slug}: {self.from_level} ({where(self.source)}) -> "
            f"{self.to_level} ({where(self.target)})"
        )


def tenant_stream_tables(files: Iterable[MigrationFile]) -> frozenset[str]:
    """The tables the tenant stream creates: the tenant's data, which moves with it."""
    return frozenset(
        match.group(1).lower()
        for migration in files
        if migration.stream == "tenant"
        for match in _CREATE_TABLE.finditer(migration.text)
    )


def _location(row: Mapping[str, Any], primary_address: str) -> Location:
    address = row.get("db_host")
    return Location(
        database=str(row["db_name"]),
        schema=str(row["db_schema"]),
        address=None if address in (None, primary_address) else str(address),
    )


def plan_moves(
    wanted: Sequence[RegistryRow],
    current: Mapping[str, Mapping[str, Any]],
    primary_address: str,
) -> list[Move]:
    """The tenants whose declared level or location differs from the registry's.

    Raises `MoveRefused` for what the deploy does not move on its own: data out of a
    dedicated tenant database (the source is not on the primary), or an offboarded tenant.
    """
    moves: list[Move] = []
    refused: list[str] = []
    for row in wanted:
        now = current.get(row.id)
        if now is None:
            continue  # a new tenant: nothing to move
        declared = row.as_fact()
        if all(now.get(key) == declared[key] for key in LOCATION_COLUMNS):
            continue
        if now.get("isolation_level") == "database":
            refused.append(
                f"tenant {row.slug}: moving out of its dedicated database "
                f"{now.get('db_host')}/{now.get('db_name')} (to {row.isolation_level}) is not "
                "done by the deploy: export it (pg_dump) and restore it, or declare it back"
            )
            continue
        if row.status != "active" or now.get("status") != "active":
            refused.append(
                f"tenant {row.slug}: an offboarded tenant does not change isolation level "
                f"({now.get('isolation_level')} -> {row.isolation_level}); declare it as it was"
            )
            continue
        moves.append(
            Move(
                slug=row.slug,
                tenant_id=row.id,
                from_level=str(now["isolation_level"]),
                to_level=row.isolation_level,
                source=_location(now, primary_address),
                target=_location(declared, primary_address),
                registry_row=row,
                registry_before=tuple((key, now.get(key)) for key in LOCATION_COLUMNS),
            )
        )
    if refused:
        raise MoveRefused(refused)
    return moves


def parents_first(tables: Mapping[str, Sequence[str]]) -> list[str]:
    """Order tables so that every table comes after the tables its foreign keys reference
    (references outside `tables` and self-references are ignored; ties sorted by name)."""
    remaining = {t: {p for p in parents if p in tables and p != t} for t, parents in tables.items()}
    ordered: list[str] = []
    while remaining:
        ready = sorted(t for t, parents in remaining.items() if not parents)
        if not ready:
            cycle = ", ".join(sorted(remaining))
            raise MoveRefused(f"foreign keys form a cycle between tables: {cycle}")
        for table in ready:
            ordered.append(table)
            del remaining[table]
        for parents in remaining.values():
            parents.difference_update(ready)
    return ordered


@dataclass(frozen=True)
class MoveTables:
    """The tables a move copies, parents first, and which of them reference themselves."""

    ordered: list[str]
    self_referencing: frozenset[str]


def tables_to_move(
    move: Move, found: Mapping[str, Sequence[str]], tenant_tables: Collection[str]
) -> MoveTables:
    """Choose the source's tables to copy: the tenant stream's. Refuse when one of them is
    missing at the source, or when a tenant schema holds tenant rows in a table the stream
    does not create: the registry would switch with those rows left behind."""
    missing = sorted(set(tenant_tables) - set(found))
    if missing:
        raise MoveRefused(
            f"tenant {move.slug}: {move.source.database}.{move.source.schema} lacks tables of "
            f"the tenant stream ({', '.join(missing)}); migrate it first"
        )
    if move.source.schema != "public":
        extra = sorted(set(found) - set(tenant_tables))
        if extra:
            raise MoveRefused(
                f"tenant {move.slug}: {move.source.database}.{move.source.schema} holds tenant "
                f"rows in tables the tenant stream does not create ({', '.join(extra)}); "
                "move or drop them by hand first"
            )
    chosen = {t: list(parents) for t, parents in found.items() if t in tenant_tables}
    return MoveTables(
        ordered=parents_first(chosen),
        self_referencing=frozenset(t for t, parents in chosen.items() if t in parents),
    )


# Rendering ------------------------------------------------------------------------------------


def _text(composed: sql.Composable) -> str:
    return composed.as_string()


def _table(location: Location, table: str) -> sql.Composable:
    return sql.Identifier(location.schema, table)


def _checksum(table: sql.Composable, tenant_id: str) -> sql.Composable:
    """Row count and an order-independent checksum of one tenant's rows. Rows are hashed as
    jsonb (keys sorted, so column order does not matter) with TimeZone UTC on both sides."""
    return sql.SQL(
        "SELECT count(*) AS n, md5(coalesce(string_agg(h, '' ORDER BY h), '')) AS digest "
        "FROM (SELECT md5(to_jsonb(r)::text) AS h FROM {} r WHERE r.tenant_id = {}) hashed"
    ).format(table, sql.Literal(tenant_id))


def _registry_at(move: Move, location: Mapping[str, Any]) -> sql.Composable:
    """True while the registry row of the tenant holds `location` (its location columns)."""
    checks = [sql.SQL("id = {}").format(sql.Literal(move.tenant_id))]
    for key in LOCATION_COLUMNS:
        value = location.get(key)
        operator = "IS NOT DISTINCT FROM" if value is None else "="
        checks.append(
            sql.SQL("{} {} {}").format(sql.Identifier(key), sql.SQL(operator), sql.Literal(value))
        )
    return sql.SQL("EXISTS (SELECT 1 FROM public.tenants WHERE {})").format(
        sql.SQL(" AND ").join(checks)
    )


def _still_at_source(move: Move, what: str) -> str:
    """A DO block that stops the script unless the registry still points at the source."""
    message = (
        f"tenant {move.slug} is no longer where this deploy found it ({move.from_level}, "
        f"{move.source.database}.{move.source.schema}): another deploy moved it; "
        f"nothing was {what}"
    )
    return _text(
        sql.SQL(
            "DO $adx_where$ BEGIN IF NOT {} THEN RAISE EXCEPTION {}; END IF; END $adx_where$;"
        ).format(_registry_at(move, dict(move.registry_before)), sql.Literal(message))
    )


def registry_state_query(move: Move) -> str:
    """One word: `source` while the registry points at the old location, `target` once it
    points at the new one, `other` otherwise."""
    return _text(
        sql.SQL("SELECT CASE WHEN {} THEN 'source' WHEN {} THEN 'target' ELSE 'other' END").format(
            _registry_at(move, dict(move.registry_before)),
            _registry_at(move, move.registry_row.as_fact()),
        )
    )


# Text forms that the copy (json) and the checksums (jsonb text) depend on, the same in every
# session of a move whatever the server's or role's defaults.
_FORMATS = (
    "SET LOCAL TimeZone = 'UTC';",
    "SET LOCAL extra_float_digits = 1;",
    "SET LOCAL IntervalStyle = 'postgres';",
    "SET LOCAL bytea_output = 'hex';",
)


def _session_settings(lock_timeout: str) -> list[str]:
    return [
        _text(sql.SQL("SET LOCAL lock_timeout = {};").format(sql.Literal(lock_timeout))),
        "SET LOCAL statement_timeout = 0;",
        *_FORMATS,
    ]


def _emit(statement: str) -> str:
    """A line of the export script that prints `statement` into the copy stream."""
    return _text(sql.SQL("SELECT {};").format(sql.Literal(statement)))


def _verify_generator(
    move: Move, table: str, checked: Location, source_table: sql.Composable, message: str
) -> str:
    """Export-script SQL printing a DO block that fails unless `checked` holds exactly the
    rows (count and checksum) the snapshot of `source_table` holds now."""
    # The checked location's SQL holds no '%' (identifiers and a uuid), so it is safe inside
    # a format() string whose %s / %L take the snapshot's figures.
    block = sql.SQL(
        "DO $adx_verify$ BEGIN IF NOT EXISTS (SELECT 1 FROM ({}) c "
        "WHERE c.n = %s AND c.digest = %L) THEN RAISE EXCEPTION %L; END IF; END $adx_verify$;"
    ).format(_checksum(_table(checked, table), move.tenant_id))
    return _text(
        sql.SQL("SELECT format({}, v.n, v.digest, {}) FROM ({}) v;").format(
            sql.Literal(_text(block)),
            sql.Literal(message),
            _checksum(source_table, move.tenant_id),
        )
    )


def _target_ready(move: Move, migrations: Collection[tuple[str, int]]) -> str:
    """A DO block for the new location: stop unless its ledger records every migration of its
    streams (a concurrent or failed deploy may still be migrating it)."""
    wanted = sorted((stream, v) for stream, v in migrations if stream in move.target_streams)
    if not wanted:
        return ""
    values = sql.SQL(", ").join(
        sql.SQL("({}, {})").format(sql.Literal(stream), sql.Literal(version))
        for stream, version in wanted
    )
    message = (
        f"tenant {move.slug}: {move.target.database}.{move.target.schema} is not fully "
        "migrated yet; nothing was copied (the next deploy finishes it)"
    )
    return _text(
        sql.SQL(
            "DO $adx_ready$ BEGIN IF EXISTS (SELECT 1 FROM (VALUES {}) AS w(stream, version) "
            "WHERE NOT EXISTS (SELECT 1 FROM adx_migrations.ledger l WHERE l.stream = w.stream "
            "AND l.version = w.version AND l.target_schema = {})) THEN RAISE EXCEPTION {}; "
            "END IF; END $adx_ready$;"
        ).format(values, sql.Literal(move.target.schema), sql.Literal(message))
    )


def render_export(
    move: Move,
    tables: Sequence[str],
    check_file: str,
    lock_timeout: str,
    self_referencing: Collection[str] = (),
    migrations: Collection[tuple[str, int]] = (),
    batch: int = BATCH_ROWS,
) -> str:
    """The psql script that prints the copy stream for `move` (run on the primary as postgres,
    `-A -t`), and writes the switch's change check to `check_file` (`\\o`).

    Rows go in batches of `batch`, except in the `self_referencing` tables (a folder's parent
    is a folder): those go in one statement, whose foreign keys are checked at its end."""
    tid = sql.Literal(move.tenant_id)
    lines = [
        "\\set FETCH_COUNT 20",  # stream the batches; never hold a whole table in psql
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;",
        *_FORMATS,
        _still_at_source(move, "copied"),
        _emit("BEGIN;"),
        *(_emit(s) for s in _session_settings(lock_timeout)),
        *([_emit(ready)] if (ready := _target_ready(move, migrations)) else []),
        _emit(
            _text(
                sql.SQL("SELECT {}.set_tenant_context({});").format(
                    sql.Identifier(move.target.schema), tid
                )
            )
        ),
    ]
    for table in reversed(tables):  # a copy left by an interrupted run: children first
        lines.append(
            _emit(
                _text(
                    sql.SQL("DELETE FROM {} WHERE tenant_id = {};").format(
                        _table(move.target, table), tid
                    )
                )
            )
        )
    for table in tables:
        target = _text(_table(move.target, table))
        insert = (
            "INSERT INTO %s OVERRIDING SYSTEM VALUE "
            "SELECT * FROM json_populate_recordset(NULL::%s, %L);"
        )
        lines.append(
            _text(
                sql.SQL(
                    "SELECT format({}, {}, {}, json_agg(b.r)) FROM (SELECT r, "
                    "(row_number() OVER () - 1) / {} AS batch FROM {} r WHERE r.tenant_id = {}) b "
                    "GROUP BY b.batch ORDER BY b.batch;"
                ).format(
                    sql.Literal(insert),
                    sql.Literal(target),
                    sql.Literal(target),
                    sql.Literal(2**62 if table in self_referencing else int(batch)),
                    _table(move.source, table),
                    tid,
                )
            )
        )
    for table in tables:
        lines.append(
            _verify_generator(
                move,
                table,
                move.target,
                _table(move.source, table),
                f"move of tenant {move.slug}: table {table} at the new location does not hold "
                "the rows copied (count or checksum differs); nothing was committed",
            )
        )
    lines += [_emit("COMMIT;"), _emit(_text(sql.SQL("SELECT {};").format(sql.Literal(COMMITTED))))]
    lines.append(f"\\o {check_file}")
    for table in tables:
        lines.append(
            _verify_generator(
                move,
                table,
                move.source,
                _table(move.source, table),
                f"tenant {move.slug} changed during its move (table {table}); nothing was "
                "switched: the next deploy copies it again",
            )
        )
    lines += ["\\o", "COMMIT;"]
    return "\n".join(lines) + "\n"


def render_switch(move: Move, tables: Sequence[str], check_file: str, lock_timeout: str) -> str:
    """The psql script run on the primary after the copy committed: in one transaction, switch
    the registry, hold off writers, check nothing changed since the snapshot, delete the old
    rows. Any failure rolls all of it back."""
    tid = sql.Literal(move.tenant_id)
    lines = ["BEGIN;", *_session_settings(lock_timeout), _still_at_source(move, "switched")]
    # The registry first: its row lock waits for the tenant transactions that claimed the old
    # route (adxdb.pool) and makes later ones wait, then read the new route.
    lines += plan_registry([move.registry_row], {})
    if tables:
        # Writers of every tenant wait from here to COMMIT; readers go on. SHARE ROW
        # EXCLUSIVE conflicts with itself, so two switches queue instead of deadlocking, and
        # the whole LOCK gets lock_timeout once, not once per table.
        lines += [
            _text(sql.SQL("SET LOCAL statement_timeout = {};").format(sql.Literal(lock_timeout))),
            _text(
                sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE;").format(
                    sql.SQL(", ").join(_table(move.source, t) for t in tables)
                )
            ),
            "SET LOCAL statement_timeout = 0;",
        ]
    lines.append(f"\\i {check_file}")
    for table in reversed(tables):
        lines.append(
            _text(
                sql.SQL("DELETE FROM {} WHERE tenant_id = {};").format(
                    _table(move.source, table), tid
                )
            )
        )
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def pgpass_line(host: str, port: int, database: str, user: str, password: str) -> str:
    """One ~/.pgpass line; `:` and `\\` escaped as libpq wants."""

    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace(":", "\\:")

    return ":".join(escape(v) for v in (host, str(port), database, user, password)) + "\n"


@dataclass(frozen=True)
class MoveFiles:
    """Where a move's scripts live on the primary while it runs."""

    export_sql: str
    switch_sql: str
    pgpass: str | None

    @property
    def all(self) -> list[str]:
        return [p for p in (self.export_sql, self.switch_sql, self.pgpass) if p is not None]


def render_runner(
    move: Move,
    files: MoveFiles,
    port: int,
    target_port: int,
    ca_file: str,
    user: str,
) -> str:
    """The bash script that runs one move on the primary: copy, check the copy committed,
    switch. It carries no secret: the target's password is in a pgpass file."""
    q = shlex.quote
    work = MOVE_WORK_DIR
    check = f"{work}/{move.slug}.check.sql"
    receipt = f"{work}/{move.slug}.receipt"
    psql = f"runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -p {int(port)}"
    state = registry_state_query(move)
    lines = [
        "set -euo pipefail",
        f"install -d -m 0700 -o postgres -g postgres {q(work)}",
        # One move of a tenant at a time on this primary; a deploy that waited here finds the
        # move done (and stops) or still to do (and does it).
        f"exec 9>{q(work + '/' + move.slug + '.lock')}",
        "flock -w 3600 9",
        f"state=$({psql} -d {MAIN_DATABASE} -c {q(state)})",
        'if [ "$state" = target ]; then',
        f"  echo {q(f'tenant {move.slug}: already moved by another deploy')}",
        "  exit 0",
        'elif [ "$state" != source ]; then',
        f"  echo {q(f'tenant {move.slug}: {LOST_TRACK}')} >&2",
        "  exit 1",
        "fi",
        f"rm -f {q(check)} {q(receipt)}",
    ]
    if move.target.address is None:
        target = f"{psql} -v VERBOSITY=terse -d {q(move.target.database)}"
        cleanup = [check, receipt]
    else:
        assert files.pgpass is not None
        pgpass = f"{work}/{move.slug}.pgpass"
        lines.append(f"install -m 0600 -o postgres -g postgres {q(files.pgpass)} {q(pgpass)}")
        lines.append(f"rm -f {q(files.pgpass)}")
        conninfo = (
            f"host={move.target.address} port={int(target_port)} dbname={move.target.database} "
            f"user={user} sslmode=verify-full sslrootcert={ca_file} connect_timeout=30 "
            f"application_name=adx-move"
        )
        target = (
            f"runuser -u postgres -- env PGPASSFILE={q(pgpass)} psql -X -q -A -t "
            f"-v ON_ERROR_STOP=1 -v VERBOSITY=terse {q(conninfo)}"
        )
        cleanup = [check, receipt, pgpass]
    lines += [
        f"trap {q('rm -f ' + ' '.join(q(p) for p in cleanup))} EXIT",
        f"{psql} -d {MAIN_DATABASE} < {q(files.export_sql)} | {target} > {q(receipt)}",
        f"if ! grep -qx {COMMITTED} {q(receipt)}; then",
        f"  echo {q(f'tenant {move.slug}: the copy did not commit; nothing was switched')} >&2",
        "  exit 1",
        "fi",
        f"{psql} -d {MAIN_DATABASE} < {q(files.switch_sql)}",
    ]
    return "\n".join(lines) + "\n"
