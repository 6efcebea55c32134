"""Tenant moves: the plan (adxdb/plan/moves.py), its psql scripts (adxdb/plan/move_scripts.py),
the tenant_moves operation, and the move runner (operations/files/tenant_move.sh), run here
with stand-ins for runuser, install, flock and psql."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from uuid import UUID

import pytest
from pydantic import SecretStr
from pyinfra.api import OperationError, StringCommand

from adxdb import sqlfiles
from adxdb.contract import COPY_SESSION_SETTINGS
from adxdb.errors import MoveRefused
from adxdb.inventory.model import MoveSettings
from adxdb.plan import move_catch_up, move_scripts, moves
from adxdb.plan.tenants import RegistryRow
from operations import facts
from operations import moves as ops
from tests.unit.conftest import FIXED_TOKEN, OperationRun, fake_host, run_operation

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


def _move(source: str = "rls", target: str = "database") -> moves.Move:
    [move] = moves.plan_moves([_row(target)], _registry(_row(source)), PRIMARY)
    return move


def _statement(script: str, *parts: str) -> str:
    """The one statement of a psql script (statements end with `;` at a line's end) that
    holds every one of `parts`."""
    statements = re.split(r"(?<=;)\n", script)
    [found] = [s for s in statements if all(part in s for part in parts)]
    return found


# The plan ---------------------------------------------------------------------------------------


def _tables(**tables: Any) -> dict[str, dict[str, Any]]:
    """The PgTenantTables fact: name -> (stream, has tenant_id, parents)."""
    return {
        name: {"stream": stream, "tenant_id": tenant_id, "parents": list(parents)}
        for name, (stream, tenant_id, parents) in tables.items()
    }


def test_a_tenant_at_its_declared_level_does_not_move() -> None:
    assert moves.plan_moves([_row("rls")], _registry(_row("rls")), PRIMARY) == []


def test_a_new_tenant_does_not_move() -> None:
    assert moves.plan_moves([_row("database")], {}, PRIMARY) == []


def test_rls_to_database_moves_from_the_primary_to_the_tenant_host() -> None:
    move = _move("rls", "database")
    assert (move.from_level, move.to_level) == ("rls", "database")
    assert move.source == moves.Location("adx_core", "public", None)
    assert move.target == moves.Location("adx_tenant_acme", "public", TENANT_HOST)
    assert move.describe() == (
        "move tenant acme: rls (adx_core.public) -> database "
        f"({TENANT_HOST}:adx_tenant_acme.public)"
    )


def test_rls_to_schema_is_a_local_move() -> None:
    assert _move("rls", "schema").target == moves.Location("adx_core", "tenant_acme", None)


def test_a_database_on_the_primary_itself_is_a_local_target() -> None:
    wanted = _row("database", db_host=PRIMARY)
    [move] = moves.plan_moves([wanted], _registry(_row("schema")), PRIMARY)
    assert move.target.address is None


HOSTS = {PRIMARY: "pg1", TENANT_HOST: "tenant1"}


def test_a_dedicated_database_moves_out_from_its_own_host() -> None:
    [move] = moves.plan_moves([_row("rls")], _registry(_row("database")), PRIMARY, HOSTS)
    assert move.source == moves.Location("adx_tenant_acme", "public", TENANT_HOST)
    assert move.source_host == "tenant1" and not move.source.in_registry_database
    assert move.target == moves.Location("adx_core", "public", None)
    assert move.target.in_registry_database and not move.readdress


def test_a_move_out_of_an_address_no_host_has_is_refused_with_the_way_out() -> None:
    with pytest.raises(MoveRefused, match=r"tenant acme: registered at 10.0.0.11 \(database, "):
        moves.plan_moves([_row("rls")], _registry(_row("database")), PRIMARY, {PRIMARY: "pg1"})


def test_a_database_whose_host_changed_address_is_re_addressed() -> None:
    wanted = _row("database", db_host="10.0.0.12")
    hosts = {PRIMARY: "pg1", "10.0.0.12": "tenant1"}  # 10.0.0.11 is no host's any more
    [move] = moves.plan_moves([wanted], _registry(_row("database")), PRIMARY, hosts)
    assert move.readdress and move.target.address == "10.0.0.12"
    assert move.describe() == (
        "re-address tenant acme: its database adx_tenant_acme is now reached at 10.0.0.12 "
        "(was 10.0.0.11)"
    )
    # the twin: with the old host still listed, it is a move between two hosts
    [between] = moves.plan_moves(
        [wanted], _registry(_row("database")), PRIMARY, {**hosts, TENANT_HOST: "tenant2"}
    )
    assert not between.readdress and between.source_host == "tenant2"


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


def test_tables_to_move_are_the_ledgers_tenant_stream_parents_first() -> None:
    """Whatever the SQL that made them (UNLOGGED, quoted names, partitioned, AS): the ledger
    says which stream created each table."""
    found = _tables(
        files=("tenant", True, ["folders", "users"]),
        folders=("tenant", True, ["folders"]),
        users=("tenant", True, []),
        **{"Odd Name": ("tenant", True, ["users"])},
        tenant_billing=("shared", True, ["tenants"]),  # the control plane's: it stays
        tenants=("shared", False, []),
    )
    tables = moves.tables_to_move(_move(), found)
    assert tables.ordered == ["folders", "users", "Odd Name", "files"]
    assert tables.self_referencing == {"folders"}


def test_tables_to_move_refuses_a_source_without_a_tenant_stream_table() -> None:
    with pytest.raises(MoveRefused, match=r"holds no table of the tenant stream; migrate it"):
        moves.tables_to_move(_move(), _tables(tenants=("shared", False, [])))


def test_tables_to_move_refuses_tenant_rows_whose_stream_is_unknown() -> None:
    found = _tables(
        users=("tenant", True, []),
        legacy=("unrecorded", True, []),
        by_hand=(None, True, []),
        lookup=(None, False, []),  # no tenant rows: not in the way
    )
    with pytest.raises(MoveRefused) as refused:
        moves.tables_to_move(_move(), found)
    assert "does not record which stream created by_hand, legacy" in str(refused.value)
    assert str(refused.value).endswith("nothing was copied")


def test_tables_to_move_refuses_a_tenant_table_without_tenant_id() -> None:
    found = _tables(users=("tenant", True, []), snapshots=("tenant", False, []))
    with pytest.raises(MoveRefused, match=r"without a tenant_id column \(snapshots\)"):
        moves.tables_to_move(_move(), found)


def test_tables_to_move_refuses_other_tables_in_a_tenants_schema() -> None:
    found = _tables(users=("tenant", True, []), extra=("shared", False, []))
    with pytest.raises(MoveRefused, match=r"tables the tenant stream does not create \(extra\)"):
        moves.tables_to_move(_move("schema"), found)
    moves.tables_to_move(_move("rls"), found)  # the twin: the shared schema has such tables


def test_the_plan_and_its_scripts_never_import_pyinfra() -> None:
    for module in (moves, move_scripts):
        tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
        imported = [
            alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names
        ]
        imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [name for name in imported if name.split(".")[0] == "pyinfra"], module


# The scripts ------------------------------------------------------------------------------------


def test_pgpass_escapes_colon_and_backslash() -> None:
    line = move_scripts.pgpass_line("h", 5432, "db", "u", PASSWORD)
    assert line == "h:5432:db:u:s3cr\\:et\\\\pw\n"


def test_export_clears_copies_verifies_and_commits_in_one_target_transaction() -> None:
    script = move_scripts.render_export(_move(), ["users", "files"], "10s")
    lines = script.splitlines()
    assert lines[:3] == [
        "\\set FETCH_COUNT 1",  # psql holds one batch at a time
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;",
        "SET LOCAL enable_hashagg = off;",  # the server builds one batch at a time
    ]
    assert "SET LOCAL TimeZone = 'UTC';" in lines[2:7]
    # the registry is checked in the snapshot before anything is printed for the target
    where = next(line for line in lines if line.startswith("DO $adx_where$"))
    assert where.startswith("DO $adx_where$ BEGIN IF NOT EXISTS (SELECT 1 FROM public.tenants")
    assert "\"isolation_level\" = 'rls'" in where and '"db_host" IS NOT DISTINCT' in where
    assert lines.index(where) < lines.index("SELECT 'BEGIN;';")
    assert "SELECT format('SET LOCAL lock_timeout = %L;', '10s');" in lines
    # children cleared before parents, parents inserted before children
    delete = "SELECT format('DELETE FROM %I.%I WHERE tenant_id = %L;', 'public', '{}', '{}');"
    assert lines.index(delete.format("files", ACME)) < lines.index(delete.format("users", ACME))
    insert_users = _statement(script, "INSERT INTO %1$I.%2$I", "'public', 'users'")
    insert_files = _statement(script, "INSERT INTO %1$I.%2$I", "'public', 'files'")
    assert script.index(insert_users) < script.index(insert_files)
    assert f'FROM "public"."users" r WHERE r.tenant_id = \'{ACME}\'' in insert_users
    assert lines[-3:] == [
        "SELECT 'COMMIT;';",
        "SELECT format('SELECT %L;', 'adx-move-committed');",
        "COMMIT;",
    ]


def test_every_copied_table_is_verified_at_the_new_location() -> None:
    """Count and checksum against the snapshot; what the tenant writes meanwhile is captured
    and caught up, not refused."""
    script = move_scripts.render_export(_move("rls", "schema"), ["users"], "10s")
    verify = _statement(script, "$adx_verify$", "'tenant_acme', 'users'")
    assert "at the new location does not hold the rows copied" in verify
    assert f'FROM "public"."users" r WHERE r.tenant_id = \'{ACME}\') hashed) v;' in verify
    assert "changed during its move" not in script


def test_the_verify_block_computes_the_checksum_as_the_snapshot_does() -> None:
    """verify.sql prints checksum.sql's query for the checked side: the two must not drift."""
    checksum = " ".join(sqlfiles.load("moves/checksum").split())
    printed = checksum.replace("{table}", "%1$I.%2$I").replace("{tenant_id}", "%3$L")
    assert f"(SELECT 1 FROM ({printed}) c WHERE" in " ".join(sqlfiles.load("moves/verify").split())


def test_every_table_goes_in_statements_bounded_in_rows_and_bytes() -> None:
    script = move_scripts.render_export(_move(), ["users"], "10s")
    users = _statement(script, "INSERT INTO %1$I.%2$I", "'public', 'users'")
    assert "greatest((n - 1) / 500, (bytes - 1) / 8388608) AS batch" in users
    assert "sum(pg_column_size(r)) OVER w AS bytes" in users


def test_a_table_with_one_key_to_itself_goes_in_tree_order_in_bounded_statements() -> None:
    key = moves.SelfKey(("tenant_id", "parent_id"), ("tenant_id", "id"))
    script = move_scripts.render_export(
        _move(), ["users", "folders"], "10s", {"folders"}, tree_keys={"folders": key}
    )
    folders = _statement(script, "INSERT INTO %1$I.%2$I", "'public', 'folders'")
    assert "WITH RECURSIVE tree AS" in folders
    assert 'AND (r."tenant_id" IS NULL OR r."parent_id" IS NULL)' in folders  # the roots
    assert 'ON c."tenant_id" = (t.r)."tenant_id" AND c."parent_id" = (t.r)."id"' in folders
    assert "WINDOW w AS (ORDER BY depth ROWS UNBOUNDED PRECEDING)" in folders
    assert "(n - 1) / 500" in folders


def test_a_table_with_several_keys_to_itself_goes_in_one_statement() -> None:
    """The twin: without one key to order by, the parent checks must run at one statement's
    end."""
    script = move_scripts.render_export(_move(), ["users", "folders"], "10s", {"folders"})
    folders = _statement(script, "INSERT INTO %1$I.%2$I", "'public', 'folders'")
    assert "WITH RECURSIVE" not in folders
    assert f"(n - 1) / {2**62}" in folders


def test_tables_to_move_gives_the_tree_key_of_a_table_with_one_key_to_itself() -> None:
    found = _tables(folders=("tenant", True, ["folders"]), teams=("tenant", True, ["teams"]))
    found["folders"]["self_keys"] = [
        {"columns": ["tenant_id", "parent_id"], "references": ["tenant_id", "id"]}
    ]
    found["teams"]["self_keys"] = [
        {"columns": ["tenant_id", "lead_id"], "references": ["tenant_id", "id"]},
        {"columns": ["tenant_id", "parent_id"], "references": ["tenant_id", "id"]},
    ]
    tables = moves.tables_to_move(_move(), found)
    assert tables.tree_keys == {
        "folders": moves.SelfKey(("tenant_id", "parent_id"), ("tenant_id", "id"))
    }
    assert tables.self_referencing == {"folders", "teams"}


def test_nothing_is_copied_into_a_location_that_is_not_fully_migrated() -> None:
    script = move_scripts.render_export(
        _move("rls", "schema"),
        ["users"],
        "10s",
        migrations=[("shared", 1), ("tenant", 1), ("tenant", 2)],
    )
    ready = _statement(script, "$adx_ready$")
    # a schema gets the tenant stream only; checked before any row is cleared or inserted
    assert "'{tenant,tenant}'::text[], '{1,2}'::int2[]::integer[], 'tenant_acme'" in ready
    assert "l.target_schema = %3$L" in ready
    assert script.index("$adx_ready$") < script.index("'DELETE FROM %I.%I WHERE tenant_id = %L;'")


def test_no_rendered_sql_is_fed_back_into_a_printed_statement() -> None:
    """The statements the export prints for the new location come from constant format()
    templates: no rendered identifier, and no value of the move, ever sits inside one."""
    move = _move()
    script = move_scripts.render_export(move, ["users", "files"], "10s", migrations=[("tenant", 1)])
    templates = re.findall(r"\$adx_template\$(.*?)\$adx_template\$", script)
    templates += re.findall(r"SELECT format\('((?:[^']|'')*)'", script)
    # lock_timeout, ready, context, unfence, 2 deletes, 2 copies, 2 verifies, fence, the
    # receipt's marker
    assert len(templates) == 12
    for template in templates:
        assert '"' not in template and move.tenant_id not in template and "acme" not in template


def test_switch_takes_the_route_switches_the_registry_and_stops_the_capture() -> None:
    script = move_scripts.render_switch(_move(), ["users", "files"], "10s")
    order = [
        "BEGIN;",
        "another deploy moved it; nothing was switched",
        # first: waits for the transactions holding the old route; later claims wait for it
        f"PERFORM pg_advisory_xact_lock(1094996564, hashtext('{ACME}'))",
        "UPDATE public.tenants SET",
        "INSERT INTO adx_migrations.tenant_fences",
        'DELETE FROM "adx_migrations"."move_captures"',
        'DELETE FROM "adx_migrations"."move_changes"',
        "COMMIT;",
    ]
    positions = [script.index(part) for part in order]
    assert positions == sorted(positions)
    assert f"'{TENANT_HOST}'" in script and "'database'" in script
    # no table lock (no other tenant's write waits), no bulk delete (the old rows go after)
    assert "LOCK TABLE" not in script and 'DELETE FROM "public"."users"' not in script


def test_registry_state_query_names_both_locations() -> None:
    query = move_scripts.registry_state_query(_move())
    assert query.startswith("SELECT CASE WHEN EXISTS")
    assert '"db_host" IS NOT DISTINCT FROM NULL' in query  # the source: rls, no host
    assert f"\"db_host\" = '{TENANT_HOST}'" in query  # the target


# The operation ----------------------------------------------------------------------------------


def _run(facts: dict[str, Any], rows: list[RegistryRow], **extra: Any) -> OperationRun:
    return run_operation(
        ops.tenant_moves,
        facts,
        rows=rows,
        stream_versions=[("shared", 1), ("tenant", 1), ("tenant", 2)],
        primary_address=PRIMARY,
        port=5432,
        ca_file="/etc/postgresql/15/main/tls/ca.crt",
        mover="adx_migrator",
        mover_password=SecretStr(PASSWORD),
        lock_timeout="10s",
        **extra,
    )


def _facts(registry: Any, tables: Any = None) -> dict[str, Any]:
    return {
        "facts.PgTenantRegistry": {"port=5432": registry},
        "facts.PgTenantTables": {"database=adx_core, port=5432, schema=public": tables},
    }


def test_operation_is_a_noop_when_every_tenant_is_in_place() -> None:
    run = _run(_facts(_registry(_row("rls"))), [_row("rls")])
    assert run.commands == []
    assert run.noop_description == "every tenant is at its declared isolation level"


def test_operation_uploads_scripts_and_keeps_the_password_out_of_commands() -> None:
    tables = _tables(
        users=("tenant", True, []),
        files=("tenant", True, ["users"]),
        tenant_storage_configs=("shared", True, []),
    )
    run = _run(_facts(_registry(_row("rls")), tables), [_row("database")])
    uploads = run.uploads()
    # a folder per run (secrets.token_hex): a concurrent deploy never removes this run's files
    assert {str(Path(dest).parent) for dest in uploads} == {
        f"/var/lib/adx-deploy/move-acme-{FIXED_TOKEN}"
    }
    names = sorted(Path(dest).name for dest in uploads)
    assert names == sorted(
        [
            *(f"acme.{name}.sql" for name in ("state", "capture", "export", "catch-up", "done")),
            *(f"acme.{name}.sql" for name in ("freeze", "final", "switch", "unfreeze")),
            *(f"acme.{name}.sql" for name in ("cleanup", "unfence", "unfenced", "vacuum")),
            "acme.pgpass",
            "acme.sh",
        ]
    )
    pgpass = next(v for k, v in uploads.items() if k.endswith(".pgpass"))
    assert pgpass == f"{TENANT_HOST}:5432:adx_tenant_acme:adx_migrator:s3cr\\:et\\\\pw\n"
    # the runner is the package's script, as it is
    runner = next(v for k, v in uploads.items() if k.endswith(".sh"))
    assert runner == ops.RUNNER.read_text(encoding="utf-8")
    # only the tenant stream's tables move: the control plane's stay
    export = next(v for k, v in uploads.items() if k.endswith(".export.sql"))
    assert "tenant_storage_configs" not in export
    shell = [c for c in run.commands if isinstance(c, StringCommand)]
    rendered = " ".join(c.get_raw_value() for c in shell)
    for secret_file_content in ("s3cr", PASSWORD):
        assert secret_file_content not in rendered
        assert all(secret_file_content not in v for k, v in uploads.items() if "pgpass" not in k)
    assert f"--pgpass /var/lib/adx-deploy/move-acme-{FIXED_TOKEN}/acme.pgpass" in rendered
    assert rendered.endswith("exit $status")


def test_a_local_move_gives_the_runner_no_target_host_and_uploads_no_pgpass() -> None:
    tables = _tables(users=("tenant", True, []), files=("tenant", True, ["users"]))
    run = _run(_facts(_registry(_row("rls")), tables), [_row("schema")])
    assert not [dest for dest in run.uploads() if dest.endswith(".pgpass")]
    command = run.commands[-1].get_raw_value()
    assert "--target-database adx_core" in command
    assert "--target-host" not in command and "--pgpass" not in command


def test_operation_refuses_a_move_out_of_an_address_no_host_has() -> None:
    with pytest.raises(OperationError, match="an address no host of the inventory has"):
        _run(_facts(_registry(_row("database"))), [_row("rls")])


def test_operation_with_the_server_down_is_an_error() -> None:
    with pytest.raises(OperationError, match="cannot read the tenants registry"):
        _run(_facts(None), [_row("rls")])


def test_tenant_tables_fact_reads_tables_their_stream_and_parents() -> None:
    fact = facts.PgTenantTables()
    files = {"stream": "tenant", "tenant_id": True, "parents": ["folders", "users"]}
    assert fact.process([json.dumps({"files": files})]) == {"files": files}
    assert fact.process(["null"]) is None
    command = fact.command(port=5432, database="adx_core", schema="tenant_acme").get_raw_value()
    assert command.startswith("if pg_isready -q -p 5432 ; then printf")
    assert "adx_database=adx_core" in command and "adx_schema=tenant_acme" in command


# The runner -------------------------------------------------------------------------------------

# Stand-ins on PATH: runuser runs its command, install copies (without owners), flock and psql
# log their arguments. psql answers by its input: the state query prints FAKE_STATE, the export
# prints FAKE_STREAM, the switch logs `switched`, and the target echoes the stream (its receipt).
_SCRIPTS = (
    "state", "capture", "export", "catch-up", "done", "freeze", "final", "switch", "unfreeze",
    "cleanup", "unfence", "unfenced", "moved", "readdress-check", "identity", "vacuum",
)  # fmt: skip
_STANDINS = {
    "runuser": 'while [[ $1 != -- ]]; do shift; done; shift; exec "$@"\n',
    "install": (
        'echo "install $*" >>"$FAKE_LOG"\n'
        'if [[ $1 == -d ]]; then mkdir -p "${@: -1}"; else cp "${@: -2:1}" "${@: -1}"; fi\n'
    ),
    "flock": 'echo "flock $*" >>"$FAKE_LOG"\n',
    # psql: the primary's scripts say who they are (their text is their name); the new
    # location's psql echoes the stream it is fed (its receipt).
    "psql": (
        'echo "psql $* PGPASSFILE=${PGPASSFILE:-}" >>"$FAKE_LOG"\n'
        "input=$(cat)\n"
        'echo "script:${input%%$\'\\n\'*}" >>"$FAKE_LOG"\n'
        "if [[ $* == *sslmode* ]]; then where=tls; else where=socket; fi\n"
        'echo "where:$where:${input%%$\'\\n\'*}" >>"$FAKE_LOG"\n'
        "case $input in\n"
        '    state) echo "$FAKE_STATE" ;;\n'
        '    export|catch-up|final) printf "%s\\n" "$FAKE_STREAM" ;;\n'
        '    done) echo "${FAKE_APPLIED:-0}" ;;\n'
        "    freeze) [[ -z ${FAKE_FREEZE_FAILS:-} ]] ;;\n"
        '    readdress-check) echo "${FAKE_CHECK:-rows} 7:16384" ;;\n'
        '    identity) echo "${FAKE_IDENTITY:-7:16384}" ;;\n'
        "    vacuum) [[ -z ${FAKE_VACUUM_FAILS:-} ]] ;;\n"
        "    capture|switch|unfreeze|cleanup|unfence|unfenced|moved) ;;\n"
        # the new location: its receipt, and what its \\warn lines print to its stderr
        '    *) printf "%s\\n" "$input"\n'
        "       grep '^\\\\warn ' <<<\"$input\" | sed 's/^\\\\warn //' >&2 || true ;;\n"
        "esac\n"
    ),
}


@dataclass
class RunnerRun:
    returncode: int
    stdout: str
    stderr: str
    log: list[str]
    work: Path
    upload: Path

    @property
    def scripts(self) -> list[str]:
        """The scripts the runner ran, in order."""
        return [
            line.removeprefix("script:")
            for line in self.log
            if line.startswith("script:") and line != "script:"  # the new location's psql
        ]


def _run_runner(
    tmp_path: Path,
    state: str,
    stream: str = f"\n{move_scripts.COMMITTED}",
    remote: bool = True,
    mode: str = "copy",
    source_remote: bool = False,
    readdress: bool = False,
    vacuum: bool = False,
    **env_extra: str,
) -> RunnerRun:
    bin_dir, work, uploads = tmp_path / "bin", tmp_path / "work", tmp_path / "uploads"
    for folder in (bin_dir, uploads):
        folder.mkdir()
    for name, body in _STANDINS.items():
        (bin_dir / name).write_text("#!/usr/bin/env bash\n" + body)
        (bin_dir / name).chmod(0o755)
    for name in _SCRIPTS:
        (uploads / f"{name}.sql").write_text(name)
    pgpass = uploads / "move.pgpass"
    pgpass.write_text(f"{TENANT_HOST}:5432:adx_tenant_acme:adx_migrator:{PASSWORD}\n")
    arguments = [
        *("--slug", "acme", "--work-dir", str(work), "--port", "5432", "--database", "adx_core"),
        *("--target-database", "adx_tenant_acme", "--mode", mode),
        *("--catch-up-passes", "3", "--catch-up-rows", "10"),
    ]
    if readdress:
        arguments += ["--state-sql", str(uploads / "state.sql")]
        arguments += ["--switch-sql", str(uploads / "switch.sql")]
        arguments += ["--readdress-check-sql", str(uploads / "readdress-check.sql")]
        arguments += ["--identity-sql", str(uploads / "identity.sql"), "--old-host", "10.0.0.9"]
    else:
        for name in _SCRIPTS[:10]:
            arguments += [f"--{name}-sql", str(uploads / f"{name}.sql")]
    if remote or source_remote:
        arguments += [
            *("--mover-port", "5432", "--mover", "adx_migrator"),
            *("--ca-file", "/ca.crt", "--pgpass", str(pgpass)),
        ]
    if remote:
        arguments += ["--target-host", TENANT_HOST]
        if not readdress:
            arguments += ["--unfence-sql", str(uploads / "unfence.sql")]
            arguments += ["--unfenced-sql", str(uploads / "unfenced.sql")]
    if vacuum:
        arguments += ["--vacuum-sql", str(uploads / "vacuum.sql")]
    if source_remote:
        arguments += ["--source-host", TENANT_HOST, "--source-database", "adx_tenant_acme"]
        arguments += ["--moved-sql", str(uploads / "moved.sql")]
    log = tmp_path / "log"
    log.touch()
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_LOG": str(log),
        "FAKE_STATE": state,
        "FAKE_STREAM": stream,
        **env_extra,
    }
    done = subprocess.run(
        ["bash", str(ops.RUNNER), *arguments], env=env, capture_output=True, text=True, check=False
    )
    return RunnerRun(
        done.returncode, done.stdout, done.stderr, log.read_text().splitlines(), work, pgpass
    )


