"""Write the application's connection settings for a local environment: `.adx/<env>/app.env`.

`DATABASE_URL` connects as `adx_app` over TLS `verify-full` (against the environment's CA) to the
primary's PostgreSQL port published on 127.0.0.1. The file is mode 0600; nothing secret is printed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

from adxdb.inventory import Inventory, InventoryError, load_inventory
from adxdb.model import MAIN_DATABASE
from adxdb.settings import POOL_DEFAULTS


def database_url(inventory: Inventory) -> str:
    env = inventory.env
    primary = env.primary_host()
    container = env.hosts[primary].container
    if container is None:
        raise ValueError(f"host {primary} publishes no PostgreSQL port (container.pg_port)")
    password = quote(inventory.password("adx_app").get_secret_value(), safe="")
    query = urlencode({"sslmode": "verify-full", "sslrootcert": str(ca_path(inventory))})
    return f"postgresql://adx_app:{password}@127.0.0.1:{container.pg_port}/{MAIN_DATABASE}?{query}"


def ca_path(inventory: Inventory) -> Path:
    return inventory.state_dir / "ca.crt"


def write_app_env(inventory: Inventory) -> Path:
    """Write `app.env` (0600) and the CA the application verifies the server with."""
    primary = inventory.env.primary_host()
    ca_path(inventory).write_text(inventory.tls[primary].ca_pem)
    path = inventory.state_dir / "app.env"
    # Single-quoted: the URL holds '&', which a shell sourcing the file would take as a command.
    lines = [f"DATABASE_URL={shlex.quote(database_url(inventory))}"]
    lines += [f"{name}={value}" for name, value in POOL_DEFAULTS.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adxdb.appenv", description=__doc__)
    parser.add_argument(
        "inventory", type=Path, help="the environment YAML, e.g. inventories/local.yml"
    )
    args = parser.parse_args(argv)
    try:
        path = write_app_env(load_inventory(args.inventory))
    except (InventoryError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path} (mode 0600): DATABASE_URL for adx_app over TLS verify-full")
    print("use it:")
    print(f"  set -a; . {path}; set +a")
    print(
        '  psql "$DATABASE_URL" -c "select current_user, ssl from pg_stat_ssl '
        'where pid = pg_backend_pid()"'
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
