"""Moving a tenant between isolation levels and hosts (DESIGN.md decisions 5 and 10), planned
from the model and the registry: which tenants move, from where to where, and which tables go
with them.

The registry in adx_core says where a tenant's data lives now; the inventory says where it
should live. When they differ, the tenant moves, while it keeps writing:

1. its writes at the old location are captured; one REPEATABLE READ snapshot of its rows there
   is streamed, as SQL, into the new location, in one transaction that first clears any copy
   an interrupted run left and verifies row count and checksum per table before it commits;
   the new location stays fenced against the tenant's writes;
2. catch-up passes copy the captured rows again; then the tenant's writes at the old location
   (its own, no other tenant's) are frozen, a last pass copies the rest and checks the counts,
   and one transaction on the primary switches the registry; the old location stays fenced,
   the new one is unfenced, the old rows are deleted in batches;
3. a second run finds registry and inventory agreeing and does nothing.

An interruption before the switch leaves the registry and the data at the old location (the
application keeps using it); the next run copies again. Nothing is ever split.

The old location may be anywhere: a schema of the primary's main database (rls, schema), a
dedicated database on the primary, or one on another host (reached from the primary over TLS
as adx_migrator). A host that only changed its address is re-addressed: the registry follows,
nothing is copied.

The psql scripts are rendered by `adxdb.plan.move_scripts` and `adxdb.plan.move_catch_up`; the
runner that runs them on the primary is `operations/files/tenant_move.sh`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adxdb.contract import MAIN_DATABASE as _MAIN
from adxdb.errors import MoveRefused
from adxdb.plan.tenants import LOCATION_COLUMNS, RegistryRow


@dataclass(frozen=True)
class Location:
    database: str
    schema: str
    address: str | None  # None: on the primary itself

    @property
    def in_registry_database(self) -> bool:
        """Whether the location is a schema of the primary's main database, where the registry
        lives: one transaction there can switch the registry and fence or unfence it."""
        return self.address is None and self.database == _MAIN


def _where(location: Location) -> str:
    place = f"{location.database}.{location.schema}"
    return place if location.address is None else f"{location.address}:{place}"


@dataclass(frozen=True)
class Move:
    slug: str
    tenant_id: str
    from_level: str
    to_level: str
    source: Location
    target: Location
    registry_row: RegistryRow
    # The registry's location columns as they are now: the scripts re-check them in their
    # own snapshot, so a move another deploy finished meanwhile is never copied again.
    registry_before: tuple[tuple[str, Any], ...] = ()
    # The host of the inventory at the source's address (None: the primary).
    source_host: str | None = None
    # A re-addressed host: the database stays where it is and only the registry's address of
    # it changes (the inventory lists no host at the old address any more).
    readdress: bool = False

    @property
    def target_streams(self) -> tuple[str, ...]:
        """The migration streams the new location holds (DESIGN.md decision 4)."""
        return ("tenant",) if self.target.schema != "public" else ("shared", "tenant")

    def describe_target(self) -> str:
        return _where(self.target)

    def describe_source(self) -> str:
        return _where(self.source)

    def describe(self) -> str:
        if self.readdress:
            return (
                f"re-address tenant {self.slug}: its database {self.target.database} is now "
                f"reached at {self.target.address or 'the primary'} (was {self.source.address})"
            )
        return (
            f"move tenant {self.slug}: {self.from_level} ({_where(self.source)}) -> "
            f"{self.to_level} ({_where(self.target)})"
        )


def _location(row: Mapping[str, Any], primary_address: str) -> Location:
    address = row.get("db_host")
    return Location(
        database=str(row["db_name"]),
        schema=str(row["db_schema"]),
        address=None if address in (None, primary_address) else str(address),
    )


@dataclass(frozen=True)
class Tidy:
    """What moves left for a tenant that is where the inventory declares it (no move to run):
    its writes still captured, a freeze at its registered location (`fenced_here`, a schema
    of the primary), rows left at old locations (`old_rows`: schemas of the primary)."""

    slug: str
    tenant_id: str
    capturing: bool
    fenced_here: str | None
    old_rows: tuple[str, ...]


def plan_tidies(
    wanted: Sequence[RegistryRow],
    current: Mapping[str, Mapping[str, Any]],
    primary_address: str,
) -> list[Tidy]:
    """The tenants in place that a killed or abandoned move left something for (the registry
    fact's `capturing` and `fences`: schema -> whether the rows left there are deleted)."""
    found: list[Tidy] = []
    for row in wanted:
        now = current.get(row.id)
        if now is None:
            continue
        declared = row.as_fact()
        if any(now.get(key) != declared[key] for key in LOCATION_COLUMNS):
            continue  # still to move: the move sees to it
        here = _location(now, primary_address)
        registered = here.schema if here.address is None and here.database == _MAIN else None
        fences: Mapping[str, bool] = now.get("fences") or {}
        fenced_here = registered if registered in fences else None
        old_rows = tuple(
            sorted(s for s, cleared in fences.items() if not cleared and s != registered)
        )
        if now.get("capturing") or fenced_here or old_rows:
            found.append(Tidy(row.slug, row.id, bool(now.get("capturing")), fenced_here, old_rows))
    return found


def plan_unfences(
    wanted: Sequence[RegistryRow],
    current: Mapping[str, Mapping[str, Any]],
    primary_address: str,
) -> list[Move]:
    """Tenants at their declared remote location whose move switched but whose fence there is
    not lifted yet (the registry fact's `unfence_pending`): each, as a move that only lifts it."""
    found: list[Move] = []
    for row in wanted:
        now = current.get(row.id)
        if now is None or not now.get("unfence_pending"):
            continue
        declared = row.as_fact()
        if any(now.get(key) != declared[key] for key in LOCATION_COLUMNS):
            continue  # still to move: the move lifts it
        location = _location(now, primary_address)
        if location.in_registry_database:
            continue  # lifted by the switch itself
        found.append(
            Move(
                slug=row.slug,
                tenant_id=row.id,
                from_level=row.isolation_level,
                to_level=row.isolation_level,
                source=location,
                target=location,
                registry_row=row,
            )
        )
    return found


def addresses(location: Location) -> list[str]:
    """The addresses of a location: one host's, or every member's of a dedicated cluster
    (the registry keeps them as libpq does, comma-separated)."""
    return [] if location.address is None else location.address.split(",")


def _known(address: str, hosts: Mapping[str, str]) -> bool:
    return all(part in hosts for part in address.split(","))


def _first_host(address: str, hosts: Mapping[str, str]) -> str | None:
    return hosts.get(address.split(",")[0])


def _same_cluster(source: Location, target: Location) -> bool:
    """Two registry locations of one database: the same database name, and a host in both
    (a host runs one PostgreSQL cluster)."""
    return (
        source.database == target.database
        and source.schema == target.schema
        and bool(set(addresses(source)) & set(addresses(target)))
        and source.address != target.address
    )


def plan_moves(
    wanted: Sequence[RegistryRow],
    current: Mapping[str, Mapping[str, Any]],
    primary_address: str,
    hosts: Mapping[str, str] | None = None,
) -> list[Move]:
    """The tenants whose declared level or location differs from the registry's.

    `hosts`: address -> name of every host of the inventory. A tenant registered at an address
    no host has any more, declared in a database of the same name elsewhere, is re-addressed
    (`Move.readdress`: its host's address changed, the data stays); any other move out of such
    an address is refused, as is a move of an offboarded tenant (`MoveRefused`).
    """
    hosts = {primary_address: "", **(hosts or {})}
    moves: list[Move] = []
    refused: list[str] = []
    for row in wanted:
        now = current.get(row.id)
        if now is None:
            continue  # a new tenant: nothing to move
        declared = row.as_fact()
        if all(now.get(key) == declared[key] for key in LOCATION_COLUMNS):
            continue
        if row.status != "active" or now.get("status") != "active":
            refused.append(
                f"tenant {row.slug}: an offboarded tenant does not change isolation level "
                f"({now.get('isolation_level')} -> {row.isolation_level}); declare it as it was"
            )
            continue
        source = _location(now, primary_address)
        target = _location(declared, primary_address)
        readdress = False
        if source.address is not None and not _known(source.address, hosts):
            readdress = (
                now.get("isolation_level") == "database"
                and row.isolation_level == "database"
                and now.get("db_name") == declared["db_name"]
            )
            if not readdress:
                refused.append(
                    f"tenant {row.slug}: registered at {source.address} "
                    f"({now.get('isolation_level')}, {source.database}), an address no host of "
                    "the inventory has: list that host again to move the tenant from it, or "
                    "declare the tenant's database on the host now at that address"
                )
                continue
        elif _same_cluster(source, target):
            # A dedicated host became a cluster's member, or a cluster gained or lost members:
            # the database stays where it is, the registry lists its members anew.
            readdress = True
        moves.append(
            Move(
                slug=row.slug,
                tenant_id=row.id,
                from_level=str(now["isolation_level"]),
                to_level=row.isolation_level,
                source=source,
                target=target,
                registry_row=row,
                registry_before=tuple((key, now.get(key)) for key in LOCATION_COLUMNS),
                source_host=None if source.address is None else _first_host(source.address, hosts),
                readdress=readdress,
            )
        )
    if refused:
        raise MoveRefused(refused)
    return moves


def parents_first(tables: Mapping[str, Sequence[str]]) -> list[str]:
    """Order tables so that every table comes after the tables its foreign keys reference
    (references outside `tables` and self-references are ignored; ties sorted by name)."""
    remaining = {t: {p for p in parents if p in tables and p != t} for t, parents in tables.items()}
    ordered: list[str] = []
    while remaining:
        ready = sorted(t for t, parents in remaining.items() if not parents)
        if not ready:
            cycle = ", ".join(sorted(remaining))
            raise MoveRefused(f"foreign keys form a cycle between tables: {cycle}")
        for table in ready:
            ordered.append(table)
            del remaining[table]
        for parents in remaining.values():
            parents.difference_update(ready)
    return ordered


@dataclass(frozen=True)
class SelfKey:
    """A table's foreign key to itself: its `columns` reference the table's `references`."""

    columns: tuple[str, ...]
    references: tuple[str, ...]


@dataclass(frozen=True)
class MoveTables:
    """The tables a move copies, parents first, and which of them reference themselves: a
    table with one such key goes in tree order (`tree_keys`); one with several, in one
    statement."""

    ordered: list[str]
    self_referencing: frozenset[str]
    tree_keys: Mapping[str, SelfKey] = field(default_factory=dict)
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # primary keys
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # not generated


def tenant_tables_of(found: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The tables of a location (the PgTenantTables fact) that hold a tenant's rows, parents
    first: the tenant stream's, with a tenant_id column."""
    tenant = {
        t: [p for p in info.get("parents", []) if p != t]
        for t, info in found.items()
        if info.get("stream") == "tenant" and info.get("tenant_id")
    }
    return parents_first({t: [p for p in parents if p in tenant] for t, parents in tenant.items()})


def tables_to_move(move: Move, found: Mapping[str, Mapping[str, Any]]) -> MoveTables:
    """Choose the source's tables to copy (`found`: the PgTenantTables fact): those the
    migration ledger records as the tenant stream's. Refuse, naming the tables, whenever the
    registry could switch with tenant rows left behind: a table with tenant rows whose stream
    the ledger does not know, a tenant-stream table without a `tenant_id` column, any other
    table in a tenant's own schema, or a source holding no tenant-stream table at all."""
    where = f"tenant {move.slug}: {move.source.database}.{move.source.schema}"
    tenant = {t: info for t, info in found.items() if info.get("stream") == "tenant"}
    if not tenant:
        raise MoveRefused(f"{where} holds no table of the tenant stream; migrate it first")
    problems: list[str] = []
    unknown = sorted(
        t
        for t, info in found.items()
        if info.get("stream") in (None, "unrecorded") and info.get("tenant_id")
    )
    if unknown:
        problems.append(
            f"{where}: the migration ledger does not record which stream created "
            f"{', '.join(unknown)} (made by hand, or before the deploy recorded streams); "
            "record it in adx_migrations.stream_tables, or move or drop those rows by hand"
        )
    no_tenant_id = sorted(t for t, info in tenant.items() if not info.get("tenant_id"))
    if no_tenant_id:
        problems.append(
            f"{where}: tables of the tenant stream without a tenant_id column "
            f"({', '.join(no_tenant_id)}): their rows cannot be told apart"
        )
    if move.source.schema != "public":
        extra = sorted(set(found) - set(tenant) - set(unknown))
        if extra:
            problems.append(
                f"{where} holds tables the tenant stream does not create "
                f"({', '.join(extra)}); move or drop them by hand first"
            )
    if problems:
        raise MoveRefused("; ".join(problems) + "; nothing was copied")
    chosen = {t: [p for p in info.get("parents", []) if p in tenant] for t, info in tenant.items()}
    self_referencing = frozenset(t for t, parents in chosen.items() if t in parents)
    tree_keys = {
        t: SelfKey(tuple(keys[0]["columns"]), tuple(keys[0]["references"]))
        for t in self_referencing
        if len(keys := list(tenant[t].get("self_keys", []))) == 1
    }
    return MoveTables(
        ordered=parents_first(chosen),
        self_referencing=self_referencing,
        tree_keys=tree_keys,
        keys={t: tuple(info.get("primary_key", [])) for t, info in tenant.items()},
        columns={t: tuple(info.get("columns", [])) for t, info in tenant.items()},
    )
