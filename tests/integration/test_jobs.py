"""The database-manager jobs: seed and clean through the deploy; the read jobs over psycopg
with TLS verify-full as adx_monitor."""

from __future__ import annotations

import subprocess
import sys
from typing import Any
from urllib.parse import quote

import pytest

from adxdb import cli
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import (
    REPO,
    STATE_DIR,
    TEST_YML,
    adxdb_json,
    converge,
    password,
    run_adxdb,
)

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
    assert "give an inventory, --dsn, or set DATABASE_URL" in capsys.readouterr().err


# Every database of the test estate, where it lives: the main one, each dedicated tenant's.
ESTATE = {
    ("pg1", "main", "adx_core"),
    ("tenant1", "tenant1", "adx_tenant_initech"),
    ("tenant1", "tenant1", "adx_tenant_umbrella"),
}


def _places(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["host"], r["cluster"], r["database"]) for r in document["rows"] if r["database"]}


def test_health_check_of_the_inventory_reads_every_database_of_every_host(
    test_env: HostsUnderTest,
) -> None:
    code, document = adxdb_json("health-check", TEST_YML)
    assert (code, document["status"], document["problems"]) == (0, "ok", []), document
    assert _places(document) == ESTATE
    checks: dict[tuple[str, str], set[str]] = {}
    for row in document["rows"]:
        if row["database"]:
            checks.setdefault((row["host"], row["database"]), set()).add(row["name"])
    # One row per check per database: the same checks everywhere, each once.
    assert len(set(map(frozenset, checks.values()))) == 1
    assert {"wal_archiving", "connections", "tenant_isolation"} <= checks[("pg1", "adx_core")]
    assert len(document["rows"]) == sum(len(c) for c in checks.values()) + 4  # + backup rows
    # The table a person reads: the same rows under host, cluster and database columns.
    table = run_adxdb("health-check", TEST_YML)
    assert table.returncode == 0, table.stdout
    assert table.stdout.splitlines()[0].split()[:4] == ["host", "cluster", "database", "name"]
    assert "health-check: 3 database(s) on 2 database host(s), 0 problem(s)" in table.stdout


def test_health_check_of_the_inventory_fails_naming_the_host_that_stopped_archiving(
    test_env: HostsUnderTest,
) -> None:
    stop = "ALTER SYSTEM SET archive_command = ''"
    test_env.psql("tenant1", stop)
    test_env.psql("tenant1", "SELECT pg_reload_conf()")
    try:
        code, document = adxdb_json("health-check", TEST_YML)
        table = run_adxdb("health-check", TEST_YML)
    finally:
        test_env.psql("tenant1", "ALTER SYSTEM RESET archive_command")
        test_env.psql("tenant1", "SELECT pg_reload_conf()")
    assert (code, document["status"]) == (1, "critical"), document
    critical = {(r["host"], r["database"]) for r in document["rows"] if r["status"] == "critical"}
    assert critical == {("tenant1", "adx_tenant_initech"), ("tenant1", "adx_tenant_umbrella")}
    assert document["problems"] and all(p.startswith("tenant1 ") for p in document["problems"])
    assert "archive_command" in document["problems"][0]
    assert table.returncode == 1
    assert "critical: tenant1 (tenant1) adx_tenant_initech: wal_archiving critical" in table.stdout
    # Archiving back: the same job is healthy again (the twin of the failure above).
    assert adxdb_json("health-check", TEST_YML)[0] == 0


@pytest.mark.parametrize(
    ("job", "column"),
    [
        ("health", "user"),
        ("analyze-indexes", "verdict"),
        ("monitor-pool", "utilization_percent"),
        ("stats", "database_size"),
    ],
)
def test_read_jobs_of_the_inventory_cover_every_database_as_adx_monitor(
    test_env: HostsUnderTest, job: str, column: str
) -> None:
    code, document = adxdb_json(job, TEST_YML)
    assert (code, document["problems"]) == (0, []), document
    assert column in document["columns"]
    assert _places(document) == ESTATE
    if job == "health":
        assert {r["user"] for r in document["rows"]} == {"adx_monitor"}
        assert {r["tls"] for r in document["rows"]} == {"unix socket"}


def test_validate_of_the_inventory_checks_every_ledger_and_the_deploys_own_plan(
    test_env: HostsUnderTest,
) -> None:
    code, document = adxdb_json("validate", TEST_YML)
    assert (code, document["problems"]) == (0, []), document
    assert _places(document) == ESTATE
    plan = {r["host"]: r for r in document["rows"] if r["check"] == "deploy_plan"}
    assert set(plan) == {"pg1", "tenant1", "backup1"}
    assert {r["status"] for r in plan.values()} == {"ok"}
    ledgers = [r for r in document["rows"] if r["check"] == "ledger"]
    assert len(ledgers) == 3 and all("as the files say" in r["detail"] for r in ledgers)
    # Drift the next deploy would undo: validate names it and the host, the deploy mends it.
    test_env.psql("pg1", "UPDATE tenants SET name = 'Drifted' WHERE slug = 'acme'", "adx_core")
    test_env.psql(
        "tenant1", "ALTER TABLE public.files NO FORCE ROW LEVEL SECURITY", "adx_tenant_umbrella"
    )
    try:
        code, document = adxdb_json("validate", TEST_YML)
    finally:
        test_env.psql(
            "tenant1", "ALTER TABLE public.files FORCE ROW LEVEL SECURITY", "adx_tenant_umbrella"
        )
    assert code == 1
    assert document["problems"] == [
        "tenant1 (tenant1) adx_tenant_umbrella: row_level_security: public.files "
        "(enabled=t forced=f policies=3)",
        "pg1: deploy_plan: the next deploy would change: Tenants registry",
    ], document["problems"]
    assert converge(test_env.inventory).changed_ops == {"Tenants registry": 1}
    assert converge(test_env.inventory).changed_ops == {}
    assert adxdb_json("validate", TEST_YML)[0] == 0


def test_an_inventory_and_a_dsn_together_are_refused(test_env: HostsUnderTest) -> None:
    run = run_adxdb("health", TEST_YML, "--dsn", _monitor_dsn(test_env))
    assert run.returncode == 2 and "give an inventory or --dsn, not both" in run.stdout
