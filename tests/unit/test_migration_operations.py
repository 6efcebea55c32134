"""operations/migrations.py: ledger facts in, commands (or a refusal) out."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from pyinfra.api import FileUploadCommand, FunctionCommand, OperationError, StringCommand

from adxdb.inventory import migration_files
from adxdb.plan import migrations as engine
from operations import migrations as ops
from operations.facts import PgMigrationLedger
from tests.unit.conftest import OperationRun, run_operation

FILES = [
    migration_files.MigrationFile("shared", 1, "initial", "CREATE TABLE t (id int);"),
    migration_files.MigrationFile("tenant", 1, "initial", "CREATE TABLE u (id int);"),
]
MAIN = [engine.Target("adx_core", "public", ("shared", "tenant"))]
FACT_KEY = "facts.PgMigrationLedger"
FACT_ARGS = "database=adx_core, port=5432"


def _row(m: migration_files.MigrationFile, checksum: str | None = None) -> dict[str, Any]:
    return {
        "stream": m.stream,
        "target_schema": "public",
        "version": m.version,
        "name": m.name,
        "checksum": checksum or m.checksum,
    }


def _run_migrations(
    ledger: dict[str, Any] | None, targets: list[engine.Target] = MAIN
) -> tuple[list[Any], OperationRun]:
    run = run_operation(
        ops.migrations,
        {FACT_KEY: {FACT_ARGS: ledger}},
        targets={"adx_core": targets},
        files=FILES,
        owner="adx_owner",
        readers=["adx_monitor"],
        timeouts=engine.Timeouts(),
        applied_by="ops@control",
        port=5432,
    )
    return run.commands, run


def test_converged_ledger_is_a_noop() -> None:
    commands, run = _run_migrations(
        {
            "database": True,
            "ledger": [_row(m) for m in FILES],
            "invalid_indexes": [],
            "fences": True,
            "captures": True,
        }
    )
    assert commands == []
    assert run.noop_description == "migrations are applied in adx_core"


def test_pending_files_are_uploaded_and_run_in_one_psql_session() -> None:
    commands, _ = _run_migrations(
        {"database": True, "ledger": [_row(FILES[0])], "invalid_indexes": []}
    )
    # The pending file once, to a postgres-readable folder; then the script, run, cleaned up.
    assert len(commands) == 6
    sql_dir, file_upload, private_dir, upload, run, cleanup = commands
    assert str(sql_dir).startswith("install -d -m 0755") and "/var/lib/adx-migrations" in str(
        sql_dir
    )
    assert isinstance(file_upload, FileUploadCommand)
    assert isinstance(file_upload.src, StringIO)
    assert file_upload.src.getvalue() == FILES[1].text
    file_path = str(file_upload.dest)
    run_dir, _, file_name = file_path.rpartition("/")
    assert run_dir.startswith("/var/lib/adx-migrations/run-")  # a folder of this run's own
    assert file_name.startswith("tenant-001_initial-")
    assert str(sql_dir).endswith(run_dir)
    assert isinstance(private_dir, StringCommand)
    assert isinstance(upload, FileUploadCommand)
    assert isinstance(upload.src, StringIO)
    script = upload.src.getvalue()
    assert "tenant/001_initial.sql" in script and "shared/001_initial.sql" not in script
    assert f"\\i {file_path}" in script
    assert str(upload.dest).startswith("/var/lib/adx-deploy/migrate-adx_core-")
    assert "psql" in str(run) and "< " + str(upload.dest) in str(run)
    assert str(cleanup) == f"rm -rf {run_dir}"


def test_drift_is_refused_before_any_command() -> None:
    with pytest.raises(
        OperationError, match=r"shared/001_initial.sql changed after it was applied"
    ):
        _run_migrations(
            {"database": True, "ledger": [_row(FILES[0], "f" * 64)], "invalid_indexes": []}
        )


def test_server_down_is_an_error() -> None:
    with pytest.raises(OperationError, match="no PostgreSQL server answers on port 5432"):
        _run_migrations(None)


def _run_seed(ledger: list[dict[str, Any]]) -> tuple[list[Any], OperationRun]:
    run = run_operation(
        ops.seed,
        {FACT_KEY: {FACT_ARGS: {"database": True, "ledger": ledger}}},
        database="adx_core",
        seed_name="development",
        text="INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING;",
        applied_by="ops@control",
        port=5432,
    )
    return run.commands, run


def test_seed_runs_once_per_content() -> None:
    text = "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING;"
    checksum = migration_files.MigrationFile("shared", 1, "development", text).checksum
    loaded = {"stream": "seed", "target_schema": "public", "version": 1, "name": "development"}
    commands, run = _run_seed([{**loaded, "checksum": checksum}])
    assert commands == []
    assert run.noop_description == "seed development is loaded in adx_core"
    commands, _ = _run_seed([{**loaded, "checksum": "old"}])
    upload = commands[1]
    assert isinstance(upload.src, StringIO)
    script = upload.src.getvalue()
    assert script.index("BEGIN;") < script.index(text) < script.index("COMMIT;")


def test_ledger_fact_reads_json_and_server_down() -> None:
    fact = PgMigrationLedger()
    assert fact.process(['{"database": false, "ledger": [], "invalid_indexes": []}']) == {
        "database": False,
        "ledger": [],
        "invalid_indexes": [],
    }
    assert fact.process(["null"]) is None
    command = str(fact.command(port=5432, database="adx_core"))
    assert "pg_isready -q -p 5432" in command
    assert "adx_database=adx_core" in command


def test_many_targets_run_in_sessions_of_a_hundred_with_progress_after_each() -> None:
    schemas = [engine.Target("adx_core", f"tenant_t{n:03d}", ("tenant",)) for n in range(250)]
    _, run = _run_migrations(
        {"database": True, "ledger": [], "invalid_indexes": []}, MAIN + schemas
    )
    progress = [c for c in run.commands if isinstance(c, FunctionCommand)]
    assert [c.args[1:] for c in progress] == [(100, 251), (200, 251), (251, 251)]
    sessions = [c for c in run.commands if isinstance(c, StringCommand) and "psql" in str(c)]
    assert len(sessions) == 3
    applied = [text for text in run.uploads().values() if "applying" in text]
    assert [s.count("adx: applying tenant/001") for s in applied] == [100, 100, 51]
    assert [text.count("adx: applying shared/001") for text in applied] == [1, 0, 0]


def test_a_few_targets_run_in_one_session_without_progress_lines() -> None:
    commands, _ = _run_migrations({"database": True, "ledger": [], "invalid_indexes": []})
    assert not [c for c in commands if isinstance(c, FunctionCommand)]
