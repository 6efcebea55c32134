"""Drive real deploys the way an operator does: the pyinfra CLI against test hosts over SSH."""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
import yaml

from adxdb.app.settings import DatabaseSettings

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
BASE_YML = REPO / "inventories" / "test.yml"
# Integration modules run in parallel on copies of the test environment (tools/integration.py):
# worker 0 (and any run of pytest on its own) on the environment itself; worker N on a copy
# with a network of its own (adx-test-wN, the next /24), its ports shifted by 100 N and its
# state in .adx/test-wN.
WORKER = int(os.environ.get("ADX_TEST_WORKER", "0"))


def worker_inventory(worker: int) -> dict[str, Any]:
    """inventories/test.yml as worker `worker`'s copy of the environment."""
    data: dict[str, Any] = yaml.safe_load(BASE_YML.read_text())
    if worker == 0:
        return data
    network = data["container_network"]
    subnet = ipaddress.ip_network(network["subnet"])
    shifted = ipaddress.ip_network(
        (int(subnet.network_address) + worker * subnet.num_addresses, subnet.prefixlen)
    )

    def move(address: str) -> str:
        ip = ipaddress.ip_address(address)
        return str(ip + worker * subnet.num_addresses) if ip in subnet else address

    network["name"] = f"{network['name']}-w{worker}"
    network["subnet"] = str(shifted)
    data["client_networks"] = [
        str(shifted) if ipaddress.ip_network(n) == subnet else n for n in data["client_networks"]
    ]
    for host in data["hosts"].values():
        host["address"] = move(host["address"])
        host["ssh"]["port"] += 100 * worker
        if host["container"].get("pg_port") is not None:
            host["container"]["pg_port"] += 100 * worker
    data["state_dir"] = str(REPO / ".adx" / f"test-w{worker}")
    return data


def _worker_files(worker: int) -> tuple[Path, Path]:
    """The worker's inventory (YAML, and the pyinfra inventory beside it) and state folder."""
    if worker == 0:
        return BASE_YML, REPO / ".adx" / "test"
    folder = REPO / ".adx" / "workers" / f"test-w{worker}" / "inventories"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test.yml").write_text(yaml.safe_dump(worker_inventory(worker)))
    shutil.copy(REPO / "inventories" / "test.py", folder / "test.py")
    return folder / "test.yml", REPO / ".adx" / f"test-w{worker}"


TEST_YML, STATE_DIR = _worker_files(WORKER)

# The HA environment (DESIGN.md decision 8): the test environment's main cluster as three
# members under Patroni (etcd on the same three) and the backup host, on a network of its own
# (the test network's subnet + 20, SSH and PostgreSQL ports + 30, and per worker as above).
HA_SUBNET_SHIFT = 20
HA_PORT_SHIFT = 30
HA_MEMBERS = ("pg1", "pg2", "pg3")
# A dedicated tenant cluster of two members (Patroni on the main cluster's etcd) holding the
# database tenant initech.
TENANT_CLUSTER = "tc"
TENANT_CLUSTER_MEMBERS = ("tc1", "tc2")


def ha_inventory(worker: int) -> dict[str, Any]:
    data = worker_inventory(worker)
    network = data["container_network"]
    subnet = ipaddress.ip_network(network["subnet"])
    step = HA_SUBNET_SHIFT * subnet.num_addresses
    shifted = ipaddress.ip_network((int(subnet.network_address) + step, subnet.prefixlen))
    network["name"] = network["name"].replace("adx-test", "adx-test-ha")
    network["subnet"] = str(shifted)
    data["client_networks"] = [str(shifted)]
    first = data["hosts"]["pg1"]
    backup = data["hosts"]["backup1"]
    hosts: dict[str, Any] = {}
    for index, name in enumerate(HA_MEMBERS):
        hosts[name] = {
            "address": str(shifted.network_address + 10 + index),
            "ssh": {"hostname": "127.0.0.1", "port": first["ssh"]["port"] + HA_PORT_SHIFT + index},
            "groups": ["main"],
            "container": {"pg_port": first["container"]["pg_port"] + HA_PORT_SHIFT + index},
        }
    for index, name in enumerate(TENANT_CLUSTER_MEMBERS, start=len(HA_MEMBERS)):
        hosts[name] = {
            "address": str(shifted.network_address + 10 + index),
            "ssh": {"hostname": "127.0.0.1", "port": first["ssh"]["port"] + HA_PORT_SHIFT + index},
            "groups": ["tenant_hosts"],
            "container": {"pg_port": first["container"]["pg_port"] + HA_PORT_SHIFT + index},
        }
    hosts["backup1"] = {
        "address": str(shifted.network_address + 19),
        "ssh": {"hostname": "127.0.0.1", "port": backup["ssh"]["port"] + HA_PORT_SHIFT + 7},
        "groups": ["backup"],
        "container": {},
    }
    data["hosts"] = hosts
    data["tenants"] = [
        {**{k: v for k, v in t.items() if k != "host"}, "cluster": TENANT_CLUSTER}
        if t["slug"] == "initech"
        else t
        for t in data["tenants"]
        if t.get("isolation") != "database" or t["slug"] == "initech"
    ]
    data["clusters"] = {TENANT_CLUSTER: {"members": list(TENANT_CLUSTER_MEMBERS)}}
    data["ha"] = {"ttl": 15, "loop_wait": 3, "retry_timeout": 6}
    data["state_dir"] = str(REPO / ".adx" / f"test-ha-w{worker}")
    return data


