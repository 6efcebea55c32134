"""Least privilege and secrets on real hosts: the system databases are the superuser's, a
dropped tenant's role cannot log in, a migration's backfill reaches every tenant's rows, and a
password rotation leaves no verifier in statistics, tables, the server log or the output."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import psycopg
import pytest

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import (
    REPO,
    STATE_DIR,
    connect,
    converge,
    password,
    variant_inventory,
)

VERIFIER = re.compile(r"SCRAM-SHA-256\$\d+:")
LOGIN_ROLES = ("adx_migrator", "adx_app", "adx_readonly", "adx_monitor")


@pytest.mark.parametrize("database", ["postgres", "template1"])
@pytest.mark.parametrize("role", LOGIN_ROLES)
def test_no_login_role_connects_to_a_system_database(
    test_env: HostsUnderTest, role: str, database: str
) -> None:
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        connect(role, test_env.pg_port("pg1"), dbname=database)


def test_the_superuser_still_connects_to_the_system_databases(test_env: HostsUnderTest) -> None:
    """Negative twin: the probe's databases are there and open to their owner."""
    for database in ("postgres", "template1"):
        assert test_env.psql("pg1", "SELECT current_user", database) == "postgres"
    acl = test_env.psql("pg1", "SELECT datacl::text FROM pg_database WHERE datname = 'postgres'")
    assert acl == "{postgres=CTc/postgres}"  # PUBLIC's CONNECT and TEMPORARY are gone


