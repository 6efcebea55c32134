"""Moves out of a dedicated database (to rls, to a database on another host, and back), and
re-addressed hosts: every row kept, every acknowledged write of a busy tenant at its new
location, the old location fenced, the second run changing nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import connect, converge, password, run_deploy, variant_inventory
from tests.integration.test_tenant_moves import (  # noqa: F401 (wonka: the fixture)
    MOVES_OP,
    WONKA,
    WRITES_PER_SECOND,
    Rows,
    _empty_at,
    _load_rows,
    _registry,
    _rows,
    _write_while,
    _Writers,
    wonka,
)

BUSY = "SELECT email FROM users WHERE email LIKE 'busy-%@wonka.test'"


def _wonka_at(
    test_env: HostsUnderTest, directory: Path, isolation: str, host: str | None = None, **extra: Any
) -> Path:
    """The test inventory with the tenant wonka at `isolation` (on `host`), and `extra`."""
    tenants = [t.model_dump(mode="json", exclude_defaults=True) for t in test_env.env.tenants]
    tenant: dict[str, object] = {"slug": "wonka", "id": str(WONKA), "name": "Wonka"}
    tenant["isolation"] = isolation
    if host is not None:
        tenant["host"] = host
    name = f"{isolation}-{host or 'primary'}"
    return variant_inventory(directory / name, {"tenants": [*tenants, tenant], **extra})


def _without_busy(rows: Rows) -> Rows:
    return {table: value for table, value in rows.items() if table != "users"}


def _write_refused(role: str, port: int, database: str, context: bool) -> str:
    """The error a write of WONKA's as `role` at `database`, the tenant context set by hand
    (`context`), meets ('' when it commits; the row is then deleted)."""
    with connect(role, port, dbname=database) as conn:
        try:
            with conn.transaction():
                if context:
                    conn.execute("SELECT set_config('app.current_tenant', %s, true)", (str(WONKA),))
                conn.execute(
                    "INSERT INTO users (tenant_id, email) VALUES (%s, 'fence@wonka.test')",
                    (WONKA,),
                )
        except psycopg.Error as error:
            return str(error)
    with connect(role, port, dbname=database) as conn, conn.transaction():
        if context:
            conn.execute("SELECT set_config('app.current_tenant', %s, true)", (str(WONKA),))
        conn.execute("DELETE FROM users WHERE email = 'fence@wonka.test'")
    return ""


def test_a_busy_tenant_moves_out_of_its_dedicated_database_and_between_hosts(
    test_env: HostsUnderTest, tmp_path: Path, wonka_anywhere: None
) -> None:
    primary = test_env.env.hosts["pg1"].address
    tenant_host = test_env.env.hosts["tenant1"].address
    converge(_wonka_at(test_env, tmp_path, "rls"))
    before = _load_rows(test_env)
    at_tenant_host = _wonka_at(test_env, tmp_path, "database", "tenant1")
    converge(at_tenant_host)
    assert _rows(test_env, "tenant1", "adx_tenant_wonka", "public") == before

    # database (tenant1) -> rls, while the tenant writes through the tenant helper: the old
    # location is another host's database, reached over TLS as adx_migrator.
    to_rls = _wonka_at(test_env, tmp_path, "rls")
    stop, done = threading.Event(), _Writers()
    with ThreadPoolExecutor(1) as pool:
        writers = pool.submit(_write_while, test_env, stop, done)
        time.sleep(2.0)
        try:
            runs = [run_deploy(to_rls, "-vvv")]  # every command printed: the password in none
            if runs[0].returncode != 0:
                runs.append(run_deploy(to_rls))
            time.sleep(2.0)  # the writers go on at the new location
        finally:
            stop.set()
        writers.result()
    assert runs[-1].returncode == 0, runs[-1].output[-4000:]
    assert password("adx_migrator") not in runs[0].output
    assert (
        f"move tenant wonka: database ({tenant_host}:adx_tenant_wonka.public) -> rls "
        "(adx_core.public)"
    ) in runs[0].output
    rate = len(done.acknowledged) / done.seconds
    print(
        f"\ndatabase -> rls, busy: {len(runs)} run(s), {len(done.acknowledged)} writes "
        f"acknowledged ({rate:.1f}/s), {done.refused} refused during the freeze; other tenant's "
        f"max write latency {max(done.other_latencies):.3f} s"
    )
    assert rate >= WRITES_PER_SECOND
    at_new = set(test_env.psql("pg1", BUSY, "adx_core").split())
    assert set(done.acknowledged) <= at_new  # every acknowledged write made it
    assert test_env.psql("tenant1", BUSY, "adx_tenant_wonka") == ""  # none stayed behind
    assert max(done.other_latencies) < 1.0
    after = _rows(test_env, "pg1", "adx_core", "public")
    assert _without_busy(after) == _without_busy(before)
    assert int(after["users"][0]) == int(before["users"][0]) + len(at_new)
    assert _empty_at(test_env, "tenant1", "adx_tenant_wonka", "public") == {}
    assert _registry(test_env) == "rls - adx_core public"
    assert converge(to_rls).changed_ops == {}
    # The old database refuses the tenant's writes, by its own role and by adx_app with the
    # tenant's context; the new location takes them (the twin: the probe can succeed).
    tenant_port = test_env.pg_port("tenant1")
    refused = _write_refused("adx_tenant_wonka", tenant_port, "adx_tenant_wonka", context=True)
    assert "row-level security" in refused
    refused = _write_refused("adx_app", tenant_port, "adx_tenant_wonka", context=True)
    assert "row-level security" in refused
    assert _write_refused("adx_app", test_env.pg_port("pg1"), "adx_core", context=True) == ""

    # rls -> a database on the primary: the new location's fence is in that database, lifted
    # after the switch.
    on_primary = _wonka_at(test_env, tmp_path, "database", "pg1")
    run = converge(on_primary)
    assert "move tenant wonka: rls (adx_core.public) -> database (adx_tenant_wonka.public)" in (
        run.output
    )
    assert _rows(test_env, "pg1", "adx_tenant_wonka", "public") == after
    assert _empty_at(test_env, "pg1", "adx_core", "public") == {}
    assert _registry(test_env) == f"database {primary} adx_tenant_wonka public"
    assert converge(on_primary).changed_ops == {}
    pg1 = test_env.pg_port("pg1")
    assert _write_refused("adx_app", pg1, "adx_tenant_wonka", context=True) == ""
    assert _write_refused("adx_app", pg1, "adx_core", context=True) != ""  # fenced there now

    # database (the primary) -> database (tenant1): out of a database on the primary, into
    # another host's.
    run = converge(at_tenant_host)
    assert (
        "move tenant wonka: database (adx_tenant_wonka.public) -> database "
        f"({tenant_host}:adx_tenant_wonka.public)"
    ) in run.output
    assert run.changed_ops.get(MOVES_OP) == 1
    assert _rows(test_env, "tenant1", "adx_tenant_wonka", "public") == after
    assert _empty_at(test_env, "pg1", "adx_tenant_wonka", "public") == {}
    assert _registry(test_env) == f"database {tenant_host} adx_tenant_wonka public"
    assert converge(at_tenant_host).changed_ops == {}
    assert _write_refused("adx_app", tenant_port, "adx_tenant_wonka", context=True) == ""
    assert _write_refused("adx_app", pg1, "adx_tenant_wonka", context=True) != ""
    history = test_env.psql(
        "pg1",
        "SELECT count(*), min(frozen_ms) >= 0 FROM adx_migrations.move_history "
        f"WHERE tenant = '{WONKA}'",
        "adx_core",
    )
    assert history == "4|t"  # rls -> database -> rls -> database -> database


def _unused_address(test_env: HostsUnderTest) -> str:
    """An address of the test network that no container has (nothing answers there)."""
    network = test_env.env.container_network
    assert network is not None
    return str(network.subnet.network_address + 99)


def _registered_hosts(test_env: HostsUnderTest) -> dict[str, str]:
    rows = test_env.psql(
        "pg1",
        "SELECT slug || ' ' || db_host FROM tenants WHERE isolation_level = 'database' "
        "ORDER BY slug",
        "adx_core",
    )
    return dict(line.split() for line in rows.splitlines())


def test_a_re_addressed_host_keeps_its_databases_and_the_registry_follows(
    test_env: HostsUnderTest, tmp_path: Path, wonka_anywhere: None
) -> None:
    """The registry still places tenants at the addresses their host had before it was
    re-addressed (a test host keeps its container's address, so the registry is set back to
    the old ones): wonka at an address nothing answers any more (its database holds its rows),
    initech at the host's DNS name (its database is empty, and the name still reaches the same
    database). One deploy points both rows at the inventory's address, copying nothing."""
    tenant_host = test_env.env.hosts["tenant1"].address
    converge(_wonka_at(test_env, tmp_path, "rls"))
    before = _load_rows(test_env)
    inventory = _wonka_at(test_env, tmp_path, "database", "tenant1")
    converge(inventory)
    registered = _registered_hosts(test_env)
    assert set(registered.values()) == {tenant_host}
    old = {"wonka": _unused_address(test_env), "initech": "tenant1"}
    for slug, address in old.items():
        test_env.psql(
            "pg1", f"UPDATE tenants SET db_host = '{address}' WHERE slug = '{slug}'", "adx_core"
        )
    run = converge(inventory)
    for slug, address in old.items():
        assert (
            f"re-address tenant {slug}: its database adx_tenant_{slug} is now reached at "
            f"{tenant_host} (was {address})"
        ) in run.output
    assert _registered_hosts(test_env) == registered
    assert _rows(test_env, "tenant1", "adx_tenant_wonka", "public") == before  # untouched
    assert converge(inventory).changed_ops == {}
    history = (
        "SELECT string_agg(frozen_ms::text, ',' ORDER BY id) FROM adx_migrations.move_history "
        f"WHERE tenant = '{WONKA}'"
    )
    assert test_env.psql("pg1", history, "adx_core").split(",")[-1] == "0"  # nothing frozen


