"""Application side: a connection pool from `DATABASE_URL` / `DB_*` (the original platform's
settings and defaults, DESIGN.md contract). Tenant-scoped connections: `adxdb.app.routing`."""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from adxdb.app.settings import DatabaseSettings


def make_pool(settings: DatabaseSettings, conninfo: str | None = None) -> ConnectionPool:
    """A pool with the seed's semantics: checked on acquire, bounded lifetime and idle time."""
    return ConnectionPool(
        conninfo or settings.database_url,
        min_size=settings.min_connections,
        max_size=settings.max_connections,
        timeout=settings.acquire_timeout_seconds,
        max_idle=settings.idle_timeout_seconds,
        max_lifetime=settings.max_lifetime_seconds,
        check=ConnectionPool.check_connection,
        open=True,
    )
