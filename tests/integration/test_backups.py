"""WAL archiving and backups with pgBackRest: a stanza per cluster with a first full backup,
every WAL segment archived, and a point-in-time restore that stops where it was asked to."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import connect, converge, variant_inventory

STANZA = "adx"
RESTORE_DIR = "/var/lib/postgresql/pitr-probe"
RESTORE_PORT = 5499


def _info(test_env: HostsUnderTest, host: str) -> dict[str, Any]:
    output = test_env.run(host, "pgbackrest", f"--stanza={STANZA}", "--output=json", "info")
    [stanza] = json.loads(output)
    assert isinstance(stanza, dict)
    return stanza


def test_every_cluster_has_a_checked_stanza_and_a_full_backup(test_env: HostsUnderTest) -> None:
    for host in test_env.env.hosts:
        info = _info(test_env, host)
        assert (info["status"]["code"], info["status"]["message"]) == (0, "ok")
        assert info["backup"], f"{host}: no backup"
        assert info["backup"][0]["type"] == "full"


def test_wal_is_archived_and_nothing_failed(test_env: HostsUnderTest) -> None:
    for host in test_env.env.hosts:
        assert test_env.psql(host, "SHOW archive_mode") == "on"
        # check switches to a new WAL segment and waits until the repository holds it
        test_env.run(host, "pgbackrest", f"--stanza={STANZA}", "check")
        archived = test_env.psql(
            host, "SELECT archived_count > 0 AND failed_count = 0 FROM pg_stat_archiver"
        )
        assert archived == "t"


def test_backup_files_are_private_and_scheduled(test_env: HostsUnderTest) -> None:
    for host in test_env.env.hosts:
        modes = test_env.run(
            host, "stat", "-c", "%U:%G %a", "/var/lib/pgbackrest", "/etc/pgbackrest/pgbackrest.conf"
        )
        assert modes.splitlines() == ["postgres:postgres 750", "root:postgres 640"]
        schedule = test_env.run(host, "cat", "/etc/cron.d/adx-pgbackrest")
        assert f"postgres pgbackrest --stanza={STANZA} --type=full backup" in schedule
        assert f"postgres pgbackrest --stanza={STANZA} --type=diff backup" in schedule


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
            f"--target={target}", "--target-action=promote", "restore",
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


def test_failing_archiving_makes_the_health_check_critical(test_env: HostsUnderTest) -> None:
    # Negative twin: archiving that works reads as ok.
    assert _archiving_check(test_env)[0] == "ok"
    failures = "SELECT failed_count FROM pg_stat_archiver"
    before = int(test_env.psql("pg1", failures))
    try:
        test_env.run_as_root("pg1", "chmod", "000", "/var/lib/pgbackrest")
        _switch_wal(test_env)
        _wait_for(lambda: int(test_env.psql("pg1", failures)) > before, 90, "archiving failed")
        status, detail = _archiving_check(test_env)
        assert status == "critical", detail
    finally:
        test_env.run_as_root("pg1", "chmod", "750", "/var/lib/pgbackrest")
    recovered = "SELECT last_archived_time > last_failed_time FROM pg_stat_archiver"
    _switch_wal(test_env)
    _wait_for(lambda: test_env.psql("pg1", recovered) == "t", 180, "archiving recovered")
    assert _archiving_check(test_env)[0] == "ok"


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
