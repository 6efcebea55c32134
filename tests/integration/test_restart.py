"""Reload versus restart: decided by PostgreSQL's pending_restart and the host's restart policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import connect, converge, run_deploy, variant_inventory


def _server(test_env: HostsUnderTest, setting: str) -> tuple[float, str, bool]:
    with connect("adx_monitor", test_env.pg_port("pg1")) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM pg_postmaster_start_time())::float8, setting, "
            "pending_restart "
            "FROM pg_settings WHERE name = %s",
            (setting,),
        ).fetchone()
    assert row is not None
    return float(row[0]), str(row[1]), bool(row[2])


@pytest.mark.usefixtures("restore")
def test_reload_only_setting_applies_without_restart(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    started, work_mem, _ = _server(test_env, "work_mem")
    assert work_mem == "4096"
    inventory = variant_inventory(tmp_path, {"postgres": {"settings": {"work_mem": "8MB"}}})
    run = converge(inventory)
    assert run.changed_ops == {"Managed settings (conf.d)": 2, "Server 15/main running": 2}
    after, work_mem, pending = _server(test_env, "work_mem")
    assert (after, work_mem, pending) == (started, "8192", False)
    assert converge(inventory).changed_ops == {}


@pytest.mark.usefixtures("restore")
def test_restart_setting_with_policy_never_is_reported_not_done(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    started, max_connections, _ = _server(test_env, "max_connections")
    inventory = variant_inventory(
        tmp_path,
        {"postgres": {"restart_policy": "never", "settings": {"max_connections": 120}}},
    )
    run = converge(inventory)
    assert "Server 15/main restart when needed" not in run.changed_ops
    assert "RESTART PENDING" in run.output and "max_connections" in run.output
    after, still, pending = _server(test_env, "max_connections")
    assert (after, still, pending) == (started, max_connections, True)
    second = converge(inventory)
    assert second.changed_ops == {}
    assert "RESTART PENDING" in second.output


@pytest.mark.usefixtures("restore")
def test_restart_setting_with_policy_auto_restarts(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    started, _, _ = _server(test_env, "max_connections")
    inventory = variant_inventory(
        tmp_path, {"postgres": {"restart_policy": "auto", "settings": {"max_connections": 130}}}
    )
    run = converge(inventory)
    assert run.changed_ops["Server 15/main restart when needed"] == 2
    after, max_connections, pending = _server(test_env, "max_connections")
    assert after > started
    assert (max_connections, pending) == ("130", False)
    assert converge(inventory).changed_ops == {}


@pytest.mark.usefixtures("restore")
def test_removing_a_restart_setting_restarts_back_to_the_default(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    """PostgreSQL reports a removed restart-only setting without a file or line: it is a
    pending restart, never a configuration error, and the reload is waited for so the restart
    decision sees it."""
    _, default, _ = _server(test_env, "max_locks_per_transaction")
    added = variant_inventory(
        tmp_path, {"postgres": {"settings": {"max_locks_per_transaction": 128}}}
    )
    converge(added)
    started, value, _ = _server(test_env, "max_locks_per_transaction")
    assert value == "128"  # negative twin: the setting did change
    run = converge(test_env.inventory)
    assert run.changed_ops["Server 15/main restart when needed"] == 2
    after, value, pending = _server(test_env, "max_locks_per_transaction")
    assert after > started
    assert (value, pending) == (default, False)
    assert converge(test_env.inventory).changed_ops == {}


def test_the_dry_plan_names_the_settings_that_need_a_restart(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    started, before, _ = _server(test_env, "max_connections")
    inventory = variant_inventory(tmp_path, {"postgres": {"settings": {"max_connections": 150}}})
    dry = run_deploy(inventory, "--dry")
    assert dry.returncode == 0, dry.output[-3000:]
    assert "restarts to apply max_connections (restart policy: auto)" in dry.output
    # Nothing ran: the same server, the same value, no restart pending.
    assert _server(test_env, "max_connections") == (started, before, False)
    # Negative twin: the converged inventory's plan names no restart.
    same = run_deploy(test_env.inventory, "--dry")
    assert same.returncode == 0, same.output[-3000:]
    assert "restarts to apply" not in same.output
