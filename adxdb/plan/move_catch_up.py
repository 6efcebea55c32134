"""The psql scripts that let a busy tenant move while it writes (DESIGN.md decision 10), run on
the primary by the move runner (`operations/files/tenant_move.sh`) around the copy of
`adxdb.plan.move_scripts`:

1. `render_capture_start`: the tenant's writes at its old location are captured from here on
   (`adx_migrations.move_captures`; each tenant table's `adx_capture` trigger records the key of
   every row the tenant writes, `sql/deploy/tenant_capture.sql`); then it waits until every
   transaction that began before is over, so that the copy's snapshot misses no write;
2. `render_catch_up`, repeated while the tenant writes: in one snapshot, the rows whose keys
   were captured are written again at the new location (deleted there when the source no
   longer has them, else upserted), in one transaction there; `render_catch_up_done` then
   forgets the keys that pass applied (listed in the file `:adx_done_file`);
3. `render_freeze`: the old location is fenced against the tenant's writes (its own, and no
   other tenant's), then it waits, at most the inventory's `moves.freeze`, for the transactions
   that began before; a last catch-up pass (which also checks the row counts) and the switch
   follow, and the freeze ends with the switch (`render_unfreeze` lifts it after a failure);
4. `render_delete_old_rows`: after the switch, the tenant's rows at the old location go, in
   batches each committed on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from psycopg import sql

from adxdb import sqlfiles
from adxdb.plan.moves import Move, MoveTables, Tidy

DONE_FILE_VARIABLE = "adx_done_file"
DELETE_BATCH = 10000


def _template(name: str) -> sql.SQL:
    return sql.SQL(sqlfiles.load(f"moves/{name}").strip())


def _script(parts: Sequence[sql.Composable]) -> str:
    return sql.SQL("\n").join(parts).as_string() + "\n"


def _source(move: Move, table: str) -> sql.Composable:
    return sql.Identifier(move.source.schema, table)


def _tenant(move: Move) -> sql.Composable:
    return sql.Literal(move.tenant_id)


def _where_tenant(table: sql.Composable, move: Move) -> sql.Composable:
    return sql.SQL("{} WHERE target_schema = {} AND tenant = {}").format(
        table, sql.Literal(move.source.schema), _tenant(move)
    )


def tenant_context(schema: str, tenant_id: str) -> sql.Composable:
    """The call that puts a transaction in the tenant's context at a location (`schema`'s own
    set_tenant_context): the tenant tables' policies are forced, so a role that is not the
    superuser (adx_migrator at a dedicated database) reads and deletes the tenant's rows only
    in it; postgres on the primary is not filtered, and the call changes nothing for it."""
    return sql.SQL("{}({})").format(
        sql.Identifier(schema, "set_tenant_context"), sql.Literal(tenant_id)
    )


def source_context(move: Move) -> sql.Composable:
    """A statement, printing nothing, that puts the old location's transaction in the tenant's
    context (`tenant_context`)."""
    return sql.SQL("DO $adx_context$ BEGIN PERFORM {}; END $adx_context$;").format(
        tenant_context(move.source.schema, move.tenant_id)
    )


_CAPTURES = sql.Identifier("adx_migrations", "move_captures")
_CHANGES = sql.Identifier("adx_migrations", "move_changes")
_FENCES = sql.Identifier("adx_migrations", "tenant_fences")


def wait_older(seconds: float, message: str) -> sql.Composable:
    return _template("wait_older").format(
        seconds=sql.Literal(float(seconds)), message=sql.Literal(message)
    )


def render_capture_start(
    move: Move, still_at_source: Sequence[sql.Composable], wait_seconds: float
) -> str:
    """Start capturing the tenant's writes at the old location (forgetting what an earlier run
    captured, lifting a freeze a killed run left), then wait for the older transactions."""
    message = (
        f"tenant {move.slug}: transactions that began before its move still run after "
        f"{wait_seconds:g} s; nothing was copied: the next deploy tries again"
    )
    return _script(
        [
            sql.SQL("BEGIN;"),
            *still_at_source,
            sql.SQL("DELETE FROM {};").format(_where_tenant(_CHANGES, move)),
            sql.SQL("DELETE FROM {};").format(_where_tenant(_FENCES, move)),
            sql.SQL(
                "INSERT INTO {} (target_schema, tenant) VALUES ({}, {}) ON CONFLICT DO NOTHING;"
            ).format(_CAPTURES, sql.Literal(move.source.schema), _tenant(move)),
            sql.SQL("COMMIT;"),
            wait_older(wait_seconds, message),
        ]
    )


def _changes(move: Move, table: str) -> sql.Composable:
    """The keys captured for `table` (a subquery; `c.key`), as the pass's snapshot sees them."""
    return sql.SQL(
        "(SELECT key FROM {} WHERE target_schema = {} AND tenant = {} AND relation = {}::regclass)"
    ).format(
        _CHANGES,
        sql.Literal(move.source.schema),
        _tenant(move),
        sql.Literal(_source(move, table).as_string()),
    )