def test_runner_captures_copies_catches_up_freezes_then_switches(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "source")
    assert run.returncode == 0, run.stderr
    assert run.scripts == [
        "state",
        "capture",  # the tenant's writes captured from here on
        "export",  # the copy, streamed into the new location
        "catch-up",
        "done",  # a pass that copied no more than --catch-up-rows: on to the freeze
        "freeze",
        "final",
        "done",
        "switch",
        "unfence",  # the remote new location's fence, lifted once the switch committed
        "unfenced",  # ... and recorded as lifted on the primary
        "cleanup",  # the old rows, after the switch
    ]
    work = run.work
    assert [line for line in run.log if line.startswith(("install", "flock"))] == [
        f"install -d -m 0700 -o postgres -g postgres {work}",
        "flock -w 3600 9",
        f"install -m 0600 -o postgres -g postgres {run.upload} {work}/acme.pgpass",
    ]
    targets = [line for line in run.log if "sslmode" in line]
    assert len(targets) == 4  # the copy, two passes, the unfence
    assert targets[0] == (
        "psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=terse "
        f"host={TENANT_HOST} port=5432 dbname=adx_tenant_acme user=adx_migrator "
        "sslmode=verify-full sslrootcert=/ca.crt connect_timeout=30 application_name=adx-move "
        f"PGPASSFILE={work}/acme.pgpass"
    )
    assert f"-v adx_done_file={work}/acme.done" in "\n".join(run.log)
    assert not any(PASSWORD in line for line in run.log)  # never in an argument
    assert "tenant acme: catch-up pass 1 copied 0 changed row(s) again" in run.stdout
    assert re.search(r"tenant acme: switched; its writes were frozen for \d+\.\d\d s", run.stdout)
    # the upload is gone at once, the installed copy, receipt and done list on exit
    assert not run.upload.exists()
    assert sorted(p.name for p in work.iterdir()) == ["acme.lock"]


