"""Tenant state on a host: tenant schemas and their grants, the tenants registry, and the
final dump and drop of offboarded tenants. Moves: `operations.moves`."""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, operation

from adxdb.contract import MAIN_DATABASE, SCHEMAS_LOCK_KEY
from adxdb.plan.catalog import (
    hold_lock,
    plan_drop_database,
    plan_drop_schema,
    plan_lock_timeout,
    plan_registry,
)
from adxdb.plan.schema_grants import plan_schemas
from adxdb.plan.tenants import RegistryRow, SchemaSpec
from operations import fact_memo
from operations.facts import PgDatabases, PgSchemas, PgTenantRegistry, require
from operations.ha import on_standby
from operations.psql import run_sql_script

logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI


@operation()
def schemas(
    schemas: Mapping[str, Mapping[str, SchemaSpec]], port: int, leader_only: bool = False
) -> Generator[Any, None, None]:
    """
    Converge the tenant schemas of the host's databases: created owned by `adx_owner`, nothing
    for `PUBLIC`, USAGE for the platform data roles and the tenant's own role, and data
    privileges (now and by default) for the tenant's own role only.

    + schemas: database -> schema name -> wanted `SchemaSpec`
    + port: the cluster's port
    + lock_timeout: how long a row update waits for a tenant's transaction that holds the row

    One fact per database; one psql session per database that needs a change.
    + leader_only: an HA member: run only where the server is the leader (found now)

    **Example:**

    .. code:: python

        schemas(name="Tenant schemas", schemas={"adx_core": {"tenant_acme": SchemaSpec(...)}},
                port=5432)
    """
    if leader_only and on_standby(port):
        host.noop("schemas: written on the leader")
        return
    scripts: dict[str, str] = {}
    for database, wanted in schemas.items():
        current = require(
            fact_memo.read(PgSchemas, port=port, database=database),
            f"the schemas of {database}",
            port,
        )
        statements = plan_schemas(wanted, current)
        if statements:
            # Statements are idempotent; the lock makes concurrent deploys take turns.
            lock = hold_lock(SCHEMAS_LOCK_KEY, transaction=True)
            scripts[database] = "BEGIN;\n" + lock + "\n".join(statements) + "\nCOMMIT;\n"
    if not scripts:
        host.noop(f"tenant schemas of {', '.join(schemas)} are converged")
        return
    for database, script in scripts.items():
        yield from run_sql_script(port, database, script, f"schemas-{database}")


@operation()
def tenant_registry(
    rows: Sequence[RegistryRow], port: int, lock_timeout: str = "10s", leader_only: bool = False
) -> Generator[Any, None, None]:
    """
    Record every declared tenant's isolation level and location in adx_core's registry, so the
    application routes by it. Tenants the inventory does not declare are left as they are.

    + rows: the wanted registry rows
    + port: the cluster's port
    + leader_only: an HA member: run only where the server is the leader (found now)

    **Example:**

    .. code:: python

        tenant_registry(name="Tenants registry", rows=registry_rows(env), port=5432)
    """
    if leader_only and on_standby(port):
        host.noop("tenant registry: written on the leader")
        return
    current = require(fact_memo.read(PgTenantRegistry, port=port), "the tenants registry", port)
    statements = plan_registry(list(rows), current)
    if not statements:
        host.noop(f"registry holds {len(rows)} declared tenant(s)")
        return
    script = "BEGIN;\n" + plan_lock_timeout(lock_timeout) + "\n".join(statements) + "\nCOMMIT;\n"
    yield from run_sql_script(port, MAIN_DATABASE, script, "registry")


BACKUP_DIR = "/var/backups/adx"


@operation()
def dropped_tenant_data(
    schemas: Sequence[str],
    databases: Sequence[str],
    stamp: str,
    port: int,
    lock_timeout: str = "10s",
    leader_only: bool = False,
) -> Generator[Any, None, None]:
    """
    Take a final dump of each offboarded tenant's schema (in adx_core) or database, then drop
    it. Only tenants the inventory marks `state: absent` and `drop: true` come here.

    + schemas: tenant schemas of adx_core to drop
    + databases: dedicated tenant databases to drop
    + stamp: a timestamp for the dump file names (`YYYYmmddTHHMMSSZ`)
    + port: the cluster's port
    + lock_timeout: how long a drop waits for its locks (the inventory's migrations setting)

    The dump (pg_dump custom format, restorable with pg_restore) is written to
    `/var/backups/adx/` on the host, and its path is printed. What is already gone is a no-op.
    + leader_only: an HA member: run only where the server is the leader (found now)

    **Example:**

    .. code:: python

        dropped_tenant_data(name="Dropped tenants", schemas=["tenant_acme"], databases=[],
                            stamp="20261125T120000Z", port=5432)
    """
    if leader_only and on_standby(port):
        host.noop("dropped tenant data: written on the leader")
        return
    existing_schemas: list[str] = []
    if schemas:
        current = require(
            fact_memo.read(PgSchemas, port=port, database=MAIN_DATABASE),
            f"the schemas of {MAIN_DATABASE}",
            port,
        )
        existing_schemas = [schema for schema in schemas if schema in current]
    existing_databases: list[str] = []
    if databases:
        current_databases = require(fact_memo.read(PgDatabases, port=port), "databases", port)
        existing_databases = [db for db in databases if db in current_databases]
    if not existing_schemas and not existing_databases:
        host.noop("dropped tenants' data is gone")
        return
    dumps = {
        **{s: f"{BACKUP_DIR}/{MAIN_DATABASE}-{s}-{stamp}.dump" for s in existing_schemas},
        **{d: f"{BACKUP_DIR}/{d}-{stamp}.dump" for d in existing_databases},
    }
    for name, path in dumps.items():  # before any yield: --dry reads only up to the first
        logger.warning("%sDROP %s: final dump at %s", host.print_prefix, name, path)
    yield StringCommand(
        "install", "-d", "-m", "0700", "-o", "postgres", "-g", "postgres", BACKUP_DIR
    )
    for schema in existing_schemas:
        yield _pg_dump(port, dumps[schema], MAIN_DATABASE, "-n", schema)
        script = "BEGIN;\n" + plan_drop_schema(schema, lock_timeout) + "COMMIT;\n"
        yield from run_sql_script(port, MAIN_DATABASE, script, f"drop-{schema}")
    for database in existing_databases:
        yield _pg_dump(port, dumps[database], database)
        drop = plan_drop_database(database, lock_timeout)
        yield from run_sql_script(port, "postgres", drop, f"drop-{database}")


def _pg_dump(port: int, path: str, database: str, *options: str) -> StringCommand:
    """A custom-format dump (restorable with pg_restore) taken as the postgres OS user."""
    return StringCommand(
        *("runuser", "-u", "postgres", "--", "pg_dump", "-p", str(int(port)), "-Fc"),
        *(QuoteString(option) for option in options),
        *("-f", QuoteString(path), QuoteString(database)),
    )
