"""adxdb/moves.py and the tenant_moves operation: registry and tables in, move scripts out."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr
from pyinfra.api import FileUploadCommand, OperationError, StringCommand
from pyinfra.context import ctx_host, ctx_state
from pyinfra_testing.util import FakeState, create_host

from adxdb.errors import MoveRefused
from adxdb.inventory import migration_files
from adxdb.plan import moves
from adxdb.plan.tenants import RegistryRow
from operations import facts
from operations import moves as ops

ACME = str(UUID(int=1))
PRIMARY = "10.0.0.10"
TENANT_HOST = "10.0.0.11"
PASSWORD = "s3cr:et\\pw"  # characters pgpass must escape


def _row(isolation: str, **changes: Any) -> RegistryRow:
    locations: dict[str, dict[str, Any]] = {
        "rls": {"db_host": None, "db_name": "adx_core", "db_schema": "public"},
        "schema": {"db_host": None, "db_name": "adx_core", "db_schema": "tenant_acme"},
        "database": {"db_host": TENANT_HOST, "db_name": "adx_tenant_acme", "db_schema": "public"},
    }
    location = locations[isolation]
    values: dict[str, Any] = {
        "id": ACME,
        "slug": "acme",
        "name": "Acme",
        "status": "active",
        "isolation_level": isolation,
        "db_port": 5432,
        **location,
        **changes,
    }
    return RegistryRow(**values)


def _registry(row: RegistryRow) -> dict[str, dict[str, Any]]:
    return {row.id: row.as_fact()}


def test_tenant_stream_tables_are_the_tables_the_tenant_stream_creates() -> None:
    tables = moves.tenant_stream_tables(migration_files.discover())
    assert {"users", "files", "sessions", "workflow_executions", "user_bookmarks"} <= tables
    assert "tenants" not in tables  # the registry is the shared stream's
    assert "tenant_billing" not in tables


def test_a_tenant_at_its_declared_level_does_not_move() -> None:
    assert moves.plan_moves([_row("rls")], _registry(_row("rls")), PRIMARY) == []


def test_a_new_tenant_does_not_move() -> None:
    assert moves.plan_moves([_row("database")], {}, PRIMARY) == []


def test_rls_to_database_moves_from_the_primary_to_the_tenant_host() -> None:
    [move] = moves.plan_moves([_row("database")], _registry(_row("rls")), PRIMARY)
    assert (move.from_level, move.to_level) == ("rls", "database")
    assert move.source == moves.Location("adx_core", "public", None)
    assert move.target == moves.Location("adx_tenant_acme", "public", TENANT_HOST)
    assert move.describe() == (
        "move tenant acme: rls (adx_core.public) -> database "
        f"({TENANT_HOST}:adx_tenant_acme.public)"
    )


def test_rls_to_schema_is_a_local_move() -> None:
    [move] = moves.plan_moves([_row("schema")], _registry(_row("rls")), PRIMARY)
    assert move.target == moves.Location("adx_core", "tenant_acme", None)


def test_a_database_on_the_primary_itself_is_a_local_target() -> None:
    wanted = _row("database", db_host=PRIMARY)
    [move] = moves.plan_moves([wanted], _registry(_row("schema")), PRIMARY)
    assert move.target.address is None


def test_moving_out_of_a_dedicated_database_is_refused_with_the_way_out() -> None:
    with pytest.raises(MoveRefused, match=r"tenant acme: moving out of its dedicated"):
        moves.plan_moves([_row("rls")], _registry(_row("database")), PRIMARY)


def test_an_offboarded_tenant_does_not_move() -> None:
    with pytest.raises(MoveRefused, match="offboarded tenant does not change"):
        moves.plan_moves([_row("database", status="archived")], _registry(_row("rls")), PRIMARY)


def test_parents_come_before_the_tables_that_reference_them() -> None:
    order = moves.parents_first(
        {
            "files": ["folders", "users"],
            "folders": ["folders", "users"],  # a self-reference is not a dependency
            "users": ["tenants"],  # outside the set: ignored
            "sessions": ["users"],
        }
    )
    assert order == ["users", "folders", "sessions", "files"]


def test_a_foreign_key_cycle_is_refused() -> None:
    with pytest.raises(MoveRefused, match="cycle between tables: a, b"):
        moves.parents_first({"a": ["b"], "b": ["a"]})


def test_pgpass_escapes_colon_and_backslash() -> None:
    line = moves.pgpass_line("h", 5432, "db", "u", PASSWORD)
    assert line == "h:5432:db:u:s3cr\\:et\\\\pw\n"


def test_export_clears_copies_verifies_and_commits_in_one_target_transaction() -> None:
    [move] = moves.plan_moves([_row("database")], _registry(_row("rls")), PRIMARY)
    script = moves.render_export(move, ["users", "files"], "/w/acme.check.sql", "10s")
    lines = script.splitlines()
    assert lines[:2] == ["\\set FETCH_COUNT 20", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"]
    assert "SET LOCAL TimeZone = 'UTC';" in lines[2:7]
    # the registry is checked in the snapshot before anything is printed for the target
    where = next(line for line in lines if line.startswith("DO $adx_where$"))
    assert where.startswith("DO $adx_where$ BEGIN IF NOT EXISTS (SELECT 1 FROM public.tenants")
    assert "\"isolation_level\" = 'rls'" in where and '"db_host" IS NOT DISTINCT' in where
    assert lines.index(where) < lines.index("SELECT 'BEGIN;';")
    emitted = "\n".join(lines)
    # children cleared before parents, parents inserted before children
    assert emitted.index('DELETE FROM "public"."files"') < emitted.index(
        'DELETE FROM "public"."users"'
    )
    assert emitted.index('FROM "public"."users" r WHERE') < emitted.index(
        'FROM "public"."files" r WHERE'
    )
    assert f"r.tenant_id = '{ACME}'" in emitted
    assert emitted.index("SELECT 'COMMIT;';") < emitted.index("\\o /w/acme.check.sql")
    assert lines[-2:] == ["\\o", "COMMIT;"]


def test_switch_locks_checks_switches_then_deletes() -> None:
    [move] = moves.plan_moves([_row("database")], _registry(_row("rls")), PRIMARY)
    script = moves.render_switch(move, ["users", "files"], "/w/acme.check.sql", "10s")
    order = [
        "BEGIN;",
        "another deploy moved it; nothing was switched",
        "INSERT INTO public.tenants",  # first: waits for transactions holding the old route
        "SET LOCAL statement_timeout = '10s';",
        'LOCK TABLE "public"."users", "public"."files" IN SHARE ROW EXCLUSIVE MODE;',
        "\\i /w/acme.check.sql",
        'DELETE FROM "public"."files"',
        'DELETE FROM "public"."users"',
        "COMMIT;",
    ]
    positions = [script.index(part) for part in order]
    assert positions == sorted(positions)
    assert f"'{TENANT_HOST}'" in script and "'database'" in script


def _run(facts: dict[str, Any], rows: list[RegistryRow]) -> tuple[list[Any], Any]:
    state = FakeState()
    host = create_host(state, facts=facts)
    with ctx_state.use(state), ctx_host.use(host):
        commands = list(
            ops.tenant_moves._inner(
                rows=rows,
                tenant_tables=["users", "files"],
                stream_versions=[("shared", 1), ("tenant", 1), ("tenant", 2)],
                primary_address=PRIMARY,
                port=5432,
                ca_file="/etc/postgresql/15/main/tls/ca.crt",
                mover="adx_migrator",
                mover_password=SecretStr(PASSWORD),
                lock_timeout="10s",
            )
        )
    return commands, host


def _facts(registry: Any, tables: Any = None) -> dict[str, Any]:
    return {
        "facts.PgTenantRegistry": {"port=5432": registry},
        "facts.PgTenantTables": {"database=adx_core, port=5432, schema=public": tables},
    }


def test_operation_is_a_noop_when_every_tenant_is_in_place() -> None:
    commands, host = _run(_facts(_registry(_row("rls"))), [_row("rls")])
    assert commands == []
    assert host.noop_description == "every tenant is at its declared isolation level"


def test_operation_uploads_scripts_and_keeps_the_password_out_of_commands() -> None:
    tables = {"users": [], "files": ["users"], "tenant_storage_configs": []}
    commands, _ = _run(_facts(_registry(_row("rls")), tables), [_row("database")])
    uploads: dict[str, str] = {}
    for command in commands:
        if isinstance(command, FileUploadCommand):
            assert isinstance(command.src, StringIO)
            uploads[command.dest] = command.src.getvalue()
    names = sorted(Path(dest).name for dest in uploads)
    token = names[0].split(".")[0].removeprefix("move-acme-")
    assert len(token) == 8  # per run: a concurrent deploy never removes this run's files
    assert names == [
        f"move-acme-{token}.export.sql",
        f"move-acme-{token}.pgpass",
        f"move-acme-{token}.sh",
        f"move-acme-{token}.switch.sql",
    ]
    pgpass = next(v for k, v in uploads.items() if k.endswith(".pgpass"))
    assert pgpass == f"{TENANT_HOST}:5432:adx_tenant_acme:adx_migrator:s3cr\\:et\\\\pw\n"
    # only the tenant stream's tables move: the control plane's stay
    export = next(v for k, v in uploads.items() if k.endswith(".export.sql"))
    assert "tenant_storage_configs" not in export
    shell = [c for c in commands if isinstance(c, StringCommand)]
    rendered = " ".join(c.get_raw_value() for c in shell)
    for secret_file_content in ("s3cr", PASSWORD):
        assert secret_file_content not in rendered
        assert all(secret_file_content not in v for k, v in uploads.items() if "pgpass" not in k)
    assert rendered.endswith("exit $status")


def test_operation_refuses_a_move_out_of_a_dedicated_database() -> None:
    with pytest.raises(OperationError, match="moving out of its dedicated database"):
        _run(_facts(_registry(_row("database"))), [_row("rls")])


def test_operation_with_the_server_down_is_an_error() -> None:
    with pytest.raises(OperationError, match="cannot read the tenants registry"):
        _run(_facts(None), [_row("rls")])


def test_tenant_tables_fact_reads_tables_and_their_parents() -> None:
    fact = facts.PgTenantTables()
    assert fact.process(['{"files": ["folders", "users"], "users": []}']) == {
        "files": ["folders", "users"],
        "users": [],
    }
    assert fact.process(["null"]) is None
    command = fact.command(port=5432, database="adx_core", schema="tenant_acme").get_raw_value()
    assert command.startswith("if pg_isready -q -p 5432 ; then printf")
    assert "adx_database=adx_core" in command and "adx_schema=tenant_acme" in command


def test_runner_takes_a_lock_and_stops_when_another_deploy_moved_the_tenant() -> None:
    [move] = moves.plan_moves([_row("database")], _registry(_row("rls")), PRIMARY)
    files = moves.MoveFiles("/p/e.sql", "/p/s.sql", "/p/pgpass")
    script = moves.render_runner(move, files, 5432, 5432, "/ca.crt", "adx_migrator")
    steps = [
        "flock -w 3600 9",
        "state=$(",
        'if [ "$state" = target ]; then',
        "already moved by another deploy",
        "< /p/e.sql | runuser -u postgres -- env PGPASSFILE=",
        "grep -qx adx-move-committed",
        "< /p/s.sql",
    ]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "sslmode=verify-full sslrootcert=/ca.crt" in script


def test_registry_state_query_names_both_locations() -> None:
    [move] = moves.plan_moves([_row("database")], _registry(_row("rls")), PRIMARY)
    query = moves.registry_state_query(move)
    assert query.startswith("SELECT CASE WHEN EXISTS")
    assert '"db_host" IS NOT DISTINCT FROM NULL' in query  # the source: rls, no host
    assert f"\"db_host\" = '{TENANT_HOST}'" in query  # the target


def test_self_referencing_tables_go_in_one_statement() -> None:
    [move] = moves.plan_moves([_row("database")], _registry(_row("rls")), PRIMARY)
    script = moves.render_export(move, ["users", "folders"], "/c.sql", "10s", {"folders"})
    users = next(line for line in script.splitlines() if 'FROM "public"."users" r WHERE' in line)
    folders = next(line for line in script.splitlines() if '"public"."folders" r WHERE' in line)
    assert "/ 500 AS batch" in users
    assert f"/ {2**62} AS batch" in folders  # one batch: the parent check runs at its end


def test_tables_to_move_are_the_tenant_streams_parents_first() -> None:
    [move] = moves.plan_moves([_row("database")], _registry(_row("rls")), PRIMARY)
    found = {"files": ["folders", "users"], "folders": ["folders"], "users": [], "billing": []}
    tables = moves.tables_to_move(move, found, {"users", "files", "folders"})
    assert tables.ordered == ["folders", "users", "files"]  # billing: the control plane's
    assert tables.self_referencing == {"folders"}


def test_tables_to_move_refuses_a_source_without_a_stream_table() -> None:
    [move] = moves.plan_moves([_row("database")], _registry(_row("rls")), PRIMARY)
    with pytest.raises(MoveRefused, match=r"lacks tables of the tenant stream \(files\)"):
        moves.tables_to_move(move, {"users": []}, {"users", "files"})


def test_tables_to_move_refuses_tenant_rows_outside_the_stream_in_a_schema() -> None:
    [move] = moves.plan_moves([_row("database")], _registry(_row("schema")), PRIMARY)
    with pytest.raises(MoveRefused, match=r"tables the tenant stream does not create"):
        moves.tables_to_move(move, {"users": [], "extra": []}, {"users"})


def test_nothing_is_copied_into_a_location_that_is_not_fully_migrated() -> None:
    [move] = moves.plan_moves([_row("schema")], _registry(_row("rls")), PRIMARY)
    script = moves.render_export(
        move, ["users"], "/c.sql", "10s", migrations=[("shared", 1), ("tenant", 1), ("tenant", 2)]
    )
    ready = next(line for line in script.splitlines() if "adx_ready" in line)
    # a schema gets the tenant stream only; checked before any row is cleared or inserted
    assert "(VALUES (''tenant'', 1), (''tenant'', 2))" in ready
    assert "l.target_schema = ''tenant_acme''" in ready
    assert script.index("adx_ready") < script.index('DELETE FROM "tenant_acme"."users"')
