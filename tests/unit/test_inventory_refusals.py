"""Every kind of bad inventory is refused before any host is touched, with exactly one line
naming the field and what is allowed (the loader's promise; issue: hardening)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_inventory import TENANT, base, problems_of, write

CASES = [
    pytest.param(
        base(roles={"adx_app": None}),
        "roles.adx_app: must be a mapping of keys, not null",
        id="null-role",
    ),
    pytest.param(
        base(roles={"adx_app": False}),
        "roles.adx_app: must be a mapping of keys, not true/false",
        id="false-role",
    ),
    pytest.param(
        base(roles={"pg_reader": {}}),
        "roles.pg_reader: 'pg_reader' is a name PostgreSQL reserves (pg_*, postgres, public): choose another",
        id="reserved-role-pg",
    ),
    pytest.param(
        base(roles={"postgres": {}}),
        "roles.postgres: 'postgres' is a name PostgreSQL reserves (pg_*, postgres, public): choose another",
        id="reserved-role-postgres",
    ),
    pytest.param(
        base(databases={"template1": {"owner": "adx_owner"}}),
        "databases.template1: 'template1' is a database PostgreSQL keeps (postgres, template0, template1): choose another",
        id="reserved-db-template1",
    ),
    pytest.param(
        base(databases={"postgres": {"owner": "adx_owner"}}),
        "databases.postgres: 'postgres' is a database PostgreSQL keeps (postgres, template0, template1): choose another",
        id="reserved-db-postgres",
    ),
    pytest.param(
        base(roles={"adx_app": {"member_of": ["adx_owner"]}}),
        "roles.adx_app.member_of: is fixed by the contract to no role",
        id="app-member-of-owner",
    ),
    pytest.param(
        base(roles={"adx_migrator": {"member_of": []}}),
        "roles.adx_migrator.member_of: is fixed by the contract to adx_owner",
        id="migrator-loses-owner",
    ),
    pytest.param(
        base(roles={"reporter": {"member_of": ["adx_owner"]}}),
        "roles.reporter.member_of[0]: 'adx_owner' owns every schema object: only adx_migrator is a member of adx_owner",
        id="custom-member-of-owner",
    ),
    pytest.param(
        base(databases={"adx_core": {"owner": "adx_app"}}),
        "databases.adx_core.owner: is fixed by the contract to adx_owner",
        id="core-owned-by-app",
    ),
    pytest.param(
        base(roles={"adx_tenant_acme": {}}, tenants=[{**TENANT, "isolation": "schema"}]),
        "roles.adx_tenant_acme: is the own role of tenant acme: the deploy manages it",
        id="role-is-tenant-role",
    ),
    pytest.param(
        base(roles={"adx_tenant_zeta": {}}),
        "roles.adx_tenant_zeta: names starting adx_tenant_ are tenants' roles",
        id="role-tenant-prefix",
    ),
    pytest.param(
        base(roles={"adx_app": {"connection_limit": 2147483648}}),
        "roles.adx_app.connection_limit: must be at most 2147483647",
        id="limit-int32",
    ),
    pytest.param(
        base(
            hosts={
                "pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}},
                "pg2": {"address": "10.0.0.11", "ssh": {"hostname": "10.0.0.11"}},
            }
        ),
        "hosts: 2 hosts are in the 'primary' group (pg1, pg2); an environment has one primary",
        id="two-primaries",
    ),
    pytest.param(
        base(
            hosts={
                "pg1": {
                    "address": "10.0.0.10",
                    "ssh": {"hostname": "10.0.0.10"},
                    "groups": ["primary", "replica"],
                }
            }
        ),
        "hosts.pg1.groups: a host is either 'primary' or 'replica', not both",
        id="primary-and-replica",
    ),
    pytest.param(
        base(
            hosts={
                "pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}},
                "pg2": {"address": "10.0.0.11", "ssh": {"hostname": "10.0.0.11"}, "groups": []},
            }
        ),
        "hosts.pg2.groups: must hold at least 1 item(s)",
        id="empty-groups",
    ),
    pytest.param(
        base(
            hosts={
                "pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}},
                "pg2": {
                    "address": "10.0.0.11",
                    "ssh": {"hostname": "10.0.0.10"},
                    "groups": ["tenant_hosts"],
                },
            }
        ),
        "hosts.pg2.ssh: 10.0.0.10:22 is also the SSH endpoint of pg1",
        id="same-ssh",
    ),
    pytest.param(
        base(
            hosts={
                "pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}},
                "pg2": {
                    "address": "10.0.0.10",
                    "ssh": {"hostname": "10.0.0.11"},
                    "groups": ["tenant_hosts"],
                },
            }
        ),
        "hosts.pg2.address: 10.0.0.10 is also the address of pg1",
        id="same-address",
    ),
    pytest.param(
        base(hosts={"pg1": {"address": "300.1.2.3", "ssh": {"hostname": "10.0.0.10"}}}),
        "hosts.pg1.address: '300.1.2.3' is not an IP address or a DNS name",
        id="bad-address",
    ),
    pytest.param(
        base(client_networks=["10.1.2.3/16"]),
        "client_networks[0]: '10.1.2.3/16' has host bits set; did you mean 10.1.0.0/16?",
        id="cidr-host-bits",
    ),
    pytest.param(
        base(client_networks=["ten-one"]),
        "client_networks[0]: 'ten-one' is not a network in CIDR form (e.g. 10.1.0.0/16)",
        id="cidr-garbage",
    ),
    pytest.param(
        base(client_networks=[12]),
        "client_networks[0]: must be a network in CIDR form (e.g. 10.1.0.0/16), as text",
        id="cidr-number",
    ),
    pytest.param(
        base(migrations={"lock_timeout": "25d"}),
        "migrations.lock_timeout: '25d' is more than PostgreSQL allows (2147483647 ms, about 24 days)",
        id="lock-timeout-big",
    ),
    pytest.param(
        base(migrations={"statement_timeout": "soon"}),
        "migrations.statement_timeout: must be a whole number with an optional unit ms, s, min, h or d (e.g. 10s, 30min)",
        id="statement-timeout-garbage",
    ),
    pytest.param(
        base(backups={"full_schedule": "61 1 * * 0"}),
        "backups.full_schedule: minute field '61' is outside 0-59",
        id="cron-minute",
    ),
    pytest.param(
        base(backups={"diff_schedule": "30 1 * * 1-9"}),
        "backups.diff_schedule: day of week field '1-9' is outside 0-7",
        id="cron-dow",
    ),
    pytest.param(
        base(backups={"full_schedule": "every sunday"}),
        "backups.full_schedule: must be five cron fields: minute hour day-of-month month day-of-week",
        id="cron-fields",
    ),
    pytest.param(
        base(backups={"repo_path": "/var/lib/../etc/x"}),
        "backups.repo_path: '/var/lib/../etc/x' must be an absolute folder path without '.' or '..' parts",
        id="repo-dotdot",
    ),
    pytest.param(
        base(backups={"repo_path": "/etc"}),
        "backups.repo_path: '/etc' is a system folder: give a folder of its own (e.g. /var/lib/pgbackrest)",
        id="repo-system",
    ),
    pytest.param(
        base(backups={"repo_path": "/usr/share/x"}),
        "backups.repo_path: '/usr/share/x' is a system folder: give a folder of its own (e.g. /var/lib/pgbackrest)",
        id="repo-usr",
    ),
    pytest.param(
        base(name="prod"),
        "name: unknown key (the environment's name is the file's name, 'test')",
        id="name-key",
    ),
    pytest.param(
        base(tenants=[{**TENANT, "password": {"env": "X_PW"}}]),
        "tenants[0].password: an rls tenant has no role of its own (its rows are in the shared tables): remove the password",
        id="rls-password",
    ),
    pytest.param(
        base(
            hosts={
                "pg1": {
                    "address": "10.0.0.10",
                    "ssh": {"hostname": "10.0.0.10", "user": "root; rm"},
                }
            }
        ),
        "hosts.pg1.ssh.user: must match the pattern ^[a-z_][a-z0-9_.-]{0,31}$",
        id="ssh-user",
    ),
]


@pytest.mark.parametrize(("data", "line"), CASES)
def test_a_bad_inventory_is_refused_with_one_exact_line(
    tmp_path: Path, data: dict[str, Any], line: str
) -> None:
    assert problems_of(write(tmp_path, data)) == [line]
