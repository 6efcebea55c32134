"""An HA main cluster's plan (DESIGN.md decision 8): etcd and Patroni rendered from the model,
the dynamic configuration the deploy keeps, and every member planned alike (the leader is
found at run time, never named)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from adxdb.inventory.loader import load_inventory
from adxdb.plan import ha
from adxdb.plan.config import ClusterPaths
from adxdb.plan.host import RunInfo, host_plan
from tests.unit.test_inventory import TENANT, base, write

PATHS = ClusterPaths(15, "main")
RUN = RunInfo(applied_by="unit@test", stamp="20261203T000000Z")


def _ha(**extra: Any) -> dict[str, Any]:
    hosts = {
        f"pg{i}": {
            "address": f"10.0.0.{9 + i}",
            "ssh": {"hostname": f"10.0.0.{9 + i}"},
            "groups": ["main"],
        }
        for i in (1, 2, 3)
    }
    hosts["backup1"] = {
        "address": "10.0.0.19",
        "ssh": {"hostname": "10.0.0.19"},
        "groups": ["backup"],
    }
    return base(
        hosts=hosts,
        tenants=[TENANT, {**TENANT, "slug": "globex", "id": "0c9d1b8e-2f4a-4e57-8d0e-5a6b7c8d9e10",
                          "isolation": "schema"}],
        postgres={"settings": {"work_mem": "8MB"}},
        **extra,
    )  # fmt: skip


def test_every_member_gets_the_main_clusters_writes_guarded_by_the_leader(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, _ha()))
    plans = {name: host_plan(inventory, name, RUN) for name in ("pg1", "pg2", "pg3")}
    for plan in plans.values():
        assert plan.ha is not None and plan.leader_only
        assert "adx_core" in plan.databases and plan.registry is not None
        assert "adx_core" in plan.migration_targets
        assert {"patroni", "python3-etcd", "etcd-server"} <= set(plan.packages)
    assert [p.ha.first_member for p in plans.values() if p.ha] == [True, False, False]


def test_a_single_host_plan_has_no_ha_and_writes_unguarded(tmp_path: Path) -> None:
    """Negative twin: the one-primary inventory keeps its plan (no Patroni, no guard)."""
    inventory = load_inventory(write(tmp_path, base(tenants=[TENANT])))
    plan = host_plan(inventory, "pg1", RUN)
    assert plan.ha is None and not plan.leader_only
    assert "patroni" not in plan.packages
    assert any(getattr(item, "dest", "").endswith("conf.d/50-adx.conf") for item in plan.config)


def test_an_ha_member_keeps_settings_and_pg_hba_in_the_dynamic_configuration(
    tmp_path: Path,
) -> None:
    inventory = load_inventory(write(tmp_path, _ha()))
    plan = host_plan(inventory, "pg2", RUN)
    dests = [getattr(item, "dest", "") for item in plan.config]
    assert not any(d.endswith(("50-adx.conf", "pg_hba.conf")) for d in dests)
    assert plan.removed_files == ("/etc/postgresql/15/main/conf.d/50-adx.conf",)
    assert plan.ha is not None
    config = plan.ha.dynamic_config
    parameters = config["postgresql"]["parameters"]
    assert parameters["work_mem"] == "8MB"
    assert parameters["ssl"] == "on" and parameters["wal_level"] == "replica"
    assert parameters["archive_command"] == "pgbackrest --stanza=adx archive-push %p"
    assert "listen_addresses" not in parameters and "port" not in parameters
    assert config["synchronous_mode"] is True and config["postgresql"]["use_pg_rewind"] is True
    assert "hostnossl all all 0.0.0.0/0 reject" in config["postgresql"]["pg_hba"]


def test_etcd_runs_tls_with_client_certificates_on_both_sides(tmp_path: Path) -> None:
    env = load_inventory(write(tmp_path, _ha())).env
    text = ha.render_etcd_default(env, "pg2")
    assert 'ETCD_NAME="pg2"' in text
    assert 'ETCD_LISTEN_CLIENT_URLS="https://10.0.0.11:2379"' in text
    assert (
        'ETCD_INITIAL_CLUSTER="pg1=https://10.0.0.10:2380,pg2=https://10.0.0.11:2380,'
        'pg3=https://10.0.0.12:2380"'
    ) in text
    assert 'ETCD_CLIENT_CERT_AUTH="true"' in text and 'ETCD_PEER_CLIENT_CERT_AUTH="true"' in text
    assert "http://" not in text


def test_patroni_configuration_of_a_member(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, _ha()))
    config = ha.patroni_config(inventory.env, "pg3", PATHS, inventory.passwords)
    assert config["name"] == "pg3"
    assert config["restapi"]["listen"] == "10.0.0.12:8008"
    assert config["restapi"]["authentication"]["username"] == "adx_patroni"
    assert config["etcd3"]["protocol"] == "https"
    assert config["etcd3"]["hosts"] == ["10.0.0.10:2379", "10.0.0.11:2379", "10.0.0.12:2379"]
    replication = config["postgresql"]["authentication"]["replication"]
    assert replication["username"] == "adx_replication"
    assert replication["sslmode"] == "verify-full"
    assert config["postgresql"]["create_replica_methods"] == ["pgbackrest", "basebackup"]
    assert "archive-get" in config["postgresql"]["recovery_conf"]["restore_command"]
    # A replica keeps archive_mode as the leader has it: it archives once it leads.
    assert "--archive-mode" not in config["postgresql"]["pgbackrest"]["command"]
    # Valid YAML as Patroni reads it.
    text = ha.render_patroni_config(inventory.env, "pg3", PATHS, inventory.passwords)
    assert yaml.safe_load(text)["scope"] == config["scope"]


def test_no_secret_in_the_repr_of_an_ha_members_plan(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, _ha()))
    plan = host_plan(inventory, "pg1", RUN)
    shown = repr(plan)
    for role in ("adx_replication", "adx_patroni"):
        secret = inventory.passwords[role].get_secret_value()
        assert secret not in shown
        # Negative twin: the Patroni configuration does hold it (the file is mode 0600).
        config = next(f for f in plan.patroni_files if getattr(f, "dest", "").endswith(".yml"))
        assert secret in getattr(config, "content", "")
        assert getattr(config, "mode", None) == "600"


def test_config_differences_and_patch() -> None:
    wanted = {"ttl": 30, "postgresql": {"parameters": {"a": 1, "b": "x"}, "use_slots": True}}
    same = {"ttl": 30, "postgresql": {"parameters": {"a": "1", "b": "x"}, "use_slots": True}}
    assert ha.config_differences(wanted, same) == []
    drift = {"ttl": 20, "postgresql": {"parameters": {"a": 1, "c": "old"}, "use_slots": True}}
    assert ha.config_differences(wanted, drift) == ["ttl", "postgresql.parameters.b"]
    assert ha.removed_parameters(wanted, drift) == ["c"]
    patch = ha.config_patch(wanted, drift)
    assert patch["postgresql"]["parameters"] == {"a": 1, "b": "x", "c": None}
    assert patch["ttl"] == 30


MEMBERS = [
    {"Member": "pg1", "Role": "Leader", "State": "running", "TL": 2},
    {"Member": "pg2", "Role": "Replica", "State": "streaming", "TL": 2, "Lag in MB": 0},
    {"Member": "pg3", "Role": "Sync Standby", "State": "streaming", "TL": 2, "Lag in MB": 0},
]


def test_a_switchover_goes_to_the_synchronous_standby() -> None:
    assert ha.switchover_candidate(MEMBERS, None, synchronous=True) == ("pg1", "pg3")
    assert ha.switchover_candidate(MEMBERS, "pg3", synchronous=True) == ("pg1", "pg3")
    assert ha.switchover_candidate(MEMBERS, "pg1", synchronous=True) == ("pg1", None)


def test_a_switchover_to_an_asynchronous_replica_is_refused_in_synchronous_mode() -> None:
    with pytest.raises(ValueError, match="pg2 is not the synchronous standby"):
        ha.switchover_candidate(MEMBERS, "pg2", synchronous=True)
    # Negative twin: without synchronous mode any running replica may lead.
    assert ha.switchover_candidate(MEMBERS, "pg2", synchronous=False) == ("pg1", "pg2")


def test_status_problems_name_what_is_wrong() -> None:
    assert ha.status_problems(MEMBERS, ["pg1", "pg2", "pg3"]) == []
    down = [MEMBERS[0], {**MEMBERS[1], "State": "stopped"}]
    assert ha.status_problems(down, ["pg1", "pg2", "pg3"]) == [
        "pg2: stopped",
        "pg3: not a member (Patroni does not run it)",
    ]
    pending = [{**MEMBERS[0], "Pending restart": "*"}, *MEMBERS[1:]]
    assert ha.status_problems(pending, ["pg1", "pg2", "pg3"]) == ["pg1: restart pending"]
    no_leader = [{**m, "Role": "Replica"} for m in MEMBERS]
    assert ha.status_problems(no_leader, ["pg1", "pg2", "pg3"]) == ["no running leader"]


def test_a_restarting_leader_hands_over_to_a_standby_that_needs_no_restart() -> None:
    assert ha.restart_handover(MEMBERS, synchronous=True) == ("pg1", "pg3")
    # The synchronous standby still waits (a lowered max_connections): restart in place.
    waiting = [MEMBERS[0], MEMBERS[1], {**MEMBERS[2], "Pending restart": "*"}]
    assert ha.restart_handover(waiting, synchronous=True) == ("pg1", None)
    # Outside synchronous mode an asynchronous replica that needs no restart may lead.
    assert ha.restart_handover(waiting, synchronous=False) == ("pg1", "pg2")
    with pytest.raises(ValueError, match="no running leader"):
        ha.restart_handover([{**m, "Role": "Replica"} for m in MEMBERS])


def test_the_backup_host_backs_an_ha_cluster_up_from_a_standby(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, _ha()))
    schedule = host_plan(inventory, "backup1", RUN).backup_schedule
    assert schedule is not None
    assert "--stanza=adx --type=full --backup-standby=y backup" in schedule.content


def test_overrides_are_reset_as_identifiers() -> None:
    assert ha.reset_overrides_sql(["archive_mode", "work_mem"]) == (
        'ALTER SYSTEM RESET "archive_mode";\nALTER SYSTEM RESET "work_mem";\n'
        "SELECT pg_catalog.pg_reload_conf();\n"
    )
