"""High availability on Patroni and etcd (DESIGN.md decision 8): a three-member main cluster
with etcd on the same three hosts, converged twice; replicas stream over TLS; secrets stay in
owner-only files; etcd and Patroni's REST API refuse clients they should; the leader is lost
for real while a client writes, and no acknowledged write is lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from adxdb.app.routing import TenantConnections
from adxdb.app.settings import DatabaseSettings
from tests.integration.conftest import HAHostsUnderTest, HostsUnderTest
from tests.integration.ha import (
    DRILLS,
    PROBE_TABLE,
    Drill,
    Writer,
    container,
    database_url,
    exec_in,
    ha_password,
    leader,
    make_probe_table,
    members,
    psql,
    put_private,
    rows_present,
    start_container,
    synchronous_standby,
    wait_for,
)
from tests.integration.harness import (
    HA_MEMBERS,
    HA_STATE_DIR,
    HA_YML,
    REPO,
    TENANT_CLUSTER,
    TENANT_CLUSTER_MEMBERS,
    DeployRun,
    converge,
    run_adxdb,
    run_deploy,
    variant_inventory,
)

CA = "/etc/patroni/tls/ca.crt"
FAILOVER_SECONDS = 30
OVERRIDES_OP = "No local override of the dynamic configuration (postgresql.auto.conf)"


def _address(env: HostsUnderTest, host: str) -> str:
    return env.env.hosts[host].address


def test_converge_twice_the_second_run_changes_nothing(ha_env: HostsUnderTest) -> None:
    assert ha_env.first.changed_ops, "the first run did the work"
    assert ha_env.second.changed_ops == {}


def test_a_converged_single_host_converts_in_place(ha_env: HAHostsUnderTest) -> None:
    """The fixture converged pg1 alone with data, then added pg2 and pg3 while a client
    wrote: Patroni adopted pg1's data folder (the same system identifier: no dump and
    restore), every member holds every row, and the client saw a short gap."""
    conversion = ha_env.conversion
    assert conversion is not None
    print(
        f"convert in place: {conversion.writes} writes acknowledged, longest gap "
        f"{conversion.longest_write_gap:.1f} s, {conversion.lost} lost; rows "
        f"{conversion.rows_before}"
    )
    assert conversion.sysid_after == conversion.sysid_before
    assert all(count > 0 for count in conversion.rows_before.values())
    for member, rows in conversion.rows_after.items():
        assert rows == conversion.rows_before, member
    assert conversion.lost == 0 and conversion.writes > 100
    assert conversion.longest_write_gap < 15


def test_three_members_one_leader_one_synchronous_standby(ha_env: HostsUnderTest) -> None:
    found = {m["Member"]: m for m in members(ha_env)}
    assert sorted(found) == list(HA_MEMBERS)
    roles = sorted(m["Role"] for m in found.values())
    assert roles == ["Leader", "Replica", "Sync Standby"], found
    assert {m["State"] for m in found.values()} == {"running"}


def test_every_replica_streams_over_tls(ha_env: HostsUnderTest) -> None:
    head = leader(ha_env)
    assert head is not None
    rows = psql(
        ha_env,
        head,
        "SELECT r.application_name || ':' || r.state || ':' || s.ssl FROM pg_stat_replication r "
        "JOIN pg_stat_ssl s USING (pid) ORDER BY 1",
        database="postgres",
    ).splitlines()
    replicas = sorted(set(HA_MEMBERS) - {head})
    assert rows == [f"{name}:streaming:true" for name in replicas]


def test_the_tls_probe_sees_a_session_without_tls(ha_env: HostsUnderTest) -> None:
    """Negative twin: the same view says `false` for a session on the socket."""
    head = leader(ha_env)
    assert head is not None
    ssl = psql(ha_env, head, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    assert ssl == "f"


def _secret_files(env: HostsUnderTest, host: str, secret: str) -> dict[str, str]:
    """Every file under the configuration, data and log folders holding `secret`: path ->
    "mode owner". The secret goes in a root-only file, not in grep's argument list."""
    put_private(env, host, "/root/.secret-probe", secret)
    _, output = exec_in(
        env,
        host,
        "sh",
        "-c",
        "grep -rlF -f /root/.secret-probe /etc /var/lib/postgresql /var/lib/etcd "
        "/var/log --exclude-dir=base --exclude-dir=pg_wal 2>/dev/null "
        "| xargs -r stat -c '%a %U %n'; rm -f /root/.secret-probe",
    )
    found: dict[str, str] = {}
    for line in output.splitlines():
        mode, owner, path = line.split(" ", 2)
        found[path] = f"{mode} {owner}"
    return found


