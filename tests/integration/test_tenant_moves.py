"""Moving a tenant between isolation levels: every row arrives (count and checksum per table),
none stays behind, and an interrupted move never leaves the tenant's data split."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adxdb import sqlfiles
from adxdb.app.routing import TenantConnections, TenantRouteChanged
from adxdb.app.settings import DatabaseSettings
from adxdb.inventory import migration_files
from adxdb.plan import move_scripts
from adxdb.plan import moves as moves_plan
from adxdb.plan.tenants import RegistryRow
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import (
    REPO,
    connect,
    converge,
    password,
    run_deploy,
    variant_inventory,
)

WONKA = uuid.UUID("3f1c9a52-6b0e-4d8a-9f3e-2a7b5c1d0e99")
TENANT_ROWS = Path(__file__).parent / "sql" / "tenant_rows.sql"
# The test's own reading of the tenant stream's tables (the deploy reads the ledger instead).
_CREATE_TABLE = re.compile(
    r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)\s*\(",
    re.IGNORECASE | re.MULTILINE,
)
TABLES = sorted(
    {
        match.group(1).lower()
        for migration in migration_files.discover()
        if migration.stream == "tenant"
        for match in _CREATE_TABLE.finditer(migration.text)
    }
)
MOVES_OP = "Tenant moves (copy, verify, switch the registry)"
Rows = dict[str, tuple[str, ...]]


def _inventory(test_env: HostsUnderTest, directory: Path, isolation: str, **extra: object) -> Path:
    tenants = [t.model_dump(mode="json", exclude_defaults=True) for t in test_env.env.tenants]
    wonka: dict[str, object] = {
        "slug": "wonka",
        "id": str(WONKA),
        "name": "Wonka",
        "isolation": isolation,
    }
    if isolation == "database":
        wonka["host"] = "tenant1"
    return variant_inventory(directory / isolation, {"tenants": [*tenants, wonka], **extra})


def _rows(test_env: HostsUnderTest, host: str, database: str, schema: str, op: str = "=") -> Rows:
    """Per tenant-stream table: row count and a checksum of the rows' text (column order and
    values) for WONKA (`op` '=') or for every other tenant (`op` '<>')."""
    parts = " UNION ALL ".join(
        f"SELECT '{table}' AS t, count(*) AS n, "
        f"md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) AS d "
        f"FROM {schema}.{table} r WHERE r.tenant_id {op} '{WONKA}'"
        for table in TABLES
    )
    output = test_env.psql(
        host,
        f"SET TimeZone = 'UTC'; SELECT t || ' ' || n || ' ' || d FROM ({parts}) s ORDER BY t",
        database,
    )
    rows = [line.split() for line in output.splitlines() if line != "SET"]
    return {table: (count, digest) for table, count, digest in rows}


def _registry(test_env: HostsUnderTest) -> str:
    return test_env.psql(
        "pg1",
        "SELECT isolation_level || ' ' || coalesce(db_host, '-') || ' ' || db_name || ' ' "
        f"|| db_schema FROM tenants WHERE id = '{WONKA}'",
        "adx_core",
    )


@pytest.fixture
def wonka(test_env: HostsUnderTest) -> Iterator[None]:
    """Remove what the tests made for the tenant wonka, wherever it ended up."""
    yield
    deletes = "; ".join(f"DELETE FROM public.{t} WHERE tenant_id = '{WONKA}'" for t in TABLES[::-1])
    test_env.psql("pg1", deletes, "adx_core")
    test_env.psql("pg1", f"DELETE FROM tenants WHERE id = '{WONKA}'", "adx_core")
    test_env.psql(
        "pg1",
        "; ".join(
            f"DELETE FROM adx_migrations.{table} WHERE tenant = '{WONKA}'"
            for table in (
                "move_captures",
                "move_changes",
                "tenant_fences",
                "pending_unfences",
                "move_history",
            )
        ),
        "adx_core",
    )
    test_env.psql("pg1", "DROP SCHEMA IF EXISTS tenant_wonka CASCADE", "adx_core")
    test_env.psql(
        "pg1", "DELETE FROM adx_migrations.ledger WHERE target_schema = 'tenant_wonka'", "adx_core"
    )
    test_env.psql("tenant1", "DROP DATABASE IF EXISTS adx_tenant_wonka WITH (FORCE)")
    for host, database in (("pg1", "adx_core"), ("tenant1", "postgres")):
        test_env.psql(
            host,
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'adx_tenant_wonka') "
            "THEN DROP OWNED BY adx_tenant_wonka; DROP ROLE adx_tenant_wonka; END IF; END $$",
            database,
        )


def _load_rows(test_env: HostsUnderTest) -> Rows:
    test_env.psql_file("pg1", TENANT_ROWS, "adx_core", tenant_id=str(WONKA), schema="public")
    before = _rows(test_env, "pg1", "adx_core", "public")
    empty = [table for table, (count, _) in before.items() if int(count) == 0]
    assert empty == [], f"the fixture left tenant tables empty: {empty}"
    return before


def _empty_at(test_env: HostsUnderTest, host: str, database: str, schema: str) -> dict[str, str]:
    """Tables at a location that still hold WONKA rows (should be none)."""
    left = _rows(test_env, host, database, schema)
    return {table: count for table, (count, _) in left.items() if count != "0"}


def test_rls_to_schema_to_database_moves_every_row_and_leaves_none_behind(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    before = _load_rows(test_env)
    others_before = _rows(test_env, "pg1", "adx_core", "public", op="<>")
    tenant_host = test_env.env.hosts["tenant1"].address

    # rls -> schema: a copy on the primary itself.
    to_schema = _inventory(test_env, tmp_path, "schema")
    run = converge(to_schema)
    assert "move tenant wonka: rls (adx_core.public) -> schema (adx_core.tenant_wonka)" in (
        run.output
    )
    assert run.changed_ops.get(MOVES_OP) == 1
    assert _rows(test_env, "pg1", "adx_core", "tenant_wonka") == before
    assert _empty_at(test_env, "pg1", "adx_core", "public") == {}
    assert _rows(test_env, "pg1", "adx_core", "public", op="<>") == others_before
    assert _registry(test_env) == "schema - adx_core tenant_wonka"
    assert converge(to_schema).changed_ops == {}
    # The tenant's own role works at its schema; a session stays open across the next move.
    held = connect("adx_tenant_wonka", test_env.pg_port("pg1"))
    assert held.execute("SELECT count(*) FROM tenant_wonka.users").fetchone() is not None

    # schema -> database: a copy to the tenant host, over TLS as adx_migrator.
    to_database = _inventory(test_env, tmp_path, "database")
    run = converge(to_database, "-vvv")  # -vvv prints every command: the password is in none
    assert password("adx_migrator") not in run.output
    assert (
        f"move tenant wonka: schema (adx_core.tenant_wonka) -> database "
        f"({tenant_host}:adx_tenant_wonka.public)"
    ) in run.output
    assert run.changed_ops.get(MOVES_OP) == 1
    assert _rows(test_env, "tenant1", "adx_tenant_wonka", "public") == before
    assert _empty_at(test_env, "pg1", "adx_core", "tenant_wonka") == {}
    assert _rows(test_env, "pg1", "adx_core", "public", op="<>") == others_before
    assert _registry(test_env) == f"database {tenant_host} adx_tenant_wonka public"
    assert converge(to_database).changed_ops == {}
    # Its access to the schema it left ended with the switch: login, CONNECT, open sessions.
    with pytest.raises(psycopg.OperationalError):
        held.execute("SELECT 1")
    held.close()
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        connect("adx_tenant_wonka", test_env.pg_port("pg1"))
    assert (
        test_env.psql(
            "pg1",
            "SELECT rolcanlogin, has_database_privilege(oid, 'adx_core', 'CONNECT') "
            "FROM pg_roles WHERE rolname = 'adx_tenant_wonka'",
        )
        == "f|f"
    )
    with connect("adx_tenant_wonka", test_env.pg_port("tenant1"), dbname="adx_tenant_wonka"):
        pass  # where the registry points, it logs in

    # A run killed after its switch leaves its capture on and rows at the old location: the
    # next run tidies them (the twin: before it, the probe sees them).
    test_env.psql(
        "pg1",
        "INSERT INTO adx_migrations.move_captures (target_schema, tenant) "
        f"VALUES ('tenant_wonka', '{WONKA}'); "
        "UPDATE adx_migrations.tenant_fences SET cleared = false "
        f"WHERE target_schema = 'tenant_wonka' AND tenant = '{WONKA}'; "
        f"INSERT INTO tenant_wonka.users (tenant_id, email) VALUES ('{WONKA}', 'left@wonka.test')",
        "adx_core",
    )
    assert _empty_at(test_env, "pg1", "adx_core", "tenant_wonka") == {"users": "1"}
    tidied = converge(to_database)
    assert tidied.changed_ops.get(MOVES_OP) == 1
    assert "tenant wonka: tidying what a move left" in tidied.output
    assert _empty_at(test_env, "pg1", "adx_core", "tenant_wonka") == {}
    left = f"SELECT count(*) FROM adx_migrations.move_captures WHERE tenant = '{WONKA}'"
    assert test_env.psql("pg1", left, "adx_core") == "0"
    assert converge(to_database).changed_ops == {}

    # The application reaches the moved rows where the registry now points, under RLS.
    with connect("adx_app", test_env.pg_port("tenant1"), dbname="adx_tenant_wonka") as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)  # no context
        with conn.transaction():
            conn.execute("SELECT set_tenant_context(%s)", (WONKA,))
            users = conn.execute("SELECT count(*) FROM users").fetchone()
        assert users == (int(before["users"][0]),)


def _fenced_at(test_env: HostsUnderTest, host: str, database: str) -> bool:
    """Whether WONKA is fenced in `database` (false while the database does not exist)."""
    exists = test_env.psql(host, f"SELECT count(*) FROM pg_database WHERE datname = '{database}'")
    if exists != "1":
        return False
    fenced = test_env.psql(
        host,
        "SELECT to_regclass('adx_migrations.tenant_fences') IS NOT NULL AND EXISTS (SELECT 1 "
        "FROM pg_class WHERE oid = to_regclass('adx_migrations.tenant_fences'))",
        database,
    )
    if fenced != "t":
        return False
    fence = f"SELECT count(*) FROM adx_migrations.tenant_fences WHERE tenant = '{WONKA}'"
    return test_env.psql(host, fence, database) != "0"


def test_interrupted_switch_keeps_the_tenant_whole_and_the_next_run_finishes(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    before = _load_rows(test_env)
    # Catch-up passes go on while the tenant writes (catch_up_rows 0), so the freeze comes
    # seconds after the copy committed; a transaction opened meanwhile outlives moves.freeze.
    moved = _inventory(
        test_env,
        tmp_path,
        "database",
        migrations={"lock_timeout": "2s"},
        moves={"freeze": "2s", "catch_up_rows": 0, "catch_up_passes": 30},
    )
    stop, done = threading.Event(), _Writers()
    with ThreadPoolExecutor(2) as pool:
        writers = pool.submit(_write_while, test_env, stop, done)
        time.sleep(1.0)
        deploy = pool.submit(run_deploy, moved)
        try:
            while not _fenced_at(test_env, "tenant1", "adx_tenant_wonka"):  # the copy committed
                assert not deploy.done(), deploy.result().output[-4000:]
                time.sleep(0.05)
            with connect("adx_app", test_env.pg_port("pg1")) as old:
                old.autocommit = False
                old.execute("SELECT 1")  # a transaction older than the freeze, held open
                failed = deploy.result()
                # The new location is fenced: the tenant's own role cannot write its copy.
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level"):
                    _write_as(test_env, "adx_tenant_wonka", "tenant1", "adx_tenant_wonka", WONKA)
        finally:
            stop.set()
        writers.result()
    assert failed.returncode != 0
    assert "its writes could not be frozen within 2 s (moves.freeze)" in failed.output, (
        failed.output[-4000:]
    )
    # Nothing is split: the registry and every row are still at the old location, which took
    # the tenant's writes all along (the freeze was lifted).
    assert _registry(test_env) == "rls - adx_core public"
    assert not _fenced_at(test_env, "pg1", "adx_core")
    emails = "SELECT email FROM users WHERE email LIKE 'busy-%@wonka.test'"
    assert set(done.acknowledged) <= set(test_env.psql("pg1", emails, "adx_core").split())
    assert len(done.acknowledged) > 0
    after_write = _rows(test_env, "pg1", "adx_core", "public")
    assert int(after_write["users"][0]) >= int(before["users"][0]) + len(done.acknowledged)

    run = converge(moved)
    assert run.changed_ops.get(MOVES_OP) == 1
    # The stale copy of the interrupted run was replaced, not added to.
    assert _rows(test_env, "tenant1", "adx_tenant_wonka", "public") == after_write
    assert _empty_at(test_env, "pg1", "adx_core", "public") == {}
    tenant_host = test_env.env.hosts["tenant1"].address
    assert _registry(test_env) == f"database {tenant_host} adx_tenant_wonka public"
    assert converge(moved).changed_ops == {}

    # After the switch the old location refuses the tenant's writes, whatever the code path
    # (adx_app with the tenant's context set by hand, no helper) ...
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="adx_fence_insert"):
        _write_as(test_env, "adx_app", "pg1", "adx_core", WONKA)
    # ... while another tenant of the shared tables writes there as before (the twin) ...
    _write_as(test_env, "adx_app", "pg1", "adx_core", ACME, rollback=True)
    # ... and the tenant's own role writes at its new location.
    _write_as(test_env, "adx_tenant_wonka", "tenant1", "adx_tenant_wonka", WONKA, rollback=True)

    # A run whose lift of the new location's fence failed after the switch (the mark it left on
    # the primary, the fence at the new location): the next run lifts it, the one after is a
    # no-op.
    test_env.psql(
        "tenant1",
        "INSERT INTO adx_migrations.tenant_fences (target_schema, tenant, reason) "
        f"VALUES ('public', '{WONKA}', 'probe')",
        "adx_tenant_wonka",
    )
    test_env.psql(
        "pg1",
        f"INSERT INTO adx_migrations.pending_unfences (tenant, target) VALUES ('{WONKA}', 'x')",
        "adx_core",
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="adx_fence_insert"):
        _write_as(test_env, "adx_tenant_wonka", "tenant1", "adx_tenant_wonka", WONKA)
    lifted = converge(moved)
    assert lifted.changed_ops.get(MOVES_OP) == 1
    assert "tenant wonka: its move switched; the fence at" in lifted.output
    _write_as(test_env, "adx_tenant_wonka", "tenant1", "adx_tenant_wonka", WONKA, rollback=True)
    assert converge(moved).changed_ops == {}


ACME = uuid.UUID("3f1c9a52-6b0e-4d8a-9f3e-2a7b5c1d0e01")  # an rls tenant of the test inventory


def _write_as(
    test_env: HostsUnderTest,
    role: str,
    host: str,
    database: str,
    tenant: uuid.UUID,
    rollback: bool = False,
) -> None:
    """One user row for `tenant`, written as `role` with the tenant context set by hand."""
    with connect(role, test_env.pg_port(host), dbname=database) as conn:
        conn.autocommit = False
        conn.execute("SELECT set_config('app.current_tenant', %s, true)", (str(tenant),))
        conn.execute(
            "INSERT INTO users (tenant_id, email) VALUES (%s, %s)",
            (tenant, f"fence-probe-{uuid.uuid4().hex[:8]}@example.test"),
        )
        if rollback:
            conn.rollback()
        else:
            conn.commit()


def test_two_deploys_moving_the_same_tenant_both_finish_and_copy_once(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    before = _load_rows(test_env)
    moved = _inventory(test_env, tmp_path, "database")

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: run_deploy(moved), range(2)))

    failed = [run.output[-4000:] for run in runs if run.returncode != 0]
    for i, run in enumerate(runs):
        Path(f"/tmp/concurrent{i}.log").write_text(run.output)
    assert failed == [], failed
    assert _rows(test_env, "tenant1", "adx_tenant_wonka", "public") == before
    assert _empty_at(test_env, "pg1", "adx_core", "public") == {}
    tenant_host = test_env.env.hosts["tenant1"].address
    assert _registry(test_env) == f"database {tenant_host} adx_tenant_wonka public"
    assert converge(moved).changed_ops == {}


def _tenant_connections(test_env: HostsUnderTest) -> TenantConnections:
    with connect("adx_app", test_env.pg_port("pg1")) as probe:
        url = probe.info.dsn + f" password={password('adx_app')}"
    settings = DatabaseSettings(DATABASE_URL=url, DB_MAX_CONNECTIONS=2)
    return TenantConnections(settings)


def test_a_transaction_older_than_the_move_holds_it_off(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    before = _load_rows(test_env)
    moved = _inventory(
        test_env,
        tmp_path,
        "database",
        migrations={"lock_timeout": "2s"},
        moves={"start_wait": "3s"},
    )
    tenant_host = test_env.env.hosts["tenant1"].address

    with _tenant_connections(test_env) as tenants:
        # A tenant transaction that began before the move (it might write without seeing the
        # capture): the move waits moves.start_wait for it, then stops, naming it.
        with tenants.connection("wonka") as conn:
            users = conn.execute("SELECT count(*) FROM users").fetchone()
            assert users == (int(before["users"][0]),)
            failed = run_deploy(moved)
        assert failed.returncode != 0
        assert (
            "tenant wonka: transactions that began before its move still run after 3 s; "
            "nothing was copied: the next deploy tries again ("
        ) in failed.output, failed.output[-3000:]
        assert " adx_app since " in failed.output  # which session, whose, since when
        assert _registry(test_env) == "rls - adx_core public"
        assert _rows(test_env, "pg1", "adx_core", "public") == before

        run = converge(moved)
        assert run.changed_ops.get(MOVES_OP) == 1
        assert _registry(test_env) == f"database {tenant_host} adx_tenant_wonka public"
        # The same helper now routes the tenant to its new database.
        with tenants.connection("wonka") as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("adx_tenant_wonka",)
            users = conn.execute("SELECT count(*) FROM users").fetchone()
            assert users == (int(before["users"][0]),)


def test_a_route_that_changed_before_the_claim_is_looked_up_again(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    with _tenant_connections(test_env) as tenants:
        stale = tenants.route("wonka")  # rls, adx_core.public
        converge(_inventory(test_env, tmp_path, "schema"))
        fresh = tenants.route("wonka")
        assert (stale.db_schema, fresh.db_schema) == ("public", "tenant_wonka")
        looked_up = iter([stale, fresh])
        monkeypatch.setattr(tenants, "route", lambda slug: next(looked_up))
        with tenants.connection("wonka") as conn:  # the stale route's claim fails: again
            assert conn.execute("SELECT current_schema()").fetchone() == ("tenant_wonka",)
        monkeypatch.setattr(tenants, "route", lambda slug: stale)
        with pytest.raises(TenantRouteChanged), tenants.connection("wonka"):
            pass


SERVER_LOG = "/var/log/postgresql/postgresql-15-main.log"
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0"  # tenant_rows.sql's


def _log_since(test_env: HostsUnderTest, host: str, offset: int) -> str:
    """What the host's server log gained after `offset` bytes."""
    return test_env.run_as_root(host, "sh", "-c", f"tail -c +{offset + 1} {SERVER_LOG}")


