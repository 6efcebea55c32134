"""Migration planning without a database: pending set, drift, ordering, directives."""

from __future__ import annotations

from pathlib import Path

import pytest

from adxdb.contract import MIGRATIONS_LOCK_KEY
from adxdb.errors import MigrationError
from adxdb.inventory import migration_files
from adxdb.inventory.migration_files import MigrationFile
from adxdb.plan import migration_scripts as scripts
from adxdb.plan import migrations as engine
from adxdb.plan.migrations import Target

MAIN = Target("adx_core", "public", ("shared", "tenant"))
SCHEMA_TENANT = Target("adx_core", "tenant_acme", ("tenant",))


def _file(stream: migration_files.Stream, version: int, text: str = "SELECT 1;") -> MigrationFile:
    return MigrationFile(stream, version, f"m{version}", text)


FILES = migration_files.order(
    [_file("tenant", 2), _file("shared", 1), _file("tenant", 1), _file("shared", 3)]
)


def _row(
    m: MigrationFile, schema: str = "public", checksum: str | None = None
) -> dict[str, object]:
    return {
        "stream": m.stream,
        "target_schema": schema,
        "version": m.version,
        "name": m.name,
        "checksum": checksum or m.checksum,
    }


def test_order_is_by_version_then_shared_before_tenant() -> None:
    assert [m.label for m in FILES] == [
        "shared/001_m1.sql",
        "tenant/001_m1.sql",
        "tenant/002_m2.sql",
        "shared/003_m3.sql",
    ]


def test_fresh_database_gets_every_file_of_its_streams() -> None:
    steps = engine.plan(FILES, [MAIN, SCHEMA_TENANT], [])
    assert engine.describe(steps) == [
        "adx_core.public: shared/001_m1.sql",
        "adx_core.public: tenant/001_m1.sql",
        "adx_core.public: tenant/002_m2.sql",
        "adx_core.public: shared/003_m3.sql",
        "adx_core.tenant_acme: tenant/001_m1.sql",
        "adx_core.tenant_acme: tenant/002_m2.sql",
    ]


def test_only_what_the_ledger_lacks_is_pending() -> None:
    ledger = [_row(m) for m in FILES[:3]] + [_row(FILES[1], "tenant_acme")]
    steps = engine.plan(FILES, [MAIN, SCHEMA_TENANT], ledger)
    assert engine.describe(steps) == [
        "adx_core.public: shared/003_m3.sql",
        "adx_core.tenant_acme: tenant/002_m2.sql",
    ]


def test_converged_database_has_nothing_pending() -> None:
    assert engine.plan(FILES, [MAIN], [_row(m) for m in FILES]) == []


def test_changed_file_is_refused_naming_file_target_and_checksums() -> None:
    ledger = [_row(m) for m in FILES]
    ledger[2] = _row(FILES[2], checksum="0" * 64)
    with pytest.raises(MigrationError) as raised:
        engine.plan(FILES, [MAIN], ledger)
    (problem,) = raised.value.problems
    assert problem.startswith("tenant/002_m2.sql changed after it was applied to adx_core.public")
    assert "applied sha256 " + "0" * 64 in problem
    assert f"file sha256 {FILES[2].checksum}" in problem


def test_missing_file_recorded_in_the_ledger_is_refused() -> None:
    ledger = [_row(m) for m in FILES] + [_row(_file("tenant", 9))]
    with pytest.raises(MigrationError, match=r"tenant/009_m9.sql was applied to adx_core.public"):
        engine.plan(FILES, [MAIN], ledger)


def test_seed_rows_in_the_ledger_are_not_migrations() -> None:
    ledger = [_row(m) for m in FILES] + [
        {"stream": "seed", "target_schema": "public", "version": 1, "name": "d", "checksum": "x"}
    ]
    assert engine.plan(FILES, [MAIN], ledger) == []


