"""A busy tenant's move: capture, catch-up passes, freeze, and the old rows after the switch,
as rendered SQL (run on real servers by tests/integration/test_tenant_moves.py)."""

from __future__ import annotations

import re

from adxdb import sqlfiles
from adxdb.plan import move_catch_up, move_scripts, moves
from tests.unit.test_moves import ACME, PRIMARY, _move, _row, _statement

TABLES = moves.MoveTables(
    ordered=["users", "folders", "probe"],
    self_referencing=frozenset({"folders"}),
    keys={"users": ("id",), "folders": ("tenant_id", "id")},
    columns={
        "users": ("id", "tenant_id", "email"),
        "folders": ("id", "tenant_id", "parent_id", "name"),
        "probe": ("tenant_id", "n"),
    },
)


def test_the_capture_starts_before_the_copy_and_waits_for_older_transactions() -> None:
    script = move_scripts.render_capture_start(_move("rls", "database"), 60.0)
    order = [
        "another deploy moved it; nothing was copied",  # the registry, checked first
        'DELETE FROM "adx_migrations"."move_changes" WHERE target_schema = \'public\'',
        'DELETE FROM "adx_migrations"."tenant_fences"',  # a freeze a killed run left
        'INSERT INTO "adx_migrations"."move_captures" (target_schema, tenant) VALUES '
        f"('public', '{ACME}')",
        "COMMIT;",
        "DO $adx_wait$",
    ]
    positions = [script.index(part) for part in order]
    assert positions == sorted(positions)
    assert "make_interval(secs => 60.0)" in script
    # the transactions of the moment, by their virtual transaction id's lock (readable by any
    # role: adx_migrator waits the same at a dedicated database), gone before it goes on
    assert "l.locktype = 'virtualxid'" in script and "l.virtualxid = ANY (older)" in script
    assert "transactions that began before its move still run after 60 s" in script


def test_a_catch_up_pass_writes_the_captured_rows_again_in_one_fenced_transaction() -> None:
    script = move_scripts.render_catch_up(_move("rls", "database"), TABLES, "10s")
    order = [
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;",
        "\\o :adx_done_file",  # the keys this pass applies, listed in its own snapshot
        "SELECT 'BEGIN;';",
        "DELETE FROM adx_migrations.tenant_fences",  # lifted for this transaction only
        "DELETE FROM %1$I.%2$I t USING json_populate_recordset",  # children first ...
        "INSERT INTO %1$I.%2$I OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset",
        "INSERT INTO adx_migrations.tenant_fences",
        "SELECT 'COMMIT;';",
    ]
    positions = [script.index(part) for part in order]
    assert positions == sorted(positions)
    users = _statement(script, "ON CONFLICT (%4$s)", "'public', 'users'")
    assert '\'"id"\', \'"tenant_id" = EXCLUDED."tenant_id", "email" = EXCLUDED."email"\'' in (users)
    assert 'relation = \'"public"."users"\'::regclass' in users
    # rows looked up by their captured keys: a pass costs what the tenant wrote
    assert 'JOIN "public"."users" r ON r.tenant_id = ' in users
    assert 'AND "r"."id" = "k"."id"' in users
    folders = _statement(script, "ON CONFLICT (%4$s)", "'public', 'folders'")
    assert f"(n - 1) / {2**62}" in folders  # a tree's changed rows: one statement
    assert "$adx_count$" not in script  # counts are checked by the last pass only


def test_a_table_without_a_key_goes_again_whole_when_the_tenant_wrote_to_it() -> None:
    script = move_scripts.render_catch_up(_move("rls", "database"), TABLES, "10s")
    delete = _statement(script, "DELETE FROM %I.%I WHERE tenant_id = %L;", "'probe'")
    assert "WHERE EXISTS (SELECT key FROM" in delete
    again = _statement(script, "INSERT INTO %1$I.%2$I OVERRIDING", "'public', 'probe'")
    assert 'FROM (SELECT * FROM "public"."probe" WHERE EXISTS (SELECT key' in again
    assert "ON CONFLICT" not in again


def test_the_last_pass_checks_every_tables_count_against_the_frozen_source() -> None:
    script = move_scripts.render_catch_up(_move("rls", "database"), TABLES, "10s", final=True)
    for table in TABLES.ordered:
        count = _statement(script, "$adx_count$", f"'public', '{table}'")
        assert f'(SELECT count(*) FROM "public"."{table}" r WHERE r.tenant_id' in count


def test_the_freeze_fences_the_old_location_under_the_route_lock_then_waits() -> None:
    script = move_scripts.render_freeze(_move("rls", "database"), "10s", 5.0)
    order = [
        "SET LOCAL lock_timeout = '10s';",
        "pg_advisory_xact_lock(1094996564",
        'INSERT INTO "adx_migrations"."tenant_fences" (target_schema, tenant, reason) '
        f"VALUES ('public', '{ACME}', 'frozen: a move switches the tenant away')",
        "COMMIT;",
        "make_interval(secs => 5.0)",
    ]
    positions = [script.index(part) for part in order]
    assert positions == sorted(positions)
    assert "its writes could not be frozen within 5 s (moves.freeze)" in script
    assert move_catch_up.render_unfreeze(_move("rls", "database")) == (
        'DELETE FROM "adx_migrations"."tenant_fences" WHERE target_schema = \'public\' '
        f"AND tenant = '{ACME}';\n"
    )


