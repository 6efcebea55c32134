"""A main host lost for good, rebuilt from the backup host: `adxdb restore` onto the fresh host
the inventory declares plus one deploy bring back every write committed before the last
archived WAL segment; the application's pool reconnects; the cluster archives on its new
timeline with no `[045]`; the next deploy changes nothing. Refused, changing nothing: a restore
onto a host that runs its cluster, and one to a time before the oldest backup."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from adxdb.app.pool import make_pool
from adxdb.app.settings import DatabaseSettings
from tests.integration.conftest import HostsUnderTest, _testhosts
from tests.integration.harness import TEST_YML, adxdb_json, app_settings, converge, run_adxdb
from tools.testhosts.engine import engine_client
from tools.testhosts.hosts import container_name

MARKERS = 50


def _app_settings(test_env: HostsUnderTest) -> DatabaseSettings:
    return app_settings(test_env.pg_port("pg1"), DB_MAX_CONNECTIONS=2, DB_ACQUIRE_TIMEOUT_SECONDS=5)


def _app_query(pool: Any) -> str:
    with pool.connection() as conn:
        return str(conn.execute("SELECT current_user || '@' || current_database()").fetchone()[0])


def _logs_with(test_env: HostsUnderTest, host: str, text: str) -> str:
    return test_env.run_as_root(
        host, "sh", "-c",
        f"grep -rlF -- '{text}' /var/log/pgbackrest /var/log/postgresql 2>/dev/null || true",
    )  # fmt: skip


def test_a_restore_onto_a_host_that_runs_its_cluster_is_refused(
    test_env: HostsUnderTest,
) -> None:
    started = test_env.psql("pg1", "SELECT pg_postmaster_start_time()")
    run = run_adxdb("restore", TEST_YML, "--cluster", "adx")
    assert run.returncode != 0
    assert "restore adx: refused: cluster 15/main exists on pg1 (running)" in run.stdout, (
        run.stdout[-3000:]
    )
    assert test_env.psql("pg1", "SELECT pg_postmaster_start_time()") == started  # untouched


def test_a_lost_main_host_comes_back_from_the_backup_host_with_every_archived_write(
    test_env: HostsUnderTest,
) -> None:
    test_env.psql("pg1", "CREATE TABLE public.restore_marker (id integer PRIMARY KEY)", "adx_core")
    for start in range(1, MARKERS + 1, 10):  # committed one batch at a time
        test_env.psql(
            "pg1",
            f"INSERT INTO public.restore_marker SELECT generate_series({start}, {start + 9})",
            "adx_core",
        )
    test_env.run("pg1", "pgbackrest", "--stanza=adx", "check")  # the segment is archived
    pool = make_pool(_app_settings(test_env))
    try:
        assert _app_query(pool) == "adx_app@adx_core"

        # Lost for good: the container and its data are gone; a fresh, bare host replaces it.
        client = engine_client()
        client.containers.get(container_name(test_env.env, "pg1")).remove(force=True, v=True)
        with pytest.raises(psycopg.OperationalError):  # the twin: the application is cut off
            _app_query(pool)
        _testhosts("up", str(TEST_YML))
        test_env.run_as_root("pg1", "test", "!", "-e", "/var/lib/postgresql")

        # Refused, changing nothing: a time before the oldest backup.
        early = run_adxdb("restore", TEST_YML, "--cluster", "adx", "--at", "2020-01-01T00:00:00Z")
        assert early.returncode != 0
        assert "--at 2020-01-01 00:00:00.000000+00: before the oldest backup of stanza adx" in (
            early.stdout
        ), early.stdout[-3000:]
        for path in ("/etc/postgresql/15/main", "/var/lib/postgresql/15/main"):
            test_env.run_as_root("pg1", "test", "!", "-e", path)
        assert test_env.run_as_root("pg1", "pg_lsclusters", "-h") == ""

        began = time.monotonic()
        run = run_adxdb("restore", TEST_YML, "--cluster", "adx")
        assert run.returncode == 0, run.stdout[-5000:]
        restored = time.monotonic() - began
        assert "restore adx: recovered and promoted" in run.stdout
        deploy = converge(test_env.inventory)
        print(
            f"restore of a lost main host: adxdb restore {restored:.0f} s, then one deploy "
            f"({len(deploy.changed_ops)} operation(s) changed)"
        )
        assert converge(test_env.inventory).changed_ops == {}

        count = test_env.psql(
            "pg1", f"SELECT count(*) FROM public.restore_marker WHERE id <= {MARKERS}", "adx_core"
        )
        assert count == str(MARKERS)
        timeline = "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"
        assert test_env.psql("pg1", timeline) == "00000002"  # a new timeline
        deadline = time.monotonic() + 60
        while True:  # the pool gives up its dead connections and connects again
            try:
                assert _app_query(pool) == "adx_app@adx_core"
                break
            except psycopg.OperationalError:
                assert time.monotonic() < deadline, "the application did not reconnect in 60 s"
                time.sleep(1)
    finally:
        pool.close()
        test_env.psql("pg1", "DROP TABLE IF EXISTS public.restore_marker", "adx_core")

    # Archiving goes on on the new timeline: check passes, no [045] anywhere.
    test_env.run("pg1", "pgbackrest", "--stanza=adx", "check")
    archived = test_env.psql("pg1", "SELECT last_archived_wal FROM pg_stat_archiver")
    assert archived.startswith("00000002"), archived
    for host in ("pg1", "backup1"):
        assert _logs_with(test_env, host, "[045]") == "", host
    # the twin: the probe reads the logs (the promotion is written there)
    assert _logs_with(test_env, "pg1", "selected new timeline ID") != ""
    _, health = adxdb_json("health-check", TEST_YML)
    [row] = [row for row in health["rows"] if row["name"] == "backups:adx"]
    assert row["status"] == "ok", health