def _log_size(test_env: HostsUnderTest, host: str) -> int:
    return int(test_env.run_as_root(host, "stat", "-c", "%s", SERVER_LOG))


def test_a_failed_copy_batch_writes_no_tenant_row_into_the_target_log(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None, restore: None
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    before = _load_rows(test_env)
    moved = _inventory(
        test_env,
        tmp_path,
        "database",
        migrations={"lock_timeout": "2s"},
        # A DBA's logging: every statement, every duration.
        postgres={"settings": {"log_min_duration_statement": 0, "log_statement": "all"}},
    )
    # A first run creates and migrates the new location, copies, and stops at the switch (a
    # writer of the tenant holds its transaction open).
    with connect("adx_app", test_env.pg_port("pg1")) as writer:
        writer.autocommit = False
        writer.execute("SELECT set_tenant_context(%s)", (WONKA,))
        writer.execute(
            "UPDATE users SET display_name = display_name WHERE tenant_id = %s", (WONKA,)
        )
        assert run_deploy(moved).returncode != 0
        writer.rollback()
    # The new location now refuses the tenant's users: the next copy's batch fails there.
    test_env.psql(
        "tenant1",
        "ALTER TABLE public.users ADD CONSTRAINT adx_probe CHECK (false) NOT VALID",
        "adx_tenant_wonka",
    )
    offset = _log_size(test_env, "tenant1")
    failed = run_deploy(moved)
    assert failed.returncode != 0
    assert _registry(test_env) == "rls - adx_core public"  # nothing switched
    written = _log_since(test_env, "tenant1", offset)
    assert 'violates check constraint "adx_probe"' in written  # the failure is in this log
    assert PASSWORD_HASH not in written and "example.test" not in written.lower()
    assert "json_populate_recordset" not in written  # no copy statement either

    # Negative twin: the same failure in a session without the copy's settings logs the row.
    offset = _log_size(test_env, "tenant1")
    test_env.run_as_root(
        "tenant1",
        "sh",
        "-c",
        'runuser -u postgres -- psql -X -d adx_tenant_wonka -c "INSERT INTO public.users '
        f"(tenant_id, email) VALUES ('{WONKA}', 'twin@example.test')\" || true",
    )
    assert "twin@example.test" in _log_since(test_env, "tenant1", offset)

    test_env.psql(
        "tenant1", "ALTER TABLE public.users DROP CONSTRAINT adx_probe", "adx_tenant_wonka"
    )
    run = converge(moved)
    assert run.changed_ops.get(MOVES_OP) == 1
    assert _rows(test_env, "tenant1", "adx_tenant_wonka", "public") == before
    assert converge(moved).changed_ops == {}


def _claims_that_keep_coming(test_env: HostsUnderTest, hold: float, stop: threading.Event) -> int:
    """Two sessions on the primary take turns claiming the tenant's route (claim_tenant_route,
    as the application's helper does), each holding it `hold` seconds, half of that apart, so
    that a claim is held at every moment until `stop`; returns how many claims were made."""
    made = 0
    claim = f"SELECT * FROM public.claim_tenant_route('{WONKA}')"

    def claimer(delay: float) -> None:
        nonlocal made
        time.sleep(delay)
        while not stop.is_set():
            test_env.psql("pg1", f"BEGIN; {claim}; SELECT pg_sleep({hold}); COMMIT;", "adx_core")
            made += 1

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(claimer, 0.0), pool.submit(claimer, hold / 2)]:
            future.result()
    return made


