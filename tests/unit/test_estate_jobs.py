"""The read jobs over an estate (`adxdb <job> INVENTORY`): where they run (every database of
every member of every cluster), and how the hosts' answers become one table and the problems
that make a job exit 1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adxdb.inventory.loader import load_inventory
from adxdb.inventory.migration_files import discover
from adxdb.inventory.model import Environment
from adxdb.plan.estate_jobs import (
    Place,
    estate_databases,
    job_places,
    job_report,
    plan_rows,
    planned_changes,
    validate_report,
)
from tests.unit.test_inventory import write
from tests.unit.test_tenant_clusters import _with_cluster

HEALTH_COLUMNS = ["name", "status", "detail"]


def _env(tmp_path: Path) -> Environment:
    return load_inventory(write(tmp_path, _with_cluster())).env


def _answer(rows: list[list[str]], columns: list[str] = HEALTH_COLUMNS) -> dict[str, Any]:
    return {"ok": True, "columns": columns, "rows": rows}


def _healthy(env: Environment, query: str = "health_check") -> dict[str, Any]:
    """Every host answering with one ok row per database."""
    found: dict[str, Any] = {}
    for place in job_places(env):
        state = found.setdefault(place.host, {"down": False, "unlisted": [], "databases": {}})
        state["databases"][place.database] = {query: _answer([["database", "ok", "up"]])}
    return found


def test_a_job_runs_on_every_database_of_every_member_of_every_cluster(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert job_places(env) == [
        Place("pg1", "main", "adx_core"),
        Place("pg2", "main", "adx_core"),
        Place("pg3", "main", "adx_core"),
        Place("t1", "tc", "adx_tenant_initech"),
        Place("t2", "tc", "adx_tenant_initech"),
        Place("t3", "t3", "adx_tenant_hooli"),
    ]
    assert estate_databases(env) == ["adx_core", "adx_tenant_hooli", "adx_tenant_initech"]


def test_every_place_answering_ok_makes_one_table_and_no_problem(tmp_path: Path) -> None:
    env = _env(tmp_path)
    report = job_report(env, "health-check", _healthy(env), {})
    assert report.problems == []
    assert report.columns == ["host", "cluster", "database", *HEALTH_COLUMNS]
    assert report.rows[3] == ("t1", "tc", "adx_tenant_initech", "database", "ok", "up")
    assert len(report.rows) == 6
    assert report.as_json("health-check")["status"] == "ok"


def test_a_critical_row_is_a_problem_naming_its_host_cluster_and_database(tmp_path: Path) -> None:
    env = _env(tmp_path)
    found = _healthy(env)
    found["t3"]["databases"]["adx_tenant_hooli"]["health_check"] = _answer(
        [["wal_archiving", "critical", "no archive_command"], ["database", "ok", "up"]]
    )
    report = job_report(env, "health-check", found, {})
    assert report.problems == [
        "t3 (t3) adx_tenant_hooli: wal_archiving critical no archive_command"
    ]
    document = report.as_json("health-check")
    assert document["status"] == "critical"
    assert document["rows"][5]["host"] == "t3" and document["rows"][5]["status"] == "critical"


def test_a_warning_is_shown_but_is_no_problem(tmp_path: Path) -> None:
    env = _env(tmp_path)
    found = _healthy(env)
    found["pg2"]["databases"]["adx_core"]["health_check"] = _answer([["x", "warning", "slow"]])
    assert job_report(env, "health-check", found, {}).problems == []


def test_hosts_and_databases_that_give_no_answer_are_problems(tmp_path: Path) -> None:
    env = _env(tmp_path)
    found = _healthy(env)
    del found["pg3"]
    found["t2"]["down"] = True
    del found["t3"]["databases"]["adx_tenant_hooli"]
    found["t1"]["unlisted"] = ["adx_tenant_stray"]
    found["pg1"]["databases"]["adx_core"]["health_check"] = {"ok": False, "error": "boom"}
    report = job_report(env, "health-check", found, {"pg3": "Could not connect to pg3"})
    assert report.problems == [
        "pg3: cannot read the host over SSH: Could not connect to pg3",
        "t1: database adx_tenant_stray is not in the inventory",
        "t2: no PostgreSQL server answers on port 5432",
        "t3 (t3) adx_tenant_hooli: the database does not exist",
        "pg1 (main) adx_core: health_check: boom",
    ]
    assert [row[0] for row in report.rows] == ["pg2", "t1"]


def test_analyze_indexes_finds_an_invalid_index_critical(tmp_path: Path) -> None:
    env = _env(tmp_path)
    columns = ["schema_name", "index_name", "verdict"]
    found = _healthy(env, "analyze_indexes")
    for state in found.values():
        for answers in state["databases"].values():
            answers["analyze_indexes"] = _answer([["public", "i1", "unused"]], columns)
    assert job_report(env, "analyze-indexes", found, {}).problems == []  # the twin
    found["pg1"]["databases"]["adx_core"]["analyze_indexes"] = _answer(
        [["public", "i2", "INVALID: rebuild"]], columns
    )
    assert job_report(env, "analyze-indexes", found, {}).problems == [
        "pg1 (main) adx_core: public i2 INVALID: rebuild"
    ]


def _validate_answers(env: Environment, ledger: dict[str, list[list[str]]]) -> dict[str, Any]:
    ledger_columns = ["stream", "target_schema", "version", "name", "checksum"]
    found: dict[str, Any] = {}
    for place in job_places(env):
        state = found.setdefault(place.host, {"down": False, "unlisted": [], "databases": {}})
        state["databases"][place.database] = {
            "validate_rls": _answer([], ["schema_name", "table_name", "e", "f", "p"]),
            "validate_ledger": _answer(ledger[place.database], ledger_columns),
            "validate_schemas": _answer([], ["problem", "slug", "schema_name"]),
        }
    return found


def _applied(env: Environment, database: str) -> list[list[str]]:
    """The ledger rows of every migration the inventory's targets hold in `database`."""
    from adxdb.plan.tenants import migration_targets

    host = next(p.host for p in job_places(env) if p.database == database)
    targets = migration_targets(env, host)[database]
    return [
        [m.stream, t.schema, str(m.version), m.name, m.checksum]
        for t in targets
        for m in discover()
        if m.stream in t.streams
    ]


