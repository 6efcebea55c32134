"""The psql scripts of a tenant move (`adxdb.plan.moves`), run on the primary by the move runner
(`operations/files/tenant_move.sh`): the export, the switch, the registry state query, and the
pgpass line of a remote target.

Static SQL lives in `sql/moves/`; statements with variable parts are composed with
`psycopg.sql` (constant text in `SQL`, every variable part an `Identifier` or a `Literal`) and
each script is rendered once. The statements the export prints for the new location are built
by the primary's own `format()` from constant templates (`%I` an identifier, `%L` a literal,
`%s` a count of the snapshot), so no rendered SQL is ever fed back into a statement.

A busy tenant moves while it writes: its writes are captured from before the copy's snapshot,
caught up in passes, then frozen for the last pass and the switch (`adxdb.plan.move_catch_up`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from psycopg import sql

from adxdb import sqlfiles
from adxdb.contract import COPY_SESSION_SETTINGS, ROUTE_LOCK_CLASS, tenant_role
from adxdb.plan import move_catch_up as catch_up
from adxdb.plan.catalog import registry_update
from adxdb.plan.moves import Location, Move, MoveTables, SelfKey
from adxdb.plan.tenants import LOCATION_COLUMNS

# The export's last line into the copy stream: the runner switches only when the receipt (what
# the new location's psql printed) holds it, i.e. once the copy committed.
COMMITTED = "adx-move-committed"
BATCH_ROWS = 500
BATCH_BYTES = 8 * 1024 * 1024  # of pg_column_size: a statement stays far below 1 GB of text
ONE_BATCH = 2**62  # a table with several keys to itself goes in one statement

_BEGIN = sql.SQL("BEGIN;")
_COMMIT = sql.SQL("COMMIT;")
_SET_LOCK_TIMEOUT = sql.SQL("SET LOCAL lock_timeout = {};")
_NO_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = 0;"
_ROUTE_LOCK = sql.SQL(
    "DO $adx_route$ BEGIN PERFORM pg_advisory_xact_lock({lock_class}, hashtext({tenant_id})); "
    "EXCEPTION WHEN lock_not_available THEN RAISE EXCEPTION USING MESSAGE = {message}; "
    "END $adx_route$;"
)
# The switch of a tenant leaving a schema of the primary: its own role loses CONNECT on the main
# database (and login, unless its new database is on this cluster) with the registry's change;
# after the commit its open sessions end.
_RETIRE_ROLE = sql.SQL(
    "DO $adx_retire$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {name}) THEN "
    "{nologin}REVOKE CONNECT ON DATABASE {main} FROM {role}; END IF; END $adx_retire$;"
)
_END_SESSIONS = sql.SQL(
    "DO $adx_end$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE usename = {name} AND datname = {main}; END $adx_end$;"
)
_REGISTRY_AT = sql.SQL("EXISTS (SELECT 1 FROM public.tenants WHERE {})")
_STILL_AT_SOURCE = sql.SQL(
    "DO $adx_where$ BEGIN IF NOT {} THEN RAISE EXCEPTION {}; END IF; END $adx_where$;"
)
_STATE = sql.SQL("SELECT CASE WHEN {} THEN 'source' WHEN {} THEN 'target' ELSE 'other' END;")
# format() strings of the one-line statements the export prints for the new location.
_PRINT_LOCK_TIMEOUT = "SET LOCAL lock_timeout = %L;"
_PRINT_SET_LOCAL = "SET LOCAL %I = %L;"
_PRINT_CONTEXT = "SELECT %I.set_tenant_context(%L);"
_PRINT_DELETE = "DELETE FROM %I.%I WHERE tenant_id = %L;"
_PRINT_VALUE = "SELECT %L;"
# The new location's fence (adx_migrations.tenant_fences): lifted inside the copy's transaction
# (a stale one of an interrupted run would refuse the copy's own rows), set again before its
# commit, and lifted for good by the switch.
_PRINT_UNFENCE = (
    "DELETE FROM adx_migrations.tenant_fences WHERE target_schema = %L AND tenant = %L;"
)
_PRINT_FENCE = (
    "INSERT INTO adx_migrations.tenant_fences (target_schema, tenant, reason) "
    "VALUES (%L, %L, 'a move copies the tenant here; fenced until its switch');"
)
_FENCE = sql.SQL(
    "INSERT INTO adx_migrations.tenant_fences (target_schema, tenant, reason) "
    "VALUES ({schema}, {tenant_id}, {reason}) ON CONFLICT (target_schema, tenant) "
    "DO UPDATE SET reason = EXCLUDED.reason, fenced_at = now(), cleared = false;"
)
_UNFENCE = sql.SQL(
    "DELETE FROM adx_migrations.tenant_fences WHERE target_schema = {schema} "
    "AND tenant = {tenant_id};"
)
_PENDING_UNFENCE = sql.SQL(
    "INSERT INTO adx_migrations.pending_unfences (tenant, target) VALUES ({tenant_id}, "
    "{target}) ON CONFLICT (tenant) DO UPDATE SET target = EXCLUDED.target, since = now();"
)
_UNFENCED = sql.SQL("DELETE FROM adx_migrations.pending_unfences WHERE tenant = {tenant_id};")


def _template(name: str) -> sql.SQL:
    return sql.SQL(sqlfiles.load(f"moves/{name}").strip())


def _statements(name: str) -> list[str]:
    """The statements of a static file of `sql/moves/`, one a line."""
    return sqlfiles.load(f"moves/{name}").strip().splitlines()


def _script(parts: Sequence[sql.Composable]) -> str:
    return sql.SQL("\n").join(parts).as_string() + "\n"


def _table(location: Location, table: str) -> sql.Composable:
    return sql.Identifier(location.schema, table)


def _checksum(location: Location, table: str, tenant_id: str) -> sql.Composable:
    return _template("checksum").format(
        table=_table(location, table), tenant_id=sql.Literal(tenant_id)
    )


def _registry_at(move: Move, location: Mapping[str, Any]) -> sql.Composable:
    """True while the registry row of the tenant holds `location` (its location columns)."""
    checks = [sql.SQL("id = {}").format(sql.Literal(move.tenant_id))]
    for key in LOCATION_COLUMNS:
        value = location.get(key)
        compare = sql.SQL("{} IS NOT DISTINCT FROM {}" if value is None else "{} = {}")
        checks.append(compare.format(sql.Identifier(key), sql.Literal(value)))
    return _REGISTRY_AT.format(sql.SQL(" AND ").join(checks))


def _still_at_source(move: Move, what: str) -> sql.Composable:
    """A DO block that stops the script unless the registry still points at the source."""
    message = (
        f"tenant {move.slug} is no longer where this deploy found it ({move.from_level}, "
        f"{move.source.database}.{move.source.schema}): another deploy moved it; "
        f"nothing was {what}"
    )
    return _STILL_AT_SOURCE.format(
        _registry_at(move, dict(move.registry_before)), sql.Literal(message)
    )


def _source_guard(move: Move, what: str) -> list[sql.Composable]:
    """In a script at the old location: stop unless the registry still points there, when the
    registry is in the same database (a schema of the main database); a dedicated database
    cannot see the registry, and the runner checked it first (`registry_state_query`), under
    the tenant's move lock."""
    return [_still_at_source(move, what)] if move.source.in_registry_database else []


