"""High availability on Patroni and etcd (DESIGN.md decision 8): a three-member main cluster
with etcd on the same three hosts, converged twice; replicas stream over TLS; secrets stay in
owner-only files; etcd and Patroni's REST API refuse clients they should; the leader is lost
for real while a client writes, and no acknowledged write is lost."""

from __future__ import annotations

import time

import pytest

from tests.integration.conftest import HostsUnderTest
from tests.integration.ha import (
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
    wait_for,
)
from tests.integration.harness import HA_MEMBERS, converge, run_deploy

CA = "/etc/patroni/tls/ca.crt"
FAILOVER_SECONDS = 30


def _address(env: HostsUnderTest, host: str) -> str:
    return env.env.hosts[host].address


def test_converge_twice_the_second_run_changes_nothing(ha_env: HostsUnderTest) -> None:
    assert ha_env.first.changed_ops, "the first run did the work"
    assert ha_env.second.changed_ops == {}


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


def test_docker_kill_of_the_leader_loses_no_acknowledged_write(ha_env: HostsUnderTest) -> None:
    old = leader(ha_env)
    assert old is not None
    make_probe_table(ha_env, old)
    writer = Writer(database_url(ha_env)).start()
    try:
        wait_for(lambda: writer.acked_after(time.monotonic() - 2) > 20, 30, "writes flow")
        time.sleep(4)  # the pool has opened its connections
        rate = writer.rate_before(time.monotonic(), window=3.0)
        killed_at = time.monotonic()
        container(ha_env, old).kill()
        survivors = tuple(m for m in HA_MEMBERS if m != old)
        new = wait_for(lambda: leader(ha_env, survivors), FAILOVER_SECONDS, "a new leader")
        elected = time.monotonic() - killed_at
        wait_for(lambda: writer.acked_after(time.monotonic() - 1) > 5, 30, "writes again")
    finally:
        writer.stop()
    acked = [i for _, i in writer.acked]
    print(
        f"docker kill {old}: new leader {new} in {elected:.1f} s, write gap "
        f"{writer.longest_gap():.1f} s, {len(acked)} acknowledged at {rate:.0f}/s before"
    )
    assert rate >= 20
    assert elected < FAILOVER_SECONDS
    assert rows_present(ha_env, new, acked) == len(acked)  # 0 acknowledged writes lost
    up = [*survivors, "backup1"]
    assert _deploy_on(ha_env, up) == {}
    # The old leader comes back: the deploy starts its Patroni, which rejoins it as a replica
    # of the new leader (pg_rewind where its timeline went on past the promotion).
    container(ha_env, old).start()
    wait_for(lambda: exec_in(ha_env, old, "true")[0] == 0, 30, f"{old} back")
    time.sleep(2)
    converge(ha_env.inventory)
    found = {m["Member"]: m for m in members(ha_env)}
    assert found[old]["Role"] in ("Replica", "Sync Standby") and found[old]["State"] == "running"
    assert found[new]["Role"] == "Leader"
    assert rows_present(ha_env, old, acked) == len(acked)
    again = converge(ha_env.inventory)
    assert again.changed_ops == {}


def test_the_lost_write_probe_counts_a_missing_row(ha_env: HostsUnderTest) -> None:
    """Negative twin of the drill's count: an id that was never written is not found."""
    head = leader(ha_env)
    assert head is not None
    top = int(psql(ha_env, head, "SELECT coalesce(max(id), 0) FROM ha_probe"))
    assert rows_present(ha_env, head, [top, top + 1000]) == 1
