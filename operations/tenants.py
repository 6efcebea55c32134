"""Tenant state on a host: tenant schemas and their grants, and the tenants registry."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from io import StringIO
from typing import Any

from pydantic import SecretStr
from pyinfra import host
from pyinfra.api import (
    FactBase,
    FileUploadCommand,
    OperationError,
    QuoteString,
    StringCommand,
    operation,
)

from adxdb import moves as tenant_moves_plan
from adxdb import sqlfiles
from adxdb.catalog import (
    SCHEMAS_LOCK_KEY,
    hold_lock,
    plan_drop_database,
    plan_drop_schema,
    plan_registry,
    plan_schemas,
)
from adxdb.model import MAIN_DATABASE
from adxdb.tenants import RegistryRow, SchemaSpec
from operations.pgfacts import PgDatabases, _json
from operations.psql import PRIVATE_DIR, if_ready, psql_script_query, run_sql_script

logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI


class PgSchemas(FactBase[dict[str, dict[str, Any]] | None]):
    """
    The `public` and `tenant_*` schemas of one database: owner, roles with USAGE, roles given
    data privileges by `adx_owner`'s default privileges. None when the server is down; empty
    when the database does not exist yet.
    """

    def requires_command(self, port: int, database: str) -> str:
        return "psql"

    def command(self, port: int, database: str) -> StringCommand:
        script = sqlfiles.load("facts/schemas")
        return if_ready(port, psql_script_query(port, script, adx_database=database))

    def process(self, output: list[str]) -> dict[str, dict[str, Any]] | None:
        data = _json(output)
        return None if data is None else dict(data)


class PgTenantRegistry(FactBase[dict[str, dict[str, Any]] | None]):
    """The tenants registry of adx_core keyed by tenant id; None when the server is down."""

    def requires_command(self, port: int) -> str:
        return "psql"

    def command(self, port: int) -> StringCommand:
        return if_ready(port, psql_script_query(port, sqlfiles.load("facts/registry")))

    def process(self, output: list[str]) -> dict[str, dict[str, Any]] | None:
        data = _json(output)
        return None if data is None else dict(data)


class PgTenantTables(FactBase[dict[str, list[str]] | None]):
    """
    The tables of one schema that hold tenant rows (a `tenant_id` column), each with the
    tables of that schema its foreign keys reference; None when the server is down.

    .. code:: python

        {"users": [], "files": ["users"], "sessions": ["users"]}
    """

    def requires_command(self, port: int, database: str, schema: str) -> str:
        return "psql"

    def command(self, port: int, database: str, schema: str) -> StringCommand:
        script = sqlfiles.load("facts/tenant_tables")
        return if_ready(
            port, psql_script_query(port, script, adx_database=database, adx_schema=schema)
        )

    def process(self, output: list[str]) -> dict[str, list[str]] | None:
        data = _json(output)
        return None if data is None else {str(k): list(v) for k, v in dict(data).items()}


@operation()
def schemas(
    schemas: Mapping[str, Mapping[str, SchemaSpec]], port: int
) -> Generator[Any, None, None]:
    """
    Converge the tenant schemas of the host's databases: created owned by `adx_owner`, nothing
    for `PUBLIC`, USAGE for the platform data roles and the tenant's own role, and data
    privileges (now and by default) for the tenant's own role only.

    + schemas: database -> schema name -> wanted `SchemaSpec`
    + port: the cluster's port

    One fact per database; one psql session per database that needs a change.

    **Example:**

    .. code:: python

        schemas(name="Tenant schemas", schemas={"adx_core": {"tenant_acme": SchemaSpec(...)}},
                port=5432)
    """
    scripts: dict[str, str] = {}
    for database, wanted in schemas.items():
        current = host.get_fact(PgSchemas, port=port, database=database)
        if current is None:
            raise OperationError(f"cannot read the schemas of {database}: no server on port {port}")
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
def tenant_registry(rows: Sequence[RegistryRow], port: int) -> Generator[Any, None, None]:
    """
    Record every declared tenant's isolation level and location in adx_core's registry, so the
    application routes by it. Tenants the inventory does not declare are left as they are.

    + rows: the wanted registry rows
    + port: the cluster's port

    **Example:**

    .. code:: python

        tenant_registry(name="Tenants registry", rows=registry_rows(env), port=5432)
    """
    current = host.get_fact(PgTenantRegistry, port=port)
    if current is None:
        raise OperationError(f"cannot read the tenants registry: no server on port {port}")
    statements = plan_registry(list(rows), current)
    if not statements:
        host.noop(f"registry holds {len(rows)} declared tenant(s)")
        return
    script = "BEGIN;\n" + "\n".join(statements) + "\nCOMMIT;\n"
    yield from run_sql_script(port, MAIN_DATABASE, script, "registry")


@operation()
def tenant_moves(
    rows: Sequence[RegistryRow],
    tenant_tables: Sequence[str],
    stream_versions: Sequence[tuple[str, int]],
    primary_address: str,
    port: int,
    ca_file: str,
    mover: str,
    mover_password: SecretStr,
    lock_timeout: str,
) -> Generator[Any, None, None]:
    """
    Move every tenant whose declared isolation level or location differs from the registry's:
    copy its rows to the new location, verify them, then switch the registry and delete the
    old rows (see `adxdb.moves`). Runs on the primary, where the registry and the `rls` and
    `schema` tenants' rows live, before the registry operation.

    + rows: the registry rows the inventory declares
    + tenant_tables: the tables the tenant stream creates (the tenant's data)
    + stream_versions: (stream, version) of every migration file: the new location must have
      them all before anything is copied into it
    + primary_address: the primary's address (a location there is copied locally)
    + port: the cluster's port (the same on every host of the environment)
    + ca_file: the CA the primary verifies a remote target's certificate with
    + mover: the login role that writes the copy into a remote target (`adx_migrator`)
    + mover_password: its password, uploaded in a pgpass file, never in a command line
    + lock_timeout: how long the switch waits for its table locks

    **Example:**

    .. code:: python

        tenant_moves(name="Tenant moves", rows=registry_rows(env), tenant_tables=["users"],
                     stream_versions=[("shared", 1), ("tenant", 1)],
                     primary_address="10.0.0.1", port=5432, ca_file=".../ca.crt",
                     mover="adx_migrator", mover_password=SecretStr("..."), lock_timeout="10s")
    """
    current = host.get_fact(PgTenantRegistry, port=port)
    if current is None:
        raise OperationError(f"cannot read the tenants registry: no server on port {port}")
    try:
        planned = tenant_moves_plan.plan_moves(list(rows), current, primary_address)
    except tenant_moves_plan.MoveRefused as refused:
        raise OperationError(str(refused)) from None
    if not planned:
        host.noop("every tenant is at its declared isolation level")
        return
    for move in planned:  # before any yield: --dry reads only up to the first
        logger.warning("%s%s", host.print_prefix, move.describe())
    wanted_tables = set(tenant_tables)
    access = _MoverAccess(port, ca_file, mover, mover_password)
    for move in planned:
        found = host.get_fact(
            PgTenantTables, port=port, database=move.source.database, schema=move.source.schema
        )
        if found is None:
            raise OperationError(f"cannot read the tables of {move.source.database}: no server")
        try:
            tables = tenant_moves_plan.tables_to_move(move, found, wanted_tables)
        except tenant_moves_plan.MoveRefused as refused:
            raise OperationError(str(refused)) from None
        yield from _move_commands(move, tables, access, lock_timeout, stream_versions)


@dataclass(frozen=True)
class _MoverAccess:
    """How the primary reaches a move's target: port, CA, login role and its password."""

    port: int
    ca_file: str
    mover: str
    mover_password: SecretStr


def _move_commands(
    move: tenant_moves_plan.Move,
    tables: tenant_moves_plan.MoveTables,
    access: _MoverAccess,
    lock_timeout: str,
    stream_versions: Sequence[tuple[str, int]],
) -> Generator[Any, None, None]:
    port, mover = access.port, access.mover
    # Per run: a concurrent deploy's clean-up never removes this run's files.
    prefix = f"{PRIVATE_DIR}/move-{move.slug}-{secrets.token_hex(4)}"
    check_file = f"{tenant_moves_plan.MOVE_WORK_DIR}/{move.slug}.check.sql"
    remote = move.target.address is not None
    files = tenant_moves_plan.MoveFiles(
        export_sql=f"{prefix}.export.sql",
        switch_sql=f"{prefix}.switch.sql",
        pgpass=f"{prefix}.pgpass" if remote else None,
    )
    runner = f"{prefix}.sh"
    yield StringCommand("install", "-d", "-m", "0700", "-o", "root", "-g", "root", PRIVATE_DIR)
    export = tenant_moves_plan.render_export(
        move,
        tables.ordered,
        check_file,
        lock_timeout,
        self_referencing=tables.self_referencing,
        migrations=stream_versions,
    )
    switch = tenant_moves_plan.render_switch(move, tables.ordered, check_file, lock_timeout)
    yield FileUploadCommand(StringIO(export), files.export_sql)
    yield FileUploadCommand(StringIO(switch), files.switch_sql)
    if files.pgpass is not None and move.target.address is not None:
        line = tenant_moves_plan.pgpass_line(
            move.target.address,
            port,
            move.target.database,
            mover,
            access.mover_password.get_secret_value(),
        )
        yield FileUploadCommand(StringIO(line), files.pgpass)
    script = tenant_moves_plan.render_runner(move, files, port, port, access.ca_file, mover)
    yield FileUploadCommand(StringIO(script), runner)
    uploaded = [QuoteString(path) for path in (*files.all, runner)]
    yield StringCommand(
        "bash",
        QuoteString(runner),
        ";",
        "status=$?;",
        "rm",
        "-f",
        *uploaded,
        ";",
        "exit",
        "$status",
    )


BACKUP_DIR = "/var/backups/adx"


@operation()
def dropped_tenant_data(
    schemas: Sequence[str], databases: Sequence[str], stamp: str, port: int
) -> Generator[Any, None, None]:
    """
    Take a final dump of each offboarded tenant's schema (in adx_core) or database, then drop
    it. Only tenants the inventory marks `state: absent` and `drop: true` come here.

    + schemas: tenant schemas of adx_core to drop
    + databases: dedicated tenant databases to drop
    + stamp: a timestamp for the dump file names (`YYYYmmddTHHMMSSZ`)
    + port: the cluster's port

    The dump (pg_dump custom format, restorable with pg_restore) is written to
    `/var/backups/adx/` on the host, and its path is printed. What is already gone is a no-op.

    **Example:**

    .. code:: python

        dropped_tenant_data(name="Dropped tenants", schemas=["tenant_acme"], databases=[],
                            stamp="20261125T120000Z", port=5432)
    """
    existing_schemas: list[str] = []
    if schemas:
        current = host.get_fact(PgSchemas, port=port, database=MAIN_DATABASE)
        if current is None:
            raise OperationError(f"cannot read the schemas of {MAIN_DATABASE}: no server")
        existing_schemas = [schema for schema in schemas if schema in current]
    existing_databases: list[str] = []
    if databases:
        current_databases = host.get_fact(PgDatabases, port=port)
        if current_databases is None:
            raise OperationError("cannot read the databases: no server")
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
        script = "BEGIN;\n" + plan_drop_schema(schema) + "COMMIT;\n"
        yield from run_sql_script(port, MAIN_DATABASE, script, f"drop-{schema}")
    for database in existing_databases:
        yield _pg_dump(port, dumps[database], database)
        drop = plan_drop_database(database)
        yield from run_sql_script(port, "postgres", drop, f"drop-{database}")


def _pg_dump(port: int, path: str, database: str, *options: str) -> StringCommand:
    """A custom-format dump (restorable with pg_restore) taken as the postgres OS user."""
    return StringCommand(
        *("runuser", "-u", "postgres", "--", "pg_dump", "-p", str(int(port)), "-Fc"),
        *(QuoteString(option) for option in options),
        *("-f", QuoteString(path), QuoteString(database)),
    )