@pytest.mark.parametrize("secret_of", ["adx_replication", "adx_patroni"])
def test_no_password_in_a_file_others_can_read(ha_env: HostsUnderTest, secret_of: str) -> None:
    for host in HA_MEMBERS:
        found = _secret_files(ha_env, host, ha_password(secret_of))
        # The probe finds the password where it must be (Patroni's configuration)...
        assert "/etc/patroni/15-main.yml" in found, (host, found)
        # ...and every file holding it is its owner's only.
        assert {path: m for path, m in found.items() if not m.startswith("600 ")} == {}, host


def test_primary_conninfo_names_a_password_file_not_a_password(ha_env: HostsUnderTest) -> None:
    replica = next(m["Member"] for m in members(ha_env) if m["Role"] != "Leader")
    conninfo = psql(ha_env, replica, "SHOW primary_conninfo", database="postgres")
    assert "passfile=" in conninfo and "sslmode=verify-full" in conninfo
    assert "password" not in conninfo.replace("passfile", "")
    assert ha_password("adx_replication") not in conninfo


def _etcd_range(env: HostsUnderTest, host: str, *cert: str) -> tuple[int, str]:
    url = f"https://{_address(env, host)}:2379/v3/kv/range"
    return exec_in(
        env,
        host,
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "5",
        "--cacert",
        CA,
        *cert,
        "-X",
        "POST",
        "-d",
        '{"key": "L2FkeC8="}',
        url,
    )


def _auto_conf(env: HostsUnderTest, member: str) -> list[str]:
    found = psql(
        env,
        member,
        "SELECT string_agg(DISTINCT name, ',' ORDER BY name) FROM pg_file_settings "
        "WHERE sourcefile LIKE '%/postgresql.auto.conf'",
        database="postgres",
    )
    return found.split(",") if found else []


def test_every_member_archives_once_it_leads(ha_env: HostsUnderTest) -> None:
    """Replicas made by pgBackRest keep archive_mode on (a restore's `--archive-mode=off`
    would stay in their postgresql.auto.conf, and a promoted replica would not archive)."""
    for member in HA_MEMBERS:
        assert psql(ha_env, member, "SHOW archive_mode", database="postgres") == "on", member
        assert _auto_conf(ha_env, member) == [], member


def test_a_local_override_on_a_member_is_reset(ha_env: HostsUnderTest) -> None:
    head = leader(ha_env)
    replica = next(m for m in HA_MEMBERS if m != head)
    psql(ha_env, replica, "ALTER SYSTEM SET work_mem = '7MB'", database="postgres")
    assert _auto_conf(ha_env, replica) == ["work_mem"]  # the probe sees an override
    run = converge(ha_env.inventory)
    assert run.changed_ops.get(OVERRIDES_OP) == 1
    assert _auto_conf(ha_env, replica) == []
    assert psql(ha_env, replica, "SHOW work_mem", database="postgres") != "7MB"
    assert converge(ha_env.inventory).changed_ops == {}


def test_etcd_refuses_a_client_without_a_certificate(ha_env: HostsUnderTest) -> None:
    code, status = _etcd_range(ha_env, "pg2")
    assert code != 0 and status.strip() == "000"  # the TLS handshake is refused


def test_etcd_answers_a_client_with_the_environments_certificate(ha_env: HostsUnderTest) -> None:
    """Negative twin: the same request with a client certificate of the CA is answered."""
    code, status = _etcd_range(
        ha_env, "pg2", "--cert", "/etc/patroni/tls/host.crt", "--key", "/etc/patroni/tls/host.key"
    )
    assert (code, status.strip()) == (0, "200")


def _patch_config(env: HostsUnderTest, host: str, credentials: bool) -> str:
    """PATCH /config with a change that changes nothing (the same ttl); the password, when
    sent, is in a root-only curl configuration file, not in curl's arguments."""
    ttl = env.env.ha_settings().ttl
    url = f"https://{_address(env, host)}:8008/config"
    config = f'user = "adx_patroni:{ha_password("adx_patroni")}"\n' if credentials else ""
    put_private(env, host, "/root/.curl-probe", config)
    _, status = exec_in(
        env,
        host,
        "sh",
        "-c",
        f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 --cacert {CA} "
        "-K /root/.curl-probe -X PATCH -H 'Content-Type: application/json' "
        f"-d '{{\"ttl\": {ttl}}}' {url}; rm -f /root/.curl-probe",
    )
    return status.strip()


