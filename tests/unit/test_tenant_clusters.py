"""A dedicated tenant cluster of several members (DESIGN.md decision 8): Patroni runs it on
the environment's etcd under a scope and a stanza of its own; the tenant's database, role,
migrations and grants are planned on every member (written by the leader, found at run
time); the registry and the backups know every member."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adxdb.errors import MoveRefused
from adxdb.inventory.loader import load_inventory
from adxdb.inventory.model import ClusterMembers
from adxdb.plan import backups as pgbackrest
from adxdb.plan.host import ManagedFile, RunInfo, host_plan
from adxdb.plan.moves import plan_moves
from adxdb.plan.tenants import registry_rows
from tests.unit.test_ha_plan import _ha
from tests.unit.test_inventory import write

RUN = RunInfo(applied_by="unit@test", stamp="20261203T000000Z")
INITECH = {
    "slug": "initech",
    "id": "5d2e1f0a-3b4c-4d5e-8f60-718293a4b5c6",
    "name": "Initech",
    "isolation": "database",
    "cluster": "tc",
}


def _with_cluster(**extra: Any) -> dict[str, Any]:
    data = _ha(**extra)
    for index, name in enumerate(("t1", "t2")):
        data["hosts"][name] = {
            "address": f"10.0.1.{index + 1}",
            "ssh": {"hostname": f"10.0.1.{index + 1}"},
            "groups": ["tenant_hosts"],
        }
    data["hosts"]["t3"] = {
        "address": "10.0.1.3",
        "ssh": {"hostname": "10.0.1.3"},
        "groups": ["tenant_hosts"],
    }
    data["clusters"] = {"tc": {"members": ["t1", "t2"]}}
    lone = {**INITECH, "slug": "hooli", "id": "6e3f2a1b-4c5d-4e6f-9a71-8293a4b5c6d7"}
    lone.pop("cluster")
    data["tenants"] = [*data["tenants"], INITECH, {**lone, "host": "t3"}]
    return data


def test_the_estate_lists_each_cluster_with_its_stanza_and_members(tmp_path: Path) -> None:
    env = load_inventory(write(tmp_path, _with_cluster())).env
    assert env.estate_clusters() == [
        ClusterMembers("main", "adx", ("pg1", "pg2", "pg3"), True),
        ClusterMembers("tc", "tc", ("t1", "t2")),
        ClusterMembers("t3", "t3", ("t3",)),
    ]
    assert [c.ha for c in env.estate_clusters()] == [True, True, False]
    assert env.cluster_of("t2").name == "tc" and env.cluster_of("t3").name == "t3"


def test_each_member_of_the_tenant_cluster_runs_patroni_under_its_own_scope(
    tmp_path: Path,
) -> None:
    inventory = load_inventory(write(tmp_path, _with_cluster()))
    plans = {name: host_plan(inventory, name, RUN) for name in ("pg1", "t1", "t2", "t3")}
    t1, t2 = plans["t1"].ha, plans["t2"].ha
    assert t1 is not None and t2 is not None and plans["pg1"].ha is not None
    assert (t1.scope, t1.cluster, t1.members) == ("adx-test-tc", "tc", ("t1", "t2"))
    assert plans["pg1"].ha.scope == "adx-test-adx" and plans["pg1"].ha.cluster == "main"
    assert t1.initialize_key == "/adx/adx-test-tc/initialize"
    assert (t1.first_member, t2.first_member) == (True, False)
    # etcd runs on the main cluster's members only; the tenant cluster is its client.
    assert not t1.etcd_member and t1.etcd_endpoints == plans["pg1"].ha.etcd_endpoints
    assert "etcd-server" not in plans["t1"].packages and "patroni" in plans["t1"].packages
    parameters = t1.dynamic_config["postgresql"]["parameters"]
    assert "--stanza=tc " in parameters["archive_command"]
    config_file = next(f for f in plans["t1"].patroni_files if f.title == "Patroni configuration")
    assert isinstance(config_file, ManagedFile)
    config = yaml.safe_load(config_file.content)
    assert config["scope"] == "adx-test-tc"
    assert "--stanza=tc " in config["postgresql"]["recovery_conf"]["restore_command"]
    assert "--stanza=tc " in config["postgresql"]["pgbackrest"]["command"]
    # Negative twin: the lone dedicated host runs no Patroni, archives to its own stanza.
    assert plans["t3"].ha is None and not plans["t3"].leader_only
    assert "patroni" not in plans["t3"].packages


def test_the_tenants_database_is_planned_on_every_member_written_by_the_leader(
    tmp_path: Path,
) -> None:
    inventory = load_inventory(write(tmp_path, _with_cluster()))
    for name in ("t1", "t2"):
        plan = host_plan(inventory, name, RUN)
        assert plan.leader_only
        assert "adx_tenant_initech" in plan.databases
        assert "adx_tenant_initech" in plan.migration_targets
        assert "adx_tenant_initech" in plan.roles
        assert "adx_tenant_hooli" not in plan.databases
        # pg_rewind reads the leader's files as adx_replication, connected to `postgres`.
        assert plan.databases["postgres"].connect == ("adx_replication",)
    pg1 = host_plan(inventory, "pg1", RUN)
    assert "adx_tenant_initech" not in pg1.databases
    t3 = host_plan(inventory, "t3", RUN)
    assert set(t3.migration_targets) == {"adx_tenant_hooli"}


def test_the_registry_names_every_member_of_the_tenants_cluster(tmp_path: Path) -> None:
    env = load_inventory(write(tmp_path, _with_cluster())).env
    rows = {row.slug: row for row in registry_rows(env)}
    assert rows["initech"].db_host == "10.0.1.1,10.0.1.2"
    assert rows["hooli"].db_host == "10.0.1.3"  # the twin: a lone host is one address
    assert rows["initech"].db_name == "adx_tenant_initech"


def test_the_repository_has_a_stanza_for_the_cluster_with_every_member(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, _with_cluster()))
    env = inventory.env
    assert [(s.name, s.hosts) for s in pgbackrest.stanzas(env)] == [
        ("adx", ("pg1", "pg2", "pg3")),
        ("tc", ("t1", "t2")),
        ("t3", ("t3",)),
    ]
    assert pgbackrest.standby_stanzas(env) == ("adx", "tc")
    backup = host_plan(inventory, "backup1", RUN)
    assert backup.backup is not None and backup.backup.repository_stanzas == ("adx", "tc", "t3")
    config = next(f for f in backup.backup_files if f.title == "pgBackRest configuration")
    assert isinstance(config, ManagedFile)
    section = config.content.split("[tc]\n", 1)[1].split("\n\n", 1)[0]
    assert "pg1-host=10.0.1.1\n" in section and "pg2-host=10.0.1.2\n" in section
    assert "pg3-host" not in section
    t2 = host_plan(inventory, "t2", RUN)
    assert t2.backup is not None and t2.backup.stanza == "tc"


HOSTS = {"10.0.1.1": "t1", "10.0.1.2": "t2", "10.0.1.3": "t3"}


def _registered(row: Any, **location: Any) -> dict[str, dict[str, Any]]:
    return {row.id: {**row.as_fact(), **location}}


def test_a_move_into_the_cluster_targets_every_member(tmp_path: Path) -> None:
    env = load_inventory(write(tmp_path, _with_cluster())).env
    wanted = [row for row in registry_rows(env) if row.slug == "initech"]
    current = _registered(
        wanted[0],
        isolation_level="schema",
        db_host=None,
        db_name="adx_core",
        db_schema="tenant_initech",
    )
    [move] = plan_moves(wanted, current, "10.0.0.10", HOSTS)
    assert move.target.address == "10.0.1.1,10.0.1.2" and not move.readdress
    assert move.source_host is None  # read on the main cluster's leader
    # The twin: in place (the registry already has it there), nothing to move.
    assert plan_moves(wanted, {wanted[0].id: wanted[0].as_fact()}, "10.0.0.10", HOSTS) == []


def test_a_move_out_of_the_cluster_reads_the_old_location_on_a_member(tmp_path: Path) -> None:
    env = load_inventory(write(tmp_path, _with_cluster())).env
    [hooli] = [row for row in registry_rows(env) if row.slug == "hooli"]
    current = _registered(hooli, db_host="10.0.1.1,10.0.1.2")
    [move] = plan_moves([hooli], current, "10.0.0.10", HOSTS)
    assert (move.source_host, move.target.address, move.readdress) == ("t1", "10.0.1.3", False)


def test_a_host_that_joins_a_cluster_is_re_addressed_not_copied(tmp_path: Path) -> None:
    """A dedicated host made a cluster's first member keeps its database: the registry lists
    the members anew (a re-address, checked at the new address), nothing is copied."""
    env = load_inventory(write(tmp_path, _with_cluster())).env
    wanted = [row for row in registry_rows(env) if row.slug == "initech"]
    [move] = plan_moves(wanted, _registered(wanted[0], db_host="10.0.1.1"), "10.0.0.10", HOSTS)
    assert move.readdress and move.source.address == "10.0.1.1"
    # And back: a cluster down to one host.
    [hooli] = [row for row in registry_rows(env) if row.slug == "hooli"]
    [back] = plan_moves([hooli], _registered(hooli, db_host="10.0.1.3,10.0.1.2"), "x", HOSTS)
    assert back.readdress


def test_an_unknown_member_address_is_refused(tmp_path: Path) -> None:
    """Negative twin of the re-address: a cluster location whose member no host has, moving
    to another database, is refused, naming the tenant."""
    env = load_inventory(write(tmp_path, _with_cluster())).env
    wanted = [row for row in registry_rows(env) if row.slug == "initech"]
    current = _registered(
        wanted[0], db_host="10.0.9.9,10.0.1.1", db_name="adx_core", isolation_level="schema"
    )
    try:
        plan_moves(wanted, current, "10.0.0.10", HOSTS)
    except MoveRefused as refused:
        assert "tenant initech: registered at 10.0.9.9,10.0.1.1" in str(refused)
    else:
        raise AssertionError("a move from an address no host has was planned")