def test_runner_catches_up_again_while_passes_copy_many_rows(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "source", FAKE_APPLIED="50")
    assert run.returncode == 0, run.stderr
    assert run.scripts.count("catch-up") == 3  # --catch-up-passes 3, each over 10 rows
    assert "tenant acme: catch-up pass 3 copied 50 changed row(s) again" in run.stdout


def test_runner_lifts_the_freeze_when_it_cannot_freeze(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "source", FAKE_FREEZE_FAILS="1")
    assert run.returncode == 1
    assert run.scripts[-2:] == ["freeze", "unfreeze"]
    assert "switch" not in run.scripts


def test_runner_copies_to_a_local_target_through_the_primarys_socket(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "source", remote=False)
    assert run.returncode == 0, run.stderr
    assert (
        "psql -X -q -A -t -v ON_ERROR_STOP=1 -p 5432 -v VERBOSITY=terse -d adx_tenant_acme "
        "PGPASSFILE="
    ) in run.log
    assert "switch" in run.scripts and "unfence" not in run.scripts
    assert sorted(p.name for p in run.work.iterdir()) == ["acme.lock"]


def test_runner_stops_when_another_deploy_moved_the_tenant(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "target")
    assert (run.returncode, run.stdout) == (0, "tenant acme: already moved by another deploy\n")
    # in case the run that switched could not lift the fence or delete the old rows
    assert run.scripts == ["state", "unfence", "unfenced", "cleanup"]