def test_patroni_refuses_an_unauthenticated_change(ha_env: HostsUnderTest) -> None:
    assert _patch_config(ha_env, "pg1", credentials=False) == "401"


def test_patroni_accepts_the_change_with_its_password(ha_env: HostsUnderTest) -> None:
    """Negative twin: the same request with the REST API's password is accepted."""
    assert _patch_config(ha_env, "pg1", credentials=True) == "200"


def _deploy_on(env: HostsUnderTest, hosts: list[str]) -> dict[str, int]:
    flags = [arg for host in hosts for arg in ("--limit", host)]
    run = run_deploy(env.inventory, *flags)
    assert run.returncode == 0, run.output[-6000:]
    return run.changed_ops


@pytest.mark.parametrize("drill", DRILLS, ids=lambda d: d.name.replace(" ", "-"))
def test_a_lost_leader_loses_no_acknowledged_write(ha_env: HostsUnderTest, drill: Drill) -> None:
    old = leader(ha_env)
    assert old is not None
    make_probe_table(ha_env, old)
    writer = Writer(database_url(ha_env)).start()
    survivors = tuple(m for m in HA_MEMBERS if m != old or drill.same_leader_allowed)
    healed = False
    try:
        wait_for(lambda: writer.acked_after(time.monotonic() - 2) > 20, 30, "writes flow")
        time.sleep(4)  # the pool has opened its connections
        rate = writer.rate_before(time.monotonic(), window=3.0)
        struck = time.monotonic()
        drill.fault(ha_env, old)
        if drill.same_leader_allowed:
            time.sleep(1)  # the fault has landed before a leader is looked for
        new = wait_for(lambda: leader(ha_env, survivors), FAILOVER_SECONDS, "a leader")
        elected = time.monotonic() - struck
        wait_for(lambda: writer.acked_after(time.monotonic() - 1) > 5, 60, "writes again")
        if drill.reachable:
            drill.heal(ha_env, old)
            healed = True
        else:
            # The new leader names its synchronous standby on a later cycle: until then a
            # second loss could not fail over, and the deploy waits for it.
            wait_for(lambda: synchronous_standby(ha_env, survivors), 60, "a synchronous standby")
            safe = time.monotonic() - struck
    finally:
        writer.stop()
        if not healed:
            up = [*(m for m in HA_MEMBERS if m != old), "backup1"]
            changed = _deploy_on(ha_env, up)  # while the host is away
            drill.heal(ha_env, old)
    acked = [i for _, i in writer.acked]
    print(
        f"{drill.name}: {old} -> {new} in {elected:.1f} s, longest write gap "
        f"{writer.longest_gap():.1f} s, {len(acked)} writes acknowledged ({rate:.0f}/s before)"
        + ("" if healed else f", a synchronous standby again after {safe:.1f} s")
    )
    assert rate >= 20
    assert elected < FAILOVER_SECONDS
    assert rows_present(ha_env, new, acked) == len(acked)  # 0 acknowledged writes lost
    if not drill.reachable:
        assert changed == {}, "the deploy on the hosts that were up changed nothing"
    # The old leader is back: the deploy starts what the fault stopped (its Patroni, after a
    # lost host) and waits until every member serves: it rejoins as a replica (pg_rewind where
    # its timeline went on past the promotion).
    converge(ha_env.inventory)
    found = {m["Member"]: m for m in members(ha_env)}
    assert sorted(found) == list(HA_MEMBERS)
    assert {m["State"] for m in found.values()} <= {"running", "streaming"}, found
    assert [m["Role"] for m in found.values()].count("Leader") == 1, found
    for member in HA_MEMBERS:
        wait_for(
            lambda member=member: rows_present(ha_env, member, acked) == len(acked),
            30,
            f"every acknowledged write on {member}",
        )
    assert converge(ha_env.inventory).changed_ops == {}


def test_the_lost_write_probe_counts_a_missing_row(ha_env: HostsUnderTest) -> None:
    """Negative twin of the drill's count: an id that was never written is not found."""
    head = leader(ha_env)
    assert head is not None
    top = int(psql(ha_env, head, "SELECT coalesce(max(id), 0) FROM ha_probe"))
    assert rows_present(ha_env, head, [top, top + 1000]) == 1


# The dedicated tenant cluster (harness.TENANT_CLUSTER): two members, Patroni on the main
# cluster's etcd under a scope of its own, holding the database tenant initech.
TENANT_DB = "adx_tenant_initech"


