"""Facts read once per run until something changes: the no-op deploy's round trips.

pyinfra 3 runs a fact's command on every `host.get_fact` call. Several operations read the
same state (the tenants registry is read by roles, databases, moves and the registry itself;
the server's state by `server` and `pending_restart`), so a deploy that changes nothing would
ask each host the same question several times. `read` answers from the first reading as long
as no operation of the run has executed a command on any host since (so state that one host's
change alters on another, a switchover, a replica's copy, is read again), and never when it
was None (a server that is down: it may be starting while an operation waits for it); the
memo lives on pyinfra's state object, so it ends with the run.

Only for facts an operation reads before it yields: an operation that polls (waits for a
member, a leader) reads with `host.get_fact` itself.

The server's catalog facts (roles, databases, registry, recovery, `postgresql.auto.conf`, and
each database's schemas and ledger) come from one `PgCatalog` command when the deploy has said
which databases to read (`catalog_scope`): the first of them read in a run reads all, and the
others are served from it until an operation executes something; after that each is read on
its own again, as fresh as the change needs.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pyinfra import host
from pyinfra.api import FactBase, HiddenValue
from pyinfra.context import state

from operations.facts import MISSING_COMMAND, FactBatch, PgCatalog, fact_class

T = TypeVar("T")

_ATTRIBUTE = "_adx_fact_memo"
_SCOPES = "_adx_catalog_scopes"
_PREFETCH = "_adx_prefetch"
_MISSING = object()

# The facts `PgCatalog` answers: the part of its value, and the argument naming a database.
CATALOG_PARTS: dict[str, tuple[str, str | None]] = {
    "PgRoles": ("roles", None),
    "PgDatabases": ("databases", None),
    "PgTenantRegistry": ("registry", None),
    "PgInRecovery": ("in_recovery", None),
    "PgAutoConfSettings": ("auto_conf", None),
    "PgSchemas": ("schemas", "database"),
    "PgMigrationLedger": ("ledgers", "database"),
}


@dataclass(frozen=True)
class CatalogScope:
    """What one `PgCatalog` read covers on a host: its server's port, the databases whose
    schemas and ledger it reads, and the run's key for the roles' password digests."""

    port: int
    databases: tuple[str, ...]
    digest_key: str = field(repr=False)


def _state_dict(name: str) -> dict[Any, Any]:
    found: dict[Any, Any] | None = getattr(state, name, None)
    if found is None:
        found = {}
        setattr(state, name, found)
    return found


def catalog_scope(port: int, databases: list[str]) -> None:
    """Serve this host's catalog facts from one read (called by the deploy, per host)."""
    _state_dict(_SCOPES)[host.name] = CatalogScope(
        int(port), tuple(sorted(set(databases))), secrets.token_hex(16)
    )


def digest_key() -> str:
    """The key the roles' password digests are made with: the run's, when the catalog is
    read in one command (its roles part then serves `PgRoles`), else a fresh one."""
    scope: CatalogScope | None = _state_dict(_SCOPES).get(host.name)
    return scope.digest_key if scope is not None else secrets.token_hex(16)


def _catalog_reads() -> list[tuple[type[FactBase[Any]], dict[str, Any]]]:
    scope: CatalogScope | None = _state_dict(_SCOPES).get(host.name)
    if scope is None:
        return []
    arguments = {
        "port": scope.port,
        "databases": ",".join(scope.databases),
        "digest_key": HiddenValue(scope.digest_key),  # type: ignore[no-untyped-call]
    }
    return [(PgCatalog, arguments)]


def prefetch(reads: Sequence[tuple[type[FactBase[Any]], dict[str, Any]]]) -> None:
    """Read these facts of this host, and its catalog (`catalog_scope`), in one command at
    the first read of any fact (called by the deploy, per host, with the arguments its
    operations will ask with: an argument that differs only costs that fact a read of its
    own). Once per run: later reads are the memo's, or their own command."""
    _state_dict(_PREFETCH)[host.name] = list(reads)


