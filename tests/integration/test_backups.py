"""WAL archiving and backups with pgBackRest on the backup host: a stanza per cluster with a
first full backup, every WAL segment of every database host archived there (none kept on a
database host), each host limited to its own stanza, a stale backup failing the deploy by name,
a point-in-time restore that stops where it was asked to, and a backup host that goes down and
comes back without a gap in the archive."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import connect, converge, run_deploy, variant_inventory
from tools.testhosts.engine import engine_client
from tools.testhosts.hosts import container_name

STANZA = "adx"
BACKUP_HOST = "backup1"
STANZAS = {"pg1": "adx", "tenant1": "tenant1"}
REPOSITORY = "/var/lib/pgbackrest"
RESTORE_DIR = "/var/lib/postgresql/pitr-probe"
RESTORE_PORT = 5499


def _repository(test_env: HostsUnderTest) -> dict[str, dict[str, Any]]:
    output = test_env.run(BACKUP_HOST, "pgbackrest", "--output=json", "info")
    return {str(stanza["name"]): stanza for stanza in json.loads(output)}


def test_every_cluster_has_an_ok_stanza_with_a_full_backup_on_the_backup_host(
    test_env: HostsUnderTest,
) -> None:
    found = _repository(test_env)
    assert sorted(found) == sorted(STANZAS.values())
    for name, stanza in found.items():
        assert (stanza["status"]["code"], stanza["status"]["message"]) == (0, "ok"), name
        assert stanza["backup"] and stanza["backup"][0]["type"] == "full", name


def test_no_database_host_keeps_a_repository(test_env: HostsUnderTest) -> None:
    def files(host: str) -> list[str]:
        found = test_env.run_as_root(host, "find", REPOSITORY, "-type", "f")
        return found.splitlines()

    # The probe sees a repository where there is one: the backup host's, with both stanzas.
    held = files(BACKUP_HOST)
    for stanza in STANZAS.values():
        assert f"{REPOSITORY}/backup/{stanza}/backup.info" in held
    for host in test_env.database_hosts:
        assert files(host) == [], host
        config = test_env.run_as_root(host, "cat", "/etc/pgbackrest/pgbackrest.conf")
        assert "repo1-path" not in config and "repo1-host-type=tls" in config


def test_wal_of_every_database_host_reaches_the_backup_host(test_env: HostsUnderTest) -> None:
    for host, stanza in STANZAS.items():
        assert test_env.psql(host, "SHOW archive_mode") == "on"
        # check switches to a new WAL segment and waits until the repository holds it
        test_env.run(host, "pgbackrest", f"--stanza={stanza}", "check")
        archived = test_env.psql(
            host, "SELECT last_archived_wal FROM pg_stat_archiver WHERE failed_count = 0"
        )
        assert archived, f"{host}: archiving failed"
        held = test_env.run_as_root(
            BACKUP_HOST, "find", f"{REPOSITORY}/archive/{stanza}", "-name", f"{archived}-*"
        )
        assert held, f"{host}: {archived} is not in the repository"


def test_a_database_host_reaches_its_own_stanza_only(test_env: HostsUnderTest) -> None:
    def status(stanza: str) -> dict[str, Any]:
        output = test_env.run(
            "tenant1", "pgbackrest", f"--stanza={stanza}", "--output=json", "info"
        )
        [found] = json.loads(output)
        return dict(found["status"])

    assert status("tenant1")["code"] == 0  # the twin: its own stanza answers
    refused = test_env.run("tenant1", "pgbackrest", "--stanza=adx", "--output=json", "info")
    assert "access denied" in refused and json.loads(refused)[0]["status"]["code"] == 99


def test_backup_files_are_private_and_scheduled_on_the_backup_host(
    test_env: HostsUnderTest,
) -> None:
    modes = test_env.run_as_root(
        BACKUP_HOST, "stat", "-c", "%U:%G %a", REPOSITORY, "/etc/pgbackrest/pgbackrest.conf",
        "/etc/pgbackrest/tls/host.key",
    )  # fmt: skip
    assert modes.splitlines() == [
        "postgres:postgres 750",
        "root:postgres 640",
        "postgres:postgres 600",
    ]
    schedule = test_env.run_as_root(BACKUP_HOST, "cat", "/etc/cron.d/adx-pgbackrest")
    for stanza in STANZAS.values():
        assert f"postgres pgbackrest --stanza={stanza} --type=full backup" in schedule
        assert f"postgres pgbackrest --stanza={stanza} --type=diff backup" in schedule
    for host in test_env.database_hosts:  # backups are taken on the backup host only
        test_env.run_as_root(host, "test", "!", "-e", "/etc/cron.d/adx-pgbackrest")


def test_a_backup_older_than_max_age_fails_the_deploy_naming_each_stanza(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    time.sleep(2)
    run = run_deploy(variant_inventory(tmp_path, {"backups": {"max_age": "1s"}}))
    assert run.returncode != 0
    for stanza in STANZAS.values():
        assert f"stanza {stanza}: its last backup" in run.output, run.output[-3000:]
    assert "older than backups.max_age 1s" in run.output


def _restored(test_env: HostsUnderTest, query: str) -> str:
    return test_env.run(
        "pg1", "psql", "-X", "-A", "-t", "-h", "/tmp", "-p", str(RESTORE_PORT), "-d", "postgres",
        "-c", query,
    )  # fmt: skip


def test_point_in_time_restore_stops_at_the_target(test_env: HostsUnderTest) -> None:
    test_env.psql(
        "pg1", "CREATE TABLE pitr_probe (v text); INSERT INTO pitr_probe VALUES ('before')"
    )
    try:
        target = test_env.psql("pg1", "SELECT now()::text")
        time.sleep(1.5)
        test_env.psql("pg1", "INSERT INTO pitr_probe VALUES ('after')")
        test_env.run("pg1", "pgbackrest", f"--stanza={STANZA}", "check")  # 'after' is archived

        test_env.run("pg1", "rm", "-rf", RESTORE_DIR)
        test_env.run("pg1", "mkdir", "-m", "700", RESTORE_DIR)
        test_env.run(
            "pg1", "pgbackrest", f"--stanza={STANZA}", f"--pg1-path={RESTORE_DIR}", "--type=time",
            f"--target={target}", "--target-action=promote", "--archive-mode=off", "restore",
        )  # fmt: skip
        # Debian keeps the configuration in /etc: give the restored copy a minimal one.
        test_env.run(
            "pg1", "sh", "-c",
            f"cd {RESTORE_DIR} && printf '%s\\n' \"port = {RESTORE_PORT}\" "
            "\"listen_addresses = ''\" \"unix_socket_directories = '/tmp'\" "
            "\"archive_mode = off\" > postgresql.conf && "
            "echo 'local all postgres peer' > pg_hba.conf && : > pg_ident.conf",
        )  # fmt: skip
        test_env.run(
            "pg1", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", RESTORE_DIR, "-l",
            f"{RESTORE_DIR}/restore.log", "-w", "-t", "120", "start",
        )  # fmt: skip
        try:
            for _ in range(60):
                if _restored(test_env, "SELECT pg_is_in_recovery()") == "f":
                    break
                time.sleep(1)
            assert _restored(test_env, "SELECT pg_is_in_recovery()") == "f"
            rows = _restored(test_env, "SELECT string_agg(v, ',' ORDER BY v) FROM pitr_probe")
            assert rows == "before"  # the negative twin: 'after' is on the running server
            assert test_env.psql("pg1", "SELECT count(*) FROM pitr_probe") == "2"
        finally:
            test_env.run(
                "pg1", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", RESTORE_DIR, "-m", "fast", "stop"
            )
    finally:
        test_env.run("pg1", "rm", "-rf", RESTORE_DIR)
        test_env.psql("pg1", "DROP TABLE IF EXISTS pitr_probe")


def _archiving_check(test_env: HostsUnderTest) -> tuple[str, str]:
    with connect("adx_monitor", test_env.pg_port("pg1")) as conn:
        row = conn.execute(
            "SELECT status, detail FROM adx_health_check() WHERE name = 'wal_archiving'"
        ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def _wait_for(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {seconds:g} s"
        time.sleep(1)


def _switch_wal(test_env: HostsUnderTest) -> None:
    """Write a WAL record (a logical message: no object is left behind) and close the
    segment, so the archiver has one to archive."""
    test_env.psql(
        "pg1",
        "SELECT pg_logical_emit_message(false, 'adx-archive-probe', 'x'), pg_switch_wal()",
        "adx_core",
    )


def _segments(first: str, last: str) -> list[str]:
    """Every 16 MB WAL segment name from `first` to `last` (one timeline)."""
    timeline = first[:8]
    start = int(first[8:16], 16) * 256 + int(first[16:], 16)
    stop = int(last[8:16], 16) * 256 + int(last[16:], 16)
    return [f"{timeline}{n // 256:08X}{n % 256:08X}" for n in range(start, stop + 1)]


def test_backup_host_down_is_critical_and_named_then_archiving_catches_up_without_a_gap(
    test_env: HostsUnderTest,
) -> None:
    # Negative twin: archiving that works reads as ok.
    assert _archiving_check(test_env)[0] == "ok"
    failures = "SELECT failed_count FROM pg_stat_archiver"
    before = int(test_env.psql("pg1", failures))
    backup = engine_client().containers.get(container_name(test_env.env, BACKUP_HOST))
    backup.stop(timeout=5)  # a host powered off: connections to it time out (io-timeout 60 s)
    try:
        for _ in range(3):
            _switch_wal(test_env)
        _wait_for(lambda: int(test_env.psql("pg1", failures)) > before, 300, "archiving failed")
        status, detail = _archiving_check(test_env)
        assert status == "critical", detail
        run = run_deploy(test_env.inventory)
        assert run.returncode != 0
        assert "stanza adx: pgbackrest info cannot read the repository" in run.output, run.output[
            -3000:
        ]
    finally:
        backup.start()
    # Back: the deploy starts its pgBackRest server again, and the archiver catches up.
    converge(test_env.inventory)
    recovered = "SELECT last_archived_time > last_failed_time FROM pg_stat_archiver"
    _switch_wal(test_env)
    _wait_for(lambda: test_env.psql("pg1", recovered) == "t", 180, "archiving recovered")
    assert _archiving_check(test_env)[0] == "ok"
    # No gap: every segment from the oldest archived to the newest comes back.
    [archive] = _repository(test_env)[STANZA]["archive"]
    segments = _segments(str(archive["min"]), str(archive["max"]))
    assert len(segments) >= 4
    fetched = test_env.run(
        "pg1", "sh", "-c",
        'mkdir -p /tmp/archive-get && for s in "$@"; do '
        'pgbackrest --stanza=adx archive-get "$s" "/tmp/archive-get/$s" || exit 1; done; '
        "ls /tmp/archive-get | wc -l; rm -rf /tmp/archive-get",
        "sh", *segments,
    )  # fmt: skip
    assert fetched == str(len(segments))
    assert converge(test_env.inventory).changed_ops == {}


def test_backups_disabled_turn_archiving_off_and_say_so_until_then(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    pending = variant_inventory(
        tmp_path / "never",
        {"backups": {"enabled": False}, "postgres": {"restart_policy": "never"}},
    )
    run = converge(pending)
    assert "RESTART PENDING" in run.output and "archive_mode" in run.output
    # Still archiving (the restart is pending) with nothing to archive to: critical, not ok.
    assert test_env.psql("pg1", "SHOW archive_mode") == "on"
    status, detail = _archiving_check(test_env)
    assert status == "critical" and "no archive_command" in detail, detail
    restarted = variant_inventory(tmp_path / "auto", {"backups": {"enabled": False}})
    converge(restarted)
    assert test_env.psql("pg1", "SHOW archive_mode") == "off"
    assert _archiving_check(test_env) == ("warning", "archive_mode is off")
    assert converge(restarted).changed_ops == {}