def test_the_tenant_cluster_has_a_leader_and_a_synchronous_standby(ha_env: HostsUnderTest) -> None:
    found = members(ha_env, TENANT_CLUSTER_MEMBERS)
    assert sorted(m["Member"] for m in found) == list(TENANT_CLUSTER_MEMBERS)
    assert sorted(m["Role"] for m in found) == ["Leader", "Sync Standby"], found
    assert {m["State"] for m in found} <= {"running", "streaming"}, found
    # Negative twin: a scope of its own, so the main cluster's list does not hold them.
    assert not set(TENANT_CLUSTER_MEMBERS) & {m["Member"] for m in members(ha_env)}


def test_the_registry_lists_every_member_of_the_tenant_cluster(ha_env: HostsUnderTest) -> None:
    head = leader(ha_env)
    assert head is not None
    registered = psql(ha_env, head, "SELECT db_host FROM tenants WHERE slug = 'initech'")
    assert registered == ",".join(_address(ha_env, m) for m in TENANT_CLUSTER_MEMBERS)
    applied = "SELECT count(*) FROM adx_migrations.ledger"
    for member in TENANT_CLUSTER_MEMBERS:  # migrated by the leader, streamed to the standby
        assert int(psql(ha_env, member, applied, TENANT_DB)) > 0
    # Negative twin: the main cluster holds no such database.
    exists = f"SELECT count(*) FROM pg_database WHERE datname = '{TENANT_DB}'"
    assert psql(ha_env, head, exists, "postgres") == "0"


def test_the_tenant_cluster_is_backed_up_in_a_stanza_of_its_own(ha_env: HostsUnderTest) -> None:
    assert len(_backups(ha_env, TENANT_CLUSTER)) >= 1
    tenant_leader = leader(ha_env, TENANT_CLUSTER_MEMBERS)
    assert tenant_leader is not None
    check = ("pgbackrest", f"--stanza={TENANT_CLUSTER}", "check")
    code, output = exec_in(ha_env, tenant_leader, *check, user="postgres")
    assert code == 0, output
    # Negative twin: the main cluster's stanza is not the tenant cluster's to check.
    code, output = exec_in(ha_env, tenant_leader, "pgbackrest", "--stanza=adx", "check",
                           user="postgres")  # fmt: skip
    assert code != 0, output


def test_cluster_status_shows_the_tenant_cluster(ha_env: HostsUnderTest) -> None:
    run = run_adxdb("cluster-status", HA_YML, "--cluster", TENANT_CLUSTER, "--json")
    assert run.returncode == 0, run.stdout
    document = json.loads(run.stdout)
    assert document["cluster"] == TENANT_CLUSTER and document["problems"] == []
    assert sorted(m["Member"] for m in document["members"]) == list(TENANT_CLUSTER_MEMBERS)
    refused = run_adxdb("cluster-status", HA_YML, "--cluster", "nosuch")
    assert refused.returncode == 2
    assert "--cluster nosuch: no such cluster (the clusters Patroni runs: main, tc)" in (
        refused.stdout
    )


def test_a_lost_tenant_cluster_leader_loses_no_acknowledged_write(ha_env: HostsUnderTest) -> None:
    """The application writes to initech through the registry's route (every member of its
    cluster, read-write); its leader's host is killed: the standby leads, no acknowledged
    write is lost, the application writes again without a restart."""
    old = leader(ha_env, TENANT_CLUSTER_MEMBERS)
    assert old is not None
    make_probe_table(ha_env, old, TENANT_DB)
    writer = Writer(database_url(ha_env), tenant="initech").start()
    survivors = tuple(m for m in TENANT_CLUSTER_MEMBERS if m != old)
    try:
        wait_for(lambda: writer.acked_after(time.monotonic() - 2) > 20, 30, "writes flow")
        time.sleep(4)
        rate = writer.rate_before(time.monotonic(), window=3.0)
        struck = time.monotonic()
        container(ha_env, old).kill()
        new = wait_for(lambda: leader(ha_env, survivors), FAILOVER_SECONDS, "a leader")
        elected = time.monotonic() - struck
        wait_for(lambda: writer.acked_after(time.monotonic() - 1) > 5, 60, "writes again")
    finally:
        writer.stop()
        up = [m for m in (*HA_MEMBERS, *TENANT_CLUSTER_MEMBERS, "backup1") if m != old]
        changed = _deploy_on(ha_env, up)
        start_container(ha_env, old)
    acked = [i for _, i in writer.acked]
    print(
        f"tenant cluster: {old} -> {new} in {elected:.1f} s, longest write gap "
        f"{writer.longest_gap():.1f} s, {len(acked)} writes acknowledged ({rate:.0f}/s before)"
    )
    assert rate >= 20
    assert elected < FAILOVER_SECONDS
    assert rows_present(ha_env, new, acked, TENANT_DB) == len(acked)  # 0 lost
    assert changed == {}, "the deploy on the hosts that were up changed nothing"
    converge(ha_env.inventory)  # the old leader's Patroni again: it rejoins as a replica
    found = {m["Member"]: m for m in members(ha_env, TENANT_CLUSTER_MEMBERS)}
    assert found[old]["Role"] in ("Replica", "Sync Standby") and found[new]["Role"] == "Leader"
    wait_for(
        lambda: rows_present(ha_env, old, acked, TENANT_DB) == len(acked),
        30,
        f"every acknowledged write on {old}",
    )
    assert converge(ha_env.inventory).changed_ops == {}
    # The registry lists the old leader first: the router's connection skips it, a standby now.
    settings = DatabaseSettings.model_validate(
        {"DATABASE_URL": database_url(ha_env), "DB_MAX_CONNECTIONS": 1}
    )
    with TenantConnections(settings) as tenants, tenants.connection("initech") as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    assert psql(ha_env, old, "SELECT pg_is_in_recovery()", TENANT_DB) == "t"  # the twin
    psql(ha_env, new, f"DROP TABLE {PROBE_TABLE}", TENANT_DB)


