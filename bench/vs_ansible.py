"""Benchmark: the deploy against Ansible (community.postgresql) and against the floor, in one run.

For each N (schema tenants, plus two database tenants on the tenant host), on fresh test hosts
of their own (the test environment shifted as integration worker 9: network adx-test-w9,
ports +900, state in .adx/test-w9, so it runs beside nothing else that uses those):

1. the deploy converges the environment without tenants (packages, cluster, TLS, ...);
2. **first converge of N tenants**: the deploy with the N tenants declared (roles, schemas,
   grants, the tenant stream's migrations in every schema, registry rows), timed; against
   **the replay floor**: one psql session (one SSH command) replaying the same migration SQL
   into N scratch schemas of the same database;
3. Ansible (installed into a virtual environment of its own, `.adx/bench/ansible`, with the
   `ansible` package's community.postgresql collection; python3 and psycopg2 put on the host
   for its modules, untimed) converges each tenant's role, schema and USAGE grant on the same
   host (the same objects, already there: its first run is timed and printed);
4. **no-op runs alternate**, the floor, the deploy, then Ansible, `--pairs` times: medians and
   the ratios pair by pair (Ansible / deploy, deploy / floor). The **no-op floor** is measured
   the same way as the deploy, right before it: pyinfra's start-up and connect to every host
   plus one SSH command per host running one catalog query per database (`pyinfra INVENTORY
   fact operations.facts.PgCatalog`);
5. the SSH commands of the deploy's no-op per host (facts read and commands run, `-v`).

    .venv/bin/python bench/vs_ansible.py                       # N = 10 100 1000, Ansible at 100
    .venv/bin/python bench/vs_ansible.py 100 --ansible-at 100 1000 --pairs 5

Ansible takes about 2 s per tenant per run (three tasks, one module run each): at N = 1000 a
no-op run of it takes half an hour, hence `--ansible-at`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from adxdb.inventory.migration_files import discover  # noqa: E402
from tests.integration.harness import worker_inventory  # noqa: E402

BIN = Path(sys.executable).parent
WORKER = 9
DATABASE_TENANTS = 2
ANSIBLE_VENV = REPO / ".adx" / "bench" / "ansible"
MAIN_HOST = "pg1"


# Both tools run as installed tools do: with their Python bytecode cached (a sandbox may set
# PYTHONDONTWRITEBYTECODE, which makes every run compile the modules it imports again).
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(command: Sequence[str | Path], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("env", ENVIRONMENT)
    return subprocess.run(
        [str(c) for c in command], cwd=REPO, capture_output=True, text=True, check=False, **kwargs
    )


def _timed(command: Sequence[str | Path], **kwargs: Any) -> tuple[float, str]:
    started = time.perf_counter()
    completed = _run(command, **kwargs)
    elapsed = time.perf_counter() - started
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))[:200]} failed:\n{output[-4000:]}")
    return elapsed, output


class Environment:
    """The benchmark's own copy of the test environment, with N tenants declared."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = worker_inventory(WORKER)
        self.data["state_dir"] = str(REPO / ".adx" / f"test-w{WORKER}")
        self.data["seed"] = None
        self.yml = folder / "inventories" / "test.yml"
        self.py = self.yml.with_suffix(".py")
        self.yml.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "inventories" / "test.py", self.py)
        self.declare(0)

    def declare(self, schema_tenants: int) -> None:
        tenants: list[dict[str, Any]] = [
            {"slug": f"s{n:05d}", "id": str(uuid.UUID(int=n + 1)), "name": f"S{n}",
             "isolation": "schema"}
            for n in range(schema_tenants)
        ]  # fmt: skip
        tenants += [
            {"slug": f"d{n:03d}", "id": str(uuid.UUID(int=10**6 + n)), "name": f"D{n}",
             "isolation": "database", "host": "tenant1"}
            for n in range(DATABASE_TENANTS)
        ]  # fmt: skip
        self.data["tenants"] = tenants
        self.yml.write_text(yaml.safe_dump(self.data))

    def testhosts(self, *args: str) -> None:
        completed = _run([sys.executable, "-m", "tools.testhosts", *args, self.yml])
        if completed.returncode != 0:
            sys.exit(completed.stdout + completed.stderr)

    def deploy(self, *flags: str) -> tuple[float, str]:
        return _timed([BIN / "pyinfra", "-y", *flags, self.py, REPO / "deploy.py"])

    def ssh(self, host: str) -> dict[str, Any]:
        state = Path(self.data["state_dir"]) / "ssh"
        return {
            "port": self.data["hosts"][host]["ssh"]["port"],
            "key": state / "id_ed25519",
            "known_hosts": state / "known_hosts",
        }

    def on_host(self, host: str, script: str) -> tuple[float, str]:
        """One SSH command on `host` running `script` in bash (stdin), timed."""
        ssh = self.ssh(host)
        return _timed(
            ["ssh", "-p", ssh["port"], "-i", ssh["key"], "-o", "BatchMode=yes",
             "-o", f"UserKnownHostsFile={ssh['known_hosts']}", "-o", "StrictHostKeyChecking=yes",
             "root@127.0.0.1", "bash", "-s"],
            input=script,
        )  # fmt: skip