def test_validate_compares_every_ledger_with_the_files(tmp_path: Path) -> None:
    env = _env(tmp_path)
    ledgers = {name: _applied(env, name) for name in estate_databases(env)}
    report = validate_report(env, _validate_answers(env, ledgers), {}, discover())
    assert report.problems == []
    assert {row[3] for row in report.rows} == {"row_level_security", "ledger", "tenant_schemas"}
    # A changed file on one database, one migration missing from another's ledger.
    ledgers["adx_tenant_hooli"][0][4] = "0" * 64
    ledgers["adx_core"] = ledgers["adx_core"][:-1]
    report = validate_report(env, _validate_answers(env, ledgers), {}, discover())
    assert len(report.problems) == 4, report.problems  # adx_core on 3 members, hooli on t3
    assert report.problems[0].startswith("pg1 (main) adx_core: ledger: not applied: ")
    assert "t3 (t3) adx_tenant_hooli: ledger: " in report.problems[3]
    assert "changed after it was applied" in report.problems[3]


def test_validate_reports_rls_holes_and_schema_drift(tmp_path: Path) -> None:
    env = _env(tmp_path)
    ledgers = {name: _applied(env, name) for name in estate_databases(env)}
    found = _validate_answers(env, ledgers)
    answers = found["pg1"]["databases"]["adx_core"]
    answers["validate_rls"]["rows"] = [["public", "files", "t", "f", "1"]]
    answers["validate_schemas"]["rows"] = [["missing_schema", "globex", "tenant_globex"]]
    report = validate_report(env, found, {}, discover())
    assert report.problems == [
        "pg1 (main) adx_core: row_level_security: public.files (enabled=t forced=f policies=1)",
        "pg1 (main) adx_core: tenant_schemas: missing_schema tenant_globex (globex)",
    ]


DRY_RUN = """--> Preparing operation files...
    [pg1] Ready: deploy.py

--> Detected changes:
    Operation                                                Change           Conditional Change
    Leftovers of killed deploys                              -                -
    ADX roles                                                2 (pg1, t1)      -
    Tenants registry                                         1 (pg1)          -
    Seed data (test)                                         -                1 (t3)

    Detected changes may not include every change pyinfra will execute.
"""


def test_the_deploys_dry_run_says_what_would_change_on_each_host(tmp_path: Path) -> None:
    assert planned_changes(DRY_RUN) == {
        "pg1": ["ADX roles", "Tenants registry"],
        "t1": ["ADX roles"],
        "t3": ["Seed data (test)"],
    }
    nothing = DRY_RUN.replace("2 (pg1, t1)", "-").replace("1 (pg1)", "-").replace("1 (t3)", "-")
    assert planned_changes(nothing) == {}  # the twin
    env = _env(tmp_path)
    rows = plan_rows(env, planned_changes(DRY_RUN), None)
    by_host = {row[0]: row for row in rows}
    assert set(by_host) == set(env.hosts)
    assert by_host["pg1"][4:] == (
        "critical",
        "the next deploy would change: ADX roles, Tenants registry",
    )
    assert by_host["pg2"][4:] == ("ok", "the next deploy would change nothing")
    [failed] = plan_rows(env, {}, "error: tenants[0].slug: bad")
    assert failed[4] == "critical" and "dry run failed: error: tenants[0].slug" in failed[5]