def _timelines(env: HostsUnderTest) -> set[int]:
    return {int(m["TL"]) for m in members(env) if m.get("TL") is not None}


def _app_env(inventory: Path, state_dir: Path) -> dict[str, str]:
    run = run_adxdb("app-env", inventory)
    assert run.returncode == 0, run.stdout
    sourced = subprocess.run(
        ["bash", "-c", f"set -a; . {state_dir / 'app.env'}; set +a; env"],
        capture_output=True, text=True, check=True, env={"PATH": os.environ["PATH"]},
    ).stdout  # fmt: skip
    return dict(line.split("=", 1) for line in sourced.splitlines() if "=" in line)


def _in_recovery(url: str) -> bool:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    assert row is not None
    return bool(row[0])


def test_app_env_reads_from_a_standby_and_writes_to_the_leader(ha_env: HostsUnderTest) -> None:
    variables = _app_env(HA_YML, HA_STATE_DIR)
    assert _in_recovery(variables["DATABASE_READ_URL"])
    # Negative twin: the writable URL lands on the leader.
    assert not _in_recovery(variables["DATABASE_URL"])


def test_cluster_status_lists_every_member(ha_env: HostsUnderTest) -> None:
    run = run_adxdb("cluster-status", HA_YML)
    assert run.returncode == 0, run.stdout
    lines = run.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == list(HA_MEMBERS)
    assert sum("Leader" in line for line in lines) == 1
    as_json = run_adxdb("cluster-status", HA_YML, "--json")
    document = json.loads(as_json.stdout)
    assert len(document["members"]) == 3 and document["problems"] == []
    assert {s["type"] for s in document["slots"]} == {"physical"}  # Patroni's, one per replica
    assert len(document["slots"]) == 2


def test_cluster_status_names_a_member_that_is_down(ha_env: HostsUnderTest) -> None:
    """Negative twin: with a replica's host stopped, the job exits 1 and names it."""
    head = leader(ha_env)
    replica = next(m for m in HA_MEMBERS if m != head)
    container(ha_env, replica).kill()
    try:
        run = wait_for(
            lambda: (r := run_adxdb("cluster-status", HA_YML)).returncode == 1 and r,
            60,
            "cluster-status sees the lost member",
            interval=2,
        )
        assert f"critical: {replica}:" in run.stdout
    finally:
        start_container(ha_env, replica)
        converge(ha_env.inventory)


def test_switchover_to_a_named_member(ha_env: HostsUnderTest) -> None:
    head = leader(ha_env)
    found = members(ha_env)
    target = next(m["Member"] for m in found if m["Role"] == "Sync Standby")
    other = next(m["Member"] for m in found if m["Role"] == "Replica")
    refused = run_adxdb("switchover", HA_YML, "--to", "nosuch")
    assert refused.returncode == 2 and "--to nosuch: not a member" in refused.stdout
    # Synchronous mode: only the synchronous standby may lead next (it has every write).
    async_refused = run_adxdb("switchover", HA_YML, "--to", other)
    assert async_refused.returncode != 0
    assert f"{other} is not the synchronous standby ({target})" in async_refused.stdout
    assert leader(ha_env) == head
    run = run_adxdb("switchover", HA_YML, "--to", target)
    assert run.returncode == 0, run.stdout[-3000:]
    assert leader(ha_env) == target
    again = run_adxdb("switchover", HA_YML, "--to", target)
    assert again.returncode == 0 and "No change" in again.stdout  # it leads already
    assert leader(ha_env) == target
    converge(ha_env.inventory)  # the old leader streams again (member_ready waits for it)
    assert converge(ha_env.inventory).changed_ops == {}


