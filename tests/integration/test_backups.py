"""WAL archiving and backups with pgBackRest on the backup host: a stanza per cluster with a
first full backup, every WAL segment of every database host archived there (none kept on a
database host), each host limited to its own stanza, a stale backup failing the deploy by name,
restore drills (every cluster verified, a point in time, refusals, a drifted ledger failing),
and a backup host that goes down and comes back without a gap in the archive."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import (
    REPO,
    TEST_YML,
    adxdb_json,
    connect,
    converge,
    run_adxdb,
    run_deploy,
    variant_inventory,
)
from tools.testhosts.engine import engine_client
from tools.testhosts.hosts import container_name

STANZA = "adx"
BACKUP_HOST = "backup1"
STANZAS = {"pg1": "adx", "tenant1": "tenant1"}
REPOSITORY = "/var/lib/pgbackrest"


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


DRILLS = "/var/lib/adx-drill"
# Exact rows of every table of a database, read on the live server: what a drill must find.
LIVE_COUNTS = (
    "SELECT coalesce(json_object_agg(format('%I.%I', n.nspname, c.relname), "
    "(xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', "
    "n.nspname, c.relname), false, true, '')))[1]::text::bigint), '{}') "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
)


def _drill(test_env: HostsUnderTest, stanza: str, which: str = "last") -> dict[str, Any]:
    path = f"{DRILLS}/results/{stanza}.{which}.json"
    return dict(json.loads(test_env.run_as_root(BACKUP_HOST, "cat", path)))


def _health(test_env: HostsUnderTest) -> tuple[int, dict[str, tuple[str, str]]]:
    """The estate's health check: its exit status and its backup rows (no database) by name."""
    code, document = adxdb_json("health-check", TEST_YML)
    rows = {
        row["name"]: (row["status"], row["detail"])
        for row in document["rows"]
        if row["database"] == "" and row["host"] == BACKUP_HOST
    }
    return code, rows


def test_a_restore_drill_verifies_every_cluster_and_the_health_check_shows_it(
    test_env: HostsUnderTest,
) -> None:
    code, rows = _health(test_env)  # the twin: before any drill, no verified restore
    assert rows["restore_drill:adx"][0] == "warning", rows
    assert "no verified restore yet" in rows["restore_drill:adx"][1]
    assert rows["backups:adx"][0] == "ok" and code == 0, rows

    run = run_adxdb("restore-drill", TEST_YML)
    assert run.returncode == 0, run.stdout[-4000:]
    assert "restore-drill adx: recovering" in run.stdout  # progress, as it runs
    databases = {"adx": ["adx_core"], "tenant1": ["adx_tenant_initech", "adx_tenant_umbrella"]}
    for host, stanza in STANZAS.items():
        result = _drill(test_env, stanza)
        print(
            f"restore drill {stanza}: {result['duration_seconds']} s, backup set "
            f"{result['backup_set']}, {sum(len(d['tables']) for d in result['databases'])} "
            f"tables, {sum(d['indexes_checked'] for d in result['databases'])} indexes"
        )
        assert (result["verdict"], result["problems"]) == ("verified", []), result
        labels = [b["label"] for b in _repository(test_env)[stanza]["backup"]]
        assert result["backup_set"] in labels
        assert [d["database"] for d in result["databases"]] == databases[stanza]
        for found in result["databases"]:
            assert found["ledger_rows"] > 0 and found["indexes_checked"] > 100, found
            live = json.loads(test_env.psql(host, LIVE_COUNTS, found["database"]))
            assert found["tables"] == live, found["database"]
        assert _drill(test_env, stanza, "verified") == result
    # The scratch instances are gone: no folder, no server.
    left = test_env.run_as_root(BACKUP_HOST, "find", f"{DRILLS}/scratch", "-mindepth", "1")
    assert [p for p in left.splitlines() if not Path(p).name.startswith(".")] == []
    servers = test_env.run_as_root(BACKUP_HOST, "sh", "-c", "pgrep -f '[a]dx-drill' || true")
    assert servers == ""

    code, rows = _health(test_env)
    assert code == 0, rows
    for stanza in STANZAS.values():
        status, detail = rows[f"restore_drill:{stanza}"]
        assert status == "ok" and "last verified restore" in detail, rows
    plan = run_deploy(test_env.inventory, "--dry")
    assert plan.returncode == 0
    assert "restore_drill:adx ok: last verified restore" in plan.output, plan.output[-3000:]


