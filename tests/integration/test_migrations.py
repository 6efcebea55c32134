"""The migration engine on real hosts: both streams applied once, ledger = files, RLS fails
closed, drift refused, a failing file leaves nothing, concurrent deploys apply each file once."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from adxdb.inventory import migration_files
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import (
    REPO,
    VENV_BIN,
    connect,
    converge,
    parse_results,
    run_deploy,
    variant_inventory,
)

LEDGER = (
    "SELECT stream || '/' || lpad(version::text, 3, '0') || '_' || name || '.sql ' || checksum "
    "FROM adx_migrations.ledger WHERE stream <> 'seed' AND target_schema = 'public' ORDER BY 1"
)
TENANT_A, TENANT_B = uuid.uuid4(), uuid.uuid4()


def _copy_migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(REPO / "sql" / "migrations", directory)
    return directory


def test_ledger_matches_the_files(test_env: HostsUnderTest) -> None:
    files = migration_files.discover()
    assert {m.stream for m in files} == {"shared", "tenant"}
    expected = sorted(f"{m.label} {m.checksum}" for m in files)
    assert test_env.psql("pg1", LEDGER, "adx_core").splitlines() == expected
    assert test_env.first.changed_ops["Migrations"] == 2  # adx_core; the tenant databases
    assert "Migrations" not in test_env.second.changed_ops


def test_every_tenant_table_has_forced_rls_and_a_closed_policy(test_env: HostsUnderTest) -> None:
    tables = test_env.psql(
        "pg1",
        "SELECT c.relname || ' ' || c.relrowsecurity || ' ' || c.relforcerowsecurity || ' ' || "
        "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public' ORDER BY 1",
        "adx_core",
    ).splitlines()
    assert len(tables) > 30
    for row in tables:
        name, enabled, forced, policies = row.split()
        assert (enabled, forced) == ("true", "true"), name
        assert int(policies) >= 1, name
    # Every policy that lets the application see or write rows compares tenant_id with the
    # context; the only others are the move fences, restrictive (they can only take away).
    open_policies = test_env.psql(
        "pg1",
        "SELECT string_agg(tablename || '.' || policyname, ',') FROM pg_policies "
        "WHERE schemaname = 'public' AND roles && ARRAY['public', 'adx_app']::name[] "
        "AND permissive = 'PERMISSIVE' AND coalesce(qual, '') || coalesce(with_check, '') !~ "
        "'current_setting\\(''app.current_tenant''|current_tenant_id\\(\\)'",
        "adx_core",
    )
    assert open_policies == ""
    fences = test_env.psql(
        "pg1",
        "SELECT string_agg(DISTINCT permissive || ' ' || cmd, ',') FROM pg_policies "
        "WHERE schemaname = 'public' AND policyname LIKE 'adx\\_fence\\_%'",
        "adx_core",
    )
    assert fences == "RESTRICTIVE INSERT,RESTRICTIVE UPDATE"


def _insert_user(conn: psycopg.Connection[object], tenant: uuid.UUID, email: str) -> None:
    with conn.transaction():
        conn.execute("SELECT set_tenant_context(%s)", (tenant,))
        conn.execute("INSERT INTO users (tenant_id, email) VALUES (%s, %s)", (tenant, email))


def test_app_sees_only_its_tenant_and_nothing_without_context(test_env: HostsUnderTest) -> None:
    port = test_env.pg_port("pg1")
    with connect("adx_app", port) as conn:
        _insert_user(conn, TENANT_A, "a@example.test")
        _insert_user(conn, TENANT_B, "b@example.test")
        # No context: nothing visible, nothing writable.
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO users (tenant_id, email) VALUES (%s, 'x@example.test')", (TENANT_A,)
            )
        with conn.transaction():
            conn.execute("SELECT set_config('app.current_tenant', '', true)")
            assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
        # With A's context: A's rows only; a write for B is rejected.
        with conn.transaction():
            conn.execute("SELECT set_tenant_context(%s)", (TENANT_A,))
            rows = conn.execute("SELECT DISTINCT tenant_id FROM users").fetchall()
            assert rows == [(TENANT_A,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("SELECT set_tenant_context(%s)", (TENANT_A,))
            conn.execute(
                "INSERT INTO users (tenant_id, email) VALUES (%s, 'c@example.test')", (TENANT_B,)
            )
        # The context is transaction-local: the next transaction sees nothing again.
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
    # Negative twin: the superuser on the host sees both tenants' rows, so the probe can see data.
    both = test_env.psql(
        "pg1",
        "SELECT count(DISTINCT tenant_id) FROM users "
        f"WHERE tenant_id IN ('{TENANT_A}', '{TENANT_B}')",
        "adx_core",
    )
    assert both == "2"


def test_migrated_objects_belong_to_the_owner_role(test_env: HostsUnderTest) -> None:
    owners = test_env.psql(
        "pg1",
        "SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
        "adx_core",
    )
    assert owners == "adx_owner"


def test_schema_design_rules_hold_in_every_migrated_database(test_env: HostsUnderTest) -> None:
    """SECURITY DEFINER functions pin search_path and are not PUBLIC's; views are
    security_invoker; the application and read-only roles hold data privileges only."""
    # One exception to "not PUBLIC's": adx_tenant_fenced(uuid), which every writing role's
    # fence policies call (a policy's functions run as the querying role); it answers one
    # boolean, whether a tenant id is fenced in its schema (checked below).
    definer = (
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
        "ON n.oid = p.pronamespace WHERE p.prosecdef AND n.nspname NOT LIKE 'pg\\_%' "
        "AND n.nspname <> 'information_schema' AND ("
        "NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%') "
        "OR (has_function_privilege('public', p.oid, 'EXECUTE') "
        "AND p.proname <> 'adx_tenant_fenced')) ORDER BY 1"
    )
    fenced = (
        "SELECT string_agg(DISTINCT pg_get_function_result(p.oid) || ' ' || p.provolatile::text "
        "|| ' ' || pg_get_function_identity_arguments(p.oid), ',') FROM pg_proc p "
        "WHERE p.proname = 'adx_tenant_fenced'"
    )
    views = (
        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND (n.nspname = 'public' "
        "OR n.nspname LIKE 'tenant\\_%') AND NOT coalesce('security_invoker=true' "
        "= ANY (c.reloptions), false) ORDER BY 1"
    )
    excess = (
        "SELECT a.grantee::regrole::text || ' ' || a.privilege_type || ' ' || c.oid::regclass "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a "
        "WHERE c.relkind IN ('r', 'p', 'v') AND (n.nspname = 'public' OR n.nspname LIKE "
        "'tenant\\_%') AND ((a.grantee = 'adx_app'::regrole AND a.privilege_type NOT IN "
        "('SELECT', 'INSERT', 'UPDATE', 'DELETE')) OR (a.grantee = 'adx_readonly'::regrole "
        "AND a.privilege_type <> 'SELECT')) ORDER BY 1"
    )
    # The twin: the probes see the objects they judge.
    counted = (
        "SELECT count(*) FILTER (WHERE p.prosecdef) > 0 AND (SELECT count(*) FROM pg_views "
        "WHERE schemaname = 'public') > 0 FROM pg_proc p "
        "WHERE p.pronamespace = 'public'::regnamespace"
    )
    for host, database in (("pg1", "adx_core"), ("tenant1", "adx_tenant_initech")):
        assert test_env.psql(host, counted, database) == "t"
        assert test_env.psql(host, definer, database) == ""
        assert test_env.psql(host, fenced, database) == "boolean s p_tenant_id uuid"
        assert test_env.psql(host, views, database) == ""
        assert test_env.psql(host, excess, database) == ""


def test_edited_applied_file_stops_the_deploy(test_env: HostsUnderTest, tmp_path: Path) -> None:
    directory = _copy_migrations(tmp_path)
    edited = directory / "tenant" / "003_auth_service_schema.sql"
    original = migration_files.MigrationFile("tenant", 3, "auth_service_schema", edited.read_text())
    edited.write_text(edited.read_text() + "\n-- an edit after the fact\n")
    new_file = directory / "tenant" / "009_after_drift.sql"
    new_file.write_text("CREATE TABLE after_drift (id int);\n")
    inventory = variant_inventory(tmp_path, {"migrations": {"directory": str(directory)}})
    before = test_env.psql("pg1", LEDGER, "adx_core")

    run = run_deploy(inventory)

    assert run.returncode != 0
    assert (
        "tenant/003_auth_service_schema.sql changed after it was applied to adx_core.public"
        in run.output
    )
    assert original.checksum in run.output
    assert (
        migration_files.MigrationFile("tenant", 3, "x", edited.read_text()).checksum in run.output
    )
    assert test_env.psql("pg1", LEDGER, "adx_core") == before
    assert test_env.psql("pg1", "SELECT to_regclass('after_drift') IS NULL", "adx_core") == "t"


def test_failing_migration_leaves_nothing(test_env: HostsUnderTest, tmp_path: Path) -> None:
    directory = _copy_migrations(tmp_path)
    (directory / "tenant" / "009_half_broken.sql").write_text(
        "CREATE TABLE half_broken (id int);\nSELECT * FROM no_such_table;\n"
    )
    inventory = variant_inventory(tmp_path, {"migrations": {"directory": str(directory)}})
    run = run_deploy(inventory)
    assert run.returncode != 0
    assert "tenant/009_half_broken.sql" in run.output
    assert 'relation "no_such_table" does not exist' in run.output
    assert test_env.psql("pg1", "SELECT to_regclass('half_broken') IS NULL", "adx_core") == "t"
    assert (
        test_env.psql(
            "pg1",
            "SELECT count(*) FROM adx_migrations.ledger WHERE name = 'half_broken'",
            "adx_core",
        )
        == "0"
    )
    # Nor any file: the failed run's script and its run folder are gone.
    for host in test_env.env.hosts:
        assert test_env.files_left(host) == []


def test_dry_run_lists_pending_files_and_changes_nothing(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    directory = _copy_migrations(tmp_path)
    (directory / "tenant" / "009_dry.sql").write_text("CREATE TABLE dry_probe (id int);\n")
    inventory = variant_inventory(tmp_path, {"migrations": {"directory": str(directory)}})
    run = run_deploy(inventory, "--dry")
    assert run.returncode == 0, run.output[-3000:]
    assert "pending migration adx_core.public: tenant/009_dry.sql" in run.output
    assert "shared/001_initial_schema.sql" not in run.output
    assert test_env.psql("pg1", "SELECT to_regclass('dry_probe') IS NULL", "adx_core") == "t"


def test_invalid_concurrent_index_is_rebuilt(test_env: HostsUnderTest) -> None:
    concurrent = next(m for m in migration_files.discover() if not m.transactional)
    index = concurrent.concurrent_indexes()[0]
    test_env.psql(
        "pg1",
        f"UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'public.{index}'::regclass",
        "adx_core",
    )
    run = converge(test_env.inventory)
    assert run.changed_ops == {"Migrations": 1}
    valid = test_env.psql(
        "pg1",
        f"SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.{index}'::regclass",
        "adx_core",
    )
    assert valid == "t"
    assert converge(test_env.inventory).changed_ops == {}


SLOW_DATABASES = (
    ("pg1", "adx_core"),
    ("tenant1", "adx_tenant_initech"),
    ("tenant1", "adx_tenant_umbrella"),
)


def test_concurrent_deploys_apply_each_migration_once(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    directory = _copy_migrations(tmp_path)
    # A shared-stream file: adx_core and each dedicated tenant database get it once.
    (directory / "shared" / "099_slow.sql").write_text(
        "SELECT pg_sleep(3);\nCREATE TABLE slow_probe (id int);\n"
    )
    inventory = variant_inventory(tmp_path, {"migrations": {"directory": str(directory)}})
    command = [str(VENV_BIN / "pyinfra"), "-y", str(inventory), str(REPO / "deploy.py")]
    try:
        runs = [
            subprocess.Popen(
                command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=600)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        assert all(parse_results(out).get("Migrations") == 2 for out in outputs)
        for host, database in SLOW_DATABASES:
            applied = test_env.psql(
                host, "SELECT count(*) FROM adx_migrations.ledger WHERE name = 'slow'", database
            )
            assert applied == "1", (host, database)
            probe = "SELECT to_regclass('public.slow_probe') IS NOT NULL"
            assert test_env.psql(host, probe, database) == "t"
    finally:
        for host, database in SLOW_DATABASES:
            test_env.psql(
                host,
                "DROP TABLE IF EXISTS public.slow_probe; "
                "DELETE FROM adx_migrations.ledger WHERE name = 'slow'",
                database,
            )
    assert converge(test_env.inventory).changed_ops == {}
