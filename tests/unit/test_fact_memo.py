"""A fact is read once per run until an operation executes a command (`operations.fact_memo`):
the no-op deploy asks each host each question once; after a change, it asks again."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest import mock

from pyinfra.context import ctx_state

from operations import fact_memo
from operations.facts import (
    PathStates,
    PgClusters,
    PgDatabases,
    PgInRecovery,
    PgMigrationLedger,
    PgRoles,
    PgSchemas,
    PgTenantRegistry,
)
from operations.psql import hidden
from tests.unit.conftest import FIXED_TOKEN, fake_host

REGISTRY = {"acme": {"isolation_level": "rls"}}
FACTS = {"facts.PgTenantRegistry": {"port=5432": REGISTRY}}


def _counting(host: Any) -> list[Any]:
    calls: list[Any] = []
    real = host.get_fact

    def get_fact(cls: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((cls, kwargs))
        return real(cls, *args, **kwargs)

    host.get_fact = get_fact
    return calls


def test_the_same_fact_is_read_once_while_nothing_executes() -> None:
    with fake_host(FACTS) as host:
        calls = _counting(host)
        first = fact_memo.read(PgTenantRegistry, port=5432)
        assert first is not None
        first["acme"]["isolation_level"] = "changed by the caller"
        second = fact_memo.read(PgTenantRegistry, port=5432)
    assert len(calls) == 1
    assert second == REGISTRY  # each caller gets its own copy


def test_an_operation_that_executed_a_command_makes_the_next_read_ask_again() -> None:
    with fake_host(FACTS) as host:
        calls = _counting(host)
        fact_memo.read(PgTenantRegistry, port=5432)
        executed = SimpleNamespace(operation_meta=SimpleNamespace(executed=True))
        real_state = ctx_state.get()  # type: ignore[no-untyped-call]
        with mock.patch.object(real_state, "ops", {host: {"op": executed}}, create=True):
            fact_memo.read(PgTenantRegistry, port=5432)
            fact_memo.read(PgTenantRegistry, port=5432)
    assert len(calls) == 2


def test_other_arguments_are_another_question() -> None:
    facts = {"facts.PgTenantRegistry": {"port=5432": REGISTRY, "port=5433": {}}}
    with fake_host(facts) as host:
        calls = _counting(host)
        assert fact_memo.read(PgTenantRegistry, port=5432) == REGISTRY
        assert fact_memo.read(PgTenantRegistry, port=5433) == {}
    assert len(calls) == 2


CATALOG = {
    "roles": {"adx_app": {"login": True}},
    "databases": {"adx_core": {"owner": "adx_owner"}},
    "registry": REGISTRY,
    "in_recovery": False,
    "auto_conf": [],
    "schemas": {"adx_core": {"public": {"owner": "pg_database_owner"}}},
    "ledgers": {"adx_core": {"database": True, "ledger": []}},
}
SINGLE = {"single fact": True}


def _answering(host: Any) -> list[str]:
    """The host answers PgCatalog with CATALOG and any other fact with SINGLE."""
    calls: list[str] = []

    def get_fact(cls: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(cls.__name__)
        return CATALOG if cls.__name__ == "PgCatalog" else SINGLE

    host.get_fact = get_fact
    return calls


def test_the_catalog_facts_of_a_run_come_from_one_command() -> None:
    with fake_host() as host:
        calls = _answering(host)
        fact_memo.catalog_scope(5432, ["adx_core"])
        key = hidden(fact_memo.digest_key())
        assert fact_memo.read(PgRoles, port=5432, digest_key=key) == CATALOG["roles"]
        assert fact_memo.read(PgDatabases, port=5432) == CATALOG["databases"]
        assert fact_memo.read(PgTenantRegistry, port=5432) == REGISTRY
        assert fact_memo.read(PgInRecovery, port=5432) is False
        assert fact_memo.read(PgSchemas, port=5432, database="adx_core") == {
            "public": {"owner": "pg_database_owner"}
        }
        ledger = fact_memo.read(PgMigrationLedger, port=5432, database="adx_core")
        assert ledger == CATALOG["ledgers"]["adx_core"]  # type: ignore[index]
    assert calls == ["PgCatalog"]


def test_what_the_catalog_does_not_cover_is_read_on_its_own() -> None:
    with fake_host() as host:
        calls = _answering(host)
        fact_memo.catalog_scope(5432, ["adx_core"])
        assert fact_memo.read(PgSchemas, port=5432, database="adx_other") == SINGLE
        assert fact_memo.read(PgRoles, port=5432, digest_key=hidden("another")) == SINGLE
        assert fact_memo.read(PgDatabases, port=5433) == SINGLE
    assert calls == ["PgSchemas", "PgRoles", "PgDatabases"]


def test_after_a_change_each_catalog_fact_is_read_on_its_own() -> None:
    with fake_host() as host:
        calls = _answering(host)
        fact_memo.catalog_scope(5432, ["adx_core"])
        assert fact_memo.read(PgDatabases, port=5432) == CATALOG["databases"]
        executed = SimpleNamespace(operation_meta=SimpleNamespace(executed=True))
        real_state = ctx_state.get()  # type: ignore[no-untyped-call]
        with mock.patch.object(real_state, "ops", {host: {"op": executed}}, create=True):
            assert fact_memo.read(PgTenantRegistry, port=5432) == SINGLE
    assert calls == ["PgCatalog", "PgTenantRegistry"]


def test_without_a_scope_every_fact_is_its_own_command() -> None:
    with fake_host() as host:
        calls = _answering(host)
        assert fact_memo.read(PgDatabases, port=5432) == SINGLE
        assert len(fact_memo.digest_key()) == len(FIXED_TOKEN)  # fresh, as before
    assert calls == ["PgDatabases"]


def test_a_server_that_was_down_is_asked_again() -> None:
    with fake_host() as host:
        calls: list[str] = []
        answers = iter([None, CATALOG])

        def get_fact(cls: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(cls.__name__)
            return next(answers)

        host.get_fact = get_fact
        fact_memo.catalog_scope(5432, ["adx_core"])
        assert fact_memo.read(PgInRecovery, port=5432) is None  # down: on a standby's side
        assert fact_memo.read(PgInRecovery, port=5432) is False  # up now, nothing executed
    assert calls == ["PgCatalog", "PgCatalog"]


def test_the_first_reads_and_the_catalog_come_in_one_command() -> None:
    with fake_host() as host:
        calls: list[str] = []

        def get_fact(cls: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(cls.__name__)
            if cls.__name__ == "FactBatch":
                assert [path for path, _ in kwargs["reads"]] == [
                    "operations.facts.PgClusters",
                    "operations.facts.PathStates",
                    "operations.facts.PgCatalog",
                ]
                return [
                    {"status": 0, "lines": ["15 main 5432 online postgres /var/lib/pg"]},
                    {"status": 1, "lines": []},  # failed: read on its own when asked
                    {"status": 0, "lines": ["--adx-catalog-- databases", '{"adx_core": {}}']},
                ]
            return SINGLE

        host.get_fact = get_fact
        fact_memo.catalog_scope(5432, [])
        fact_memo.prefetch([(PgClusters, {}), (PathStates, {"paths": ["/etc/adx"]})])
        assert fact_memo.read(PgClusters)["15/main"]["port"] == 5432
        assert fact_memo.read(PgDatabases, port=5432) == {"adx_core": {}}
        assert fact_memo.read(PathStates, paths=["/etc/adx"]) == SINGLE  # type: ignore[comparison-overlap]
        assert fact_memo.read(PgClusters)["15/main"]["running"] is True
    assert calls == ["FactBatch", "PathStates"]
