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

from tests.integration.conftest import DEPLOY_FOLDERS, HostsUnderTest
from tests.integration.harness import REPO, VENV_BIN, converge, variant_inventory


def _verifiers_left(test_env: HostsUnderTest, host: str) -> str:
    return test_env.run_as_root(
        host,
        "sh",
        "-c",
        f"grep -rl 'SCRAM-SHA-256' {' '.join(DEPLOY_FOLDERS)} /tmp 2>/dev/null; true",
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
    left = test_env.files_left("pg1")
    assert any("095_slow_probe" in path for path in left), left
    # The host loses the run as well (its session killed, as a dying control machine's would
    # be): no shell is left to tidy up, and the migrations' sessions are ended as a server
    # restart would end them.
    for host in test_env.database_hosts:
        test_env.run_as_root(host, "sh", "-c", "pkill -KILL -f 'adx-migrations/ru[n]-' ; true")
        test_env.psql(
            host,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()",
        )
    # A run's files are its own for a minute after it wrote them (it is about to lock them).
    time.sleep(max(0.0, 65 - (time.monotonic() - killed_at)))

    run = converge(test_env.inventory)
    assert run.changed_ops.get("Leftovers of killed deploys", 0) >= 1
    for host in test_env.database_hosts:
        assert test_env.files_left(host) == []
        assert _verifiers_left(test_env, host) == ""
    assert converge(test_env.inventory).changed_ops == {}