def test_runner_refuses_when_the_registry_points_elsewhere(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "other")
    assert run.returncode == 1
    assert run.stderr == (
        "tenant acme: the registry no longer says where this deploy found it; nothing was copied\n"
    )
    assert run.scripts == ["state"]


def test_runner_switches_nothing_when_the_copy_did_not_commit(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "source", stream="BEGIN;")
    assert run.returncode == 1
    assert run.stderr == "tenant acme: the copy did not commit; nothing was switched\n"
    assert "switch" not in run.scripts and "freeze" not in run.scripts
    assert sorted(p.name for p in run.work.iterdir()) == ["acme.lock"]  # cleaned up on exit


def test_runner_and_scripts_agree_on_the_receipt_and_the_done_file() -> None:
    runner = ops.RUNNER.read_text(encoding="utf-8")
    assert f"readonly COMMITTED={move_scripts.COMMITTED} " in runner
    assert f"readonly DONE_FILE_VARIABLE={move_catch_up.DONE_FILE_VARIABLE} " in runner
    export = move_scripts.render_export(_move(), ["users"], "10s")
    assert f"SELECT format('SELECT %L;', '{move_scripts.COMMITTED}');" in export
    tables = moves.MoveTables(["users"], frozenset(), keys={"users": ("id",)})
    catch_up = move_scripts.render_catch_up(_move(), tables, "10s")
    assert f"\\o :{move_catch_up.DONE_FILE_VARIABLE}\n" in catch_up
    # psql reads the list on the primary (the old location may be another host's database)
    done = move_catch_up.render_catch_up_done(_move(), "/work/acme.done")
    assert "\\copy adx_done FROM '/work/acme.done'\n" in done
    with pytest.raises(ValueError, match="quotes or new lines"):
        move_catch_up.render_catch_up_done(_move(), "/work/a'b.done")


