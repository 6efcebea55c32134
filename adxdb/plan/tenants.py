"""Tenants as infrastructure state (DESIGN.md decision 5): which roles, databases, schemas,
migration targets and registry rows each host holds, derived from the model.

Names are the contract (`adxdb.contract`): role and database `adx_tenant_<slug>`, schema
`tenant_<slug>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from adxdb.contract import (
    COPY_SESSION_SETTINGS,
    MAIN_DATABASE,
    MIGRATOR_ROLE,
    OWNER_ROLE,
    PLATFORM_CONNECT_ROLES,
    PLATFORM_DATA_ROLES,
    REPLICATION_ROLE,
    SUPERUSER,
    SYSTEM_DATABASES,
    tenant_database,
    tenant_role,
    tenant_schema,
)
from adxdb.inventory.model import CONTRACT_DATABASES, Database, Environment, Role, Tenant
from adxdb.plan.migrations import Target


def own_role_tenants(env: Environment) -> list[Tenant]:
    """Tenants that have a role of their own: schema and database tenants, not dropped ones."""
    return [t for t in env.tenants if t.isolation in ("schema", "database") and not t.drop]


def dropped_tenants(env: Environment, host_name: str) -> list[Tenant]:
    """Offboarded tenants whose schema or database on this host is to be dumped and dropped."""
    return [t for t in env.tenants if t.drop and holds_tenant(env, t, host_name)]


def tenant_host(env: Environment, tenant: Tenant) -> str:
    """The inventory host holding the tenant's data (of a cluster Patroni runs: its first
    member, a name to reach the cluster by; its leader is found at run time)."""
    return env.tenant_cluster(tenant).members[0]


def holds_tenant(env: Environment, tenant: Tenant, host_name: str) -> bool:
    """Whether `host_name` is (a member of) the cluster holding the tenant's data."""
    return host_name in env.tenant_cluster(tenant).members


def dedicated_here(env: Environment, tenant: Tenant, host_name: str) -> bool:
    """Whether the tenant's dedicated database is on `host_name` (a dedicated host, or a
    member of the dedicated cluster)."""
    return tenant.isolation == "database" and holds_tenant(env, tenant, host_name)


@dataclass(frozen=True)
class SchemaSpec:
    """A schema's wanted owner, who may use it, and who gets data privileges on its tables
    (granted now and, through default privileges, on every table created later)."""

    owner: str
    usage: tuple[str, ...]
    data_roles: tuple[str, ...]
    create: bool = True
    # A dedicated database's public schema holds both streams: its data roles get the tenant
    # stream's tables only (per table, from the ledger's record), no default privileges.
    tenant_tables_only: bool = False


def roles_for_host(env: Environment, host_name: str) -> dict[str, Role]:
    """The contract roles plus the own roles of the tenants whose data this host holds. An
    offboarded tenant's role stays, without login."""
    roles = dict(env.roles)
    for tenant in own_role_tenants(env):
        if holds_tenant(env, tenant, host_name):
            roles[tenant_role(tenant.slug)] = Role(
                login=tenant.state == "present", connection_limit=tenant.connection_limit
            )
    return roles


def retired_roles_for_host(env: Environment, host_name: str) -> list[str]:
    """Own roles of tenants dropped from this host: they lose login where they still exist
    (the deploy never creates a role only to retire it)."""
    return [
        tenant_role(t.slug)
        for t in env.tenants
        if t.drop and t.isolation != "rls" and holds_tenant(env, t, host_name)
    ]


def registry_bound_roles(env: Environment, host_name: str) -> dict[str, str]:
    """On the primary: tenant id -> own role, for every tenant the inventory no longer places
    in a schema here whose role may still be here (a schema tenant of this primary moving to
    another level or host). Access follows the registry (DESIGN.md decision 10): while the
    registry still places the tenant here, its role keeps login and CONNECT on the main
    database, so a move that has not switched yet locks nobody out; once the registry points
    elsewhere (the move's switch), the role loses both, and no later deploy gives them back."""
    if "primary" not in env.hosts[host_name].groups:
        return {}
    managed = set(roles_for_host(env, host_name)) | set(retired_roles_for_host(env, host_name))
    return {
        str(t.id): tenant_role(t.slug)
        for t in env.tenants
        if not t.drop and tenant_role(t.slug) not in managed
    }


def registered_here(row: Mapping[str, Any] | None) -> bool:
    """Whether a registry row (the registry fact's shape) places its tenant in a schema of the
    primary's main database, where its own role logs in."""
    return (
        row is not None
        and row.get("isolation_level") == "schema"
        and row.get("db_host") is None
        and row.get("db_name") == MAIN_DATABASE
    )


def copy_session_settings(env: Environment, host_name: str) -> dict[str, dict[str, dict[str, str]]]:
    """Database -> role -> settings: in each dedicated tenant database of the host, the sessions
    of the role that copies a moving tenant's rows in (adx_migrator) log nothing of them."""
    return {
        tenant_database(t.slug): {MIGRATOR_ROLE: dict(COPY_SESSION_SETTINGS)}
        for t in env.tenants
        if dedicated_here(env, t, host_name) and not t.drop
    }