def test_a_drill_at_a_time_holds_the_rows_written_before_it_and_none_after(
    test_env: HostsUnderTest,
) -> None:
    test_env.psql(
        "pg1",
        "CREATE TABLE public.drill_marker (v text); "
        "INSERT INTO public.drill_marker SELECT 'before' FROM generate_series(1, 3)",
        "adx_core",
    )
    try:
        target = test_env.psql(
            "pg1", "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
        time.sleep(1.5)
        test_env.psql(
            "pg1", "INSERT INTO public.drill_marker VALUES ('after'), ('after')", "adx_core"
        )
        run = run_adxdb("restore-drill", TEST_YML, "--cluster", STANZA, "--at", target)
        assert run.returncode == 0, run.stdout[-4000:]
        result = _drill(test_env, STANZA)
        print(f"restore drill {STANZA} at {target}: {result['duration_seconds']} s")
        assert result["verdict"] == "verified", result
        assert result["target"].startswith(target[:19].replace("T", " "))
        [core] = result["databases"]
        assert core["tables"]["public.drill_marker"] == 3
        # the negative twin: the live table holds the rows written after the target too
        assert test_env.psql("pg1", "SELECT count(*) FROM public.drill_marker", "adx_core") == "5"
        assert result["last_transaction"][:26] <= target.replace("T", " ").rstrip("Z")
    finally:
        test_env.psql("pg1", "DROP TABLE IF EXISTS public.drill_marker", "adx_core")


def test_a_drill_before_the_oldest_backup_or_of_an_unknown_cluster_is_refused(
    test_env: HostsUnderTest,
) -> None:
    before = _drill(test_env, STANZA)
    run = run_adxdb("restore-drill", TEST_YML, "--cluster", STANZA, "--at", "2020-01-01T00:00:00Z")
    assert run.returncode != 0
    assert (
        "--at 2020-01-01 00:00:00.000000+00: before the oldest backup of stanza adx" in run.stdout
    ), run.stdout[-3000:]
    assert _drill(test_env, STANZA) == before  # nothing was restored, nothing recorded
    unknown = run_adxdb("restore-drill", TEST_YML, "--cluster", "nope")
    assert unknown.returncode == 2
    assert "error: --cluster nope: no such cluster; the clusters' stanzas are adx, tenant1" in (
        unknown.stdout
    )


def test_a_drill_fails_when_the_restored_ledger_differs_from_the_migration_files(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(REPO / "sql" / "migrations", migrations)
    (migrations / "tenant" / "999_drill_probe.sql").write_text("SELECT 1;\n")
    variant = variant_inventory(tmp_path, {"migrations": {"directory": str(migrations)}})
    run = run_adxdb("restore-drill", variant.with_suffix(".yml"), "--cluster", STANZA)
    assert run.returncode != 0
    result = _drill(test_env, STANZA)
    assert result["verdict"] == "failed"
    assert "adx_core.public: tenant/999_drill_probe.sql not applied" in result["problems"]
    assert "adx_core.tenant_globex: tenant/999_drill_probe.sql not applied" in result["problems"]
    code, rows = _health(test_env)
    assert code == 1 and rows["restore_drill:adx"][0] == "critical", rows
    # The files as deployed: verified again.
    assert run_adxdb("restore-drill", TEST_YML, "--cluster", STANZA).returncode == 0
    assert _health(test_env)[1]["restore_drill:adx"][0] == "ok"


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


def _full_backups(test_env: HostsUnderTest) -> list[str]:
    found = _repository(test_env)[STANZA]["backup"]
    return [str(b["label"]) for b in found if b["type"] == "full"]


def test_retention_by_count_expires_the_oldest_full_backup(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    backup = ("pgbackrest", f"--stanza={STANZA}", "--type=full", "backup")
    # The twin: under the default retention_full 2, a second full backup keeps the first.
    while len(_full_backups(test_env)) < 2:
        test_env.run(BACKUP_HOST, *backup)
    kept = _full_backups(test_env)
    assert len(kept) == 2
    one = variant_inventory(tmp_path, {"backups": {"retention_full": 1}})
    converge(one)
    assert converge(one).changed_ops == {}
    config = test_env.run_as_root(BACKUP_HOST, "cat", "/etc/pgbackrest/pgbackrest.conf")
    assert "repo1-retention-full=1\n" in config
    test_env.run(BACKUP_HOST, *backup)
    [left] = _full_backups(test_env)  # the expiry after the backup removed both older ones
    assert left not in kept
    [archive] = _repository(test_env)[STANZA]["archive"]
    assert str(archive["min"]) >= str(
        _repository(test_env)[STANZA]["backup"][0]["archive"]["start"]
    )


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


def test_backups_enabled_again_take_a_full_backup_across_the_gap_in_the_archive(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    """After archiving was off (the test above), the archive has a gap no restore crosses:
    once WAL after it is archived, the deploy takes a new full backup and says why."""
    off = variant_inventory(tmp_path, {"backups": {"enabled": False}})
    if test_env.psql("pg1", "SHOW archive_mode") != "off":
        converge(off)
    for _ in range(2):  # WAL that is never archived
        _switch_wal(test_env)
    before = _full_backups(test_env)
    first = converge(test_env.inventory)  # archiving on again
    assert test_env.psql("pg1", "SHOW archive_mode") == "on"
    test_env.run("pg1", "pgbackrest", f"--stanza={STANZA}", "check")  # WAL after the gap
    second = converge(test_env.inventory)
    said = "was never archived (archiving was off): no restore crosses it"
    assert said in first.output + second.output, second.output[-3000:]
    after = _full_backups(test_env)
    assert len(set(after) - set(before)) == 1
    assert converge(test_env.inventory).changed_ops == {}  # the archive is whole since then
