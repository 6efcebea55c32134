"""The read jobs over a whole estate (`adxdb <job> INVENTORY`): which databases each host of
each cluster holds, which queries of `sql/jobs/` a job runs there, and how the answers the
hosts gave (the `JobQueries` fact) become one table with host, cluster and database columns,
plus the problems that make the job exit 1.

Pure: the model and the facts in, rows and problems out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adxdb.contract import SYSTEM_DATABASES
from adxdb.errors import MigrationError
from adxdb.inventory.migration_files import MigrationFile
from adxdb.inventory.model import Environment
from adxdb.plan import migrations as engine
from adxdb.plan.tenants import databases_for_host, migration_targets

PLACE_COLUMNS = ("host", "cluster", "database")
Row = tuple[Any, ...]


def _status_critical(columns: Sequence[str], row: Row) -> bool:
    return "status" in columns and row[list(columns).index("status")] == "critical"


def _invalid_index(columns: Sequence[str], row: Row) -> bool:
    return "verdict" in columns and str(row[list(columns).index("verdict")]).startswith("INVALID")


def _never(columns: Sequence[str], row: Row) -> bool:
    return False


@dataclass(frozen=True)
class JobSpec:
    """A read job: the `sql/jobs/` queries it runs in each database, and which of its rows
    are critical (the job then exits 1)."""

    queries: tuple[str, ...]
    critical: Callable[[Sequence[str], Row], bool] = _never


JOBS: dict[str, JobSpec] = {
    "health": JobSpec(("health",), _status_critical),
    "health-check": JobSpec(("health_check",), _status_critical),
    "analyze-indexes": JobSpec(("analyze_indexes",), _invalid_index),
    "monitor-pool": JobSpec(("monitor_pool",)),
    "stats": JobSpec(("stats",)),
    "validate": JobSpec(("validate_rls", "validate_ledger", "validate_schemas")),
}


@dataclass(frozen=True)
class Place:
    """Where a job runs: one database of one member of one cluster."""

    host: str
    cluster: str
    database: str


def job_places(env: Environment) -> list[Place]:
    """Every database of the estate on every member of its cluster (the main database on the
    main cluster's members, each dedicated tenant database on its cluster's members, offboarded
    tenants' kept databases included), in the estate's order."""
    places: list[Place] = []
    for cluster in env.estate_clusters():
        for member in cluster.members:
            places += [
                Place(member, cluster.name, database)
                for database in databases_for_host(env, member)
                if database not in SYSTEM_DATABASES
            ]
    return places


def estate_databases(env: Environment) -> list[str]:
    """Every database name the jobs read, once each (the fact's `databases` argument)."""
    return sorted({place.database for place in job_places(env)})


@dataclass
class Report:
    """A job's answer over the estate: one table (the job's columns after host, cluster and
    database) and the problems, one line each; the job exits 1 when there is any problem."""

    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, place: Place, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A place's rows of the job's columns; a column the place already names (the
        `health` job's own `database`) is left out."""
        keep = [i for i, column in enumerate(columns) if column not in PLACE_COLUMNS]
        names = [columns[i] for i in keep]
        if not self.columns:
            self.columns = [*PLACE_COLUMNS, *names]
        elif self.columns[len(PLACE_COLUMNS) :] != names:
            raise ValueError(f"{place.database}: columns {names} differ from {self.columns}")
        self.rows += [
            (place.host, place.cluster, place.database, *(row[i] for i in keep)) for row in rows
        ]

    def add_rows(self, rows: Sequence[Row]) -> None:
        """Rows that carry their own place (host, cluster, database first)."""
        for row in rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {row!r} does not have the columns {self.columns}")
        self.rows += [tuple(row) for row in rows]

    def as_json(self, job: str) -> dict[str, Any]:
        return {
            "job": job,
            "columns": self.columns,
            "rows": [dict(zip(self.columns, row, strict=True)) for row in self.rows],
            "problems": self.problems,
            "status": "critical" if self.problems else "ok",
        }


def _where(place: Place) -> str:
    return f"{place.host} ({place.cluster}) {place.database}"


def host_answers(
    env: Environment, found: Mapping[str, Mapping[str, Any] | None], unreachable: Mapping[str, str]
) -> tuple[dict[Place, Mapping[str, Any]], list[str]]:
    """Each place's query results, and the problems of hosts and databases that gave none:
    an unreachable host, a server that is down, a declared database missing, an undeclared one."""
    answers: dict[Place, Mapping[str, Any]] = {}
    problems: list[str] = []
    places = job_places(env)
    hosts = list(dict.fromkeys(place.host for place in places))
    for host in hosts:
        state = found.get(host)
        if state is None:
            why = unreachable.get(host, "no answer")
            problems.append(f"{host}: cannot read the host over SSH: {why}")
            continue
        if state["down"]:
            problems.append(f"{host}: no PostgreSQL server answers on port {env.postgres.port}")
            continue
        here = [place for place in places if place.host == host]
        for place in here:
            result = state["databases"].get(place.database)
            if result is None:
                problems.append(f"{_where(place)}: the database does not exist")
            else:
                answers[place] = result
        declared = {place.database for place in here}
        problems += [
            f"{host}: database {name} is not in the inventory"
            for name in state["unlisted"]
            if name not in declared
        ]
    return answers, problems


def job_report(
    env: Environment,
    job: str,
    found: Mapping[str, Mapping[str, Any] | None],
    unreachable: Mapping[str, str],
) -> Report:
    """The table of a job that shows its queries' rows (every job but validate) and its
    problems: critical rows, queries that failed, hosts and databases that gave no answer."""
    spec = JOBS[job]
    report = Report()
    answers, report.problems = host_answers(env, found, unreachable)
    for place, result in answers.items():
        for query in spec.queries:
            answer = result[query]
            if not answer["ok"]:
                report.problems.append(f"{_where(place)}: {query}: {answer['error']}")
                continue
            columns, rows = answer["columns"], [tuple(r) for r in answer["rows"]]
            report.add(place, columns, rows)
            report.problems += [
                f"{_where(place)}: {' '.join(str(v) for v in row)}"
                for row in rows
                if spec.critical(columns, row)
            ]
    return report


CHECK_COLUMNS = ("check", "status", "detail")


def _ledger_check(
    env: Environment,
    place: Place,
    ledger: Sequence[Mapping[str, Any]],
    files: Sequence[MigrationFile],
) -> Row:
    """The ledger against the migration files, for the targets the inventory declares in this
    database (none for an offboarded tenant's kept database: it is left as it is)."""
    targets = migration_targets(env, place.host).get(place.database, [])
    if not targets:
        return ("ledger", "ok", f"{len(ledger)} applied; no target (kept as it is)")
    try:
        pending = engine.plan(files, targets, ledger)
    except MigrationError as error:
        return ("ledger", "critical", "; ".join(error.problems))
    if pending:
        return ("ledger", "critical", "not applied: " + ", ".join(engine.describe(pending)))
    return ("ledger", "ok", f"{len(ledger)} applied to {len(targets)} target(s), as the files say")


def _rls_check(rows: Sequence[Sequence[Any]]) -> Row:
    if not rows:
        return (
            "row_level_security",
            "ok",
            "every table with tenant_id is enabled, forced, with policies",
        )
    holes = [f"{r[0]}.{r[1]} (enabled={r[2]} forced={r[3]} policies={r[4]})" for r in rows]
    return ("row_level_security", "critical", ", ".join(holes))


def _schemas_check(rows: Sequence[Sequence[Any]]) -> Row:
    if not rows:
        return ("tenant_schemas", "ok", "the registry's schema tenants and the schemas agree")
    return ("tenant_schemas", "critical", ", ".join(f"{r[0]} {r[2]} ({r[1]})" for r in rows))


# A row of the "Detected changes" table of `pyinfra -v --dry`: operation, change, conditional
# change, a count with the hosts in brackets, or "-".
_CHANGE_ROW = re.compile(
    r"^\s{4}(?P<op>\S.*?)\s{2,}(?P<change>-|\d+ \([^)]*\))\s{2,}(?P<maybe>-|\d+ \([^)]*\))\s*$"
)


def planned_changes(dry_run_output: str) -> dict[str, list[str]]:
    """What the deploy's own plan would change (`pyinfra -v --dry` output): host -> the
    operations that would change there, in the deploy's order."""
    _, _, table = dry_run_output.partition("--> Detected changes:")
    changes: dict[str, list[str]] = {}
    for line in table.splitlines()[2:]:
        match = _CHANGE_ROW.match(line)
        if match is None:
            if line.strip():
                continue
            break
        for column in ("change", "maybe"):
            hosts = match[column].partition("(")[2].rstrip(")")
            for host in filter(None, (h.strip() for h in hosts.split(","))):
                changes.setdefault(host, []).append(match["op"])
    return changes


def plan_rows(
    env: Environment, changes: Mapping[str, Sequence[str]], failure: str | None
) -> list[Row]:
    """validate's rows of the deploy's own dry run: per host, what the next deploy would
    change (critical: the estate has drifted from the inventory), or that it would change
    nothing; one critical row when the dry run itself failed."""
    if failure is not None:
        return [("", "", "", "deploy_plan", "critical", f"the deploy's dry run failed: {failure}")]
    rows: list[Row] = []
    for host in env.hosts:
        cluster = next((c.name for c in env.estate_clusters() if host in c.members), "")
        drift = changes.get(host, [])
        rows.append(
            (host, cluster, "", "deploy_plan", "critical" if drift else "ok",
             "the next deploy would change: " + ", ".join(drift) if drift
             else "the next deploy would change nothing")
        )  # fmt: skip
    return rows


def validate_report(
    env: Environment,
    found: Mapping[str, Mapping[str, Any] | None],
    unreachable: Mapping[str, str],
    files: Sequence[MigrationFile],
) -> Report:
    """validate over the estate: in every database, tables with tenant_id under RLS, and the
    ledger against the files for the targets the inventory declares there."""
    report = Report()
    answers, report.problems = host_answers(env, found, unreachable)
    for place, result in answers.items():
        checks: list[Row] = []
        rls, ledger, schemas = (result[q] for q in JOBS["validate"].queries)
        for query in JOBS["validate"].queries:
            if not result[query]["ok"]:
                checks.append((query, "critical", result[query]["error"]))
        if rls["ok"]:
            checks.append(_rls_check(rls["rows"]))
        if schemas["ok"]:
            checks.append(_schemas_check(schemas["rows"]))
        if ledger["ok"]:
            entries = [dict(zip(ledger["columns"], row, strict=True)) for row in ledger["rows"]]
            for entry in entries:
                entry["version"] = int(entry["version"])
            checks.append(_ledger_check(env, place, entries, files))
        report.add(place, CHECK_COLUMNS, checks)
        report.problems += [
            f"{_where(place)}: {name}: {detail}"
            for name, status, detail in checks
            if status != "ok"
        ]
    return report