def _scheduled_backup_command(env: HostsUnderTest, kind: str) -> str:
    """The backup host's cron line for the main stanza's `kind` backup, without its schedule
    and user (what cron would run)."""
    code, text = exec_in(env, "backup1", "cat", "/etc/cron.d/adx-pgbackrest")
    assert code == 0, text
    line = next(
        row for row in text.splitlines() if "--stanza=adx " in row and f"--type={kind}" in row
    )
    return line.split(None, 6)[6]


def _backup_manifest_option(env: HostsUnderTest, label: str, option: str) -> str:
    code, text = exec_in(
        env, "backup1", "cat", f"/var/lib/pgbackrest/backup/adx/{label}/backup.manifest"
    )
    assert code == 0, text
    prefix = f"{option}="
    return next(row for row in text.splitlines() if row.startswith(prefix))[len(prefix) :]


def _backups(env: HostsUnderTest, stanza: str = "adx") -> list[str]:
    code, text = exec_in(
        env, "backup1", "pgbackrest", f"--stanza={stanza}", "--output=json", "info",
        user="postgres",
    )  # fmt: skip
    assert code == 0, text
    return [b["label"] for b in json.loads(text)[0]["backup"]]


def test_a_scheduled_backup_is_taken_from_a_standby(ha_env: HostsUnderTest) -> None:
    before = _backups(ha_env)
    command = _scheduled_backup_command(ha_env, "diff")
    code, output = exec_in(ha_env, "backup1", "sh", "-c", command, user="postgres")
    assert code == 0, output
    after = _backups(ha_env)
    assert len(after) == len(before) + 1
    print(f"backup from a standby: {after[-1]} ({command})")
    assert _backup_manifest_option(ha_env, after[-1], "option-backup-standby") == "true"
    # Negative twin: the deploy's first full backup was taken from the leader alone.
    assert _backup_manifest_option(ha_env, before[0], "option-backup-standby") == "false"


def test_archiving_follows_the_leader_after_failovers(ha_env: HostsUnderTest) -> None:
    """The drills before this one moved the leader: the new leader's WAL reaches the backup
    host (pgbackrest check switches a segment and waits for it in the repository)."""
    head = leader(ha_env)
    assert head is not None
    current = psql(ha_env, head, "SELECT pg_walfile_name(pg_current_wal_lsn())")
    timeline = int(current[:8], 16)
    assert timeline > 1, "no failover happened before this test"
    code, output = exec_in(ha_env, head, "pgbackrest", "--stanza=adx", "check", user="postgres")
    assert code == 0, output
    archived = _archived_segments(ha_env, timeline)
    print(f"archiving after failovers: leader {head}, timeline {timeline}, {archived} segments")
    assert archived > 0
    # Negative twin: a timeline no server has reached has nothing in the repository.
    assert _archived_segments(ha_env, timeline + 1) == 0


def _archived_segments(env: HostsUnderTest, timeline: int) -> int:
    """WAL segments of `timeline` in the backup host's repository (named TTTTTTTTLLLLLLLLSS)."""
    code, text = exec_in(
        env, "backup1", "find", "/var/lib/pgbackrest/archive/adx", "-type", "f",
        "-name", f"{timeline:08X}????????????????-*",
    )  # fmt: skip
    assert code == 0, text
    return len(text.split())


def _restart_setting_while_writing(
    env: HostsUnderTest, tmp_path: Path, max_connections: int
) -> tuple[str, set[int], Path, DeployRun, Writer]:
    """Converge `max_connections` (a restart setting) while a client writes: (the leader
    before, the timelines before, the variant inventory, its run, the stopped writer)."""
    head = leader(env)
    assert head is not None
    make_probe_table(env, head)
    timelines = _timelines(env)
    variant = variant_inventory(
        tmp_path, {"postgres": {"settings": {"max_connections": max_connections}}}, base=HA_YML
    )
    writer = Writer(database_url(env)).start()
    try:
        wait_for(lambda: writer.acked_after(time.monotonic() - 2) > 20, 30, "writes flow")
        run = converge(variant)
        time.sleep(2)
    finally:
        writer.stop()
    return head, timelines, variant, run, writer