def _match(left: str, right: str, key: Sequence[str]) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(left), sql.Identifier(c), sql.Identifier(right), sql.Identifier(c)
        )
        for c in key
    )


def _copy_again(
    move: Move, tables: MoveTables, table: str, batch: int, batch_bytes: int
) -> list[sql.Composable]:
    """The export statements that write `table`'s captured rows again at the new location."""
    key = tables.keys.get(table, ())
    common = {
        "schema": sql.Literal(move.target.schema),
        "table": sql.Literal(table),
        "tenant_id": _tenant(move),
        "source": _source(move, table),
        "changes": _changes(move, table),
    }
    if not key:  # no key to tell its rows apart: the tenant's rows go again, all of them
        gate = sql.SQL("EXISTS {}").format(common["changes"])
        delete = sql.SQL("SELECT format({}, {}, {}, {}) WHERE {};").format(
            sql.Literal("DELETE FROM %I.%I WHERE tenant_id = %L;"),
            common["schema"],
            common["table"],
            common["tenant_id"],
            gate,
        )
        again = _template("copy_batches").format(
            schema=common["schema"],
            table=common["table"],
            source=sql.SQL("(SELECT * FROM {} WHERE {})").format(common["source"], gate),
            tenant_id=common["tenant_id"],
            batch=sql.Literal(int(batch)),
            batch_bytes=sql.Literal(int(batch_bytes)),
        )
        return [delete, again]
    deletes = _template("delete_changed").format(
        **common,
        target_match=sql.Literal(_match("t", "k", key).as_string()),
        key_match=_match("r", "k", key),
    )
    columns = [c for c in tables.columns.get(table, ()) if c not in key]
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in columns
    )
    size = 2**62 if table in tables.self_referencing else int(batch)
    upserts = _template("upsert_changed").format(
        **common,
        key_match=_match("r", "k", key),
        conflict=sql.Literal(sql.SQL(", ").join(map(sql.Identifier, key)).as_string()),
        assignments=sql.Literal(
            assignments.as_string() if columns else "tenant_id = EXCLUDED.tenant_id"
        ),
        batch=sql.Literal(size),
        batch_bytes=sql.Literal(int(batch_bytes)),
    )
    return [deletes, upserts]


def render_catch_up_done(move: Move, done_file: str) -> str:
    """Forget the captured keys the pass applied (the ids in `done_file`, on the primary, where
    psql runs: the old location may be another host); print how many."""
    if "'" in done_file or "\n" in done_file:
        raise ValueError(f"a move's file name cannot hold quotes or new lines: {done_file!r}")
    return (
        "CREATE TEMP TABLE adx_done (id bigint);\n"
        f"\\copy adx_done FROM '{done_file}'\n"  # psql reads it; \copy takes no variable
        + _script(
            [
                sql.SQL(
                    "WITH gone AS (DELETE FROM {} m USING adx_done d WHERE m.id = d.id "
                    "RETURNING 1) SELECT count(*) FROM gone;"
                ).format(_CHANGES)
            ]
        )
    )


def render_freeze(
    move: Move,
    head: Sequence[sql.Composable],
    route_lock: sql.Composable | None,
    freeze_seconds: float,
) -> str:
    """Fence the old location against the tenant's writes, then wait for what began before."""
    reason = "frozen: a move switches the tenant away"
    message = (
        f"tenant {move.slug}: its writes could not be frozen within {freeze_seconds:g} s "
        "(moves.freeze): transactions that began before still run; nothing was switched"
    )
    return _script(
        [
            *head,
            *([] if route_lock is None else [route_lock]),
            sql.SQL(
                "INSERT INTO {} (target_schema, tenant, reason) VALUES ({}, {}, {}) "
                "ON CONFLICT (target_schema, tenant) DO UPDATE SET reason = EXCLUDED.reason, "
                "cleared = false, fenced_at = now();"
            ).format(_FENCES, sql.Literal(move.source.schema), _tenant(move), sql.Literal(reason)),
            sql.SQL("COMMIT;"),
            wait_older(freeze_seconds, message),
        ]
    )


def render_unfreeze(move: Move) -> str:
    """After a failed freeze, last pass or switch: the old location takes the tenant's writes
    again (the registry still points there)."""
    return _script([sql.SQL("DELETE FROM {};").format(_where_tenant(_FENCES, move))])


_HISTORY = sql.SQL("INSERT INTO {} (tenant, slug, from_location, to_location, frozen_ms) ")