def databases_for_host(env: Environment, host_name: str) -> dict[str, Database]:
    """The databases of the host: the system ones (no one but postgres connects), the main
    database on the primary, and each dedicated tenant database placed on this host."""
    databases: dict[str, Database] = {
        name: Database(owner=SUPERUSER, connect=()) for name in SYSTEM_DATABASES
    }
    if env.cluster_of(host_name).ha:
        # pg_rewind (a failed leader rejoining) reads the new leader's files as
        # adx_replication, connected to `postgres`.
        databases["postgres"] = Database(owner=SUPERUSER, connect=(REPLICATION_ROLE,))
    if host_name in env.main_members():
        main = env.databases.get(MAIN_DATABASE, CONTRACT_DATABASES[MAIN_DATABASE])
        # Schema tenants' own roles connect to the main database, where their schema lives.
        schema_roles = tuple(
            tenant_role(t.slug)
            for t in env.tenants
            if t.isolation == "schema" and t.state == "present"
        )
        databases[MAIN_DATABASE] = main.model_copy(update={"connect": main.connect + schema_roles})
    for tenant in env.tenants:
        if not dedicated_here(env, tenant, host_name) or tenant.drop:
            continue
        own = (tenant_role(tenant.slug),) if tenant.state == "present" else ()
        databases[tenant_database(tenant.slug)] = Database(
            owner=OWNER_ROLE,
            connect=(*PLATFORM_CONNECT_ROLES, *own),
            connection_limit=tenant.connection_limit,
        )
    return databases


def schemas_for_host(env: Environment, host_name: str) -> dict[str, dict[str, SchemaSpec]]:
    """Database -> schema -> spec for the tenant schemas and dedicated databases on this host."""
    result: dict[str, dict[str, SchemaSpec]] = {}
    for tenant in own_role_tenants(env):
        if not holds_tenant(env, tenant, host_name):
            continue
        own = (tenant_role(tenant.slug),) if tenant.state == "present" else ()
        if tenant.isolation == "schema":
            result.setdefault(MAIN_DATABASE, {})[tenant_schema(tenant.slug)] = SchemaSpec(
                owner=OWNER_ROLE, usage=(*PLATFORM_DATA_ROLES, *own), data_roles=own
            )
        else:
            result.setdefault(tenant_database(tenant.slug), {})["public"] = SchemaSpec(
                owner=OWNER_ROLE,
                usage=(*PLATFORM_DATA_ROLES, *own),
                data_roles=own,
                create=False,
                tenant_tables_only=True,
            )
    return result


@dataclass(frozen=True)
class RegistryRow:
    """One row of `public.tenants` in adx_core: the columns the deploy writes, in order; the
    registry fact (`sql/facts/registry.sql`) returns the same keys but `id`."""

    id: str
    slug: str
    name: str
    status: str
    isolation_level: str
    db_host: str | None
    db_port: int
    db_name: str
    db_schema: str

    def as_fact(self) -> dict[str, Any]:
        """The row as the registry fact shows it (keyed by id, so without it)."""
        return {column: getattr(self, column) for column in REGISTRY_COLUMNS}


# The registry columns the deploy writes, described once: RegistryRow's fields.
REGISTRY_COLUMNS = tuple(f.name for f in fields(RegistryRow) if f.name != "id")
# The columns that say where a tenant's data lives (a move changes them).
LOCATION_COLUMNS = ("isolation_level", "db_host", "db_name", "db_schema")


def registry_rows(env: Environment) -> list[RegistryRow]:
    """What the registry in adx_core says of every declared tenant: level and location (the
    address the application connects to), `archived` once offboarded."""
    rows: list[RegistryRow] = []
    for tenant in env.tenants:
        host, database, schema = None, MAIN_DATABASE, "public"
        if tenant.isolation == "schema":
            schema = tenant_schema(tenant.slug)
        elif tenant.isolation == "database":
            # Every member of its cluster, as libpq takes several hosts: the application
            # connects with target_session_attrs=read-write to whichever leads.
            members = env.tenant_cluster(tenant).members
            host = ",".join(env.hosts[m].address for m in members)
            database = tenant_database(tenant.slug)
        rows.append(
            RegistryRow(
                id=str(tenant.id),
                slug=tenant.slug,
                name=tenant.name,
                status="active" if tenant.state == "present" else "archived",
                isolation_level=tenant.isolation,
                db_host=host,
                db_port=env.postgres.port,
                db_name=database,
                db_schema=schema,
            )
        )
    return rows


def migration_targets(env: Environment, host_name: str) -> dict[str, list[Target]]:
    """Database -> its targets on `host_name`: the primary's main database gets both streams in
    `public` and the tenant stream in each schema tenant's schema; a dedicated tenant database
    gets both streams; replicas get nothing (they follow their primary). Offboarded tenants
    keep their data as it is: no more migrations."""
    host = env.hosts[host_name]
    if "replica" in host.groups:
        return {}
    targets: dict[str, list[Target]] = {}
    if host_name in env.main_members():
        targets[MAIN_DATABASE] = [Target(MAIN_DATABASE, "public", ("shared", "tenant"))]
        targets[MAIN_DATABASE] += [
            Target(MAIN_DATABASE, tenant_schema(t.slug), ("tenant",))
            for t in env.tenants
            if t.isolation == "schema" and t.state == "present"
        ]
    for tenant in env.tenants:
        if dedicated_here(env, tenant, host_name) and tenant.state == "present":
            database = tenant_database(tenant.slug)
            own = (tenant_role(tenant.slug),)
            targets[database] = [Target(database, "public", ("shared", "tenant"), own)]
    return targets