def test_a_restart_setting_is_applied_by_a_rolling_restart(
    ha_env: HostsUnderTest, tmp_path: Path
) -> None:
    head, timelines, variant, run, writer = _restart_setting_while_writing(ha_env, tmp_path, 120)
    acked = [i for _, i in writer.acked]
    after = _timelines(ha_env)
    print(
        f"rolling restart: leader {head} -> {leader(ha_env)}, timeline {timelines} -> {after}, "
        f"longest write gap {writer.longest_gap():.1f} s, {len(acked)} writes acknowledged"
    )
    # Every cluster gets the setting: the main cluster's 2 replicas and the tenant cluster's
    # one, then each cluster's leader.
    assert run.changed_ops.get("Rolling restart: the replicas") == 3
    assert run.changed_ops.get("Rolling restart: the leader") == 2
    assert len(after) == 1 and max(after) - max(timelines) <= 1  # at most one leader change
    for cluster in (HA_MEMBERS, TENANT_CLUSTER_MEMBERS):
        found = members(ha_env, cluster)
        assert not any(m.get("Pending restart") for m in found), found
    for member in (*HA_MEMBERS, *TENANT_CLUSTER_MEMBERS):
        assert psql(ha_env, member, "SHOW max_connections", database="postgres") == "120"
    new = leader(ha_env)
    assert new is not None and rows_present(ha_env, new, acked) == len(acked)
    assert converge(variant).changed_ops == {}
    _back_to_the_environments_settings(ha_env)


def test_a_lowered_setting_restarts_the_leader_in_place_then_the_replicas(
    ha_env: HostsUnderTest, tmp_path: Path
) -> None:
    """A standby keeps a lowered max_connections at the primary's value until the primary
    has restarted with the new one: the leader restarts first, in place, and no leader
    change only moves the pending restart."""
    head, timelines, variant, run, writer = _restart_setting_while_writing(ha_env, tmp_path, 80)
    acked = [i for _, i in writer.acked]
    print(
        f"lowered setting: leader {head} -> {leader(ha_env)}, timeline {timelines} -> "
        f"{_timelines(ha_env)}, longest write gap {writer.longest_gap():.1f} s, "
        f"{len(acked)} writes acknowledged, restarts {run.changed_ops}"
    )
    assert leader(ha_env) == head and _timelines(ha_env) == timelines  # no leader change
    # Each cluster's leader in place, then its standbys (2 of main, 1 of the tenant cluster).
    assert run.changed_ops.get("Rolling restart: the leader") == 2
    assert run.changed_ops.get("Rolling restart: the replicas still waiting") == 3
    for cluster in (HA_MEMBERS, TENANT_CLUSTER_MEMBERS):
        assert not any(m.get("Pending restart") for m in members(ha_env, cluster))
    for member in (*HA_MEMBERS, *TENANT_CLUSTER_MEMBERS):
        assert psql(ha_env, member, "SHOW max_connections", database="postgres") == "80"
    assert rows_present(ha_env, head, acked) == len(acked)
    assert converge(variant).changed_ops == {}
    _back_to_the_environments_settings(ha_env)


def _back_to_the_environments_settings(env: HostsUnderTest) -> None:
    converge(env.inventory)
    assert converge(env.inventory).changed_ops == {}
    for cluster in (HA_MEMBERS, TENANT_CLUSTER_MEMBERS):
        assert not any(m.get("Pending restart") for m in members(env, cluster))
    for member in (*HA_MEMBERS, *TENANT_CLUSTER_MEMBERS):
        assert psql(env, member, "SHOW max_connections", database="postgres") == "100"


GLOBEX = "3f1c9a52-6b0e-4d8a-9f3e-2a7b5c1d0e02"
GLOBEX_USERS = 50