def registry_state_query(move: Move) -> str:
    """One word: `source` while the registry points at the old location, `target` once it
    points at the new one, `other` otherwise (the runner's first step)."""
    state = _STATE.format(
        _registry_at(move, dict(move.registry_before)),
        _registry_at(move, move.registry_row.as_fact()),
    )
    return _script([state])


def _print(template: str, *args: sql.Composable) -> sql.Composable:
    """An export line that prints one statement into the copy stream: `template` as it is, or
    with `args` filled in by the primary's format()."""
    if not args:
        return sql.SQL("SELECT {};").format(sql.Literal(template))
    return sql.SQL("SELECT format({}, {});").format(sql.Literal(template), sql.SQL(", ").join(args))


def _verify(move: Move, table: str, checked: Location, message: str) -> sql.Composable:
    """An export statement printing a DO block that fails unless `checked` holds exactly the
    rows (count and checksum) the snapshot of the source table holds."""
    return _template("verify").format(
        schema=sql.Literal(checked.schema),
        table=sql.Literal(table),
        tenant_id=sql.Literal(move.tenant_id),
        message=sql.Literal(message),
        checksum=_checksum(move.source, table, move.tenant_id),
    )


def _target_ready(move: Move, migrations: Collection[tuple[str, int]]) -> list[sql.Composable]:
    """Prints a DO block for the new location: stop unless its ledger records every migration
    of its streams."""
    wanted = sorted((stream, v) for stream, v in migrations if stream in move.target_streams)
    if not wanted:
        return []
    message = (
        f"tenant {move.slug}: {move.target.database}.{move.target.schema} is not fully "
        "migrated yet; nothing was copied (the next deploy finishes it)"
    )
    ready = _template("target_ready").format(
        streams=sql.Literal([stream for stream, _ in wanted]),
        versions=sql.Literal([int(version) for _, version in wanted]),
        schema=sql.Literal(move.target.schema),
        message=sql.Literal(message),
    )
    return [ready]