def test_directive_marks_a_file_non_transactional() -> None:
    text = (
        "-- adx:transaction=off\n"
        "-- CREATE INDEX CONCURRENTLY in a comment is not an index\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_a_idx ON users (a);\n"
        "create unique index concurrently users_b_idx on users (b);\n"
    )
    migration = MigrationFile("tenant", 8, "indexes", text)
    assert not migration.transactional
    assert migration.concurrent_indexes() == ["users_a_idx", "users_b_idx"]
    assert _file("tenant", 1).transactional


def test_invalid_index_makes_an_applied_file_pending_again() -> None:
    migration = MigrationFile(
        "tenant", 8, "indexes", "-- adx:transaction=off\nCREATE INDEX CONCURRENTLY i1 ON t (a);\n"
    )
    files = [*FILES, migration]
    ledger = [_row(m) for m in files]
    assert engine.plan(files, [MAIN], ledger) == []
    steps = engine.plan(files, [MAIN], ledger, invalid_indexes=["public.i1"])
    assert engine.describe(steps) == ["adx_core.public: tenant/008_indexes.sql"]


def test_transactional_step_commits_with_its_ledger_row() -> None:
    step = engine.Step(MAIN, FILES[0])
    script = scripts.render_step(step, "adx_owner", "ops@host")
    begin, commit = script.index("BEGIN;"), script.index("COMMIT;")
    assert begin < script.index("SELECT 1;") < script.index("INSERT INTO") < commit
    assert 'SET LOCAL ROLE "adx_owner";' in script
    assert 'SET LOCAL search_path = "public";' in script


def test_non_transactional_step_runs_outside_a_transaction_in_its_schema() -> None:
    migration = MigrationFile(
        "tenant", 8, "indexes", "-- adx:transaction=off\nCREATE INDEX CONCURRENTLY i1 ON t (a);\n"
    )
    script = scripts.render_step(engine.Step(SCHEMA_TENANT, migration), "adx_owner", "ops@host")
    assert "BEGIN;" not in script
    assert 'SET search_path = "tenant_acme", "public";' in script
    assert "DROP INDEX CONCURRENTLY IF EXISTS" in script  # an INVALID leftover is rebuilt


def test_script_sets_timeouts_and_takes_the_lock_without_blocking() -> None:
    script = scripts.render_script(
        engine.plan(FILES, [MAIN], []),
        "adx_owner",
        ["adx_monitor"],
        engine.Timeouts("5s", "10min"),
        "ops@host",
    )
    assert script.index("SET lock_timeout = '5s';") < script.index("pg_try_advisory_lock")
    assert "SET statement_timeout = '10min';" in script
    assert "pg_advisory_lock(" not in script
    assert script.count("\\if :adx_pending") == 4