def test_a_migration_backfill_updates_every_tenants_rows(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(REPO / "sql" / "migrations", directory)
    (directory / "tenant" / "090_backfill_probe.sql").write_text(
        "ALTER TABLE users ADD COLUMN IF NOT EXISTS backfill_probe boolean;\n"
        "UPDATE users SET backfill_probe = true;\n"
    )
    total = int(test_env.psql("pg1", "SELECT count(*) FROM public.users", "adx_core"))
    tenants = int(
        test_env.psql("pg1", "SELECT count(DISTINCT tenant_id) FROM public.users", "adx_core")
    )
    assert total > 0 and tenants > 1  # the test seed's users of several tenants
    try:
        converge(variant_inventory(tmp_path, {"migrations": {"directory": str(directory)}}))
        counts = "SELECT count(*) FILTER (WHERE backfill_probe), count(*) FROM public.users"
        assert test_env.psql("pg1", counts, "adx_core") == f"{total}|{total}"
        # Negative twin: a row the backfill did not touch is seen as such.
        tenant = test_env.psql("pg1", "SELECT tenant_id FROM public.users LIMIT 1", "adx_core")
        test_env.psql(
            "pg1",
            f"INSERT INTO public.users (tenant_id, email) VALUES ('{tenant}', 'late@probe.test')",
            "adx_core",
        )
        assert test_env.psql("pg1", counts, "adx_core") == f"{total}|{total + 1}"
    finally:
        _forget_probe_migration(test_env)


def _forget_probe_migration(test_env: HostsUnderTest) -> None:
    """Take the probe migration back everywhere it went, so the real inventory converges."""
    targets = {
        "pg1": {"adx_core": ["public", "tenant_globex", "tenant_hooli"]},
        "tenant1": {"adx_tenant_initech": ["public"], "adx_tenant_umbrella": ["public"]},
    }
    for host, databases in targets.items():
        for database, schemas in databases.items():
            for schema in schemas:
                test_env.psql(
                    host,
                    f"DELETE FROM {schema}.users WHERE email = 'late@probe.test'; "
                    f"ALTER TABLE {schema}.users DROP COLUMN IF EXISTS backfill_probe",
                    database,
                )
            test_env.psql(
                host,
                "DELETE FROM adx_migrations.ledger WHERE stream = 'tenant' AND version = 90",
                database,
            )


def _secrets() -> list[str]:
    return [path.read_text().strip() for path in (STATE_DIR / "secrets").glob("*.password")]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    found = [f"verifier at {m.start()}" for m in VERIFIER.finditer(text)]
    return found + [f"password #{i}" for i, s in enumerate(secrets) if s in text]


def test_a_rotation_under_full_statistics_and_logging_leaves_no_verifier(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    noisy = {
        "shared_preload_libraries": "pg_stat_statements",
        "pg_stat_statements.track": "all",
        "pg_stat_statements.track_utility": True,
        "log_min_duration_statement": 0,
        "max_connections": 100,
        "work_mem": "4MB",
    }
    converge(variant_inventory(tmp_path / "noisy", {"postgres": {"settings": noisy}}))
    statistics_database = {"pg1": "adx_core", "tenant1": "adx_tenant_initech"}
    server_log = "/var/log/postgresql/postgresql-15-main.log"
    try:
        for host, database in statistics_database.items():
            test_env.psql(host, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", database)
        # Negative twin: statistics keep a utility statement carrying a verifier word for word
        # (an ALTER ROLE ... PASSWORD would be kept the same way).
        test_env.psql("pg1", "DO $$ BEGIN PERFORM 'SCRAM-SHA-256$1:probe'; END $$", "adx_core")
        statements = "SELECT string_agg(query, E'\\n') FROM pg_stat_statements"
        assert "SCRAM-SHA-256$1:probe" in test_env.psql("pg1", statements, "adx_core")
        for host, database in statistics_database.items():
            test_env.psql(host, "SELECT pg_stat_statements_reset()", database)
        # The twin's own line stays in the log: only what the rotation wrote is searched.
        logged_before = {
            host: len(test_env.run(host, "cat", server_log)) for host in test_env.database_hosts
        }
        assert VERIFIER.search(test_env.run("pg1", "cat", server_log))  # the log probe can fail

        rotated = {}
        roles = {}
        for role in ("adx_migrator", "adx_app", "adx_readonly", "adx_monitor", "adx_replication"):
            secret = tmp_path / f"{role}.password"
            secret.write_text(f"rotated-{role}-Q8w2\n")
            rotated[role] = f"rotated-{role}-Q8w2"
            roles[role] = {"password": {"file": str(secret)}}
        inventory = variant_inventory(tmp_path, {"roles": roles, "postgres": {"settings": noisy}})
        run = converge(inventory, "-vvv")
        assert run.changed_ops.get("ADX roles") == 2
        secrets = [*_secrets(), *rotated.values()]
        assert _leaks(run.output, secrets) == []
        for host in test_env.database_hosts:
            seen = test_env.psql(host, statements, statistics_database[host])
            assert _leaks(seen or "", secrets) == []
            log = test_env.run(host, "cat", server_log)[logged_before[host] :]
            assert "duration:" in log  # every statement is logged with its duration
            assert _leaks(log, secrets) == []
            dump = test_env.run(host, "pg_dumpall", "--data-only", "--no-role-passwords")
            assert _leaks(dump, secrets) == []
        with connect("adx_app", test_env.pg_port("pg1"), password=rotated["adx_app"]) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("adx_app",)
    finally:
        for host, database in statistics_database.items():
            test_env.psql(host, "DROP EXTENSION IF EXISTS pg_stat_statements", database)
        # The twin's line must not stay in the log other tests search (rewritten in place:
        # the server appends to the same file).
        test_env.run(
            "pg1",
            "sh",
            "-c",
            f"grep -v 'SCRAM-SHA-256[$]1:probe' {server_log} > {server_log}.kept; "
            f"cat {server_log}.kept > {server_log}; rm {server_log}.kept",
        )


def test_a_dedicated_tenant_role_holds_data_privileges_on_tenant_tables_only(
    test_env: HostsUnderTest,
) -> None:
    role, database = "adx_tenant_initech", "adx_tenant_initech"
    query = (
        "SELECT string_agg(c.relname || ':' || s.stream, ',' ORDER BY c.relname) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN adx_migrations.stream_tables s ON s.relation = c.oid "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        f"AND has_table_privilege('{role}', c.oid, 'SELECT')"
    )
    held = test_env.psql("tenant1", query, database).split(",")
    assert "users:tenant" in held and "files:tenant" in held  # the probe sees the grants
    assert [entry for entry in held if not entry.endswith(":tenant")] == []
    shared = test_env.psql(
        "tenant1",
        "SELECT count(*) FROM adx_migrations.stream_tables WHERE stream = 'shared'",
        database,
    )
    assert int(shared) > 0  # the shared stream's tables are there, and not the role's
    with connect(
        role, test_env.pg_port("tenant1"), dbname=database, password=password(role)
    ) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() is not None
        for denied in ("SELECT count(*) FROM tenants", "SELECT * FROM adx_health_status()"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(denied)
    # Negative twin: the platform's monitoring role may read what the tenant role may not.
    with connect("adx_monitor", test_env.pg_port("tenant1"), dbname=database) as conn:
        assert conn.execute("SELECT count(*) FROM adx_health_status()").fetchone() is not None
