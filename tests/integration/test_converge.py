"""Converging bare Debian hosts over SSH: everything is installed on the first run; the second
run changes nothing at all."""

from __future__ import annotations

import re

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import converge

EXPECTED_OPERATIONS = {
    "Leftovers of killed deploys",
    "Debian packages create no default cluster",
    "PostgreSQL 15 packages",
    "Cluster 15/main",
    "TLS directory",
    "TLS ca.crt",
    "TLS server.crt",
    "TLS server.key",
    "Managed settings (conf.d)",
    "pg_hba.conf",
    "pgBackRest /var/lib/pgbackrest",
    "pgBackRest /var/log/pgbackrest",
    "pgBackRest TLS directory",
    "pgBackRest TLS ca.crt",
    "pgBackRest TLS host.crt",
    "pgBackRest TLS host.key",
    "pgBackRest configuration",
    "pgBackRest TLS server",
    "Server 15/main running",
    "Server 15/main restart when needed",
    "pgBackRest stanza of the cluster (create, check)",
    "Backups of every stanza (first full backup, freshness)",
    "pgBackRest schedule",
    "ADX roles",
    "ADX databases",
    "Tenant schemas",
    "Migrations",
    "Tenant moves (copy, verify, switch the registry)",
    "Tenants registry",
    "Seed data (test)",
}


def test_first_run_installs_and_configures_every_host(test_env: HostsUnderTest) -> None:
    changed = test_env.first.changed_ops
    assert changed["PostgreSQL 15 packages"] == 3  # the backup host has the binaries too
    assert changed["Cluster 15/main"] == 2
    assert changed["ADX roles"] == 2
    assert changed["ADX databases"] == 2  # adx_core on pg1, adx_tenant_initech on tenant1
    assert set(test_env.first.changed) == EXPECTED_OPERATIONS


def test_second_run_changes_nothing(test_env: HostsUnderTest) -> None:
    assert set(test_env.second.changed) == EXPECTED_OPERATIONS
    assert test_env.second.changed_ops == {}


def test_clusters_run_with_data_checksums(test_env: HostsUnderTest) -> None:
    for host in test_env.database_hosts:
        assert test_env.psql(host, "SHOW data_checksums") == "on"
        assert test_env.psql(host, "SHOW server_version_num").startswith("15")


def test_main_database_lives_on_the_primary_only(test_env: HostsUnderTest) -> None:
    query = "SELECT count(*) FROM pg_database WHERE datname = 'adx_core'"
    assert test_env.psql("pg1", query) == "1"
    assert test_env.psql("tenant1", query) == "0"
    roles = "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'adx\\_%'"
    assert test_env.psql("tenant1", roles) == "8"  # contract roles + initech + umbrella


def _ssh_commands(output: str) -> dict[str, int]:
    """Commands a `-v` run sent each host: facts read ("Loaded fact") and commands executed
    (none in a no-op: every operation says "No changes")."""
    counts: dict[str, int] = {}
    for line in output.splitlines():
        found = re.match(r"^\s+\[([^\]]+)\]\s+Loaded fact ", line)
        if found:
            counts[found[1]] = counts.get(found[1], 0) + 1
    return counts


def test_a_no_op_converge_asks_each_host_once(test_env: HostsUnderTest) -> None:
    run = converge(test_env.inventory, "-v")
    assert run.changed_ops == {}
    commands = _ssh_commands(run.output)
    assert commands == {"pg1": 1, "tenant1": 1, "backup1": 1}, run.output[-4000:]
    assert "Loaded fact operations.facts.FactBatch" in run.output
    # The twin: one file changed on a host; that host then reads what follows on its own.
    test_env.run_as_root("pg1", "chmod", "0644", "/etc/postgresql/15/main/pg_hba.conf")
    run = converge(test_env.inventory, "-v")
    assert run.changed_ops.get("pg_hba.conf") == 1, run.changed_ops
    assert _ssh_commands(run.output)["pg1"] > 1
    assert converge(test_env.inventory).changed_ops == {}