def render_history(move: Move, measured: bool | None = None) -> sql.Composable:
    """In the switch's transaction, before the old location's fence is rewritten: the move, and
    how long the tenant's writes have been frozen: since the freeze's fence (`measured` None,
    the old location in the same database), as the runner measured it (`measured`, the psql
    variable `adx_frozen_ms`), or not at all (False: a re-address)."""
    head = _HISTORY.format(sql.Identifier("adx_migrations", "move_history"))
    what = sql.SQL(", ").join(
        [
            _tenant(move),
            sql.Literal(move.slug),
            sql.Literal(f"{move.from_level} ({move.describe_source()})"),
            sql.Literal(f"{move.to_level} ({move.describe_target()})"),
        ]
    )
    if measured is not None:
        frozen = sql.SQL(":adx_frozen_ms" if measured else "0")
        return sql.SQL("{}VALUES ({}, {});").format(head, what, frozen)
    return sql.SQL(
        "{}SELECT {}, round(extract(epoch FROM clock_timestamp() - f.fenced_at) * 1000) "
        "FROM {} f WHERE f.target_schema = {} AND f.tenant = {};"
    ).format(head, what, _FENCES, sql.Literal(move.source.schema), _tenant(move))


def render_stop_capture(move: Move) -> list[sql.Composable]:
    """In the switch's transaction: the tenant's writes at the old location are not captured
    any more, and the keys captured are forgotten."""
    return [
        sql.SQL("DELETE FROM {};").format(_where_tenant(_CAPTURES, move)),
        sql.SQL("DELETE FROM {};").format(_where_tenant(_CHANGES, move)),
    ]


def _delete_rows(
    schema: str, tenant_id: str, tables: Sequence[str], batch: int
) -> list[sql.Composable]:
    """The tenant's rows of `tables` in `schema`, children first, in batches; then the fence
    there records them as gone."""
    return [
        *(
            _template("delete_old_rows").format(
                source=sql.Identifier(schema, table),
                tenant_id=sql.Literal(tenant_id),
                batch=sql.Literal(batch),
                context=tenant_context(schema, tenant_id),
            )
            for table in reversed(tables)
        ),
        sql.SQL("UPDATE {} SET cleared = true WHERE target_schema = {} AND tenant = {};").format(
            _FENCES, sql.Literal(schema), sql.Literal(tenant_id)
        ),
    ]


def render_delete_old_rows(move: Move, tables: Sequence[str], batch: int = DELETE_BATCH) -> str:
    """After the switch: the tenant's rows at the old location, children first, in batches."""
    return _script(_delete_rows(move.source.schema, move.tenant_id, tables, batch))


def render_tidy(tidy: Tidy, tables: Mapping[str, Sequence[str]], batch: int = DELETE_BATCH) -> str:
    """What moves left for a tenant now in place (a run killed after its switch, or a move given
    up): its capture stopped, a freeze at its registered location lifted, and the rows left
    at each old location (`tables`: schema -> its tenant tables, parents first) deleted."""
    where = sql.SQL("tenant = {}").format(sql.Literal(tidy.tenant_id))
    parts: list[sql.Composable] = [
        sql.SQL("DELETE FROM {} WHERE {};").format(_CAPTURES, where),
        sql.SQL("DELETE FROM {} WHERE {};").format(_CHANGES, where),
    ]
    if tidy.fenced_here is not None:
        parts.append(
            sql.SQL("DELETE FROM {} WHERE target_schema = {} AND {};").format(
                _FENCES, sql.Literal(tidy.fenced_here), where
            )
        )
    for schema in tidy.old_rows:
        parts += _delete_rows(schema, tidy.tenant_id, tables.get(schema, ()), batch)
    return _script(parts)


def pass_parts(
    move: Move,
    tables: MoveTables,
    final: bool,
    batch: int,
    batch_bytes: int,
) -> list[sql.Composable]:
    """The body of a catch-up pass's export (after its snapshot and the new location's BEGIN):
    the captured rows' deletes (children first) and upserts (parents first); in the last
    pass, the row counts checked."""
    parts: list[sql.Composable] = []
    copies = {t: _copy_again(move, tables, t, batch, batch_bytes) for t in tables.ordered}
    for table in reversed(tables.ordered):
        parts.append(copies[table][0])
    for table in tables.ordered:
        parts.append(copies[table][1])
    if final:
        for table in tables.ordered:
            message = (
                f"move of tenant {move.slug}: table {table} at the new location does not hold "
                "as many rows as the frozen source; nothing was switched"
            )
            parts.append(
                _template("verify_count").format(
                    schema=sql.Literal(move.target.schema),
                    table=sql.Literal(table),
                    tenant_id=_tenant(move),
                    source=_source(move, table),
                    message=sql.Literal(message),
                )
            )
    return parts


def captured_ids(move: Move) -> sql.Composable:
    """The ids of the keys the pass's snapshot sees (written to `:adx_done_file`)."""
    return sql.SQL("\\o :{}\nSELECT id FROM {};\n\\o").format(
        sql.SQL(DONE_FILE_VARIABLE), _where_tenant(_CHANGES, move)
    )


__all__ = [
    "DONE_FILE_VARIABLE",
    "captured_ids",
    "pass_parts",
    "render_capture_start",
    "render_catch_up_done",
    "render_delete_old_rows",
    "render_freeze",
    "render_stop_capture",
    "render_tidy",
    "render_unfreeze",
]