def test_leaving_a_schema_ends_its_roles_access_with_the_switch() -> None:
    """Access follows the registry: in the switch's own transaction the tenant's role loses
    login and CONNECT on adx_core; its sessions there end after the commit."""
    script = move_scripts.render_switch(_move("schema", "database"), ["users"], "10s")
    retire = _statement(script, "ALTER ROLE")
    assert 'ALTER ROLE "adx_tenant_acme" NOLOGIN;' in retire
    assert 'REVOKE CONNECT ON DATABASE "adx_core" FROM "adx_tenant_acme";' in retire
    order = ["UPDATE public.tenants", "INSERT INTO adx_migrations.tenant_fences", retire, "COMMIT;"]
    positions = [script.index(part) for part in order]
    assert positions == sorted(positions)
    end = _statement(script, "pg_terminate_backend")
    assert "usename = 'adx_tenant_acme' AND datname = 'adx_core'" in end
    assert script.index("COMMIT;") < script.index(end)


def test_a_tenant_going_to_a_database_of_the_same_cluster_keeps_its_login() -> None:
    script = move_scripts.render_switch(
        moves.plan_moves([_row("database", db_host=PRIMARY)], _registry(_row("schema")), PRIMARY)[
            0
        ],
        ["users"],
        "10s",
    )
    assert "NOLOGIN" not in script
    assert 'REVOKE CONNECT ON DATABASE "adx_core" FROM "adx_tenant_acme";' in script