def _target_begin(move: Move, lock_timeout: str) -> list[sql.Composable]:
    """Prints the start of the new location's transaction: its settings and tenant context.
    A copy on the primary runs as postgres and quiets its own session; one into a dedicated
    database runs as adx_migrator, whose sessions there start quiet (`COPY_SESSION_SETTINGS`)."""
    quiet = (
        [
            _print(_PRINT_SET_LOCAL, sql.Literal(name), sql.Literal(value))
            for name, value in COPY_SESSION_SETTINGS.items()
        ]
        if move.target.address is None
        else []
    )
    return [
        _print("BEGIN;"),
        *quiet,
        _print(_PRINT_LOCK_TIMEOUT, sql.Literal(lock_timeout)),
        _print(_NO_STATEMENT_TIMEOUT),
        *(_print(statement) for statement in _statements("formats")),
    ]


def _copy(
    move: Move,
    table: str,
    tree: SelfKey | None,
    self_referencing: bool,
    batch: int,
    batch_bytes: int,
) -> sql.Composable:
    """The export query that prints one table's copy statements (copy_batches.sql, or
    copy_tree_batches.sql for a table with one key to itself)."""
    common = {
        "schema": sql.Literal(move.target.schema),
        "table": sql.Literal(table),
        "source": _table(move.source, table),
        "tenant_id": sql.Literal(move.tenant_id),
        "batch_bytes": sql.Literal(int(batch_bytes)),
    }
    if tree is not None:
        roots = sql.SQL(" OR ").join(
            sql.SQL("r.{} IS NULL").format(sql.Identifier(c)) for c in tree.columns
        )
        join = sql.SQL(" AND ").join(
            sql.SQL("c.{} = (t.r).{}").format(sql.Identifier(c), sql.Identifier(k))
            for c, k in zip(tree.columns, tree.references, strict=True)
        )
        return _template("copy_tree_batches").format(
            **common, batch=sql.Literal(int(batch)), roots=roots, join=join
        )
    size = ONE_BATCH if self_referencing else int(batch)
    return _template("copy_batches").format(**common, batch=sql.Literal(size))