def _move_under_claims(test_env: HostsUnderTest, inventory: Path, hold: float) -> tuple[Any, int]:
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        claims = pool.submit(_claims_that_keep_coming, test_env, hold, stop)
        time.sleep(1.0)
        try:
            run = run_deploy(inventory)
        finally:
            stop.set()
        return run, claims.result()


def test_route_claims_that_keep_coming_cannot_starve_the_switch(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    before = _load_rows(test_env)
    # To a database on the tenant host: its migrations do not wait for the claims here.
    moved = _inventory(test_env, tmp_path, "database", migrations={"lock_timeout": "3s"})

    # Negative twin: claims each held 8 s, 4 s apart (so one holds 4 s more, longer than
    # lock_timeout, 3 s, whenever the switch comes): the switch cannot
    # get the route, and the deploy says which tenant and which lock; nothing is switched.
    starved, claims = _move_under_claims(test_env, moved, hold=8.0)
    assert claims >= 2
    assert starved.returncode != 0
    assert (
        "tenant wonka: a transaction of the tenant held its route lock (claim_tenant_route) "
        "longer than lock_timeout"
    ) in starved.output, starved.output[-3000:]
    assert _registry(test_env) == "rls - adx_core public"
    assert _rows(test_env, "pg1", "adx_core", "public") == before

    # Claims of one second each, one always held: each new claim queues behind the waiting
    # switch, which goes through once the claims it found have ended.
    run, claims = _move_under_claims(test_env, moved, hold=1.0)
    assert claims >= 4
    assert run.returncode == 0, run.output[-3000:]
    assert run.changed_ops.get(MOVES_OP) == 1
    tenant_host = test_env.env.hosts["tenant1"].address
    assert _registry(test_env) == f"database {tenant_host} adx_tenant_wonka public"
    assert _rows(test_env, "tenant1", "adx_tenant_wonka", "public") == before
    assert converge(moved).changed_ops == {}


# A tenant-stream migration whose tables a reading of SQL text misses: the deploy moves them
# because the ledger records the stream that created each table.
PROBE_SHAPES = """
CREATE UNLOGGED TABLE probe_unlogged (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                                      tenant_id uuid NOT NULL);
CREATE TABLE "Probe Quoted" (tenant_id uuid NOT NULL, note text);
CREATE TABLE probe_parted (tenant_id uuid NOT NULL, n int) PARTITION BY HASH (tenant_id);
CREATE TABLE probe_parted_0 PARTITION OF probe_parted FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE probe_parted_1 PARTITION OF probe_parted FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE probe_as AS SELECT NULL::uuid AS tenant_id, 0 AS n WITH NO DATA;
"""
PROBE_TABLES = ("probe_unlogged", '"Probe Quoted"', "probe_parted", "probe_as")
OTHER_TENANT = "3f1c9a52-6b0e-4d8a-9f3e-2a7b5c1d0e01"  # acme, rls: its rows stay


def _probe_counts(test_env: HostsUnderTest, schema: str, tenant: str) -> list[str]:
    counts = ", ".join(
        f"(SELECT count(*) FROM {schema}.{t} WHERE tenant_id = '{tenant}')" for t in PROBE_TABLES
    )
    return test_env.psql("pg1", f"SELECT {counts}", "adx_core").split("|")


def _forget_probe_shapes(test_env: HostsUnderTest) -> None:
    targets = {
        "pg1": {"adx_core": ["public", "tenant_globex", "tenant_hooli"]},
        "tenant1": {"adx_tenant_initech": ["public"], "adx_tenant_umbrella": ["public"]},
    }
    for host, databases in targets.items():
        for database, schemas in databases.items():
            for schema in schemas:
                tables = ", ".join(f"{schema}.{t}" for t in PROBE_TABLES)
                test_env.psql(host, f"DROP TABLE IF EXISTS {tables} CASCADE", database)
            test_env.psql(
                host,
                "DELETE FROM adx_migrations.ledger WHERE stream = 'tenant' AND version = 91; "
                "DELETE FROM adx_migrations.stream_tables s "
                "WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.relation)",
                database,
            )


def test_tables_of_any_shape_move_with_the_tenant(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None, restore: None
) -> None:
    # What a reading of the SQL text finds in the probe migration: the partitioned parent only
    # (not the UNLOGGED, quoted, partition or CREATE TABLE AS ones).
    assert _CREATE_TABLE.findall(PROBE_SHAPES) == ["probe_parted"]
    directory = tmp_path / "migrations"
    shutil.copytree(REPO / "sql" / "migrations", directory)
    (directory / "tenant" / "091_probe_shapes.sql").write_text(PROBE_SHAPES, encoding="utf-8")
    extra: dict[str, object] = {"migrations": {"directory": str(directory)}}
    try:
        converge(_inventory(test_env, tmp_path / "a", "rls", **extra))
        before = _load_rows(test_env)
        for tenant, rows in ((str(WONKA), 3), (OTHER_TENANT, 2)):
            test_env.psql(
                "pg1",
                f"INSERT INTO public.probe_unlogged (tenant_id) "
                f"SELECT '{tenant}' FROM generate_series(1, {rows}); "
                f"INSERT INTO public.\"Probe Quoted\" SELECT '{tenant}', 'n' || i "
                f"FROM generate_series(1, {rows}) i; "
                f"INSERT INTO public.probe_parted SELECT '{tenant}', i "
                f"FROM generate_series(1, {rows}) i; "
                f"INSERT INTO public.probe_as SELECT '{tenant}', i "
                f"FROM generate_series(1, {rows}) i",
                "adx_core",
            )
        assert _probe_counts(test_env, "public", str(WONKA)) == ["3"] * 4  # the probe sees rows

        moved = _inventory(test_env, tmp_path / "b", "schema", **extra)
        run = converge(moved)
        assert run.changed_ops.get(MOVES_OP) == 1
        assert _probe_counts(test_env, "tenant_wonka", str(WONKA)) == ["3"] * 4
        assert _probe_counts(test_env, "public", str(WONKA)) == ["0"] * 4
        assert _probe_counts(test_env, "public", OTHER_TENANT) == ["2"] * 4
        assert _rows(test_env, "pg1", "adx_core", "tenant_wonka") == before
        assert converge(moved).changed_ops == {}
    finally:
        _forget_probe_shapes(test_env)  # the tables go, and every row of them


CHAIN = 3000  # folders, each the parent of the one before it
BIG_ROWS = 200  # workflow executions of about 100 kB each


def _deep_tree_and_large_rows(test_env: HostsUnderTest) -> None:
    """WONKA's folders: a chain of CHAIN, stored children first (each row updated after the
    one it now references was written); its workflow executions: BIG_ROWS of ~100 kB."""
    test_env.psql(
        "pg1",
        f"INSERT INTO public.folders (tenant_id, name) "
        f"SELECT '{WONKA}', 'chain-' || i FROM generate_series(1, {CHAIN}) i; "
        f"UPDATE public.folders f SET parent_id = p.id FROM public.folders p "
        f"WHERE f.tenant_id = '{WONKA}' AND p.tenant_id = '{WONKA}' "
        f"AND f.name LIKE 'chain-%' AND p.name = 'chain-' || (substr(f.name, 7)::int + 1); "
        f"INSERT INTO public.workflow_executions (tenant_id, temporal_workflow_id, "
        f"temporal_run_id, workflow_type, task_queue, service_name, input) "
        f"SELECT '{WONKA}', 'big-' || i, 'run', 'probe', 'q', 'test', jsonb_build_object("
        f"'blob', (SELECT string_agg(md5(random()::text || j || i), '') "
        f"FROM generate_series(1, 3200) j)) FROM generate_series(1, {BIG_ROWS}) i",
        "adx_core",
    )


def _export_statements(test_env: HostsUnderTest, tmp_path: Path, table: str) -> list[str]:
    """The copy statements the deploy's export prints for `table` of WONKA's move rls ->
    schema, run here on the primary as the move runner runs it (psql -A -t)."""
    target = RegistryRow(
        id=str(WONKA), slug="wonka", name="Wonka", status="active",
        isolation_level="schema", db_host=None, db_port=5432, db_name="adx_core",
        db_schema="tenant_wonka",
    )  # fmt: skip
    current = {str(WONKA): {**target.as_fact(), "isolation_level": "rls", "db_schema": "public"}}
    [move] = moves_plan.plan_moves([target], current, test_env.env.hosts["pg1"].address)
    fact = tmp_path / "tenant_tables.sql"
    fact.write_text(sqlfiles.load("facts/tenant_tables"), encoding="utf-8")
    found = json.loads(
        test_env.psql_file(
            "pg1", fact, "postgres", "-A", "-t", adx_database="adx_core", adx_schema="public"
        )
    )
    tables = moves_plan.tables_to_move(move, found)
    export = tmp_path / "export.sql"
    export.write_text(
        move_scripts.render_export(
            move, tables.ordered, "10s", tables.self_referencing, tree_keys=tables.tree_keys
        ),
        encoding="utf-8",
    )
    stream = test_env.psql_file("pg1", export, "adx_core", "-A", "-t", adx_check_file="/dev/null")
    head = f"INSERT INTO tenant_wonka.{table} OVERRIDING SYSTEM VALUE"
    return [head + part for part in stream.split(head)[1:]]


def test_a_deep_tree_and_large_rows_move_in_bounded_statements(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    _load_rows(test_env)
    _deep_tree_and_large_rows(test_env)
    # Batches in the table's own order would put a child in a statement before its parent's.
    numbered = (
        "SELECT id, parent_id, (row_number() OVER () - 1) / 500 AS b "
        f"FROM public.folders WHERE tenant_id = '{WONKA}'"
    )
    late = test_env.psql(
        "pg1",
        f"SELECT count(*) FROM ({numbered}) c JOIN ({numbered}) p ON p.id = c.parent_id "
        "WHERE p.b > c.b",
        "adx_core",
    )
    assert int(late) > 0

    folders = _export_statements(test_env, tmp_path, "folders")
    assert len(folders) >= CHAIN // 500  # a tree in bounded statements, not one
    executions = _export_statements(test_env, tmp_path, "workflow_executions")
    assert len(executions) >= 2  # BIG_ROWS < 500 rows, but more than one batch of bytes
    assert max(len(s) for s in executions) < 64 * 1024 * 1024

    before = _rows(test_env, "pg1", "adx_core", "public")
    moved = _inventory(test_env, tmp_path, "schema")
    run = converge(moved)
    assert run.changed_ops.get(MOVES_OP) == 1
    assert _rows(test_env, "pg1", "adx_core", "tenant_wonka") == before
    assert _empty_at(test_env, "pg1", "adx_core", "public") == {}
    assert converge(moved).changed_ops == {}


WRITES_PER_SECOND = 20


def _frozen_ms(test_env: HostsUnderTest) -> int:
    """How long WONKA's last move froze its writes, as the primary recorded it."""
    last = (
        "SELECT frozen_ms FROM adx_migrations.move_history "
        f"WHERE tenant = '{WONKA}' ORDER BY id DESC LIMIT 1"
    )
    return int(test_env.psql("pg1", last, "adx_core"))


@dataclass
class _Writers:
    """What the two writers did while the deploy ran."""

    acknowledged: list[str] = field(default_factory=list)  # WONKA's committed users' emails
    refused: int = 0  # WONKA's writes refused (during the freeze): never acknowledged
    other_latencies: list[float] = field(default_factory=list)  # ACME's write latencies, s
    seconds: float = 0.0


def _write_while(test_env: HostsUnderTest, stop: threading.Event, done: _Writers) -> None:
    """WONKA writes through the tenant helper as fast as it can (at least WRITES_PER_SECOND);
    ACME, another tenant of the shared tables, writes through adx_app and times each write."""

    def wonka() -> None:
        with _tenant_connections(test_env) as tenants:
            while not stop.is_set():
                email = f"busy-{uuid.uuid4().hex[:12]}@wonka.test"
                try:
                    with tenants.connection("wonka") as conn:
                        conn.execute(
                            "INSERT INTO users (tenant_id, email) VALUES (%s, %s)", (WONKA, email)
                        )
                except (psycopg.Error, TenantRouteChanged):
                    done.refused += 1
                    time.sleep(0.05)
                    continue
                done.acknowledged.append(email)

    def acme() -> None:
        with connect("adx_app", test_env.pg_port("pg1")) as conn:
            while not stop.is_set():
                started = time.monotonic()
                with conn.transaction():
                    conn.execute("SELECT set_tenant_context(%s)", (ACME,))
                    conn.execute(
                        "UPDATE users SET updated_at = now() WHERE tenant_id = %s", (ACME,)
                    )
                done.other_latencies.append(time.monotonic() - started)
                time.sleep(0.05)

    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(wonka), pool.submit(acme)]:
            future.result()
    done.seconds = time.monotonic() - started


def test_a_busy_tenant_moves_while_it_writes_and_no_acknowledged_write_is_lost(
    test_env: HostsUnderTest, tmp_path: Path, wonka: None
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    _load_rows(test_env)
    moved = _inventory(test_env, tmp_path, "database")
    stop, done = threading.Event(), _Writers()
    with ThreadPoolExecutor(1) as pool:
        writers = pool.submit(_write_while, test_env, stop, done)
        time.sleep(2.0)
        try:
            runs = [run_deploy(moved)]
            if runs[0].returncode != 0:
                runs.append(run_deploy(moved))
            time.sleep(2.0)  # the writers go on at the new location
        finally:
            stop.set()
        writers.result()
    assert runs[-1].returncode == 0, runs[-1].output[-4000:]
    rate = len(done.acknowledged) / done.seconds
    frozen = _frozen_ms(test_env)
    print(
        f"\nbusy move: {len(runs)} run(s), {len(done.acknowledged)} writes acknowledged "
        f"({rate:.1f}/s), {done.refused} refused during the freeze, frozen {frozen} ms; "
        f"other tenant's max write latency {max(done.other_latencies):.3f} s "
        f"over {len(done.other_latencies)} writes"
    )
    assert rate >= WRITES_PER_SECOND
    emails = "SELECT email FROM users WHERE email LIKE 'busy-%@wonka.test'"
    at_new = set(test_env.psql("tenant1", emails, "adx_tenant_wonka").split())
    at_old = test_env.psql("pg1", emails, "adx_core")
    assert set(done.acknowledged) <= at_new  # every acknowledged write made it
    assert at_old == ""  # none stayed behind
    assert max(done.other_latencies) < 1.0  # no other tenant waited on the move
    tenant_host = test_env.env.hosts["tenant1"].address
    assert _registry(test_env) == f"database {tenant_host} adx_tenant_wonka public"
    assert _empty_at(test_env, "pg1", "adx_core", "public") == {}
    assert converge(moved).changed_ops == {}