def test_a_tenant_leaving_rls_has_no_role_to_retire() -> None:
    """The twin: out of the shared tables there is no own role, and the switch retires none."""
    script = move_scripts.render_switch(_move("rls", "schema"), ["users"], "10s")
    assert "ALTER ROLE" not in script and "pg_terminate_backend" not in script


def test_a_copy_on_the_primary_quiets_its_own_session() -> None:
    """Runs as postgres: it sets, for its transaction, what keeps its rows out of the log."""
    script = move_scripts.render_export(_move("rls", "schema"), ["users"], "10s")
    for name, value in COPY_SESSION_SETTINGS.items():
        assert f"SELECT format('SET LOCAL %I = %L;', '{name}', '{value}');" in script


def test_a_copy_into_a_dedicated_database_relies_on_its_roles_settings() -> None:
    """The twin: adx_migrator may not set them (they are the superuser's); its sessions in
    the dedicated database start with them instead (`copy_session_settings`)."""
    script = move_scripts.render_export(_move("rls", "database"), ["users"], "10s")
    assert "SET LOCAL %I" not in script


def test_the_switch_updates_the_location_only_and_names_the_held_route_lock() -> None:
    script = move_scripts.render_switch(_move("rls", "schema"), ["users"], "10s")
    update = _statement(script, "UPDATE public.tenants")
    assert "SET \"isolation_level\" = 'schema', \"db_schema\" = 'tenant_acme' WHERE" in update
    lock = _statement(script, "pg_advisory_xact_lock")
    assert "WHEN lock_not_available" in lock
    assert "tenant acme: a transaction of the tenant held its route lock" in lock


def test_the_new_location_is_fenced_from_the_copys_commit_to_the_switch() -> None:
    script = move_scripts.render_export(_move("rls", "database"), ["users"], "10s")
    unfence = _statement(script, "DELETE FROM adx_migrations.tenant_fences")
    fence = _statement(script, "INSERT INTO adx_migrations.tenant_fences")
    order = [unfence, "INSERT INTO %1$I.%2$I", fence, "SELECT 'COMMIT;';"]
    positions = [script.index(part) for part in order]
    assert positions == sorted(positions)  # a stale fence is lifted inside the copy only
    assert "'public', '00000000-0000-0000-0000-000000000001'" in fence


def test_the_switch_fences_the_old_location_and_lifts_a_local_new_ones() -> None:
    script = move_scripts.render_switch(_move("rls", "schema"), ["users"], "10s")
    fence = _statement(script, "INSERT INTO adx_migrations.tenant_fences")
    assert f"VALUES ('public', '{ACME}', 'tenant moved to schema (adx_core.tenant_acme)')" in fence
    unfence = _statement(script, "DELETE FROM adx_migrations.tenant_fences")
    assert f"target_schema = 'tenant_acme' AND tenant = '{ACME}'" in unfence
    assert script.index(fence) < script.index("COMMIT;")
    assert script.index(unfence) < script.index("COMMIT;")


def test_a_remote_new_locations_fence_is_lifted_by_its_own_script() -> None:
    move = _move("rls", "database")
    switch = move_scripts.render_switch(move, ["users"], "10s")
    assert "DELETE FROM adx_migrations.tenant_fences" not in switch  # not on the primary
    unfence = move_scripts.render_unfence(move)
    assert unfence == (
        "DELETE FROM adx_migrations.tenant_fences WHERE target_schema = 'public' "
        f"AND tenant = '{ACME}';\n"
    )


def test_a_remote_switch_marks_its_fence_pending_until_the_runner_lifts_it() -> None:
    move = _move("rls", "database")
    switch = move_scripts.render_switch(move, ["users"], "10s")
    pending = _statement(switch, "INSERT INTO adx_migrations.pending_unfences")
    assert f"VALUES ('{ACME}', '{TENANT_HOST}:adx_tenant_acme.public')" in pending
    assert switch.index(pending) < switch.index("COMMIT;")
    assert move_scripts.render_unfenced(move) == (
        f"DELETE FROM adx_migrations.pending_unfences WHERE tenant = '{ACME}';\n"
    )
    local = move_scripts.render_switch(_move("rls", "schema"), ["users"], "10s")
    assert "pending_unfences" not in local  # the twin: a local fence is lifted in the switch


def test_a_later_deploy_lifts_a_fence_a_failed_run_left_pending() -> None:
    row = _row("database")
    pending = {row.id: {**row.as_fact(), "unfence_pending": True}}
    [move] = moves.plan_unfences([row], pending, PRIMARY)
    assert (move.target.address, move.target.database) == (TENANT_HOST, "adx_tenant_acme")
    assert moves.plan_unfences([row], {row.id: row.as_fact()}, PRIMARY) == []  # none pending
    # still to move: the move itself lifts it
    assert moves.plan_unfences([_row("database")], _registry(_row("rls")), PRIMARY) == []
    run = _run(_facts(pending), [row])
    command = run.commands[-1].get_raw_value()
    assert "--mode unfence" in command and "--export-sql" not in command
    assert sorted(Path(dest).name for dest in run.uploads()) == [
        "acme.pgpass",
        "acme.sh",
        "acme.unfence.sql",
        "acme.unfenced.sql",
    ]


