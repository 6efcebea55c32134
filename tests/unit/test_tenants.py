"""Tenant state derived from the model, and its SQL plans, without a database."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adxdb.contract import COPY_SESSION_SETTINGS
from adxdb.inventory.model import Environment
from adxdb.plan.catalog import plan_registry
from adxdb.plan.schema_grants import plan_schemas
from adxdb.plan.tenants import (
    copy_session_settings,
    databases_for_host,
    migration_targets,
    registered_here,
    registry_bound_roles,
    registry_rows,
    retired_roles_for_host,
    roles_for_host,
    schemas_for_host,
)


def _env(**tenants: Any) -> Environment:
    return Environment.model_validate(
        {
            "name": "test",
            "tls": {"mode": "generate"},
            "hosts": {
                "pg1": {"address": "10.0.0.1", "ssh": {"hostname": "pg1"}, "groups": ["primary"]},
                "t1": {
                    "address": "10.0.0.2",
                    "ssh": {"hostname": "t1"},
                    "groups": ["tenant_hosts"],
                },
            },
            "tenants": [
                {"slug": "acme", "id": str(UUID(int=1)), "name": "Acme"},
                {"slug": "globex", "id": str(UUID(int=2)), "name": "Globex", "isolation": "schema"},
                {
                    "slug": "initech",
                    "id": str(UUID(int=3)),
                    "name": "Initech",
                    "isolation": "database",
                    "host": "t1",
                    **tenants.get("initech", {}),
                },
            ],
        }
    )


def test_each_host_gets_the_roles_of_the_tenants_it_holds() -> None:
    env = _env()
    assert "adx_tenant_globex" in roles_for_host(env, "pg1")
    assert "adx_tenant_initech" not in roles_for_host(env, "pg1")
    assert "adx_tenant_initech" in roles_for_host(env, "t1")
    assert "adx_tenant_acme" not in roles_for_host(env, "pg1")  # rls tenants have no role


def test_dedicated_database_lives_on_its_host_only() -> None:
    env = _env()
    assert set(databases_for_host(env, "pg1")) == {"adx_core", "postgres", "template1"}
    assert set(databases_for_host(env, "t1")) == {
        "adx_tenant_initech",
        "postgres",
        "template1",
    }
    assert "adx_tenant_globex" in databases_for_host(env, "pg1")["adx_core"].connect
    database = databases_for_host(env, "t1")["adx_tenant_initech"]
    assert database.owner == "adx_owner"
    assert "adx_tenant_initech" in database.connect and "adx_app" in database.connect


def test_offboarded_tenant_keeps_its_database_but_loses_access() -> None:
    env = _env(initech={"state": "absent"})
    assert roles_for_host(env, "t1")["adx_tenant_initech"].login is False
    assert "adx_tenant_initech" not in databases_for_host(env, "t1")["adx_tenant_initech"].connect
    assert migration_targets(env, "t1") == {}
    row = next(r for r in registry_rows(env) if r.slug == "initech")
    assert row.status == "archived"


def test_migration_targets_come_from_the_model() -> None:
    env = _env()
    targets = migration_targets(env, "pg1")
    assert [(t.schema, t.streams) for t in targets["adx_core"]] == [
        ("public", ("shared", "tenant")),
        ("tenant_globex", ("tenant",)),
    ]
    assert [
        (t.database, t.streams) for t in migration_targets(env, "t1")["adx_tenant_initech"]
    ] == [("adx_tenant_initech", ("shared", "tenant"))]


def test_registry_rows_carry_level_and_location() -> None:
    rows = {r.slug: r.as_fact() for r in registry_rows(_env())}
    assert rows["acme"]["db_schema"] == "public" and rows["acme"]["db_host"] is None
    assert rows["globex"]["db_schema"] == "tenant_globex"
    assert rows["initech"]["db_host"] == "10.0.0.2"
    assert rows["initech"]["db_name"] == "adx_tenant_initech"


def test_registry_plan_updates_only_the_columns_that_differ() -> None:
    """An existing row gets an UPDATE of what differs, never an upsert: `INSERT ... ON
    CONFLICT DO UPDATE` locks the row FOR UPDATE, which waits for (and makes wait) every
    foreign-key check of the tenant's ordinary writes."""
    rows = registry_rows(_env())
    current = {r.id: r.as_fact() for r in rows}
    assert plan_registry(rows, current) == []
    current[rows[0].id] = {**current[rows[0].id], "name": "Old name"}
    (statement,) = plan_registry(rows, current)
    assert statement.startswith(
        "DO $adx_registry$ BEGIN UPDATE public.tenants SET \"name\" = 'Acme'"
    )
    assert f"WHERE id = '{rows[0].id}';" in statement
    assert '"slug"' not in statement and "ON CONFLICT" not in statement
    assert "WHEN lock_not_available THEN RAISE EXCEPTION" in statement
    assert "tenant acme: its registry row stayed locked longer than lock_timeout" in statement