def _ha_files(worker: int) -> tuple[Path, Path]:
    folder = REPO / ".adx" / "workers" / f"test-ha-w{worker}" / "inventories"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test.yml").write_text(yaml.safe_dump(ha_inventory(worker), sort_keys=False))
    shutil.copy(REPO / "inventories" / "test.py", folder / "test.py")
    return folder / "test.yml", REPO / ".adx" / f"test-ha-w{worker}"


HA_YML, HA_STATE_DIR = _ha_files(WORKER)


def ha_single_host_inventory() -> Path:
    """The HA environment before it was one: pg1 the one primary (no etcd, no Patroni) and
    the backup host, sharing the HA environment's state; converting it in place is adding pg2
    and pg3 in group 'main' (HA_YML), which also makes the dedicated tenant cluster."""
    data = yaml.safe_load(HA_YML.read_text())
    data.pop("ha", None)
    data.pop("clusters", None)
    data["tenants"] = [t for t in data["tenants"] if "cluster" not in t]
    data["hosts"] = {
        "pg1": {**data["hosts"]["pg1"], "groups": ["primary"]},
        "backup1": data["hosts"]["backup1"],
    }
    folder = HA_YML.parent.parent / "single" / "inventories"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    shutil.copy(REPO / "inventories" / "test.py", folder / "test.py")
    return folder / "test.py"


HA_PY = HA_YML.with_suffix(".py")
TEST_PY = TEST_YML.with_suffix(".py")
_ROW = re.compile(
    r"^\s{4}(?P<op>\S.*?)\s{2,}(?P<hosts>\d+)\s+(?P<success>\S+)\s+(?P<error>\S+)\s+(?P<nochange>\S+)\s*$"
)


@dataclass
class DeployRun:
    returncode: int
    output: str
    changed: dict[str, int] = field(default_factory=dict)  # operation name -> hosts changed

    @property
    def changed_ops(self) -> dict[str, int]:
        return {op: count for op, count in self.changed.items() if count}


def parse_results(output: str) -> dict[str, int]:
    """The 'Results' table pyinfra prints: operation -> number of hosts where it changed."""
    _, _, table = output.partition("--> Results:")
    changed: dict[str, int] = {}
    for line in table.splitlines()[2:]:
        match = _ROW.match(line)
        if match is None:
            if changed:
                break
            continue
        if match["op"] == "Grand total":
            break
        success = match["success"]
        changed[match["op"]] = 0 if success == "-" else int(success)
    return changed


def run_deploy(inventory: Path, *flags: str) -> DeployRun:
    # -y skips the confirmation, and with it pyinfra's change detection: not for --dry.
    confirm = [] if "--dry" in flags else ["-y"]
    completed = subprocess.run(
        [str(VENV_BIN / "pyinfra"), *confirm, *flags, str(inventory), str(REPO / "deploy.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = completed.stdout + completed.stderr
    return DeployRun(completed.returncode, output, parse_results(output))


def run_adxdb(*args: str | Path, timeout: int = 1200) -> subprocess.CompletedProcess[str]:
    """Run an `adxdb` job as a user would; `stdout` holds both streams."""
    run = subprocess.run(
        [sys.executable, "-m", "adxdb.cli", *(str(a) for a in args)],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    run.stdout += run.stderr
    return run


def adxdb_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    """Run an `adxdb` read job with `--json` as a machine would: its exit status and the
    document it printed (stderr is not part of it)."""
    run = subprocess.run(
        [sys.executable, "-m", "adxdb.cli", *(str(a) for a in args), "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.stdout.strip(), run.stderr
    return run.returncode, dict(json.loads(run.stdout))


def converge(inventory: Path, *flags: str) -> DeployRun:
    run = run_deploy(inventory, *flags)
    assert run.returncode == 0, run.output[-6000:]
    return run


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def variant_inventory(directory: Path, changes: dict[str, Any], base: Path | None = None) -> Path:
    """inventories/test.yml (or `base`, e.g. HA_YML) with `changes` deep-merged, sharing its
    state (keys, secrets)."""
    base = base or TEST_YML
    data = _merge(yaml.safe_load(base.read_text()), changes)
    data["state_dir"] = str(STATE_DIR if base == TEST_YML else HA_STATE_DIR)
    inventories = directory / "inventories"
    inventories.mkdir(parents=True, exist_ok=True)
    (inventories / "test.yml").write_text(yaml.safe_dump(data))
    shutil.copy(REPO / "inventories" / "test.py", inventories / "test.py")
    return inventories / "test.py"


def password(role: str) -> str:
    return (STATE_DIR / "secrets" / f"{role}.password").read_text().strip()


def app_settings(port: int, **pool: Any) -> DatabaseSettings:
    """The application's settings (`DATABASE_URL` as adx_app over TLS verify-full, `DB_*`
    from `pool`) for the server published on `port`."""
    query = urlencode({"sslmode": "verify-full", "sslrootcert": str(STATE_DIR / "tls" / "ca.crt")})
    secret = quote(password("adx_app"), safe="")
    url = f"postgresql://adx_app:{secret}@127.0.0.1:{port}/adx_core?{query}"
    return DatabaseSettings.model_validate({"DATABASE_URL": url, **pool})


def connect(
    role: str, port: int, dbname: str = "adx_core", **options: Any
) -> psycopg.Connection[Any]:
    """Connect as the application would: TLS verify-full against the environment's CA."""
    params: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "dbname": dbname,
        "user": role,
        "password": options.pop("password", None) or password(role),
        "sslmode": "verify-full",
        "sslrootcert": str(STATE_DIR / "tls" / "ca.crt"),
        "connect_timeout": 10,
        "autocommit": True,
    }
    params.update(options)
    return psycopg.connect(**params)
