"""The application's connection settings for a local or test environment (`app.env`).

`DATABASE_URL` connects as `adx_app` over TLS `verify-full` (against the environment's CA) to
the primary's PostgreSQL port published on 127.0.0.1 (every member's, for an HA main cluster,
the writable one chosen by libpq); `DATABASE_READ_URL` is for read-only work (an HA cluster's
standby where one runs, else the leader; the primary itself without HA);
`MONITOR_DATABASE_URL` connects as `adx_monitor` (member of `pg_monitor`, EXECUTE on the
health functions) for the read jobs (`adxdb health --dsn "$MONITOR_DATABASE_URL"`); the `DB_*`
pool settings follow with the contract's defaults.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from urllib.parse import quote, urlencode

from adxdb.contract import APP_ROLE, MAIN_DATABASE, MONITOR_ROLE, POOL_DEFAULTS
from adxdb.inventory.loader import Inventory


def ca_path(inventory: Inventory) -> Path:
    return inventory.state_dir / "ca.crt"


def database_url(inventory: Inventory, read_only: bool = False, role: str = APP_ROLE) -> str:
    """`role`'s URL (adx_app's by default): the primary, or every member of an HA main
    cluster with `target_session_attrs=read-write` (libpq connects to whichever member leads
    now), or `prefer-standby` for read-only work (`read_only`)."""
    env = inventory.env
    endpoints = []
    for member in env.main_members():
        container = env.hosts[member].container
        if container is None or container.pg_port is None:
            raise ValueError(f"host {member} publishes no PostgreSQL port (container.pg_port)")
        endpoints.append(f"127.0.0.1:{container.pg_port}")
    password = quote(inventory.password(role).get_secret_value(), safe="")
    options = {"sslmode": "verify-full", "sslrootcert": str(ca_path(inventory))}
    if env.is_ha():
        attrs = "prefer-standby" if read_only else "read-write"
        options |= {"target_session_attrs": attrs, "connect_timeout": "5"}
    query = urlencode(options)
    hosts = ",".join(endpoints)
    return f"postgresql://{role}:{password}@{hosts}/{MAIN_DATABASE}?{query}"


def render_app_env(inventory: Inventory) -> str:
    """The file's text: single-quoted, since the URL holds '&', which a shell sourcing the file
    would take as a command."""
    lines = [
        f"DATABASE_URL={shlex.quote(database_url(inventory))}",
        f"DATABASE_READ_URL={shlex.quote(database_url(inventory, read_only=True))}",
        f"MONITOR_DATABASE_URL={shlex.quote(database_url(inventory, role=MONITOR_ROLE))}",
    ]
    lines += [f"{name}={value}" for name, value in POOL_DEFAULTS.items()]
    return "\n".join(lines) + "\n"


def job_command(app_env_path: Path) -> str:
    """One read job as a user runs it after `make local`, from the repository's folder: the
    file sourced, the monitoring connection given (the jobs read what adx_app may not:
    statistics, the health functions)."""
    return (
        f"set -a; . {shlex.quote(str(app_env_path))}; set +a; "
        '.venv/bin/adxdb health-check --dsn "$MONITOR_DATABASE_URL"'
    )