def render_export(
    move: Move,
    tables: Sequence[str],
    lock_timeout: str,
    self_referencing: Collection[str] = (),
    migrations: Collection[tuple[str, int]] = (),
    batch: int = BATCH_ROWS,
    tree_keys: Mapping[str, SelfKey] | None = None,
    batch_bytes: int = BATCH_BYTES,
) -> str:
    """The psql script that prints the copy stream for `move` (run on the primary as postgres,
    `-A -t`), after the capture of the tenant's writes began.

    Rows go in batches of `batch`, except in the `self_referencing` tables (a folder's parent
    is a folder): those go in one statement, whose foreign keys are checked at its end."""
    tid = sql.Literal(move.tenant_id)
    target_schema = sql.Literal(move.target.schema)
    parts: list[sql.Composable] = [
        _template("snapshot"),
        _template("formats"),
        catch_up.source_context(move),
        *_source_guard(move, "copied"),
        *_target_begin(move, lock_timeout),
        *_target_ready(move, migrations),
        _print(_PRINT_CONTEXT, target_schema, tid),
        _print(_PRINT_UNFENCE, target_schema, tid),
    ]
    for table in reversed(tables):  # a copy left by an interrupted run: children first
        parts.append(_print(_PRINT_DELETE, target_schema, sql.Literal(table), tid))
    for table in tables:
        parts.append(
            _copy(
                move,
                table,
                (tree_keys or {}).get(table),
                table in self_referencing,
                batch,
                batch_bytes,
            )
        )
    for table in tables:
        message = (
            f"move of tenant {move.slug}: table {table} at the new location does not hold "
            "the rows copied (count or checksum differs); nothing was committed"
        )
        parts.append(_verify(move, table, move.target, message))
    parts += [
        _print(_PRINT_FENCE, target_schema, tid),
        _print("COMMIT;"),
        _print(_PRINT_VALUE, sql.Literal(COMMITTED)),
        _COMMIT,
    ]
    return _script(parts)


def render_vacuum(move: Move, tables: Sequence[str]) -> str | None:
    """After the copy committed, at a new location that holds only this tenant's rows (its
    own schema or database): VACUUM (ANALYZE) its tables, so that the last pass's row counts,
    under the freeze, read the visibility map and the tenant_id index rather than every
    freshly copied row. None for the shared tables of rls, which hold every tenant's rows."""
    if move.target.in_registry_database and move.target.schema == "public":
        return None
    return _script(
        [sql.SQL("VACUUM (ANALYZE) {};").format(_table(move.target, table)) for table in tables]
    )


def render_catch_up(
    move: Move,
    tables: MoveTables,
    lock_timeout: str,
    final: bool = False,
    batch: int = BATCH_ROWS,
    batch_bytes: int = BATCH_BYTES,
) -> str:
    """A catch-up pass (`adxdb.plan.move_catch_up`): in one snapshot on the primary, the rows
    the tenant wrote since its capture began are written again at the new location, in one
    transaction there that keeps the location fenced; the ids of the keys it applied go to
    the file `:adx_done_file`. The `final` pass, under the freeze, also checks the counts."""
    tid = sql.Literal(move.tenant_id)
    target_schema = sql.Literal(move.target.schema)
    parts: list[sql.Composable] = [
        _template("snapshot"),
        _template("formats"),
        catch_up.source_context(move),
        *_source_guard(move, "caught up"),
        catch_up.captured_ids(move),
        *_target_begin(move, lock_timeout),
        _print(_PRINT_CONTEXT, target_schema, tid),
        _print(_PRINT_UNFENCE, target_schema, tid),
        *catch_up.pass_parts(move, tables, final, batch, batch_bytes),
        _print(_PRINT_FENCE, target_schema, tid),
        _print("COMMIT;"),
        _print(_PRINT_VALUE, sql.Literal(COMMITTED)),
        _COMMIT,
    ]
    return _script(parts)


def _fence_old(move: Move) -> sql.Composable:
    """The old location's fence against the tenant's writes, for good (its reason rewritten)."""
    reason = f"tenant moved to {move.to_level} ({move.describe_target()})"
    return _FENCE.format(
        schema=sql.Literal(move.source.schema),
        tenant_id=sql.Literal(move.tenant_id),
        reason=sql.Literal(reason),
    )


