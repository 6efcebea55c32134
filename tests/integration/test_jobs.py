"""The database-manager jobs: seed and clean through the deploy; the read jobs over psycopg
with TLS verify-full as adx_monitor."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest

from adxdb import cli
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import REPO, STATE_DIR, TEST_YML, converge, password

TEST_TENANTS = "SELECT string_agg(slug, ',' ORDER BY slug) FROM tenants WHERE slug LIKE 'test\\_%'"
COUNTS = (
    "SELECT (SELECT count(*) FROM tenants) || ' ' || (SELECT count(*) FROM users) || ' ' || "
    "(SELECT count(*) FROM files) || ' ' || (SELECT count(*) FROM sessions)"
)


def _monitor_dsn(test_env: HostsUnderTest) -> str:
    return (
        f"postgresql://adx_monitor:{quote(password('adx_monitor'), safe='')}@127.0.0.1:"
        f"{test_env.pg_port('pg1')}/adx_core?sslmode=verify-full&sslrootcert="
        f"{quote(str(STATE_DIR / 'tls' / 'ca.crt'), safe='')}"
    )


def test_test_seed_is_loaded_and_rerunnable_without_duplicates(test_env: HostsUnderTest) -> None:
    assert test_env.psql("pg1", TEST_TENANTS, "adx_core") == "test_alpha,test_beta,test_gamma"
    before = test_env.psql("pg1", COUNTS, "adx_core")
    # Force the seed to run again: the ledger forgets it, the deploy loads it once more.
    test_env.psql("pg1", "DELETE FROM adx_migrations.ledger WHERE stream = 'seed'", "adx_core")
    run = converge(test_env.inventory)
    assert run.changed_ops == {"Seed data (test)": 1}
    assert test_env.psql("pg1", COUNTS, "adx_core") == before
    assert converge(test_env.inventory).changed_ops == {}


def test_clean_removes_test_data_and_the_next_deploy_restores_it(test_env: HostsUnderTest) -> None:
    before = test_env.psql("pg1", COUNTS, "adx_core")
    completed = subprocess.run(
        [sys.executable, "-m", "adxdb.cli", "clean", str(TEST_YML), "-y"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert test_env.psql("pg1", TEST_TENANTS, "adx_core") == ""
    assert test_env.psql("pg1", COUNTS, "adx_core") != before
    run = converge(test_env.inventory)
    assert run.changed_ops == {"Seed data (test)": 1}
    assert test_env.psql("pg1", COUNTS, "adx_core") == before
    assert converge(test_env.inventory).changed_ops == {}


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ("health", "adx_monitor"),
        ("health-check", "status"),
        ("analyze-indexes", "verdict"),
        ("monitor-pool", "utilization_percent"),
        ("stats", "database_size"),
        ("validate", "0 problem(s)"),
    ],
)
def test_read_jobs_succeed_on_a_converged_database(
    test_env: HostsUnderTest, job: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([job, "--dsn", _monitor_dsn(test_env)]) == 0
    assert expected in capsys.readouterr().out


def test_validate_finds_a_table_without_forced_rls(
    test_env: HostsUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    test_env.psql("pg1", "ALTER TABLE public.files NO FORCE ROW LEVEL SECURITY", "adx_core")
    try:
        assert cli.main(["validate", "--dsn", _monitor_dsn(test_env)]) == 1
        assert (
            "public.files: row level security enabled=True forced=False" in capsys.readouterr().out
        )
    finally:
        test_env.psql("pg1", "ALTER TABLE public.files FORCE ROW LEVEL SECURITY", "adx_core")


def test_read_job_without_a_database_url_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["health"]) == 2
    assert "give --dsn or set DATABASE_URL" in capsys.readouterr().err