def test_a_database_at_an_address_no_host_has_is_not_re_addressed_to_an_empty_one(
    test_env: HostsUnderTest, tmp_path: Path, wonka_anywhere: None
) -> None:
    """The registry places the tenant at an address that no host has and none answers; the
    inventory declares its database on the primary, where the deploy makes a new, empty one:
    the deploy refuses to point the registry there, and changes nothing."""
    converge(_wonka_at(test_env, tmp_path, "rls"))
    _load_rows(test_env)
    converge(_wonka_at(test_env, tmp_path, "database", "tenant1"))
    gone = _unused_address(test_env)
    test_env.psql("pg1", f"UPDATE tenants SET db_host = '{gone}' WHERE id = '{WONKA}'", "adx_core")
    run = run_deploy(_wonka_at(test_env, tmp_path, "database", "pg1"))
    assert run.returncode != 0
    assert (
        "tenant wonka: the database adx_tenant_wonka at the primary is not the one "
        f"registered at {gone} (empty:"
    ) in run.output
    assert _registry(test_env) == f"database {gone} adx_tenant_wonka public"
    # the twin: the tenant's rows, where they are, make the same check pass
    back = converge(_wonka_at(test_env, tmp_path / "back", "database", "tenant1"))
    assert "re-address tenant wonka" in back.output
    assert _registry(test_env).startswith(f"database {test_env.env.hosts['tenant1'].address} ")


@pytest.fixture
def wonka_anywhere(test_env: HostsUnderTest, wonka: None) -> Iterator[None]:  # noqa: F811
    """`wonka`, and a database of the tenant on the primary too (dropped before the role)."""
    yield
    test_env.psql("pg1", "DROP DATABASE IF EXISTS adx_tenant_wonka WITH (FORCE)")
