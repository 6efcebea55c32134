"""Where each migration stream goes (DESIGN.md decision 4), derived from the model."""

from __future__ import annotations

from adxdb.migrations import Target
from adxdb.model import MAIN_DATABASE, Environment
from adxdb.tenants import tenant_database, tenant_schema


def migration_targets(env: Environment, host_name: str) -> dict[str, list[Target]]:
    """Database -> its targets on `host_name`: the primary's main database gets both streams in
    `public` and the tenant stream in each schema tenant's schema; a dedicated tenant database
    gets both streams; replicas get nothing (they follow their primary). Offboarded tenants
    keep their data as it is: no more migrations."""
    host = env.hosts[host_name]
    if "replica" in host.groups:
        return {}
    targets: dict[str, list[Target]] = {}
    if "primary" in host.groups:
        targets[MAIN_DATABASE] = [Target(MAIN_DATABASE, "public", ("shared", "tenant"))]
        targets[MAIN_DATABASE] += [
            Target(MAIN_DATABASE, tenant_schema(t.slug), ("tenant",))
            for t in env.tenants
            if t.isolation == "schema" and t.state == "present"
        ]
    for tenant in env.tenants:
        if (
            tenant.isolation == "database"
            and tenant.host == host_name
            and tenant.state == "present"
        ):
            database = tenant_database(tenant.slug)
            targets[database] = [Target(database, "public", ("shared", "tenant"))]
    return targets
