"""The Contract of DESIGN.md in code: the names users, the application and tests share.

Nothing here imports anything of the project: every layer (inventory, plan, operations, app,
CLI) reads its names from this one table.
"""

from __future__ import annotations

ENVIRONMENTS = ("local", "test", "staging", "prod")
# Environments whose secrets and TLS material the tool generates itself (never staging/prod).
GENERATED_SECRET_ENVIRONMENTS = ("local", "test")

MAIN_DATABASE = "adx_core"
OWNER_ROLE = "adx_owner"
MIGRATOR_ROLE = "adx_migrator"
APP_ROLE = "adx_app"
READONLY_ROLE = "adx_readonly"
MONITOR_ROLE = "adx_monitor"
REPLICATION_ROLE = "adx_replication"
# The user of Patroni's REST API (not a PostgreSQL role): its password is a secret like a role's.
PATRONI_REST_USER = "adx_patroni"

# Databases PostgreSQL makes in every cluster: only their owner (the postgres superuser)
# connects; the deploy takes PUBLIC's CONNECT and TEMPORARY away, never creates them.
SYSTEM_DATABASES = ("postgres", "template1")
SUPERUSER = "postgres"

# Roles that read and write tenant data (never owners), and every platform role that connects.
PLATFORM_DATA_ROLES = (APP_ROLE, READONLY_ROLE)
PLATFORM_CONNECT_ROLES = (MIGRATOR_ROLE, APP_ROLE, READONLY_ROLE, MONITOR_ROLE)
# Roles that may read the migration ledger.
LEDGER_READERS = (MIGRATOR_ROLE, MONITOR_ROLE)

ISOLATION_LEVELS = ("rls", "schema", "database")
TENANT_SLUG_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
TENANT_ROLE_PREFIX = "adx_tenant_"
TENANT_SCHEMA_PREFIX = "tenant_"
TENANT_DATABASE_PREFIX = "adx_tenant_"
TENANT_CONTEXT_SETTING = "app.current_tenant"

LEDGER_SCHEMA = "adx_migrations"
LEDGER_TABLE = "ledger"
STREAM_TABLES_TABLE = "stream_tables"  # which stream created each relation
TENANT_FENCES_TABLE = "tenant_fences"  # where a tenant may not write (moves)


def tenant_role(slug: str) -> str:
    """A schema or database tenant's own login role."""
    return f"{TENANT_ROLE_PREFIX}{slug}"


def tenant_schema(slug: str) -> str:
    """A schema tenant's schema in the main database."""
    return f"{TENANT_SCHEMA_PREFIX}{slug}"


def tenant_database(slug: str) -> str:
    """A database tenant's own database."""
    return f"{TENANT_DATABASE_PREFIX}{slug}"


# Advisory lock keys that serialize concurrent deploys. Roles and databases lock in the
# `postgres` database, schemas and migrations in the database they change.
ROLES_LOCK_KEY = 0x41445852  # "ADXR"
DATABASES_LOCK_KEY = 0x41445842  # "ADXB"
SCHEMAS_LOCK_KEY = 0x41445853  # "ADXS"
MIGRATIONS_LOCK_KEY = 0x41445844  # "ADXD", held for the whole migration session
# A tenant's route lock: advisory (ROUTE_LOCK_CLASS, hashtext(tenant id)); route claims take
# it shared, a move's switch exclusively (shared migration 011).
ROUTE_LOCK_CLASS = 0x41445254  # "ADRT"

# Application pool settings (environment variables) and the original platform's defaults.
# Every session that copies a tenant's rows into their new location (a tenant move) runs with
# these: none of its statements, the rows they carry, or a failing row's details reach the
# server log or pg_stat_activity, whatever the inventory's logging settings. The copy into a
# dedicated database (as adx_migrator) gets them from that database's settings for the role;
# a copy on the primary (as postgres) sets them itself.
COPY_SESSION_SETTINGS = {
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_min_error_statement": "panic",
    "log_error_verbosity": "terse",
    "track_activities": "off",
}

POOL_DEFAULTS = {
    "DB_MAX_CONNECTIONS": 20,
    "DB_MIN_CONNECTIONS": 1,
    "DB_ACQUIRE_TIMEOUT_SECONDS": 30,
    "DB_IDLE_TIMEOUT_SECONDS": 600,
    "DB_MAX_LIFETIME_SECONDS": 1800,
}