def _unfence_new(move: Move) -> sql.Composable:
    """In the switch's transaction: lift the new location's fence when it is in the registry's
    database; any other is lifted by `render_unfence`, right after the switch commits, and is
    marked pending until then (and should that fail)."""
    tid = sql.Literal(move.tenant_id)
    if move.target.in_registry_database:
        return _UNFENCE.format(schema=sql.Literal(move.target.schema), tenant_id=tid)
    return _PENDING_UNFENCE.format(tenant_id=tid, target=sql.Literal(move.describe_target()))


def render_unfence(move: Move) -> str:
    """The psql script that lifts the new location's fence once the registry points there (run
    at a remote target by the move runner after the switch, and again by any later run)."""
    return _script(
        [
            _UNFENCE.format(
                schema=sql.Literal(move.target.schema), tenant_id=sql.Literal(move.tenant_id)
            )
        ]
    )


def render_unfenced(move: Move) -> str:
    """The psql script, on the primary, that records the remote fence as lifted."""
    return _script([_UNFENCED.format(tenant_id=sql.Literal(move.tenant_id))])


def _route_lock(move: Move) -> sql.Composable:
    """Take the tenant's route lock exclusively, or stop with a message that names it."""
    message = (
        f"tenant {move.slug}: a transaction of the tenant held its route lock "
        "(claim_tenant_route) longer than lock_timeout; nothing was switched: the next "
        "deploy tries again"
    )
    return _ROUTE_LOCK.format(
        lock_class=sql.Literal(ROUTE_LOCK_CLASS),
        tenant_id=sql.Literal(move.tenant_id),
        message=sql.Literal(message),
    )


def _retire_source_role(move: Move) -> tuple[list[sql.Composable], list[sql.Composable]]:
    """In the switch's transaction and after its commit: what ends the access of the tenant's
    own role to the schema it leaves (DESIGN.md decision 10: access follows the registry)."""
    if move.from_level != "schema":
        return [], []
    role = tenant_role(move.slug)
    stays = move.to_level == "database" and move.target.address is None  # same cluster
    nologin = (
        sql.SQL("") if stays else sql.SQL("ALTER ROLE {} NOLOGIN; ").format(sql.Identifier(role))
    )
    main = sql.Identifier(move.source.database)
    retire = _RETIRE_ROLE.format(
        name=sql.Literal(role), nologin=nologin, main=main, role=sql.Identifier(role)
    )
    end = _END_SESSIONS.format(name=sql.Literal(role), main=sql.Literal(move.source.database))
    return [retire], [end]


def _head(lock_timeout: str, guard: Sequence[sql.Composable]) -> list[sql.Composable]:
    """The start of a transaction of the move: its timeouts, text forms, and `guard`."""
    return [
        _BEGIN,
        _SET_LOCK_TIMEOUT.format(sql.Literal(lock_timeout)),
        sql.SQL(_NO_STATEMENT_TIMEOUT),
        _template("formats"),
        *guard,
    ]


def _switch_head(move: Move, lock_timeout: str, what: str) -> list[sql.Composable]:
    """The start of a transaction on the primary's main database that changes the registry."""
    return _head(lock_timeout, [_still_at_source(move, what)])


def _source_head(move: Move, lock_timeout: str, what: str) -> list[sql.Composable]:
    """The start of a transaction at the old location (the registry's database or not)."""
    return _head(lock_timeout, _source_guard(move, what))


def render_capture_start(move: Move, wait_seconds: float) -> str:
    """The move's first step on the primary (`adxdb.plan.move_catch_up`)."""
    return catch_up.render_capture_start(move, _source_guard(move, "copied"), wait_seconds)


def render_freeze(move: Move, lock_timeout: str, freeze_seconds: float) -> str:
    """The freeze before the last catch-up pass (`adxdb.plan.move_catch_up`), at the old
    location. In the registry's database it also waits for the tenant transactions that hold
    its route (a dedicated database's transactions are waited for there, by the freeze)."""
    head = _source_head(move, lock_timeout, "switched")
    route_lock = _route_lock(move) if move.source.in_registry_database else None
    return catch_up.render_freeze(move, head, route_lock, freeze_seconds)