def test_the_old_rows_go_after_the_switch_children_first_in_committed_batches() -> None:
    script = move_catch_up.render_delete_old_rows(_move("rls", "database"), ["users", "files"])
    assert script.index('"public"."files"') < script.index('"public"."users"')
    assert "LIMIT 10000" in script and "COMMIT;" in script


def test_every_tenant_table_gets_its_capture_trigger() -> None:
    text = sqlfiles.load("deploy/tenant_capture")
    assert "CREATE TRIGGER adx_capture AFTER INSERT OR UPDATE OR DELETE ON %s" in text
    assert "coalesce(pg_partition_root(TG_RELID), TG_RELID)" in text  # a partition's parent


def test_a_tenant_in_place_gets_what_a_killed_move_left_tidied() -> None:
    row = _row("database")
    now = {
        **row.as_fact(),
        "capturing": True,
        "fences": {"public": False, "tenant_acme": True},  # rows left in public; schema clear
    }
    [tidy] = moves.plan_tidies([row], {row.id: now}, PRIMARY)
    assert (tidy.capturing, tidy.fenced_here, tidy.old_rows) == (True, None, ("public",))
    script = move_catch_up.render_tidy(tidy, {"public": ["users", "files"]})
    order = [
        'DELETE FROM "adx_migrations"."move_captures"',
        'DELETE FROM "adx_migrations"."move_changes"',
        'DELETE FROM "public"."files"',  # children first
        'DELETE FROM "public"."users"',
        'UPDATE "adx_migrations"."tenant_fences" SET cleared = true WHERE target_schema = '
        "'public'",
    ]
    positions = [script.index(part) for part in order]
    assert positions == sorted(positions)


def test_a_freeze_left_at_the_registered_location_is_lifted_not_its_rows_deleted() -> None:
    row = _row("rls")
    now = {**row.as_fact(), "capturing": False, "fences": {"public": False}}
    [tidy] = moves.plan_tidies([row], {row.id: now}, PRIMARY)
    assert (tidy.fenced_here, tidy.old_rows) == ("public", ())
    script = move_catch_up.render_tidy(tidy, {})
    assert 'DELETE FROM "adx_migrations"."tenant_fences" WHERE target_schema = \'public\'' in (
        script
    )
    assert '"public"."users"' not in script


def test_nothing_is_tidied_for_a_tenant_still_to_move_or_left_clean() -> None:
    """The twin: a tenant still to move (its move sees to it) and one with nothing left."""
    moving = {**_row("rls").as_fact(), "capturing": True, "fences": {"public": False}}
    assert moves.plan_tidies([_row("database")], {ACME: moving}, PRIMARY) == []
    clean = {**_row("database").as_fact(), "capturing": False, "fences": {"public": True}}
    assert moves.plan_tidies([_row("database")], {ACME: clean}, PRIMARY) == []


def test_tenant_tables_of_a_location_are_the_tenant_streams_parents_first() -> None:
    found = {
        "files": {"stream": "tenant", "tenant_id": True, "parents": ["users", "folders"]},
        "folders": {"stream": "tenant", "tenant_id": True, "parents": ["folders"]},
        "users": {"stream": "tenant", "tenant_id": True, "parents": []},
        "tenant_billing": {"stream": "shared", "tenant_id": True, "parents": []},
    }
    assert moves.tenant_tables_of(found) == ["folders", "users", "files"]


def test_the_switch_records_the_move_and_how_long_it_froze_the_tenant() -> None:
    script = move_scripts.render_switch(_move("rls", "database"), ["users"], "10s")
    history = _statement(script, 'INSERT INTO "adx_migrations"."move_history"')
    assert "round(extract(epoch FROM clock_timestamp() - f.fenced_at) * 1000)" in history
    assert "'rls (adx_core.public)'" in history
    # measured before the switch rewrites the old location's fence
    assert script.index(history) < script.index("INSERT INTO adx_migrations.tenant_fences")


def _unfetched(script: str) -> list[str]:
    """Statements psql would not fetch a row at a time (FETCH_COUNT only applies to a query
    that starts with SELECT): a WITH query at the start of a line would be read whole."""
    return re.findall(r"^WITH\b.*$", script, re.MULTILINE)


def test_psql_fetches_every_copy_query_a_row_at_a_time() -> None:
    key = moves.SelfKey(("tenant_id", "parent_id"), ("tenant_id", "id"))
    export = move_scripts.render_export(
        _move(), ["folders"], "10s", {"folders"}, tree_keys={"folders": key}
    )
    catch = move_scripts.render_catch_up(_move(), TABLES, "10s", final=True)
    assert "WITH RECURSIVE tree AS" in export
    assert _unfetched(export) == [] and _unfetched(catch) == []
    assert _unfetched("WITH RECURSIVE t AS (SELECT 1) SELECT * FROM t;") != []  # the twin
