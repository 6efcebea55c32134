"""Restore drills rendered from the model (DESIGN.md decision 7): a backup counts once it has
been restored. A drill restores one stanza into a scratch instance on the repository's host
(with archiving off), verifies every database the inventory puts in that cluster (the ledger
against the migration files, amcheck on every B-tree index, the rows of every table), removes
the instance and records the result there, where the plan and the health check read it.

This module is pure: which stanzas a drill covers, the target it recovers to, the SQL that
verifies a database, and how a recorded result reads in the health check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from adxdb import sqlfiles
from adxdb.errors import AdxError
from adxdb.inventory.loader import Inventory
from adxdb.inventory.migration_files import MigrationFile
from adxdb.inventory.model import Environment
from adxdb.inventory.types import duration_seconds
from adxdb.plan import backups as pgbackrest
from adxdb.plan.host import ManagedFile
from adxdb.plan.tenants import migration_targets

DRILL_DIR = "/var/lib/adx-drill"
RESULTS_DIR = f"{DRILL_DIR}/results"
VERIFY_DIR = f"{DRILL_DIR}/verify"
SCRATCH_PORT = 5499  # operations/files/restore_drill.sh: the scratch instance's (socket only)
LATEST = "latest"


@dataclass(frozen=True)
class DrillRequest:
    """What `adxdb restore-drill` asks for: the stanzas (every cluster's by default) and the
    point in time (None: the end of the archive)."""

    stanzas: tuple[str, ...] = ()
    at: str | None = None

    def as_data(self) -> dict[str, Any]:
        return {"stanzas": list(self.stanzas), "at": self.at}

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> DrillRequest:
        data = data or {}
        return cls(tuple(str(s) for s in data.get("stanzas") or ()), data.get("at"))


@dataclass(frozen=True)
class Drill:
    """One stanza's drill: what the drill operation gets."""

    stanza: str
    target: str  # LATEST or a time pgBackRest and PostgreSQL read, in UTC
    target_epoch: int | None
    databases: tuple[str, ...]
    repo_path: str
    version: int


def parse_target(text: str) -> dt.datetime:
    """`--at`: an ISO 8601 time with its zone (`2026-12-02T20:15:00+00:00`, `...Z`)."""
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AdxError(
            f"--at {text!r}: not a time; give ISO 8601 with a zone, e.g. 2026-12-02T20:15:00Z"
        ) from None
    if when.tzinfo is None:
        raise AdxError(f"--at {text!r}: give its time zone (e.g. 2026-12-02T20:15:00Z)")
    return when.astimezone(dt.UTC)


def target_text(when: dt.datetime) -> str:
    """A recovery target as pgBackRest and `recovery_target_time` read it."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def repository_host(env: Environment) -> str | None:
    """Where the repository is: the backup host, else (`local`) the primary."""
    if not env.backups.enabled:
        return None
    return env.backup_host() or env.primary_host()


def stanza_names(env: Environment) -> list[str]:
    return [s.name for s in pgbackrest.stanzas(env)]


def check_request(env: Environment, stanzas: Sequence[str], at: str | None) -> DrillRequest:
    """The stanzas asked for (all by default) and `--at` as a UTC target, or every problem."""
    problems: list[str] = []
    if repository_host(env) is None:
        problems.append("backups.enabled is false: there is no repository to restore from")
    known = stanza_names(env)
    for name in stanzas:
        if name not in known:
            problems.append(
                f"--cluster {name}: no such cluster; the clusters' stanzas are {', '.join(known)}"
            )
    when = None
    if at is not None:
        try:
            when = parse_target(at).isoformat()
        except AdxError as error:
            problems += error.problems
    if problems:
        raise AdxError(problems)
    return DrillRequest(tuple(stanzas) or tuple(known), when)


def expected_ledger(
    env: Environment, files: Sequence[MigrationFile], stanza: str
) -> dict[str, list[tuple[str, str, int, str, str]]]:
    """Database -> the ledger rows the cluster of `stanza` must hold: every file of every
    stream of every target of the cluster's leader (stream, schema, version, name, checksum)."""
    cluster = next(s for s in pgbackrest.stanzas(env) if s.name == stanza)
    expected: dict[str, list[tuple[str, str, int, str, str]]] = {}
    for database, targets in sorted(migration_targets(env, cluster.hosts[0]).items()):
        expected[database] = [
            (f.stream, target.schema, f.version, f.name, f.checksum)
            for target in targets
            for f in files
            if f.stream in target.streams
        ]
    return expected


def render_verify(rows: Sequence[tuple[str, str, int, str, str]]) -> str:
    """The verification of one restored database (`sql/drill/verify.sql`) with its expected
    ledger; psql variable `target` says whether files not applied yet are a problem."""
    values: sql.Composable = sql.SQL(", ").join(
        sql.SQL("({}, {}, {}, {}, {})").format(*(sql.Literal(v) for v in row)) for row in rows
    )
    if not rows:  # a VALUES list needs a row: one that matches nothing
        values = sql.SQL("(NULL::text, NULL::text, NULL::integer, NULL::text, NULL::text)")
    template = sql.SQL(sqlfiles.load("drill/verify"))
    return template.format(expected=values).as_string(None) + "\n"


def verify_path(stanza: str, database: str) -> str:
    return f"{VERIFY_DIR}/{stanza}/{database}.sql"


@dataclass(frozen=True)
class DrillPlan:
    """The repository host's drills: the files they read, then one drill per stanza."""

    files: tuple[ManagedFile, ...]
    drills: tuple[Drill, ...]


def drill_plan(inventory: Inventory, host_name: str, request: DrillRequest) -> DrillPlan:
    env = inventory.env
    if repository_host(env) != host_name:
        return DrillPlan((), ())
    checked = check_request(env, request.stanzas, request.at)
    when = None if checked.at is None else parse_target(checked.at)
    target = LATEST if when is None else target_text(when)
    files: list[ManagedFile] = []
    drills: list[Drill] = []
    for stanza in checked.stanzas:
        expected = expected_ledger(env, inventory.migration_files, stanza)
        for database, rows in expected.items():
            files.append(
                ManagedFile(
                    f"Restore drill verification of {stanza}: {database}",
                    verify_path(stanza, database),
                    render_verify(rows),
                    "root",
                    "postgres",
                    "0640",
                )
            )
        drills.append(
            Drill(
                stanza=stanza,
                target=target,
                target_epoch=None if when is None else int(when.timestamp()),
                databases=tuple(expected),
                repo_path=str(env.backups.repo_path),
                version=env.postgres.version,
            )
        )
    return DrillPlan(tuple(files), tuple(drills))


def _when(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ago(seconds: int) -> str:
    if seconds >= 86400:
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h ago"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"


def describe_result(result: Mapping[str, Any]) -> str:
    """One recorded drill, as a line: backup set, target, duration, tables, indexes."""
    databases = result.get("databases") or []
    tables = sum(len(d.get("tables") or {}) for d in databases)
    indexes = sum(int(d.get("indexes_checked") or 0) for d in databases)
    return (
        f"backup set {result.get('backup_set') or '?'}, target {result.get('target')}, "
        f"{result.get('duration_seconds')} s, {len(databases)} database(s), {tables} tables, "
        f"{indexes} indexes checked"
    )


def drill_health(
    stanzas: Sequence[str], max_age: str, now: int, results: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str, str]]:
    """Health-check rows (name, status, detail) of each stanza's restore drills: critical when
    the last drill failed, warning when the last verified restore is older than `max_age`
    (`backups.drill_max_age`) or there is none. `results` maps "<stanza>.last" and
    "<stanza>.verified" to the recorded results (the `RestoreDrillResults` fact)."""
    rows: list[tuple[str, str, str]] = []
    limit = duration_seconds(max_age)
    for stanza in stanzas:
        name = f"restore_drill:{stanza}"
        last = results.get(f"{stanza}.last")
        verified = results.get(f"{stanza}.verified")
        if last is not None and last.get("verdict") != "verified":
            problems = "; ".join(str(p) for p in last.get("problems") or [])[:300]
            rows.append(
                (
                    name,
                    "critical",
                    f"the last restore drill ({_when(int(last['finished']))}) failed: {problems}",
                )
            )
            continue
        if verified is None:
            rows.append(
                (
                    name,
                    "warning",
                    "no verified restore yet: run adxdb restore-drill "
                    f"<inventory> --cluster {stanza}",
                )
            )
            continue
        age = now - int(verified["finished"])
        detail = (
            f"last verified restore {_when(int(verified['finished']))} ({_ago(age)}): "
            f"{describe_result(verified)}"
        )
        if age > limit:
            rows.append((name, "warning", f"{detail}; older than backups.drill_max_age {max_age}"))
        else:
            rows.append((name, "ok", detail))
    return rows