def test_discover_rejects_bad_names_and_repeated_versions(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "tenant").mkdir()
    (tmp_path / "shared" / "001_a.sql").write_text("SELECT 1;")
    (tmp_path / "shared" / "001_b.sql").write_text("SELECT 1;")
    (tmp_path / "tenant" / "1-bad.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError) as raised:
        migration_files.discover(tmp_path)
    assert raised.value.problems == [
        "shared/001_b.sql: version 001 repeats 001_a.sql",
        "tenant/1-bad.sql: name must be NNN_lowercase_name.sql",
    ]


def test_repository_migrations_cover_the_seed_numbers() -> None:
    files = migration_files.discover()
    # the seed's 001-008, then the project's own (009: the tenant route claim of moves, 010:
    # the health check finds stalled archiving, 011: route claims queue behind a switch)
    assert sorted({m.version for m in files}) == list(range(1, 12))
    assert {m.label for m in files if m.version == 9} == {"shared/009_tenant_route_claim.sql"}
    assert {m.label for m in files if m.version == 10} == {
        "shared/010_health_check_archiving_stalls.sql"
    }
    assert any(not m.transactional for m in files)


def test_waiting_for_the_migration_lock_holds_no_snapshot() -> None:
    """Each try is its own statement and the backoff sleeps in psql, outside any transaction,
    so a waiting deploy never stalls the lock holder's CREATE INDEX CONCURRENTLY."""
    block = scripts.lock_block(wait_seconds=0.5, max_sleep=0.2)
    lines = block.splitlines()
    assert (
        lines.count(f"SELECT pg_try_advisory_lock({MIGRATIONS_LOCK_KEY}) AS adx_locked \\gset") == 4
    )
    assert [line for line in lines if line.startswith("\\! sleep")] == [
        "\\! sleep 0.1",
        "\\! sleep 0.2",
        "\\! sleep 0.2",
    ]
    assert "pg_sleep" not in block and "LOOP" not in block
    assert lines[-3:] == [
        "\\else",
        "DO $adx$ BEGIN RAISE EXCEPTION 'another deploy holds the migration lock of this "
        "database (waited 0.5 s; migrations.lock_wait sets how long)' USING ERRCODE = "
        "'lock_not_available'; END $adx$;",
        "\\endif",
    ]


def test_the_lock_wait_is_the_inventory_setting() -> None:
    """The default waits about three minutes, as before; the setting lengthens it."""
    assert 180 <= sum(scripts.backoff(180)) < 186
    assert 600 <= sum(scripts.backoff(600)) < 606
    assert max(scripts.backoff(600)) == 5.0


def test_drift_is_checked_again_under_the_lock() -> None:
    """A concurrent deploy may apply another version of a file after this one read the
    ledger: the step stops on a ledger row with another checksum instead of skipping."""
    migration = _file("tenant", 1)
    script = scripts.render_step(engine.Step(MAIN, migration), "adx_owner", "ops@host")
    drift = script.index("DO $adx_drift$")
    assert drift < script.index("AS adx_pending")
    assert f"checksum <> '{migration.checksum}'" in script[drift:]
    assert "with another checksum meanwhile" in script[drift:]


def test_a_targets_fence_follows_its_last_tenant_stream_file_once() -> None:
    """The fence and capture (each a look at the schema's tables) run once per target after its
    last tenant-stream file of the script, outside the files' `\\if` blocks, not after each
    file (N targets x files looks made a first converge quadratic)."""
    from adxdb.plan import migration_scripts
    from adxdb.plan.migrations import Step, Target

    files = migration_files.discover()
    tenant_files = [m for m in files if m.stream == "tenant"]
    shared_file = next(m for m in files if m.stream == "shared")
    acme = Target("adx_core", "tenant_acme", ("tenant",))
    globex = Target("adx_core", "tenant_globex", ("tenant",))
    steps = [Step(acme, m) for m in tenant_files] + [Step(globex, m) for m in tenant_files[:2]]
    script = migration_scripts.render_script(
        steps, "adx_owner", [], engine.Timeouts("5s", "10min"), "me"
    )
    fence = migration_scripts.tenant_fence("tenant_acme")
    assert "CREATE POLICY adx_fence_insert ON %s AS RESTRICTIVE FOR INSERT" in fence
    assert "format('%I.adx_tenant_fenced(uuid)', 'tenant_acme')" in fence
    assert script.count(fence) == 1
    last_acme_file = script.index(f"applying {tenant_files[-1].label} to adx_core.tenant_acme")
    first_globex_file = script.index("to adx_core.tenant_globex")
    assert last_acme_file < script.index(fence) < first_globex_file
    assert script.index("\\endif", last_acme_file) < script.index(fence)  # outside the \\if
    globex_fence = migration_scripts.tenant_fence("tenant_globex")
    assert script.count(globex_fence) == 1 and script.rindex("\\endif") < script.index(globex_fence)
    # each file still claims its relations for its version
    assert script.count("SELECT c.oid::regclass, 'tenant', ") == len(steps)
    shared = Target("adx_core", "public", ("shared", "tenant"))
    shared_only = migration_scripts.render_script(
        [Step(shared, shared_file)], "o", [], engine.Timeouts("5s", "10min"), "me"
    )
    assert "adx_fence" not in shared_only and "adx_capture" not in shared_only