def render_switch(move: Move, tables: Sequence[str], lock_timeout: str) -> str:
    """The psql script run on the primary under the freeze, after the last catch-up pass
    committed at the new location: in one transaction, take the tenant's route, switch the
    registry, lift (or mark pending) the new location's fence and record the move; when the
    old location is a schema of the main database, in the same transaction keep it fenced,
    stop the capture and end the access of a tenant's own role to the schema it leaves
    (elsewhere `render_moved` does that there, after the commit: it stays frozen meanwhile).
    Any failure rolls all of it back. No table is locked: no other tenant's write waits for it
    (the old rows go after it, `render_delete_old_rows`)."""
    del tables  # the tables are the old location's business: render_delete_old_rows
    head = _switch_head(move, lock_timeout, "switched")
    if move.source.in_registry_database:
        retire, after_commit = _retire_source_role(move)
        tail: list[sql.Composable] = [
            catch_up.render_history(move),
            _fence_old(move),
            _unfence_new(move),
            *catch_up.render_stop_capture(move),
            *retire,
            _COMMIT,
            *after_commit,
        ]
    else:
        tail = [catch_up.render_history(move, measured=True), _unfence_new(move), _COMMIT]
    # The registry first: the tenant's route lock waits for the tenant transactions that
    # claimed the old route (adxdb.app.routing), and makes the claims that come later wait in
    # line behind it, then read the new route (shared migration 011).
    return _script(head) + _script(_registry_switch(move)) + "\n" + _script(tail)


def _registry_switch(move: Move) -> list[sql.Composable]:
    """The tenant's route lock, then the registry's location columns that differ."""
    before = dict(move.registry_before)
    target = move.registry_row.as_fact()
    changed = [c for c in LOCATION_COLUMNS if before.get(c) != target[c]]
    return [_route_lock(move), sql.SQL(registry_update(move.registry_row, changed))]


def render_moved(move: Move) -> str:
    """At an old location outside the registry's database, after the switch committed: its
    freeze becomes the fence for good, and the tenant's writes there are not captured any
    more."""
    return _script([_fence_old(move), *catch_up.render_stop_capture(move)])


def render_readdress_check(move: Move) -> str:
    """At the re-addressed database (the new address): one line, `fenced`, `rows` or `empty`
    (whether a move fences the tenant there, or it holds rows of the tenant) and the database's
    identity (`render_identity`). The runner re-addresses a database that holds the tenant's
    rows, or whose identity the old address shows too (the same database, two addresses); an
    empty one made by this deploy on a new host never takes the registry's row."""
    return _script(
        [
            _template("readdress_check").format(
                schema=sql.Literal(move.target.schema),
                tenant_id=sql.Literal(move.tenant_id),
                context=catch_up.tenant_context(move.target.schema, move.tenant_id),
            )
        ]
    )


def render_identity() -> str:
    """Which database a connection reached: `SYSTEM_IDENTIFIER:DATABASE_OID`."""
    return _script([_template("identity")])


def render_readdress(move: Move, lock_timeout: str) -> str:
    """On the primary: point the registry at the database's new address (under the tenant's
    route lock, within lock_timeout) and record it; nothing is copied."""
    head = _switch_head(move, lock_timeout, "re-addressed")
    tail = [catch_up.render_history(move, measured=False), _COMMIT]
    return _script(head) + _script(_registry_switch(move)) + "\n" + _script(tail)


def pgpass_line(host: str, port: int, database: str, user: str, password: str) -> str:
    """One ~/.pgpass line; `:` and `\\` escaped as libpq wants."""

    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace(":", "\\:")

    return ":".join(escape(v) for v in (host, str(port), database, user, password)) + "\n"
