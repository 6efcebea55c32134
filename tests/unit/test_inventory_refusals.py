"""Every kind of bad inventory is refused before any host is touched, with exactly one line
naming the field and what is allowed (the loader's promise; issue: hardening)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.test_inventory import TENANT, base, problems_of, write


def _members(count: int, **extra: Any) -> dict[str, Any]:
    hosts: dict[str, Any] = {
        f"pg{i}": {
            "address": f"10.0.0.{9 + i}",
            "ssh": {"hostname": f"10.0.0.{9 + i}"},
            "groups": ["main"],
        }
        for i in range(1, count + 1)
    }
    return base(hosts=hosts, **extra)


HA_CASES = [
    pytest.param(
        _members(2),
        "hosts: etcd needs an odd number of members, at least 3 (it has 2: pg1, pg2); a quorum "
        "of an even count survives no more losses",
        id="etcd-two-members",
    ),
    pytest.param(
        _members(3, etcd={"members": ["pg1", "pg2", "pg4"]}),
        "etcd.members[2]: 'pg4' is not a host of this environment",
        id="etcd-unknown-member",
    ),
    pytest.param(
        _members(3, etcd={"members": ["pg1", "pg2", "pg2"]}),
        "etcd.members: names a host twice",
        id="etcd-member-twice",
    ),
    pytest.param(
        _members(1),
        "hosts.pg1.groups: a main cluster of one member is a 'primary' host; group 'main' is "
        "for two or more members under Patroni",
        id="main-of-one",
    ),
    pytest.param(
        base(ha={"ttl": 30}),
        "ha: applies to a cluster of two or more members (group 'main', or a dedicated tenant "
        "cluster); this environment has none",
        id="ha-without-members",
    ),
    pytest.param(
        _members(3, ha={"ttl": 20, "loop_wait": 10, "retry_timeout": 10}),
        "ha.ttl: must be at least loop_wait + 2 x retry_timeout (10 + 2 x 10): a leader could "
        "lose its lock while it still runs",
        id="ha-ttl-too-short",
    ),
    pytest.param(
        _members(3, ha={"rest_port": 2379}),
        "ha.rest_port: 2379 is also etcd.client_port",
        id="ha-port-clash",
    ),
    pytest.param(
        _members(3, ha={"max_slot_wal_keep_size": "lots"}),
        "ha.max_slot_wal_keep_size: must match the pattern ^(-1|[1-9][0-9]*(kB|MB|GB|TB))$",
        id="ha-slot-size",
    ),
    pytest.param(
        _members(3, ha={"synchronous_mode_strict": True}),
        "ha.synchronous_mode_strict: unknown key (not part of the inventory format)",
        id="ha-unknown-key",
    ),
]


def _tenant_cluster(
    members: tuple[str, ...] = ("t1", "t2"), main: int = 3, **tenant: Any
) -> dict[str, Any]:
    """An HA main cluster of `main` members (or one primary) and tenant hosts t1..t3, one
    database tenant in cluster `tc` of `members`."""
    data = _members(main) if main > 1 else base()
    for i in (1, 2, 3):
        data["hosts"][f"t{i}"] = {
            "address": f"10.0.1.{i}",
            "ssh": {"hostname": f"10.0.1.{i}"},
            "groups": ["tenant_hosts"],
        }
    data["clusters"] = {"tc": {"members": list(members)}}
    row = {**TENANT, "isolation": "database", "cluster": "tc"}
    data["tenants"] = [{**row, **tenant}]
    return data


CLUSTER_CASES = [
    pytest.param(
        _tenant_cluster(cluster="nope"),
        "tenants[0].cluster: 'nope' is not a cluster of this environment (clusters: tc)",
        id="tenant-cluster-unknown",
    ),
    pytest.param(
        _tenant_cluster(host="t1"),
        "tenants[0].host: a database tenant is on a dedicated host or a dedicated cluster: "
        "name either host or cluster, not both",
        id="tenant-host-and-cluster",
    ),
    pytest.param(
        _tenant_cluster(cluster=None, host="t1"),
        "tenants[0].host: 't1' is a member of cluster 'tc': name the cluster (cluster: tc), "
        "whose leader Patroni elects",
        id="tenant-host-in-a-cluster",
    ),
    pytest.param(
        _tenant_cluster(isolation="schema"),
        "tenants[0].cluster: is only allowed for isolation 'database', not 'schema'",
        id="tenant-cluster-not-database",
    ),
    pytest.param(
        _tenant_cluster(members=("t1",)),
        "clusters.tc.members: must hold at least 2 item(s)",
        id="cluster-of-one",
    ),
    pytest.param(
        _tenant_cluster(members=("t1", "t9")),
        "clusters.tc.members[1]: 't9' is not a host of this environment",
        id="cluster-unknown-member",
    ),
    pytest.param(
        _tenant_cluster(members=("t1", "pg1")),
        "clusters.tc.members[1]: 'pg1' is not in group 'tenant_hosts': a dedicated cluster's "
        "members are dedicated tenant hosts",
        id="cluster-member-of-main",
    ),
    pytest.param(
        _tenant_cluster(members=("t1", "t1")),
        "clusters.tc.members: names a host twice",
        id="cluster-member-twice",
    ),
    pytest.param(
        _tenant_cluster(main=1),
        "etcd.members: the dedicated tenant clusters need etcd, and the main cluster has one "
        "primary: name etcd's hosts (3 or 5 members of the estate's clusters)",
        id="cluster-without-etcd",
    ),
    pytest.param(
        {**_tenant_cluster(main=1), "etcd": {"members": ["t1", "t2", "t3"]}},
        "etcd.members[2]: 't3' is not a member of a cluster Patroni runs: etcd runs on the "
        "members of the main or a dedicated tenant cluster only (for now)",
        id="cluster-etcd-outside",
    ),
]


def _two_clusters() -> dict[str, Any]:
    data = _tenant_cluster()
    data["clusters"]["td"] = {"members": ["t2", "t3"]}
    return data


def _cluster_named_like_a_host() -> dict[str, Any]:
    data = _tenant_cluster(cluster="t3")
    data["clusters"] = {"t3": {"members": ["t1", "t2"]}}
    return data


CLUSTER_CASES += [
    pytest.param(
        _two_clusters(),
        "clusters.td.members[0]: 't2' is also a member of cluster 'tc'",
        id="cluster-member-in-two",
    ),
    pytest.param(
        _cluster_named_like_a_host(),
        "clusters.t3: 't3' is also a host's name, 'main' or the main stanza's: a cluster's "
        "stanza and Patroni scope are its name: rename it",
        id="cluster-named-like-a-host",
    ),
]

CASES = [
    *HA_CASES,
    *CLUSTER_CASES,
    pytest.param(
        base(backups={"max_age": "0s"}),
        "backups.max_age: must be between 1s and 90d; got 0s",
        id="backups-max-age-zero",
    ),
    pytest.param(
        base(backups={"drill_max_age": "30min"}),
        "backups.drill_max_age: must be between 1h and 365d; got 30min",
        id="backups-drill-max-age-short",
    ),
    pytest.param(
        base(backups={"retention_full": 0}),
        "backups.retention_full: must be at least 1",
        id="backups-retention-zero",
    ),
    pytest.param(
        base(moves={"freeze": "0s"}),
        "moves.freeze: must be between 100ms and 10min; got 0s",
        id="moves-freeze-zero",
    ),
    pytest.param(
        base(moves={"freeze": "2h"}),
        "moves.freeze: must be between 100ms and 10min; got 2h",
        id="moves-freeze-hours",
    ),
    pytest.param(
        base(moves={"start_wait": "500ms"}),
        "moves.start_wait: must be between 1s and 1d; got 500ms",
        id="moves-start-wait-short",
    ),
    pytest.param(
        base(moves={"catch_up_passes": 0}),
        "moves.catch_up_passes: must be at least 1",
        id="moves-no-catch-up-pass",
    ),
    pytest.param(
        base(moves={"catch_up_rows": -5}),
        "moves.catch_up_rows: must be at least 0",
        id="moves-negative-rows",
    ),
    pytest.param(
        base(moves={"freze": "5s"}),
        "moves.freze: unknown key (not part of the inventory format)",
        id="moves-unknown-key",
    ),
    pytest.param(
        base(postgres={"settings": {"shared_bufers": "128MB"}}),
        "postgres.settings.shared_bufers: 'shared_bufers' is not a PostgreSQL 15 setting; did you mean 'shared_buffers'?",
        id="setting-unknown-name",
    ),
    pytest.param(
        base(postgres={"settings": {"work_mem": "4 parsecs"}}),
        "postgres.settings.work_mem: 'work_mem' takes a memory size (a number with a unit: B, kB, MB, GB, TB; case matters; or a whole number of kB); got '4 parsecs'",
        id="setting-wrong-unit",
    ),
    pytest.param(
        base(postgres={"settings": {"max_connections": 10_000_000}}),
        "postgres.settings.max_connections: 'max_connections' must be between 1 and 262143; got 10000000",
        id="setting-out-of-range",
    ),
    pytest.param(
        base(postgres={"settings": {"wal_level": "archive"}}),
        "postgres.settings.wal_level: 'wal_level' takes one of: minimal, replica, logical; got 'archive'",
        id="setting-enum",
    ),
    pytest.param(
        base(postgres={"settings": {"application_name": "a\nb"}}),
        "postgres.settings.application_name: the value of 'application_name' contains a control character (a line break, tab or similar), which postgresql.conf cannot hold",
        id="setting-control-character",
    ),
    pytest.param(
        base(postgres={"settings": {"ssl_ciphers": "ALL"}}),
        "postgres.settings.ssl_ciphers: 'ssl_ciphers' is managed by the deploy and cannot be set in the inventory",
        id="setting-managed",
    ),
    pytest.param(
        base(postgres={"settings": {"work_mem": ["4MB"]}}),
        "postgres.settings.work_mem: must be text, a whole number, a number or true/false",
        id="setting-union-one-line",
    ),
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
        "hosts: 2 hosts are in the 'primary' group (pg1, pg2); an environment has one primary "
        "(an HA main cluster puts its members in 'main')",
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
        "hosts.pg1.groups: 'replica' is not a group: put the main cluster's members, this host "
        "included, in group 'main' (Patroni elects the leader; the others stream from it)",
        id="primary-and-replica",
    ),
    pytest.param(
        base(
            hosts={
                "pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}},
                "pg2": {
                    "address": "10.0.0.11",
                    "ssh": {"hostname": "10.0.0.11"},
                    "groups": ["replica"],
                },
            }
        ),
        "hosts.pg2.groups: 'replica' is not a group: put the main cluster's members, this host "
        "included, in group 'main' (Patroni elects the leader; the others stream from it)",
        id="replica-is-not-a-group",
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


# The file itself ------------------------------------------------------------------------------


def _raw(tmp_path: Path, text: bytes) -> Path:
    path = tmp_path / "test.yml"
    path.write_bytes(text)
    return path


def test_a_duplicate_key_is_refused_naming_both_lines(tmp_path: Path) -> None:
    path = _raw(tmp_path, b"tls: {mode: generate}\nhosts: {}\ntls: {mode: files}\n")
    assert problems_of(path) == [
        f"{path}: not valid YAML at line 3, column 1: key 'tls' repeats the key at line 1, column 1"
    ]


def test_an_alias_is_refused(tmp_path: Path) -> None:
    path = _raw(tmp_path, b"a: &big [1, 2]\nb: *big\n")
    assert problems_of(path) == [
        f"{path}: not valid YAML at line 1, column 4: the value anchored here (&name) is used "
        "again through an alias (*name): anchors and aliases are not allowed in an inventory; "
        "write the value out"
    ]


def test_bytes_that_are_not_utf8_are_refused_without_a_traceback(tmp_path: Path) -> None:
    path = _raw(tmp_path, b"tls:\n  mode: gen\xe9rate\n")
    assert problems_of(path) == [f"{path}: not UTF-8 text (byte 17, line 2)"]


@pytest.mark.parametrize(
    ("state_dir", "line"),
    [
        (["a", "b"], "state_dir: must be a folder path (text), not list ['a', 'b']"),
        (7, "state_dir: must be a folder path (text), not int 7"),
        ("", "state_dir: must be a folder path (text), not str ''"),
    ],
)
def test_state_dir_must_be_a_path(tmp_path: Path, state_dir: Any, line: str) -> None:
    path = tmp_path / "test.yml"
    path.write_text(yaml.safe_dump({**base(), "state_dir": state_dir}))
    assert problems_of(path) == [line]


def test_state_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    path = tmp_path / "test.yml"
    path.write_text(yaml.safe_dump({**base(), "state_dir": "afile"}))
    assert problems_of(path) == [f"state_dir: {tmp_path / 'afile'} exists and is not a folder"]


# Environment kinds ----------------------------------------------------------------------------


def test_seed_data_and_containers_are_refused_outside_local_and_test(tmp_path: Path) -> None:
    data = base(seed="development", tls={"mode": "files", "ca_file": "ca.crt"})
    data["hosts"]["pg1"].update(
        {"tls_cert_file": "a.crt", "tls_key_file": "a.key", "container": {"pg_port": 5555}}
    )
    assert problems_of(write(tmp_path, data, stem="prod")) == [
        "hosts.pg1.container: is for local and test environments only",
        "backups: prod keeps its backups off the database hosts: add a host in group 'backup' "
        "(or set backups.enabled: false)",
        "seed: 'development' seed data is for local and test environments only",
    ]


def _backup_host(address: str = "10.0.0.20", **spec: Any) -> dict[str, Any]:
    return {"address": address, "ssh": {"hostname": address}, "groups": ["backup"], **spec}


def test_one_backup_host_in_no_other_group(tmp_path: Path) -> None:
    data = base()
    data["hosts"]["b1"] = _backup_host()
    data["hosts"]["b2"] = _backup_host("10.0.0.21", groups=["backup", "tenant_hosts"])
    assert problems_of(write(tmp_path, data)) == [
        "hosts: 2 hosts are in the 'backup' group (b1, b2); an environment has one pgBackRest "
        "repository host",
        "hosts.b2.groups: a 'backup' host is in no other group: a repository on a database host "
        "is lost with it",
    ]


def test_a_tenant_database_on_the_backup_host_is_refused(tmp_path: Path) -> None:
    data = base(tenants=[{**TENANT, "isolation": "database", "host": "b1"}])
    data["hosts"]["b1"] = _backup_host()
    assert problems_of(write(tmp_path, data)) == [
        "tenants[0].host: 'b1' is the backup host: it holds no database"
    ]


def test_a_dedicated_host_named_like_the_main_stanza_is_refused(tmp_path: Path) -> None:
    data = base()
    data["hosts"]["adx"] = {
        "address": "10.0.0.30",
        "ssh": {"hostname": "10.0.0.30"},
        "groups": ["tenant_hosts"],
    }
    assert problems_of(write(tmp_path, data)) == [
        "hosts.adx: is named like the main cluster's stanza (backups.stanza 'adx'); a dedicated "
        "host's stanza is its name: rename one of them"
    ]


def test_a_migrations_folder_without_streams_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty" / "shared").mkdir(parents=True)
    path = write(tmp_path, base(migrations={"directory": str(tmp_path / "empty")}))
    assert problems_of(path) == [
        f"migrations.directory: {tmp_path / 'empty'} has no migration files in shared/ and tenant/"
    ]


def test_a_union_that_fails_in_every_member_is_one_line(tmp_path: Path) -> None:
    data = base(tenants=[{**TENANT, "password": {"env": "lower-case"}}])
    problems = problems_of(write(tmp_path, data))
    assert len(problems) == 1
    assert problems[0].startswith("tenants[0].password.env: ")