def test_runner_in_unfence_mode_only_lifts_the_fence(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "target", mode="unfence")
    assert run.returncode == 0, run.stderr
    assert run.scripts == ["unfence", "unfenced"]


# Out of a dedicated database, and re-addressed hosts --------------------------------------------


def _move_out(target: str = "rls", **changes: Any) -> moves.Move:
    [move] = moves.plan_moves(
        [_row(target, **changes)], _registry(_row("database")), PRIMARY, HOSTS
    )
    return move


def test_scripts_at_a_dedicated_database_do_not_look_for_the_registry() -> None:
    """The old location cannot see adx_core: the runner checked the registry first, under the
    tenant's move lock; the scripts there hold no registry guard and no route lock."""
    move = _move_out()
    tables = moves.MoveTables(["users"], frozenset(), keys={"users": ("id",)})
    scripts = {
        "capture": move_scripts.render_capture_start(move, 60),
        "export": move_scripts.render_export(move, ["users"], "10s"),
        "catch-up": move_scripts.render_catch_up(move, tables, "10s"),
        "freeze": move_scripts.render_freeze(move, "10s", 5),
    }
    for name, script in scripts.items():
        assert "public.tenants" not in script, name
        assert "pg_advisory_xact_lock" not in script, name
    assert 'INSERT INTO "adx_migrations"."tenant_fences"' in scripts["freeze"]
    # adx_migrator reads (and deletes) the tenant's rows there in the tenant's context only:
    # the policies are forced, and without it every read would see none of them
    context = 'PERFORM "public"."set_tenant_context"(\'' + ACME + "');"
    for name in ("export", "catch-up"):
        head = scripts[name].split("SELECT format(", 1)[0]
        assert context in head, name
    cleanup = move_catch_up.render_delete_old_rows(move, ["users"])
    assert cleanup.index(context) < cleanup.index('DELETE FROM "public"."users"')
    # the twin: out of a schema of adx_core, both are there
    local = move_scripts.render_freeze(_move("schema", "database"), "10s", 5)
    assert "public.tenants" in local and "pg_advisory_xact_lock" in local


def test_the_switch_out_of_a_dedicated_database_changes_only_the_primary() -> None:
    move = _move_out()
    switch = move_scripts.render_switch(move, ["users"], "10s")
    assert "UPDATE public.tenants" in switch and "pg_advisory_xact_lock" in switch
    # the frozen time, as the runner measured it; the new location (adx_core.public) unfenced
    assert ":adx_frozen_ms);" in _statement(switch, "move_history")
    assert _statement(switch, "DELETE FROM adx_migrations.tenant_fences").endswith(
        f"WHERE target_schema = 'public' AND tenant = '{ACME}';"
    )
    # the old location is left alone here: render_moved fences it for good there
    assert "INSERT INTO adx_migrations.tenant_fences" not in switch
    assert "move_captures" not in switch
    moved = move_scripts.render_moved(move)
    assert "INSERT INTO adx_migrations.tenant_fences" in moved
    assert "tenant moved to rls (adx_core.public)" in moved
    assert 'DELETE FROM "adx_migrations"."move_captures"' in moved


def test_a_new_database_on_the_primary_is_unfenced_after_the_switch_like_a_remote_one() -> None:
    """Its fence is in that database, not in adx_core: the switch marks it pending and the
    runner lifts it there (a DELETE in adx_core would lift nothing)."""
    move = _move_out("database", db_host=PRIMARY)
    assert move.target == moves.Location("adx_tenant_acme", "public", None)
    switch = move_scripts.render_switch(move, ["users"], "10s")
    assert "pending_unfences" in switch
    assert "DELETE FROM adx_migrations.tenant_fences" not in switch
    row = _row("database", db_host=PRIMARY)
    pending = {row.id: {**row.as_fact(), "unfence_pending": True}}
    [lift] = moves.plan_unfences([row], pending, PRIMARY)
    assert lift.target.database == "adx_tenant_acme"


def test_operation_reads_the_old_tables_on_their_host_and_passes_both_connections() -> None:
    tables = _tables(users=("tenant", True, []))
    with fake_host(
        {"facts.PgTenantTables": {"database=adx_tenant_acme, port=5432, schema=public": tables}}
    ) as other:
        pass
    with mock.patch.object(ops, "inventory_host", return_value=other) as lookup:
        run = _run(
            {"facts.PgTenantRegistry": {"port=5432": _registry(_row("database"))}},
            [_row("rls")],
            hosts=HOSTS,
        )
    lookup.assert_called_once_with("tenant1")
    command = run.commands[-1].get_raw_value()
    assert f"--source-host {TENANT_HOST}" in command and "--target-host" not in command
    assert "--source-database adx_tenant_acme --target-database adx_core" not in command
    assert (
        "--source-database adx_tenant_acme" in command and "--target-database adx_core" in command
    )
    uploads = run.uploads()
    pgpass = next(v for k, v in uploads.items() if k.endswith(".pgpass"))
    assert pgpass == f"{TENANT_HOST}:5432:adx_tenant_acme:adx_migrator:s3cr\\:et\\\\pw\n"
    assert any(k.endswith(".moved.sql") for k in uploads)
    assert not any(k.endswith(".unfence.sql") for k in uploads)  # adx_core: in the switch
    assert PASSWORD not in command


