"""A deploy killed mid-run (SIGKILL of the pyinfra process, as an operator's kill -9 or a lost
laptop would) leaves nothing the next run does not remove: no psql script, verifier, pgpass
or migration file stays on a host."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import REPO, VENV_BIN, converge, variant_inventory
from tools.testhosts.engine import engine_client
from tools.testhosts.hosts import container_name

# Where a deploy puts what it uploads, and where pyinfra stages uploads made with sudo.
SEARCHED = ("/var/lib/adx-deploy", "/var/lib/adx-migrations", "/var/lib/postgresql/adx-moves")


def _as_root(test_env: HostsUnderTest, host: str, *argv: str) -> str:
    container = engine_client().containers.get(container_name(test_env.env.name, host))
    result = container.exec_run(list(argv))
    assert result.exit_code == 0, result.output.decode()
    return str(result.output.decode().strip())


def _files_left(test_env: HostsUnderTest, host: str) -> list[str]:
    """Every file in the deploy's folders but the moves' lock files, and pyinfra's staged
    uploads in /tmp."""
    found = _as_root(
        test_env,
        host,
        "sh",
        "-c",
        f"find {' '.join(SEARCHED)} -type f ! -name '*.lock' 2>/dev/null; "
        "find /tmp -maxdepth 1 -name 'pyinfra-*' 2>/dev/null; true",
    )
    return sorted(line for line in found.splitlines() if line)


def _verifiers_left(test_env: HostsUnderTest, host: str) -> str:
    return _as_root(
        test_env,
        host,
        "sh",
        "-c",
        f"grep -rl 'SCRAM-SHA-256' {' '.join(SEARCHED)} /tmp 2>/dev/null; true",
    )


def _sleeping_migration(test_env: HostsUnderTest) -> bool:
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()"
    )
    return test_env.psql("pg1", query) != "0"


def test_a_killed_deploy_leaves_nothing_the_next_run_does_not_remove(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(REPO / "sql" / "migrations", directory)
    (directory / "shared" / "095_slow_probe.sql").write_text("SELECT pg_sleep(600);\n")
    secret = tmp_path / "adx_readonly.password"
    secret.write_text("killed-run-rotation-Z7q1\n")
    inventory = variant_inventory(
        tmp_path,
        {
            "migrations": {"directory": str(directory)},
            "roles": {"adx_readonly": {"password": {"file": str(secret)}}},
        },
    )
    deploy = subprocess.Popen(
        [str(VENV_BIN / "pyinfra"), "-y", str(inventory), str(REPO / "deploy.py")],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        while not _sleeping_migration(test_env):
            assert deploy.poll() is None, "the deploy ended before its slow migration ran"
            assert time.monotonic() < deadline, "the slow migration never started"
            time.sleep(1)
    finally:
        os.killpg(deploy.pid, signal.SIGKILL)
        deploy.wait()
    killed_at = time.monotonic()
    # Negative twin: the search sees what the killed run left (its migration run folder).
    left = _files_left(test_env, "pg1")
    assert any("095_slow_probe" in path for path in left), left
    # The migration's session outlives the SSH connection until it next talks to the client;
    # end it as a server restart would.
    test_env.psql(
        "pg1",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%'"
        " AND pid <> pg_backend_pid()",
    )
    # A run's files are its own for a minute after it wrote them (it is about to lock them).
    time.sleep(max(0.0, 65 - (time.monotonic() - killed_at)))

    run = converge(test_env.inventory)
    assert run.changed_ops.get("Leftovers of killed deploys", 0) >= 1
    for host in test_env.env.hosts:
        assert _files_left(test_env, host) == []
        assert _verifiers_left(test_env, host) == ""
    assert converge(test_env.inventory).changed_ops == {}
