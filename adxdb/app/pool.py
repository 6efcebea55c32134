"""Application side: a connection pool from `DATABASE_URL` / `DB_*` (the original platform's
settings and defaults, DESIGN.md contract). Tenant-scoped connections: `adxdb.app.routing`."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from adxdb.app.settings import DatabaseSettings

# What one borrower may have changed for its session; none of it reaches the next borrower.
RESET_STATEMENTS = ("RESET ROLE", "RESET ALL", "SELECT pg_advisory_unlock_all()", "UNLISTEN *")


def reset_session(conn: psycopg.Connection[Any]) -> None:
    """Return a connection to the server's defaults when it goes back to the pool: session
    settings (`SET`, `SET ROLE`), advisory locks and LISTENs of the last borrower."""
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        for statement in RESET_STATEMENTS:
            conn.execute(statement)
    finally:
        conn.autocommit = autocommit


def make_pool(settings: DatabaseSettings, conninfo: str | None = None) -> ConnectionPool:
    """A pool with the seed's semantics: checked on acquire, bounded lifetime and idle time,
    and every session reset when it is given back."""
    return ConnectionPool(
        conninfo or settings.database_url,
        min_size=settings.min_connections,
        max_size=settings.max_connections,
        timeout=settings.acquire_timeout_seconds,
        max_idle=settings.idle_timeout_seconds,
        max_lifetime=settings.max_lifetime_seconds,
        check=ConnectionPool.check_connection,
        reset=reset_session,
        open=True,
    )
