"""Application side: tenant-scoped connections routed by the tenants registry.

A tenant connection is always a transaction: the tenant context (`set_tenant_context`) and the
search path are set with transaction-local scope, so a pooled connection returned to its pool
never carries one tenant's context into the next borrower's transaction.

In the main database the transaction also claims the tenant's route
(`claim_tenant_route`, a share lock on its registry row): a tenant move switches the registry
only once no such transaction is running, and a transaction that starts after the switch sees
that the route it looked up is gone and looks again. So no write lands behind a move.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from adxdb.app.pool import make_pool
from adxdb.app.settings import DatabaseSettings


class UnknownTenant(LookupError):
    """No active tenant with that slug in the registry."""


class TenantRouteChanged(RuntimeError):
    """The tenant's route kept changing while a connection was set up (a move in progress)."""


ROUTE_ATTEMPTS = 3


@dataclass(frozen=True)
class Route:
    tenant_id: UUID
    isolation_level: str
    db_host: str | None
    db_port: int
    db_name: str
    db_schema: str


class TenantConnections:
    """Pools per tenant location (the main database, each dedicated tenant database), built
    from one `DATABASE_URL` whose host and database the registry's location replaces."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self._base = conninfo_to_dict(settings.database_url)
        self.main = make_pool(settings)
        self._pools: dict[tuple[str, int, str], ConnectionPool] = {}
        # Threads share one TenantConnections: one pool per location, made once.
        self._pools_lock = threading.Lock()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self.main.close()

    def __enter__(self) -> TenantConnections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def route(self, slug: str) -> Route:
        with self.main.connection() as conn:
            row = conn.execute(
                "SELECT tenant_id, isolation_level::text, db_host, db_port, db_name, db_schema "
                "FROM tenant_route(%s)",
                (slug,),
            ).fetchone()
        if row is None:
            raise UnknownTenant(f"no active tenant {slug!r} in the registry")
        return Route(*row)

    def _pool_for(self, route: Route) -> ConnectionPool:
        if route.isolation_level != "database" or route.db_host is None:
            return self.main
        key = (route.db_host, route.db_port, route.db_name)
        with self._pools_lock:
            if key not in self._pools:
                self._pools[key] = self._new_pool(route.db_host, route.db_port, route.db_name)
            return self._pools[key]

    def _new_pool(self, host: str, port: int, dbname: str) -> ConnectionPool:
        """A pool for a dedicated tenant database: DATABASE_URL's settings, its location."""
        base = {k: v for k, v in self._base.items() if k != "hostaddr"}
        params: dict[str, Any] = {**base, "host": host, "port": str(port), "dbname": dbname}
        if "," in host:
            # A dedicated cluster's members: libpq tries each, keeps the one that leads.
            params["target_session_attrs"] = "read-write"
        return make_pool(self.settings, make_conninfo(**params))

    @contextmanager
    def connection(self, slug: str) -> Iterator[psycopg.Connection[Any]]:
        """A connection inside a transaction scoped to the tenant: its database, its schema
        first on the search path, its tenant context set. Both end with the transaction."""
        for _attempt in range(ROUTE_ATTEMPTS):
            route = self.route(slug)
            with ExitStack() as stack:
                conn = stack.enter_context(self._pool_for(route).connection())
                stack.enter_context(conn.transaction())
                if not self._holds(conn, route):
                    continue  # moved since we looked: roll back, look again
                self._scope(conn, route)
                yield conn
                return
        raise TenantRouteChanged(
            f"tenant {slug!r} changed location {ROUTE_ATTEMPTS} times while connecting"
        )

    def _holds(self, conn: psycopg.Connection[Any], route: Route) -> bool:
        """Claim the route in this transaction; False if the registry says otherwise now."""
        if self._pool_for(route) is not self.main:
            # A dedicated database holds no registry to claim: a move out of it freezes the
            # tenant's writes there by a fence (refused, never lost: the caller retries and
            # then finds the new route).
            return True
        held = conn.execute(
            "SELECT isolation_level::text, db_host, db_port, db_name, db_schema "
            "FROM claim_tenant_route(%s)",
            (route.tenant_id,),
        ).fetchone()
        wanted = (
            route.isolation_level,
            route.db_host,
            route.db_port,
            route.db_name,
            route.db_schema,
        )
        return held is not None and tuple(held) == wanted

    @staticmethod
    def _scope(conn: psycopg.Connection[Any], route: Route) -> None:
        conn.execute("SELECT set_tenant_context(%s)", (route.tenant_id,))
        # The tenant's schema only: a name missing there is an error, never a row in public's
        # shared tables (control-plane tables are reached as `public.<table>`).
        path = sql.Identifier(route.db_schema).as_string()
        conn.execute("SELECT set_config('search_path', %s, true)", (path,))
