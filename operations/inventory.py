"""Turn an environment YAML into pyinfra's inventory shape, or stop with its problems listed.

pyinfra's host data stays JSON-native and free of secrets: each host carries its SSH settings,
its name and the path of the inventory YAML. The loaded inventory (secrets, TLS material,
migration files) stays in this process, loaded once per run, and reaches the operations only
through the host plan (`deploy.py`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pyinfra.api.exceptions import InventoryError as PyinfraInventoryError

from adxdb.errors import InventoryError
from adxdb.inventory.loader import Inventory, load_inventory
from adxdb.inventory.state import resolve_control_path
from adxdb.plan.host import STAGING_DIR

_LOADED: dict[Path, Inventory] = {}
logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI


def loaded(yml: str | Path) -> Inventory:
    """The inventory at `yml`, loaded (and checked) once per run."""
    path = Path(yml).resolve()
    if path not in _LOADED:
        try:
            _LOADED[path] = load_inventory(path)
        except InventoryError as error:
            raise PyinfraInventoryError(str(error)) from None
        for warning in _LOADED[path].warnings:
            logger.warning("inventory %s: %s", path, warning)
    return _LOADED[path]


def host_data(inventory: Inventory, host_name: str) -> dict[str, Any]:
    """One host's pyinfra data: SSH settings, the host's name, the inventory's path."""
    host = inventory.env.hosts[host_name]
    data: dict[str, Any] = {
        "ssh_hostname": host.ssh.hostname,
        "ssh_port": host.ssh.port,
        "ssh_user": host.ssh.user,
        "adx_inventory": str(inventory.source.resolve()),
        "adx_host": host_name,
    }
    key, known_hosts = host.ssh.key, host.ssh.known_hosts
    if host.container is not None:
        # Test hosts: the key and host keys made by `tools.testhosts up` for this run.
        key = key or inventory.state_dir / "ssh" / "id_ed25519"
        known_hosts = known_hosts or inventory.state_dir / "ssh" / "known_hosts"
    if key is not None:
        data["ssh_key"] = str(resolve_control_path(inventory.source, key))
    if known_hosts is not None:
        data["ssh_known_hosts_file"] = str(resolve_control_path(inventory.source, known_hosts))
        data["ssh_strict_host_key_checking"] = "yes"
    if host.ssh.sudo:
        data["_sudo"] = True
        # pyinfra stages uploads as the SSH user: in its own 0700 folder, not in /tmp.
        data["_temp_dir"] = STAGING_DIR
    return data


def pyinfra_groups(inventory: Inventory) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """pyinfra's inventory shape: group name -> [(host name, host data)]."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for host_name, host in inventory.env.hosts.items():
        data = host_data(inventory, host_name)
        for group in host.groups:
            groups.setdefault(group, []).append((host_name, data))
    return groups


def groups(yml: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """pyinfra groups for the environment in `yml`; every inventory problem stops the run here."""
    return pyinfra_groups(loaded(yml))