def test_registry_plan_inserts_a_new_tenants_row() -> None:
    rows = registry_rows(_env())
    current = {r.id: r.as_fact() for r in rows[1:]}
    statement, unfence = plan_registry(rows, current)
    assert statement.startswith('INSERT INTO public.tenants ("id", "slug"')
    assert statement.endswith("ON CONFLICT (id) DO NOTHING;")
    # a fence left where a move once took a tenant away does not hold a new one off
    assert unfence == (
        f"DELETE FROM adx_migrations.tenant_fences WHERE tenant = '{rows[0].id}' "
        "AND target_schema = 'public';"
    )


def test_schema_plan_creates_grants_and_revokes_tenant_roles_only() -> None:
    wanted = schemas_for_host(_env(), "pg1")["adx_core"]
    statements = plan_schemas(wanted, {})
    assert statements[0] == 'CREATE SCHEMA IF NOT EXISTS "tenant_globex" AUTHORIZATION "adx_owner";'
    assert 'REVOKE ALL ON SCHEMA "tenant_globex" FROM PUBLIC;' in statements
    assert any("GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO" in s for s in statements)
    converged = {
        "tenant_globex": {
            "owner": "adx_owner",
            "usage": ["adx_app", "adx_readonly", "adx_tenant_globex", "adx_monitor"],
            "data_roles": ["adx_tenant_globex", "adx_app"],
        }
    }
    assert plan_schemas(wanted, converged) == []  # platform grants are left alone
    stale = {
        "tenant_globex": {
            **converged["tenant_globex"],
            "usage": [*converged["tenant_globex"]["usage"], "adx_tenant_other"],
        }
    }
    assert plan_schemas(wanted, stale) == [
        'REVOKE ALL ON SCHEMA "tenant_globex" FROM "adx_tenant_other";'
    ]


def test_drop_needs_absent_and_an_own_schema_or_database() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="drop: is only allowed with state 'absent'"):
        _env(initech={"drop": True})
    env = _env(initech={"state": "absent", "drop": True})
    assert "adx_tenant_initech" not in databases_for_host(env, "t1")
    assert "adx_tenant_initech" not in roles_for_host(env, "t1")


def test_a_dropped_tenants_role_is_retired_on_its_host_only() -> None:
    env = _env(initech={"state": "absent", "drop": True})
    assert "adx_tenant_initech" not in roles_for_host(env, "t1")
    assert retired_roles_for_host(env, "t1") == ["adx_tenant_initech"]
    assert retired_roles_for_host(env, "pg1") == []


def test_no_role_is_retired_while_its_tenant_is_kept() -> None:
    """Negative twin: an offboarded tenant whose data stays keeps a (login-less) managed role."""
    env = _env(initech={"state": "absent"})
    assert retired_roles_for_host(env, "t1") == []
    assert roles_for_host(env, "t1")["adx_tenant_initech"].login is False


def test_roles_of_tenants_declared_elsewhere_follow_the_registry_on_the_primary() -> None:
    """Every tenant not placed in a schema of the primary may still have a role there (a
    schema tenant moving away): the registry decides whether it keeps its access."""
    env = _env()
    bound = registry_bound_roles(env, "pg1")
    assert bound == {str(UUID(int=1)): "adx_tenant_acme", str(UUID(int=3)): "adx_tenant_initech"}
    assert registry_bound_roles(env, "t1") == {}  # dedicated hosts: no registry


def test_registered_here_means_a_schema_of_the_primarys_main_database() -> None:
    schema = {"isolation_level": "schema", "db_host": None, "db_name": "adx_core"}
    assert registered_here(schema)
    assert not registered_here({**schema, "isolation_level": "rls"})
    assert not registered_here({**schema, "db_host": "10.0.0.2"})
    assert not registered_here(None)


def test_the_copy_role_starts_quiet_in_each_dedicated_database() -> None:
    env = _env()
    assert copy_session_settings(env, "t1") == {
        "adx_tenant_initech": {"adx_migrator": COPY_SESSION_SETTINGS}
    }
    assert copy_session_settings(env, "pg1") == {}
    assert copy_session_settings(_env(initech={"state": "absent", "drop": True}), "t1") == {}
