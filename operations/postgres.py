"""pyinfra operations for a PostgreSQL host: packages, cluster, server state, roles, databases.

Each operation reads its facts at run time, compares them with what the model asks for, and
yields the fewest commands, or calls `host.noop` when there is nothing to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

import gevent
from pydantic import SecretStr
from pyinfra import host
from pyinfra.api import OperationError, StringCommand, operation
from pyinfra.facts.deb import DebPackages

from adxdb.contract import DATABASES_LOCK_KEY, MAIN_DATABASE, ROLES_LOCK_KEY
from adxdb.inventory.model import Database, Role
from adxdb.inventory.types import RestartPolicy, SettingValue
from adxdb.plan.catalog import QUIET_PRELUDE, hold_lock, plan_databases, plan_roles
from adxdb.plan.restarts import restart_changes
from adxdb.plan.tenants import registered_here
from operations import fact_memo
from operations.facts import (
    PgClusters,
    PgDatabases,
    PgRoles,
    PgServerState,
    PgTenantRegistry,
    require,
)
from operations.ha import on_standby
from operations.psql import hidden, run_sql_script
from operations.scripts import inline_script

logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI


@operation()
def packages(packages: list[str]) -> Generator[str | StringCommand, None, None]:
    """
    Install Debian packages that are missing; refresh the package lists only then.

    + packages: Debian package names

    Unlike `apt.packages(update=True)`, a host that has every package runs nothing at all, so a
    converged deploy reports no change.

    **Example:**

    .. code:: python

        packages(name="PostgreSQL packages", packages=["postgresql-15"])
    """
    installed = fact_memo.read(DebPackages)
    missing = [package for package in packages if package not in installed]
    if not missing:
        host.noop(f"packages {', '.join(packages)} are installed")
        return
    yield "DEBIAN_FRONTEND=noninteractive apt-get update -q"
    yield StringCommand(
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "-o",
        "Dpkg::Options::=--force-confold",
        *missing,
    )


@operation()
def cluster(
    version: int, cluster: str, port: int, locale: str = "C.UTF-8"
) -> Generator[StringCommand, None, None]:
    """
    Create the PostgreSQL cluster when it does not exist (data checksums on, SCRAM for TCP).

    + version: PostgreSQL major version
    + cluster: cluster name (Debian's `pg_createcluster` naming)
    + port: the port the cluster listens on
    + locale: the cluster's default locale

    **Example:**

    .. code:: python

        cluster(name="Cluster 15/main", version=15, cluster="main", port=5432)
    """
    clusters = fact_memo.read(PgClusters)
    existing = clusters.get(f"{version}/{cluster}")
    if existing is not None:
        if existing["port"] != port:
            raise OperationError(
                f"cluster {version}/{cluster} listens on port {existing['port']}, the inventory "
                f"says {port}: change the inventory, or move the cluster by hand first"
            )
        host.noop(f"cluster {version}/{cluster} exists")
        return
    for other in clusters.values():
        if other["port"] == port:
            raise OperationError(
                f"port {port} is taken by cluster {other['version']}/{other['cluster']}"
            )
    yield StringCommand(
        "pg_createcluster",
        "--locale",
        locale,
        "--encoding",
        "UTF8",
        "--port",
        str(int(port)),
        str(int(version)),
        cluster,
        "--",
        "--data-checksums",
        "--auth-local=peer",
        "--auth-host=scram-sha-256",
    )


def reload_and_wait(version: int, cluster: str, port: int) -> StringCommand:
    """Reload the cluster and return once its postmaster has read the new configuration."""
    return inline_script("reload_cluster.sh", str(int(version)), cluster, str(int(port)))


@operation()
def server(version: int, cluster: str, port: int) -> Generator[StringCommand, None, None]:
    """
    Keep the server running on its newest configuration: start it when it is down, reload it
    when a configuration or TLS file changed after it last read them.

    + version: PostgreSQL major version
    + cluster: cluster name
    + port: the cluster's port

    **Example:**

    .. code:: python

        server(name="Server 15/main", version=15, cluster="main", port=5432)
    """
    state = fact_memo.read(PgServerState, version=version, cluster=cluster, port=port)
    if not state["running"]:
        yield StringCommand("pg_ctlcluster", str(int(version)), cluster, "start")
        return
    if state.get("file_errors"):
        raise OperationError(
            f"cluster {version}/{cluster} configuration has errors: "
            + "; ".join(state["file_errors"])
        )
    mtime, loaded = state.get("config_mtime"), state.get("conf_load_time")
    if mtime is not None and loaded is not None and float(mtime) > float(loaded):
        yield reload_and_wait(version, cluster, port)
        return
    host.noop(f"server {version}/{cluster} is running its current configuration")


@operation()
def pending_restart(
    version: int,
    cluster: str,
    port: int,
    policy: RestartPolicy,
    settings: Mapping[str, SettingValue] | None = None,
    conf_file: str | None = None,
) -> Generator[StringCommand, None, None]:
    """
    Restart the server when a changed setting needs it and the host's restart policy allows
    it; with policy `never`, report the pending restart and leave the server up. The settings
    that need it are known before the files change (so `--dry` names them): the wanted
    restart-only settings against the running ones, and what PostgreSQL itself says is
    pending.

    + version: PostgreSQL major version
    + cluster: cluster name
    + port: the cluster's port
    + policy: `auto` restarts, `never` only reports
    + settings: every setting the deploy writes (`adxdb.plan.config.settings`)
    + conf_file: the file the deploy writes them to (a restart-only setting it set and no
      longer writes needs a restart too)

    **Example:**

    .. code:: python

        pending_restart(name="Restart if needed", version=15, cluster="main", port=5432,
                        policy="never", settings={"max_connections": 200},
                        conf_file="/etc/postgresql/15/main/conf.d/50-adx.conf")
    """
    state = fact_memo.read(PgServerState, version=version, cluster=cluster, port=port)
    if not state["running"]:
        host.noop(f"server {version}/{cluster} needs no restart")
        return
    pending = set(state.get("pending_restart") or [])
    if settings is not None and conf_file is not None:
        running = state.get("restart_settings") or {}
        pending |= set(restart_changes(version, settings, running, conf_file))
    if not pending:
        host.noop(f"server {version}/{cluster} needs no restart")
        return
    names = ", ".join(sorted(pending))
    if policy == "never":
        logger.warning(
            "%sRESTART PENDING: %s/%s needs a restart to apply %s (restart policy: never)",
            host.print_prefix,
            version,
            cluster,
            names,
        )
        host.noop(f"restart pending for {names} (restart policy: never)")
        return
    logger.warning(
        "%sRESTART: %s/%s restarts to apply %s (restart policy: auto)",
        host.print_prefix,
        version,
        cluster,
        names,
    )
    yield StringCommand("pg_ctlcluster", str(int(version)), cluster, "restart")


@operation()
def roles(
    roles: Mapping[str, Role],
    passwords: Mapping[str, SecretStr],
    port: int,
    retired: Sequence[str] = (),
    registry_bound: Mapping[str, str] | None = None,
    leader_only: bool = False,
    salt_key: SecretStr | None = None,
) -> Generator[Any, None, None]:
    """
    Converge the declared roles in one batch: attributes, memberships, SCRAM passwords.

    + roles: role name -> wanted `Role`
    + passwords: role name -> password (`SecretStr`); compared with the stored SCRAM verifier,
      so an unchanged password changes nothing; a new one is sent as a verifier, never as text
    + port: the cluster's port
    + retired: roles that must not log in any more (tenants dropped from this host), where
      they still exist; never created
    + registry_bound: tenant id -> own role of a tenant declared elsewhere whose role may still
      be here: left as it is while the tenants registry places the tenant here, retired once
      it does not

    Roles the inventory does not declare are left alone.
    + leader_only: an HA member: run only where the server is the leader (found now)
    + salt_key: the environment's SCRAM salt key (`SecretStr`): verifiers set get the role's
      keyed salt, and a stored one with that salt is recognised without recomputing it

    **Example:**

    .. code:: python

        roles(name="ADX roles", roles=env.roles, passwords=inventory.passwords, port=5432)
    """
    if leader_only and on_standby(port):
        host.noop("roles: written on the leader")
        return
    digest_key = fact_memo.digest_key()  # the run's: the fact's digests mean nothing without it
    current = require(
        fact_memo.read(PgRoles, port=port, digest_key=hidden(digest_key)), "roles", port
    )
    retired = [*retired, *_left_here(registry_bound or {}, port, held=False)]
    plan = plan_roles(
        roles, passwords, current, retired, digest_key, _in_native_threads, salt_key=salt_key
    )
    if not plan.statements:
        host.noop(f"roles {', '.join(roles)} are converged")
        return
    script = (QUIET_PRELUDE if plan.sets_password else "") + "BEGIN;\n"
    script += hold_lock(ROLES_LOCK_KEY, transaction=True)
    script += "\n".join(plan.statements) + "\nCOMMIT;\n"
    yield from run_sql_script(port, "postgres", script, "roles")


def _in_native_threads(function: Callable[[str], bool], items: list[str]) -> list[bool]:
    """`map` on gevent's pool of native threads: PBKDF2 releases the GIL, so the password
    comparisons of many roles run on every core while pyinfra's greenlets wait."""
    return list(gevent.get_hub().threadpool.map(function, items))


def _left_here(registry_bound: Mapping[str, str], port: int, held: bool) -> list[str]:
    """The registry-bound roles the tenants registry still places here (`held`), or the others."""
    if not registry_bound:
        return []
    registry = require(fact_memo.read(PgTenantRegistry, port=port), "the tenants registry", port)
    return sorted(
        role
        for tenant_id, role in registry_bound.items()
        if registered_here(registry.get(tenant_id)) == held
    )


@operation()
def databases(
    databases: Mapping[str, Database],
    port: int,
    registry_bound: Mapping[str, str] | None = None,
    role_settings: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
    leader_only: bool = False,
) -> Generator[Any, None, None]:
    """
    Converge the declared databases: created from template0, owner, connection limit,
    `CONNECT` revoked from `PUBLIC` and granted to the declared roles only, and the settings
    given roles start with in a database.

    + databases: database name -> wanted `Database`
    + port: the cluster's port
    + registry_bound: tenant id -> own role of a tenant declared elsewhere: keeps `CONNECT` on
      the main database while the tenants registry still places the tenant there
    + role_settings: database -> role -> settings (`ALTER ROLE ... IN DATABASE ... SET`); only
      the ones named are managed
    + leader_only: an HA member: run only where the server is the leader (found now)

    **Example:**

    .. code:: python

        databases(name="ADX databases", databases=env.databases, port=5432)
    """
    if leader_only and on_standby(port):
        host.noop("databases: written on the leader")
        return
    current = require(fact_memo.read(PgDatabases, port=port), "databases", port)
    held = tuple(_left_here(registry_bound or {}, port, held=True))
    main = databases.get(MAIN_DATABASE)
    if held and main is not None:
        databases = {
            **databases,
            MAIN_DATABASE: main.model_copy(update={"connect": (*main.connect, *held)}),
        }
    statements, _changed = plan_databases(databases, current, role_settings)
    if not statements:
        host.noop(f"databases {', '.join(databases)} are converged")
        return
    script = hold_lock(DATABASES_LOCK_KEY, transaction=False) + "\n".join(statements) + "\n"
    yield from run_sql_script(port, "postgres", script, "databases")