def no_op_commands(output: str) -> dict[str, int]:
    """SSH commands per host of a `-v` run: facts read and operation commands executed."""
    counts: dict[str, int] = {}
    for line in output.splitlines():
        found = re.match(r"^\s+\[([^\]]+)\]\s+(Loaded fact|Success|>>> )", line)
        if found and (found[2] == "Loaded fact"):
            counts[found[1]] = counts.get(found[1], 0) + 1
    return counts


def changed(output: str) -> int:
    total = re.search(r"Grand total\s+\d+\s+(\S+)", output)
    return 0 if total is None or total.group(1) == "-" else int(total.group(1))


def replay_floor(env: Environment, schema_tenants: int) -> float:
    """One psql session replaying the tenant stream into N scratch schemas: the files sent
    once, each schema made and migrated (search_path set, as the deploy's script does)."""
    files = [m for m in discover() if m.stream == "tenant"]
    upload = "".join(
        f"cat > /tmp/adx-replay-{m.version:03d}.sql <<'ADX_EOF'\n{m.text}\nADX_EOF\n" for m in files
    )
    script = ["\\set ON_ERROR_STOP 1", "SET client_min_messages = warning;"]
    for n in range(schema_tenants):
        schema = f"replay_s{n:05d}"
        script.append(f"CREATE SCHEMA {schema} AUTHORIZATION adx_owner;")
        for m in files:
            path = f"\\i /tmp/adx-replay-{m.version:03d}.sql"
            if m.transactional:
                search_path = f"SET LOCAL search_path = {schema}, public;"
                script += ["BEGIN;", "SET LOCAL ROLE adx_owner;", search_path, path, "COMMIT;"]
            else:
                search_path = f"SET search_path = {schema}, public;"
                script += ["SET ROLE adx_owner;", search_path, path, "RESET ROLE;"]
                script += ["RESET search_path;"]
    # One statement (one transaction) per schema: a thousand at once exceed the lock table.
    drops = "\n".join(
        f"DROP SCHEMA IF EXISTS replay_s{n:05d} CASCADE;" for n in range(schema_tenants)
    )
    drop = (
        "runuser -u postgres -- psql -X -q -d adx_core <<'ADX_EOF'\n"
        f"SET client_min_messages = warning;\n{drops}\nADX_EOF\n"
    )
    run = (
        f"{upload}runuser -u postgres -- psql -X -q -d adx_core <<'ADX_EOF'\n"
        + "\n".join(script)
        + "\nADX_EOF\n"
    )
    env.on_host(MAIN_HOST, run)  # once untimed: the files' text cached like the deploy's
    env.on_host(MAIN_HOST, drop)
    elapsed, _ = env.on_host(MAIN_HOST, run)
    env.on_host(MAIN_HOST, drop)
    return elapsed


def noop_floor(env: Environment) -> float:
    """pyinfra's start-up, its connects and one catalog command per host."""
    elapsed, _ = _timed(
        [BIN / "pyinfra", "-y", env.py, "fact", "operations.facts.PgCatalog", "port=5432",
         "databases=adx_core", "digest_key=floor"]
    )  # fmt: skip
    return elapsed


class Ansible:
    """Ansible with community.postgresql, in a virtual environment of its own."""

    def __init__(self, env: Environment, folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.bin = ANSIBLE_VENV / "bin"
        if not (self.bin / "ansible-playbook").exists():
            _timed([sys.executable, "-m", "venv", ANSIBLE_VENV])
            _timed([self.bin / "pip", "install", "-q", "ansible", "psycopg2-binary"])
        ssh = env.ssh(MAIN_HOST)
        (folder / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {MAIN_HOST: {
            "ansible_host": "127.0.0.1", "ansible_port": ssh["port"], "ansible_user": "root",
            "ansible_ssh_private_key_file": str(ssh["key"]),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={ssh['known_hosts']} "
                                       "-o StrictHostKeyChecking=yes",
            "ansible_python_interpreter": "/usr/bin/python3"}}}}))  # fmt: skip
        (folder / "ansible.cfg").write_text(
            "[defaults]\nhost_key_checking = True\nstdout_callback = ansible.builtin.default\n"
            "[ssh_connection]\npipelining = True\n"
        )
        # Its modules need Python and psycopg2 on the host: put there once, untimed.
        self.env.on_host(
            MAIN_HOST,
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-psycopg2 "
            ">/dev/null",
        )

    def playbook(self, schema_tenants: int) -> Path:
        tenants = [f"s{n:05d}" for n in range(schema_tenants)]
        common = {"db": "adx_core", "login_unix_socket": "/var/run/postgresql"}
        play = [{
            "hosts": MAIN_HOST, "gather_facts": False, "become": True,
            "become_user": "postgres", "become_method": "su", "vars": {"tenants": tenants},
            "tasks": [
                {"name": "tenant roles", "loop": "{{ tenants }}",
                 "community.postgresql.postgresql_user": {
                     **common, "name": "adx_tenant_{{ item }}", "role_attr_flags": "LOGIN"}},
                {"name": "tenant schemas", "loop": "{{ tenants }}",
                 "community.postgresql.postgresql_schema": {
                     **common, "name": "tenant_{{ item }}", "owner": "adx_owner"}},
                {"name": "tenant schema usage", "loop": "{{ tenants }}",
                 "community.postgresql.postgresql_privs": {
                     **common, "type": "schema", "objs": "tenant_{{ item }}", "privs": "USAGE",
                     "roles": "adx_tenant_{{ item }}"}},
            ],
        }]  # fmt: skip
        path = self.folder / f"tenants-{schema_tenants}.yml"
        path.write_text(yaml.safe_dump(play, sort_keys=False))
        return path

    def run(self, playbook: Path) -> tuple[float, str]:
        return _timed(
            [self.bin / "ansible-playbook", "-i", self.folder / "hosts.yml", playbook],
            env={
                "ANSIBLE_CONFIG": str(self.folder / "ansible.cfg"),
                "PATH": f"{self.bin}:/usr/bin:/bin",
            },
        )