def _run_prefetch(executed: int) -> None:
    reads = _state_dict(_PREFETCH).pop(host.name, None)
    if reads is None:
        return
    reads = [*reads, *_catalog_reads()]
    paths = [(f"{cls.__module__}.{cls.__name__}", kwargs) for cls, kwargs in reads]
    results = host.get_fact(FactBatch, reads=paths)
    memo = _state_dict(_ATTRIBUTE)
    for (path, kwargs), result in zip(paths, results, strict=False):
        if result["status"] != 0 or result["lines"] == [MISSING_COMMAND]:
            continue  # read on its own when asked: its error or default as pyinfra gives it
        cls = fact_class(path)
        fact = cls()
        value = fact.process(result["lines"]) if result["lines"] else fact.default()
        if value is None:
            continue
        if cls is PgCatalog:
            memo[("catalog", host.name)] = (executed, value)
        else:
            memo[(host.name, cls.__module__, cls.__name__, _key_part(kwargs))] = (
                executed,
                _copy(value),
            )


def _from_catalog(cls: type[FactBase[Any]], kwargs: dict[str, Any], executed: int) -> Any:
    part = CATALOG_PARTS.get(cls.__name__)
    scope: CatalogScope | None = _state_dict(_SCOPES).get(host.name)
    if part is None or scope is None or kwargs.get("port") != scope.port:
        return _MISSING
    key, database_argument = part
    database = kwargs.get(database_argument) if database_argument else None
    if database_argument and database not in scope.databases:
        return _MISSING
    if cls.__name__ == "PgRoles":
        given = kwargs.get("digest_key")
        if not isinstance(given, HiddenValue) or given.unmask() != scope.digest_key:
            return _MISSING
    memo = _state_dict(_ATTRIBUTE)
    _run_prefetch(executed)
    found = memo.get(("catalog", host.name))
    if found is None:
        value = host.get_fact(
            PgCatalog,
            port=scope.port,
            databases=",".join(scope.databases),
            digest_key=HiddenValue(scope.digest_key),  # type: ignore[no-untyped-call]
        )
        if value is None:
            return None  # the server is down: asked again next time (it may be starting)
        found = memo[("catalog", host.name)] = (executed, value)
    if found[0] != executed:
        return _MISSING  # something changed since: this fact is read on its own
    catalog = found[1]
    return catalog[key][database] if database_argument else catalog[key]


def _executed_operations() -> int:
    """How many operations have executed commands so far, on every host."""
    operations: dict[Any, dict[str, Any]] = getattr(state, "ops", None) or {}
    return sum(
        1
        for per_host in operations.values()
        for data in per_host.values()
        if getattr(data.operation_meta, "executed", False)
    )


def _key_part(value: Any) -> Any:
    if isinstance(value, HiddenValue):
        return ("hidden", value.unmask())
    if isinstance(value, list | tuple):
        return tuple(_key_part(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _key_part(v)) for k, v in value.items()))
    return value


def _copy(value: Any) -> Any:
    """A copy of a fact's JSON-native value (dicts and lists copied, the rest shared)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def read(cls: type[FactBase[T]], **kwargs: Any) -> T:
    """`host.get_fact(cls, **kwargs)`, from this run's memo when nothing was executed since."""
    memo = _state_dict(_ATTRIBUTE)
    key = (host.name, cls.__module__, cls.__name__, _key_part(kwargs))
    executed = _executed_operations()
    _run_prefetch(executed)
    served = _from_catalog(cls, kwargs, executed)
    if served is not _MISSING:
        catalog_value: T = _copy(served)
        return catalog_value
    found = memo.get(key)
    if found is not None and found[0] == executed:
        value: T = _copy(found[1])  # an operation may change what it was given
        return value
    value = host.get_fact(cls, **kwargs)
    if value is not None:  # None: a server that is down, asked again next time
        memo[key] = (executed, _copy(value))
    return value