def test_a_schema_tenant_moves_into_the_tenant_cluster(
    ha_env: HostsUnderTest, tmp_path: Path
) -> None:
    """globex (a schema of the main cluster) declared in the dedicated cluster: the move
    copies it to the tenant cluster's leader (multi-host, read-write), the registry lists
    both members; the next test's inventory moves it back out."""
    head = leader(ha_env)
    assert head is not None
    psql(
        ha_env,
        head,
        f"INSERT INTO tenant_globex.users (tenant_id, email) SELECT '{GLOBEX}', "
        f"'u' || g || '@globex.test' FROM generate_series(1, {GLOBEX_USERS}) g",
    )
    tenants = [t.model_dump(mode="json", exclude_defaults=True) for t in ha_env.env.tenants]
    globex = next(t for t in tenants if t["slug"] == "globex")
    globex |= {"isolation": "database", "cluster": TENANT_CLUSTER}
    variant = variant_inventory(tmp_path, {"tenants": tenants}, base=HA_YML)
    run = converge(variant)
    assert run.changed_ops.get("Tenant moves (copy, verify, switch the registry)") == 1
    addresses = ",".join(_address(ha_env, m) for m in TENANT_CLUSTER_MEMBERS)
    registry = psql(
        ha_env, head, "SELECT isolation_level, db_host, db_name FROM tenants WHERE slug = 'globex'"
    )
    assert registry == f"database|{addresses}|adx_tenant_globex"
    count = "SELECT count(*) FROM users"
    for member in TENANT_CLUSTER_MEMBERS:  # copied on the leader, streamed to the standby
        wait_for(
            lambda member=member: (
                psql(ha_env, member, count, "adx_tenant_globex") == str(GLOBEX_USERS)
            ),
            30,
            f"globex's rows on {member}",
        )
    # Negative twin: its old schema no longer holds them (the move deletes what it copied).
    assert psql(ha_env, head, "SELECT count(*) FROM tenant_globex.users") == "0"
    assert converge(variant).changed_ops == {}


def test_a_move_and_a_new_migration_run_on_the_leader_after_a_failover(
    ha_env: HostsUnderTest, tmp_path: Path
) -> None:
    """Last of the module: it leaves a migration the environment's files do not have."""
    old = leader(ha_env)
    assert old is not None
    container(ha_env, old).kill()
    survivors = tuple(m for m in HA_MEMBERS if m != old)
    new = wait_for(lambda: leader(ha_env, survivors), FAILOVER_SECONDS, "a new leader")
    start_container(ha_env, old)
    # The drills' probe table has no tenant_id: a move out of public refuses it (rightly).
    psql(ha_env, new, f"DROP TABLE IF EXISTS {PROBE_TABLE}")
    directory = tmp_path / "migrations"
    shutil.copytree(REPO / "sql" / "migrations", directory)
    (directory / "tenant" / "012_ha_notes.sql").write_text(
        "CREATE TABLE ha_notes (id bigint PRIMARY KEY, tenant_id uuid NOT NULL);\n"
        "ALTER TABLE ha_notes ENABLE ROW LEVEL SECURITY;\n"
        "ALTER TABLE ha_notes FORCE ROW LEVEL SECURITY;\n"
        "CREATE POLICY ha_notes_tenant ON ha_notes USING "
        "(tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);\n"
    )
    tenants = [t.model_dump(mode="json", exclude_defaults=True) for t in ha_env.env.tenants]
    acme = next(t for t in tenants if t["slug"] == "acme")
    acme["isolation"] = "schema"
    variant = variant_inventory(
        tmp_path, {"migrations": {"directory": str(directory)}, "tenants": tenants}, base=HA_YML
    )
    run = converge(variant)
    # On each cluster's leader only: the main cluster's new one, the tenant cluster's.
    assert run.changed_ops.get("Migrations") == 2
    # acme into a schema, and globex back out of the dedicated cluster into its schema.
    assert run.changed_ops.get("Tenant moves (copy, verify, switch the registry)") == 1
    current = leader(ha_env)
    assert current is not None and current == new
    ledger = psql(
        ha_env,
        current,
        "SELECT count(*) FROM adx_migrations.ledger WHERE version = 12 AND name = 'ha_notes'",
    )
    assert int(ledger) >= 2  # public and each schema tenant
    registry = psql(ha_env, current, "SELECT isolation_level FROM tenants WHERE slug = 'acme'")
    assert registry == "schema"
    globex = psql(
        ha_env,
        current,
        "SELECT isolation_level, db_host IS NULL FROM tenants WHERE slug = 'globex'",
    )
    assert globex == "schema|t"
    assert psql(ha_env, current, "SELECT count(*) FROM tenant_globex.users") == str(GLOBEX_USERS)
    tenant_leader = leader(ha_env, TENANT_CLUSTER_MEMBERS)
    assert tenant_leader is not None
    tenant_ledger = psql(
        ha_env,
        tenant_leader,
        "SELECT count(*) FROM adx_migrations.ledger WHERE version = 12 AND name = 'ha_notes'",
        TENANT_DB,
    )
    assert tenant_ledger == "1"  # the dedicated database's one target
    # The replicas have both (they follow the leader).
    replica = next(m for m in HA_MEMBERS if m != current)
    wait_for(
        lambda: (
            psql(ha_env, replica, "SELECT to_regclass('tenant_acme.ha_notes') IS NOT NULL") == "t"
        ),
        30,
        "the migration on a replica",
    )
    assert converge(variant).changed_ops == {}