def ansible_changed(output: str) -> int:
    found = re.search(r"changed=(\d+)", output)
    return int(found[1]) if found else -1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10, 100, 1000])
    parser.add_argument("--ansible-at", nargs="*", type=int, default=[100])
    parser.add_argument("--pairs", type=int, default=3, help="no-op pairs (deploy, Ansible)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    _timed([sys.executable, "-m", "tools.testhosts", "image"])
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        env = Environment(Path(scratch))
        for size in args.sizes:
            env.declare(0)
            env.testhosts("down")
            env.testhosts("up")
            base, _ = env.deploy()
            env.declare(size)
            first, _ = env.deploy()
            replay = replay_floor(env, size)
            row: dict[str, Any] = {"n": size, "base_converge_s": round(base, 1),
                                   "first_converge_s": round(first, 2),
                                   "replay_floor_s": round(replay, 2)}  # fmt: skip
            ansible = Ansible(env, Path(scratch)) if size in args.ansible_at else None
            if ansible is not None:
                playbook = ansible.playbook(size)
                ansible_first, output = ansible.run(playbook)
                row["ansible_first_s"] = round(ansible_first, 1)
                row["ansible_first_changed"] = ansible_changed(output)
            deploy_times: list[float] = []
            ansible_times: list[float] = []
            floors: list[float] = []
            for _ in range(args.pairs):
                floors.append(noop_floor(env))  # beside its deploy, under the same load
                elapsed, output = env.deploy("-v")
                if changed(output):
                    sys.exit(f"the no-op deploy changed something:\n{output[-3000:]}")
                deploy_times.append(elapsed)
                row["noop_ssh_commands"] = no_op_commands(output)
                if ansible is not None:
                    elapsed, output = ansible.run(playbook)
                    if ansible_changed(output) != 0:
                        sys.exit(f"the no-op Ansible run changed something:\n{output[-3000:]}")
                    ansible_times.append(elapsed)
            row["noop_s"] = [round(t, 2) for t in deploy_times]
            row["noop_floor_s"] = [round(t, 2) for t in floors]
            row["floor_ratio_per_pair"] = [
                round(d / f, 2) for d, f in zip(deploy_times, floors, strict=True)
            ]
            row["floor_ratio_median"] = round(statistics.median(row["floor_ratio_per_pair"]), 2)
            row["noop_median_s"] = round(statistics.median(deploy_times), 2)
            row["noop_floor_median_s"] = round(statistics.median(floors), 2)
            if ansible_times:
                row["ansible_noop_s"] = [round(t, 1) for t in ansible_times]
                row["ansible_noop_median_s"] = round(statistics.median(ansible_times), 1)
                row["ratio_per_pair"] = [
                    round(a / d, 1) for d, a in zip(deploy_times, ansible_times, strict=True)
                ]
                row["ratio_median"] = round(statistics.median(row["ratio_per_pair"]), 1)
            results.append(row)
            print(json.dumps(row), flush=True)
        env.testhosts("down")
    print()
    print(
        f"{'N':>5} {'first s':>8} {'replay s':>9} {'x floor':>8} {'no-op s':>8} "
        f"{'floor s':>8} {'x floor':>8} {'SSH/host':>9} {'Ansible s':>10} {'ratio':>6}"
    )
    for row in results:
        ssh = max(row["noop_ssh_commands"].values(), default=0)
        print(
            f"{row['n']:>5} {row['first_converge_s']:>8.1f} {row['replay_floor_s']:>9.1f} "
            f"{row['first_converge_s'] / row['replay_floor_s']:>8.2f} {row['noop_median_s']:>8.2f} "
            f"{row['noop_floor_median_s']:>8.2f} {row['floor_ratio_median']:>8.2f} {ssh:>9} "
            f"{row.get('ansible_noop_median_s', '-'):>10} {row.get('ratio_median', '-'):>6}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
