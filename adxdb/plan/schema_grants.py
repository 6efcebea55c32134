"""Tenant schemas and their grants (DESIGN.md decision 5): owner, who may use each schema, and
data privileges: a schema tenant's role on its whole schema (default privileges included), a
dedicated database's own role on the tenant stream's tables only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import sql

from adxdb import sqlfiles
from adxdb.contract import TENANT_ROLE_PREFIX
from adxdb.plan.tenants import SchemaSpec


def _render(statement: sql.Composable) -> str:
    return statement.as_string() + ";"


def plan_schemas(
    wanted: Mapping[str, SchemaSpec], current: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Statements that create tenant schemas and give (or take back) tenant roles' access.

    Only tenant roles (`adx_tenant_*`) are revoked: grants the migrations make to platform
    roles are theirs to manage.
    """
    statements: list[str] = []
    for schema, spec in wanted.items():
        have = current.get(schema)
        ident = sql.Identifier(schema)
        owner = sql.Identifier(spec.owner)
        if have is None:
            if not spec.create:
                continue  # the database is not there yet: the next run (after it) grants
            statements.append(
                _render(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(ident, owner)
                )
            )
            statements.append(_render(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident)))
            have = {"owner": spec.owner, "usage": [], "data_roles": []}
        elif have.get("owner") != spec.owner:
            statements.append(_render(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(ident, owner)))
        usage_now = set(have.get("usage", []))
        for role in sorted(set(spec.usage) - usage_now):
            statements.append(
                _render(
                    sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident, sql.Identifier(role))
                )
            )
        for role in sorted(usage_now - set(spec.usage)):
            if role.startswith(TENANT_ROLE_PREFIX):
                statements.append(
                    _render(
                        sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(
                            ident, sql.Identifier(role)
                        )
                    )
                )
        data_now = set(have.get("data_roles", []))
        if spec.tenant_tables_only:
            statements += _tenant_table_privileges(schema, spec, have)
            continue
        for role in sorted(set(spec.data_roles) - data_now):
            statements += _data_privileges(schema, spec.owner, role, grant=True)
        for role in sorted(data_now - set(spec.data_roles)):
            if role.startswith(TENANT_ROLE_PREFIX):
                statements += _data_privileges(schema, spec.owner, role, grant=False)
    return statements


def tenant_table_grants(schema: str, role: str) -> str:
    """`role` may read and write the tenant stream's tables of `schema` and nothing else of
    it (`sql/deploy/tenant_table_grants.sql`)."""
    template = sql.SQL(sqlfiles.load("deploy/tenant_table_grants"))
    statement = template.format(schema=sql.Literal(schema), role=sql.Literal(role))
    return _render(statement).strip()


def _tenant_table_privileges(schema: str, spec: SchemaSpec, have: Mapping[str, Any]) -> list[str]:
    """A dedicated database's public schema: its data roles hold privileges on the tenant
    stream's tables only. A database whose tables the ledger has not recorded (made by a
    deploy before it recorded them) keeps its grants as they are."""
    statements: list[str] = []
    grants: Mapping[str, Mapping[str, int]] = have.get("table_grants", {})
    recorded = int(have.get("tenant_tables", 0)) > 0
    defaults = set(have.get("data_roles", []))
    for role in sorted(spec.data_roles):
        held = grants.get(role, {"tenant_missing": 1, "other": 0})
        if not recorded and held.get("other", 0):
            continue
        if role in defaults:
            statements += _default_privileges(schema, spec.owner, role, grant=False)
        if held.get("tenant_missing", 0) or held.get("other", 0):
            statements.append(tenant_table_grants(schema, role))
    for role in sorted(set(grants) | defaults):
        if role in spec.data_roles or not role.startswith(TENANT_ROLE_PREFIX):
            continue
        held = grants.get(role, {})
        if role in defaults or held.get("tenant_granted", 0) or held.get("other", 0):
            statements += _data_privileges(schema, spec.owner, role, grant=False)
    return statements


def _default_privileges(schema: str, owner: str, role: str, grant: bool) -> list[str]:
    return _data_privileges(schema, owner, role, grant)[:3]


def _data_privileges(schema: str, owner: str, role: str, grant: bool) -> list[str]:
    """Data privileges on every table, sequence and function of the schema, now and later."""
    args = {"s": sql.Identifier(schema), "o": sql.Identifier(owner), "r": sql.Identifier(role)}
    if grant:
        templates = [
            "ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT USAGE ON SEQUENCES TO {r}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT EXECUTE ON FUNCTIONS TO {r}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
            "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {s} TO {r}",
        ]
    else:
        templates = [
            "ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} REVOKE ALL ON TABLES FROM {r}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} REVOKE ALL ON SEQUENCES FROM {r}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} REVOKE ALL ON FUNCTIONS FROM {r}",
            "REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
            "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {s} FROM {r}",
        ]
    return [_render(sql.SQL(template).format(**args)) for template in templates]
