"""A bad inventory stops the CLI before any host is touched, one line per problem."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import REPO, run_deploy, variant_inventory
from tools.testhosts.engine import engine_client
from tools.testhosts.hosts import container_name


def _ssh_logins(test_env: HostsUnderTest) -> dict[str, int]:
    """SSH logins each host's sshd has logged (its log is the container's)."""
    counts = {}
    for host in test_env.env.hosts:
        container = engine_client().containers.get(container_name(test_env.env, host))
        counts[host] = container.logs().decode().count("Accepted publickey")
    return counts


def test_invalid_inventory_touches_no_host(test_env: HostsUnderTest, tmp_path: Path) -> None:
    loaded_before = test_env.psql("pg1", "SELECT pg_conf_load_time()")
    logins_before = _ssh_logins(test_env)
    inventory = variant_inventory(
        tmp_path,
        {
            "tenants": [
                {"slug": "Acme Corp", "id": "7d8e1f1e-8c55-4f8e-9a57-3c2f8f0d2a11", "name": "Acme"}
            ],
            "roles": {"Bad-Role": {}},
            "postgres": {"settings": {"work_mem": "8MB"}, "restart_polcy": "auto"},
        },
    )
    run = run_deploy(inventory)
    assert run.returncode != 0
    assert "tenants[0].slug: 'Acme Corp' is not a valid tenant slug" in run.output
    assert "roles.Bad-Role" in run.output
    assert "postgres.restart_polcy: unknown key" in run.output
    assert "Connecting to hosts" not in run.output
    assert test_env.psql("pg1", "SELECT pg_conf_load_time()") == loaded_before
    assert _ssh_logins(test_env) == logins_before  # no host saw an SSH login
    # Negative twin: a valid inventory's dry run logs in to every host.
    dry = run_deploy(test_env.inventory, "--dry")
    assert dry.returncode == 0, dry.output[-3000:]
    after = _ssh_logins(test_env)
    assert all(after[host] > logins_before[host] for host in after), (logins_before, after)


def test_missing_inventory_yaml_is_an_error(tmp_path: Path) -> None:
    inventories = tmp_path / "inventories"
    inventories.mkdir()
    shutil.copy(REPO / "inventories" / "test.py", inventories / "test.py")
    run = run_deploy(inventories / "test.py")
    assert run.returncode != 0
    assert f"{inventories / 'test.yml'}: inventory file not found" in run.output
    assert "Connecting to hosts" not in run.output
