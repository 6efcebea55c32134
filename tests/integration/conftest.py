"""Session fixtures: fresh test hosts (real Debian 12 containers reached over SSH), converged
twice by the real pyinfra CLI; torn down at the end."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adxdb.inventory.loader import load_model
from adxdb.inventory.model import Environment
from tests.integration.harness import (
    HA_PY,
    HA_YML,
    REPO,
    TEST_PY,
    TEST_YML,
    DeployRun,
    converge,
    ha_single_host_inventory,
)
from tools.testhosts.engine import engine_client
from tools.testhosts.hosts import container_name

# Where a deploy puts what it uploads (scripts, pgpass files, migration run folders).
DEPLOY_FOLDERS = ("/var/lib/adx-deploy", "/var/lib/adx-migrations", "/var/lib/postgresql/adx-moves")


@dataclass
class HostsUnderTest:
    env: Environment
    first: DeployRun
    second: DeployRun
    inventory: Path

    @property
    def database_hosts(self) -> list[str]:
        """The hosts that run PostgreSQL (all but the backup host)."""
        return self.env.database_hosts()

    def pg_port(self, host: str) -> int:
        container = self.env.hosts[host].container
        assert container is not None and container.pg_port is not None, host
        return container.pg_port

    def run(self, host: str, *argv: str) -> str:
        """Run a command on the host as the postgres OS user; return its output."""
        client = engine_client()
        container = client.containers.get(container_name(self.env, host))
        result = container.exec_run(["runuser", "-u", "postgres", "--", *argv])
        assert result.exit_code == 0, result.output.decode()
        return str(result.output.decode().strip())

    def run_as_root(self, host: str, *argv: str) -> str:
        """Run a command on the host as root (the deploy's own folders are root's only)."""
        client = engine_client()
        container = client.containers.get(container_name(self.env, host))
        result = container.exec_run(list(argv))
        assert result.exit_code == 0, result.output.decode()
        return str(result.output.decode().strip())

    def files_left(self, host: str) -> list[str]:
        """Every file in the deploy's folders but the moves' lock files, and pyinfra's staged
        uploads in /tmp: what a finished or failed run must not leave behind."""
        found = self.run_as_root(
            host,
            "sh",
            "-c",
            f"find {' '.join(DEPLOY_FOLDERS)} -type f ! -name '*.lock' 2>/dev/null; "
            "find /tmp -maxdepth 1 -name 'pyinfra-*' 2>/dev/null; true",
        )
        return sorted(line for line in found.splitlines() if line)

    def psql(self, host: str, query: str, database: str = "postgres") -> str:
        """Run a catalog query on the host as the postgres OS user (peer auth), like an operator."""
        client = engine_client()
        container = client.containers.get(container_name(self.env, host))
        result = container.exec_run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                "psql",
                "-X",
                "-A",
                "-t",
                "-d",
                database,
                "-c",
                query,
            ]
        )
        assert result.exit_code == 0, result.output.decode()
        return str(result.output.decode().strip())

    def psql_file(self, host: str, path: Path, database: str, *flags: str, **variables: str) -> str:
        """Copy a psql script into the host and run it as the postgres OS user (with psql's
        `flags`, e.g. -A -t)."""
        client = engine_client()
        container = client.containers.get(container_name(self.env, host))
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            data = path.read_bytes()
            info = tarfile.TarInfo(path.name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        container.put_archive("/tmp", archive.getvalue())
        settings = [arg for key, value in variables.items() for arg in ("-v", f"{key}={value}")]
        result = container.exec_run(
            [
                *("runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"),
                *flags,
                *settings,
                *("-d", database, "-f", f"/tmp/{path.name}"),
            ]
        )
        assert result.exit_code == 0, result.output.decode()
        return str(result.output.decode().strip())


def _testhosts(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "tools.testhosts", *args], cwd=REPO, check=True)


@pytest.fixture(scope="session")
def test_env() -> Iterator[HostsUnderTest]:
    env = load_model(TEST_YML)
    _testhosts("image")
    _testhosts("down", str(TEST_YML))  # fresh, bare hosts: the deploy installs everything
    _testhosts("up", str(TEST_YML))
    inventory = TEST_PY
    try:
        first = converge(inventory)
        second = converge(inventory)
        yield HostsUnderTest(env, first, second, inventory)
    finally:
        _testhosts("down", str(TEST_YML))


@dataclass
class Conversion:
    """What converting the converged single host in place showed (DESIGN.md decision 8)."""

    sysid_before: str
    sysid_after: str
    rows_before: dict[str, int]
    rows_after: dict[str, dict[str, int]]  # member -> table -> rows
    longest_write_gap: float
    writes: int
    lost: int


@dataclass
class HAHostsUnderTest(HostsUnderTest):
    conversion: Conversion | None = None


# Tables whose rows are counted before and after the conversion (the test seed's).
COUNTED_TABLES = ("tenants", "users", "adx_migrations.ledger")
# Rows the HA inventory adds itself: the tenant of the dedicated cluster joins the registry.
NOT_COUNTED = {"tenants": "WHERE slug <> 'initech'"}


def _counts(env: HostsUnderTest, host: str) -> dict[str, int]:
    from tests.integration.ha import psql

    return {
        table: int(psql(env, host, f"SELECT count(*) FROM {table} {NOT_COUNTED.get(table, '')}"))
        for table in COUNTED_TABLES
    }


def _sysid(env: HostsUnderTest, host: str) -> str:
    from tests.integration.ha import psql

    return psql(env, host, "SELECT system_identifier FROM pg_control_system()")


@pytest.fixture(scope="session")
def ha_env() -> Iterator[HAHostsUnderTest]:
    """The HA environment (harness.ha_inventory), made the way an operator would: pg1
    converged as a single primary with data, then pg2 and pg3 added in group 'main' and
    converged (Patroni adopts pg1's data folder) while a client writes; converged twice."""
    from tests.integration.ha import Writer, database_url, make_probe_table, rows_present

    env = load_model(HA_YML)
    _testhosts("image")
    _testhosts("down", str(HA_YML))
    _testhosts("up", str(HA_YML))
    try:
        converge(ha_single_host_inventory())
        probe = HAHostsUnderTest(env, DeployRun(0, ""), DeployRun(0, ""), HA_PY)
        rows_before, sysid_before = _counts(probe, "pg1"), _sysid(probe, "pg1")
        make_probe_table(probe, "pg1")
        writer = Writer(database_url(probe)).start()
        try:
            first = converge(HA_PY)
        finally:
            writer.stop()
        acked = [i for _, i in writer.acked]
        second = converge(HA_PY)
        hosts = HAHostsUnderTest(env, first, second, HA_PY)
        hosts.conversion = Conversion(
            sysid_before=sysid_before,
            sysid_after=_sysid(hosts, "pg1"),
            rows_before=rows_before,
            rows_after={m: _counts(hosts, m) for m in env.main_members()},
            longest_write_gap=writer.longest_gap(),
            writes=len(acked),
            lost=len(acked) - rows_present(hosts, "pg1", acked),
        )
        yield hosts
    finally:
        _testhosts("down", str(HA_YML))


@pytest.fixture
def restore(test_env: HostsUnderTest) -> Iterator[None]:
    """After a test that converged a variant inventory, converge the real one again."""
    yield
    converge(test_env.inventory)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