def test_operation_re_addresses_without_copying() -> None:
    row = _row("database", db_host="10.0.0.12")
    run = _run(_facts(_registry(_row("database"))), [row])
    command = run.commands[-1].get_raw_value()
    assert "--mode readdress" in command and "--target-host 10.0.0.12" in command
    assert "--source-host" not in command  # nothing is read there but which database it is
    names = sorted(Path(dest).name for dest in run.uploads())
    assert names == [
        "acme.identity.sql", "acme.pgpass", "acme.readdress-check.sql", "acme.sh",
        "acme.state.sql", "acme.switch.sql",
    ]  # fmt: skip
    pgpass = next(v for k, v in run.uploads().items() if k.endswith(".pgpass"))
    assert pgpass.splitlines() == [  # the new address, and the old one for its identity
        "10.0.0.12:5432:adx_tenant_acme:adx_migrator:s3cr\\:et\\\\pw",
        f"{TENANT_HOST}:5432:adx_tenant_acme:adx_migrator:s3cr\\:et\\\\pw",
    ]
    assert f"--old-host {TENANT_HOST}" in command
    switch = next(v for k, v in run.uploads().items() if k.endswith(".switch.sql"))
    assert "UPDATE public.tenants SET \"db_host\" = '10.0.0.12'" in switch
    assert "pg_advisory_xact_lock" in switch and "0);" in _statement(switch, "move_history")
    check = next(v for k, v in run.uploads().items() if k.endswith(".readdress-check.sql"))
    assert "'fenced'" in check and "'rows'" in check and "pg_control_system()" in check


def test_runner_moves_out_of_a_database_on_another_host(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "source", remote=False, source_remote=True)
    assert run.returncode == 0, run.stderr
    assert run.scripts == [
        "state", "capture", "export", "catch-up", "done", "freeze", "final", "done", "switch",
        "moved", "cleanup",
    ]  # fmt: skip
    # at the old location (over TLS, as the mover): everything but the registry's state and
    # switch (on the primary's socket), and the new location (adx_core: the socket too)
    tls = [line.removeprefix("where:tls:") for line in run.log if line.startswith("where:tls:")]
    assert tls == [
        "capture", "export", "catch-up", "done", "freeze", "final", "done", "moved", "cleanup",
    ]  # fmt: skip
    assert "-v adx_frozen_ms=" in "\n".join(run.log)


def test_runner_re_addresses_after_checking_the_new_address(tmp_path: Path) -> None:
    run = _run_runner(tmp_path, "source", mode="readdress", readdress=True)
    assert run.returncode == 0, run.stderr
    # at the new address first: it holds the tenant's rows, so on to the switch
    assert run.scripts == ["state", "readdress-check", "switch"]
    assert f"tenant acme: re-addressed: the registry points at {TENANT_HOST}" in run.stdout


def test_runner_re_addresses_an_empty_database_only_when_the_old_address_shows_it_too(
    tmp_path: Path,
) -> None:
    for name, identity, switched in (("same", "7:16384", True), ("other", "8:16384", False)):
        (tmp_path / name).mkdir()
        run = _run_runner(
            tmp_path / name, "source", mode="readdress", readdress=True,
            FAKE_CHECK="empty", FAKE_IDENTITY=identity,
        )  # fmt: skip
        assert ("switch" in run.scripts) is switched, name
        assert "identity" in run.scripts  # asked at the old address (5 s at most)
        assert any("10.0.0.9" in line and "connect_timeout=5" in line for line in run.log)
        if not switched:
            assert run.returncode == 1
            assert "is not the one registered at 10.0.0.9 (empty:" in run.stderr
    (tmp_path / "fenced").mkdir()
    fenced = _run_runner(
        tmp_path / "fenced", "source", mode="readdress", readdress=True, FAKE_CHECK="fenced"
    )
    assert fenced.returncode == 1 and "switch" not in fenced.scripts


def test_runner_reports_each_tables_copy_from_the_new_locations_progress_lines(
    tmp_path: Path,
) -> None:
    stream = (
        "\n\\warn adx-progress users 500 1048576\n\\warn adx-progress users 900 2097152\n"
        f"\\warn adx-progress files 3 100\n\\warn ERROR: something else\n{move_scripts.COMMITTED}"
    )
    run = _run_runner(tmp_path, "source", stream=stream)
    assert run.returncode == 0, run.stderr
    # the copy's two tables, once each (the stand-in's passes print the same stream again)
    lines = [line for line in run.stdout.splitlines() if ": copied " in line][:2]
    assert re.fullmatch(
        r"tenant acme: copied users: 900 rows, 2\.0 MB in \d+\.\d s \(\d+ rows/s, \d+\.\d MB/s\)",
        lines[0],
    )
    assert lines[1].startswith("tenant acme: copied files: 3 rows, 0.0 MB in ")
    assert "ERROR: something else" in run.stderr  # anything else is passed on
    assert "adx-progress" not in run.stdout + run.stderr


def test_a_new_location_of_the_tenants_own_is_vacuumed_after_the_copy() -> None:
    """So that the last pass counts its rows, under the freeze, from the visibility map; the
    shared tables of rls (every tenant's rows) are left to autovacuum."""
    vacuum = move_scripts.render_vacuum(_move("rls", "database"), ["users", "files"])
    assert vacuum == 'VACUUM (ANALYZE) "public"."users";\nVACUUM (ANALYZE) "public"."files";\n'
    schema = move_scripts.render_vacuum(_move("rls", "schema"), ["users"])
    assert schema == 'VACUUM (ANALYZE) "tenant_acme"."users";\n'
    assert move_scripts.render_vacuum(_move_out("rls"), ["users"]) is None


def test_runner_vacuums_after_the_copy_and_goes_on_when_it_fails(tmp_path: Path) -> None:
    for name, fails in (("ok", ""), ("failed", "1")):
        (tmp_path / name).mkdir()
        run = _run_runner(tmp_path / name, "source", vacuum=True, FAKE_VACUUM_FAILS=fails)
        assert run.returncode == 0, run.stderr
        scripts = [s for s in run.log if s.startswith("script:")]
        assert scripts.index("script:vacuum") < scripts.index("script:catch-up")
        assert ("VACUUM of the new location failed; the move goes on" in run.stderr) is bool(fails)


def test_the_inventorys_freeze_and_start_wait_are_used_to_the_millisecond() -> None:
    tables = _tables(users=("tenant", True, []))
    run = _run(
        _facts(_registry(_row("rls")), tables),
        [_row("schema")],
        settings=MoveSettings(freeze="250ms", start_wait="1500ms"),
    )
    uploads = run.uploads()
    freeze = next(v for k, v in uploads.items() if k.endswith(".freeze.sql"))
    capture = next(v for k, v in uploads.items() if k.endswith(".capture.sql"))
    assert "make_interval(secs => 0.25)" in freeze
    assert "make_interval(secs => 1.5)" in capture
