"""Tenants at their isolation levels, converged from the inventory; each isolation probe has
a negative twin that shows the probe can succeed."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import connect, converge, password, variant_inventory

GLOBEX = uuid.UUID("3f1c9a52-6b0e-4d8a-9f3e-2a7b5c1d0e02")
HOOLI = uuid.UUID("3f1c9a52-6b0e-4d8a-9f3e-2a7b5c1d0e04")
REGISTRY = (
    "SELECT slug || ' ' || isolation_level || ' ' || status || ' ' || coalesce(db_host, '-') "
    "|| ' ' || db_name || ' ' || db_schema FROM tenants "
    "WHERE slug NOT LIKE 'test\\_%' ORDER BY slug"
)


def test_registry_records_every_tenant_level_and_location(test_env: HostsUnderTest) -> None:
    tenant_host = test_env.env.hosts["tenant1"].address
    assert test_env.psql("pg1", REGISTRY, "adx_core").splitlines() == [
        "acme rls active - adx_core public",
        "globex schema active - adx_core tenant_globex",
        "hooli schema active - adx_core tenant_hooli",
        f"initech database active {tenant_host} adx_tenant_initech public",
        f"umbrella database active {tenant_host} adx_tenant_umbrella public",
    ]


def test_schema_tenants_get_the_tenant_stream(test_env: HostsUnderTest) -> None:
    ledger = (
        "SELECT target_schema || ' ' || count(*) FROM adx_migrations.ledger "
        "WHERE stream = 'tenant' GROUP BY target_schema ORDER BY 1"
    )
    tenant_files = test_env.psql("pg1", ledger, "adx_core").splitlines()
    assert tenant_files == ["public 7", "tenant_globex 7", "tenant_hooli 7"]


def test_database_tenants_live_on_their_host_with_both_streams(test_env: HostsUnderTest) -> None:
    for database in ("adx_tenant_initech", "adx_tenant_umbrella"):
        exists = f"SELECT count(*) FROM pg_database WHERE datname = '{database}'"
        assert test_env.psql("tenant1", exists) == "1"
        assert test_env.psql("pg1", exists) == "0"
        streams = "SELECT string_agg(DISTINCT stream, ',') FROM adx_migrations.ledger"
        assert test_env.psql("tenant1", streams, database) == "shared,tenant"
        public_grants = (
            "SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a "
            f"WHERE d.datname = '{database}' AND a.grantee = 0"
        )
        assert test_env.psql("tenant1", public_grants) == "0"


def _tenant_connect(
    test_env: HostsUnderTest, slug: str, host: str, dbname: str
) -> psycopg.Connection[object]:
    role = f"adx_tenant_{slug}"
    return connect(role, test_env.pg_port(host), dbname=dbname, password=password(role))


def test_tenant_role_uses_its_schema_and_no_other(test_env: HostsUnderTest) -> None:
    with _tenant_connect(test_env, "globex", "pg1", "adx_core") as conn:
        with conn.transaction():
            conn.execute("SELECT tenant_globex.set_tenant_context(%s)", (GLOBEX,))
            conn.execute(
                "INSERT INTO tenant_globex.users (tenant_id, email) VALUES (%s, 'g@globex.test')",
                (GLOBEX,),
            )
            assert conn.execute("SELECT count(*) FROM tenant_globex.users").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM tenant_hooli.users")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM public.users")


def test_tenant_role_connects_to_its_database_only(test_env: HostsUnderTest) -> None:
    with _tenant_connect(test_env, "initech", "tenant1", "adx_tenant_initech") as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("adx_tenant_initech",)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        _tenant_connect(test_env, "initech", "tenant1", "adx_tenant_umbrella")
    # On the primary the role does not even exist.
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _tenant_connect(test_env, "initech", "pg1", "adx_core")


def test_pooled_connection_does_not_carry_a_tenant_context(test_env: HostsUnderTest) -> None:
    with connect("adx_app", test_env.pg_port("pg1")) as probe:
        conninfo = probe.info.dsn
    with ConnectionPool(
        conninfo, min_size=1, max_size=1, kwargs={"password": password("adx_app")}, open=True
    ) as pool:
        with pool.connection() as conn, conn.transaction():
            conn.execute("SELECT set_tenant_context(%s)", (GLOBEX,))
            conn.execute("SET LOCAL search_path = tenant_globex, public")
            seen = conn.execute("SELECT count(*) FROM users").fetchone()
            assert seen is not None and seen[0] >= 1  # the twin: with the context, rows show
        with pool.connection() as conn:  # the same (only) connection, next use
            assert conn.execute("SELECT count(*) FROM tenant_globex.users").fetchone() == (0,)
            assert conn.execute("SELECT current_tenant_id()").fetchone() == (None,)


def test_one_more_database_tenant_changes_exactly_that(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    tenants = [t.model_dump(mode="json", exclude_defaults=True) for t in test_env.env.tenants]
    tenants.append(
        {
            "slug": "wayne",
            "id": str(uuid.uuid4()),
            "name": "Wayne",
            "isolation": "database",
            "host": "tenant1",
        }
    )
    inventory = variant_inventory(tmp_path, {"tenants": tenants})
    run = converge(inventory)
    assert run.changed_ops == {
        "ADX roles": 1,
        "ADX databases": 1,
        "Tenant schemas": 1,
        "Migrations": 1,
        "Tenants registry": 1,
    }
    assert (
        test_env.psql(
            "tenant1", "SELECT count(*) FROM pg_database WHERE datname = 'adx_tenant_wayne'"
        )
        == "1"
    )
    assert (
        test_env.psql("pg1", "SELECT count(*) FROM pg_database WHERE datname = 'adx_tenant_wayne'")
        == "0"
    )
    assert converge(inventory).changed_ops == {}


def test_offboarding_revokes_access_and_keeps_data(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    with _tenant_connect(test_env, "hooli", "pg1", "adx_core") as conn, conn.transaction():
        conn.execute("SELECT tenant_hooli.set_tenant_context(%s)", (HOOLI,))
        conn.execute(
            "INSERT INTO tenant_hooli.users (tenant_id, email) VALUES (%s, 'h@hooli.test')",
            (HOOLI,),
        )
    tenants = [t.model_dump(mode="json", exclude_defaults=True) for t in test_env.env.tenants]
    for tenant in tenants:
        if tenant["slug"] == "hooli":
            tenant["state"] = "absent"
    offboarded = variant_inventory(tmp_path, {"tenants": tenants})
    run = converge(offboarded)
    # Login, CONNECT on adx_core, the schema and its tables: all revoked; the registry says so.
    assert run.changed_ops == {
        "ADX roles": 1,
        "ADX databases": 1,
        "Tenant schemas": 1,
        "Tenants registry": 1,
    }
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        _tenant_connect(test_env, "hooli", "pg1", "adx_core")
    assert (
        test_env.psql("pg1", "SELECT status FROM tenants WHERE slug = 'hooli'", "adx_core")
        == "archived"
    )
    kept = test_env.psql(
        "pg1", f"SELECT count(*) FROM tenant_hooli.users WHERE tenant_id = '{HOOLI}'", "adx_core"
    )
    assert kept != "0"
    acl = test_env.psql(
        "pg1", "SELECT nspacl::text FROM pg_namespace WHERE nspname = 'tenant_hooli'", "adx_core"
    )
    assert "adx_tenant_hooli" not in acl
    assert converge(offboarded).changed_ops == {}


def test_tenant_connections_route_by_the_registry(test_env: HostsUnderTest) -> None:
    from adxdb.app.routing import TenantConnections, UnknownTenant
    from adxdb.app.settings import DatabaseSettings

    with connect("adx_app", test_env.pg_port("pg1")) as probe:
        url = probe.info.dsn + f" password={password('adx_app')}"
    settings = DatabaseSettings(
        DATABASE_URL=url, DB_MAX_CONNECTIONS=1, DB_ACQUIRE_TIMEOUT_SECONDS=10
    )
    with TenantConnections(settings) as tenants:
        with tenants.connection("initech") as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("adx_tenant_initech",)
            conn.execute(
                "INSERT INTO users (tenant_id, email) VALUES (current_tenant_id(), 'i@x.test')"
            )
            assert conn.execute("SELECT count(*) FROM users").fetchone() == (1,)
        with tenants.connection("globex") as conn:
            assert conn.execute("SELECT current_schema()").fetchone() == ("tenant_globex",)
            conn.execute(
                "INSERT INTO users (tenant_id, email) VALUES (current_tenant_id(), 'r@x.test')"
            )
            # Twin: the control plane is still there, by its qualified name.
            assert conn.execute("SELECT count(*) >= 0 FROM public.tenants").fetchone() == (True,)
        with (
            pytest.raises(psycopg.errors.UndefinedTable),
            tenants.connection("globex") as conn,
        ):
            # A schema tenant's path is its schema only: public's tables are not found by a
            # bare name, so no tenant row can land in the shared tables.
            conn.execute("SELECT count(*) FROM tenants")
        with tenants.connection("acme") as conn:
            assert conn.execute("SELECT current_schema()").fetchone() == ("public",)
            assert conn.execute("SELECT count(*) FROM tenant_globex.users").fetchone() == (0,)
        # The same pooled connection, borrowed without a tenant: no context, default path.
        with tenants.main.connection() as conn:
            assert conn.execute("SELECT current_tenant_id()").fetchone() == (None,)
            assert conn.execute("SELECT count(*) FROM tenant_globex.users").fetchone() == (0,)
            assert conn.execute("SELECT current_schema()").fetchone() == ("public",)
        with pytest.raises(UnknownTenant):
            tenants.route("no_such_tenant")


def test_drop_takes_a_final_dump_that_restores(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    with _tenant_connect(test_env, "hooli", "pg1", "adx_core") as conn, conn.transaction():
        conn.execute("SELECT tenant_hooli.set_tenant_context(%s)", (HOOLI,))
        conn.execute(
            "INSERT INTO tenant_hooli.users (tenant_id, email) VALUES (%s, 'dump@hooli.test')",
            (HOOLI,),
        )
    rows_before = test_env.psql("pg1", "SELECT count(*) FROM tenant_hooli.users", "adx_core")
    tenants = [t.model_dump(mode="json", exclude_defaults=True) for t in test_env.env.tenants]
    for tenant in tenants:
        if tenant["slug"] == "hooli":
            tenant.update(state="absent", drop=True)
    inventory = variant_inventory(tmp_path, {"tenants": tenants})

    run = converge(inventory)

    match = re.search(
        r"final dump at (/var/backups/adx/adx_core-tenant_hooli-\S+\.dump)", run.output
    )
    assert match is not None, run.output[-3000:]
    gone = "SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_hooli'"
    assert test_env.psql("pg1", gone, "adx_core") == "0"
    assert (
        test_env.psql("pg1", "SELECT status FROM tenants WHERE slug = 'hooli'", "adx_core")
        == "archived"
    )
    assert converge(inventory).changed_ops == {}
    test_env.run("pg1", "createdb", "hooli_restore_probe")
    try:
        test_env.run("pg1", "pg_restore", "-d", "hooli_restore_probe", match.group(1))
        restored = test_env.psql(
            "pg1", "SELECT count(*) FROM tenant_hooli.users", "hooli_restore_probe"
        )
        assert restored == rows_before != "0"
    finally:
        test_env.run("pg1", "dropdb", "hooli_restore_probe")
