"""The application's connection settings for a local or test environment (`app.env`).

`DATABASE_URL` connects as `adx_app` over TLS `verify-full` (against the environment's CA) to
the primary's PostgreSQL port published on 127.0.0.1; the `DB_*` pool settings follow with the
contract's defaults.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from urllib.parse import quote, urlencode

from adxdb.contract import APP_ROLE, MAIN_DATABASE, POOL_DEFAULTS
from adxdb.inventory.loader import Inventory


def ca_path(inventory: Inventory) -> Path:
    return inventory.state_dir / "ca.crt"


def database_url(inventory: Inventory) -> str:
    env = inventory.env
    primary = env.primary_host()
    container = env.hosts[primary].container
    if container is None or container.pg_port is None:
        raise ValueError(f"host {primary} publishes no PostgreSQL port (container.pg_port)")
    password = quote(inventory.password(APP_ROLE).get_secret_value(), safe="")
    query = urlencode({"sslmode": "verify-full", "sslrootcert": str(ca_path(inventory))})
    return (
        f"postgresql://{APP_ROLE}:{password}@127.0.0.1:{container.pg_port}/{MAIN_DATABASE}?{query}"
    )


def render_app_env(inventory: Inventory) -> str:
    """The file's text: single-quoted, since the URL holds '&', which a shell sourcing the file
    would take as a command."""
    lines = [f"DATABASE_URL={shlex.quote(database_url(inventory))}"]
    lines += [f"{name}={value}" for name, value in POOL_DEFAULTS.items()]
    return "\n".join(lines) + "\n"
