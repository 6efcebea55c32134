"""`adxdb`: the database-manager jobs of the ADX platform.

Jobs that change the estate (migrate, seed, clean) are convergence: they run the pyinfra deploy
(or its cleaning step) against an inventory, over SSH, like every other change. Jobs that read
(health, health-check, analyze-indexes, monitor-pool, validate, stats) take an inventory and
read every database of the estate on its hosts over SSH (as adx_monitor), or connect with
psycopg to one database (`--dsn`, `DATABASE_URL`); they print one table (or `--json`); a job
that finds a problem exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from adxdb import sqlfiles
from adxdb.app.settings import DatabaseSettings
from adxdb.errors import AdxError, MigrationError
from adxdb.inventory.migration_files import MigrationFile, discover
from adxdb.plan import migrations as engine

if TYPE_CHECKING:  # the deploy side's model, imported by the jobs that need it
    from adxdb.inventory.model import ClusterMembers, Environment

REPO = Path(__file__).resolve().parent.parent
Rows = list[tuple[Any, ...]]


def _refused(error: AdxError) -> int:
    """Print a refusal, one line per problem, and give the exit status of bad input."""
    for problem in error.problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2


def _table(columns: Sequence[str], rows: Rows) -> str:
    cells = [list(columns)] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _query(conn: psycopg.Connection[Any], name: str) -> tuple[list[str], Rows]:
    cursor = conn.execute(sqlfiles.load(f"jobs/{name}"))
    columns = [column.name for column in cursor.description or []]
    return columns, cursor.fetchall()


def _show(conn: psycopg.Connection[Any], name: str) -> Rows:
    columns, rows = _query(conn, name)
    print(_table(columns, rows))
    return rows


def job_health(conn: psycopg.Connection[Any]) -> int:
    rows = _show(conn, "health")
    return 0 if rows and rows[0][-1] != "critical" else 1


def job_health_check(conn: psycopg.Connection[Any]) -> int:
    rows = _show(conn, "health_check")
    return 1 if any(row[1] == "critical" for row in rows) else 0


def job_analyze_indexes(conn: psycopg.Connection[Any]) -> int:
    rows = _show(conn, "analyze_indexes")
    return 1 if any(str(row[-1]).startswith("INVALID") for row in rows) else 0


def job_monitor_pool(conn: psycopg.Connection[Any]) -> int:
    _show(conn, "monitor_pool")
    settings = DatabaseSettings(DATABASE_URL=conn.info.dsn)
    print(
        f"\napplication pool (DB_*): min {settings.min_connections}, "
        f"max {settings.max_connections}, acquire timeout {settings.acquire_timeout_seconds}s, "
        f"idle timeout {settings.idle_timeout_seconds}s, "
        f"max lifetime {settings.max_lifetime_seconds}s"
    )
    return 0


def job_stats(conn: psycopg.Connection[Any]) -> int:
    _show(conn, "stats")
    return 0


def validation_problems(conn: psycopg.Connection[Any], files: Sequence[MigrationFile]) -> list[str]:
    """RLS holes and ledger drift of the connected database, one line each."""
    problems = [
        f"{row[0]}.{row[1]}: row level security enabled={row[2]} forced={row[3]} policies={row[4]}"
        for row in _query(conn, "validate_rls")[1]
    ]
    _, ledger_rows = _query(conn, "validate_ledger")
    ledger = [
        {"stream": r[0], "target_schema": r[1], "version": r[2], "name": r[3], "checksum": r[4]}
        for r in ledger_rows
    ]
    schemas = sorted({str(row["target_schema"]) for row in ledger}) or ["public"]
    targets = [
        engine.Target(
            conn.info.dbname, schema, ("shared", "tenant") if schema == "public" else ("tenant",)
        )
        for schema in schemas
    ]
    try:
        pending = engine.plan(files, targets, ledger)
    except MigrationError as error:
        problems += error.problems
    else:
        problems += [f"{line}: not applied" for line in engine.describe(pending)]
    return problems


def job_validate(conn: psycopg.Connection[Any]) -> int:
    problems = validation_problems(conn, discover())
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


def restore_cluster(
    inventory_yml: Path, cluster: str | None, at: str | None, extra: Sequence[str]
) -> int:
    """Run the restore deploy on the host the inventory declares for the cluster."""
    from adxdb.inventory.loader import load_inventory
    from adxdb.plan.restore import check_restore, restore_host

    try:
        env = load_inventory(inventory_yml).env
        request = check_restore(env, cluster, at)
    except AdxError as error:
        return _refused(error)
    target = restore_host(env, request.stanza)
    data = json.dumps(request.as_data())
    code = _pyinfra(
        inventory_yml,
        "restore.py",
        ["-y", "--limit", target, "--data", f"adx_restore={data}", *extra],
    )
    if code == 0:
        print(
            f"restored {request.stanza} onto {target}; now converge it: adxdb migrate "
            f"{inventory_yml} -y (or pyinfra {inventory_yml.with_suffix('.py')} deploy.py)"
        )
    return code


def tenant_export(
    inventory_yml: Path, slug: str, out: Path, at: str | None, extra: Sequence[str]
) -> int:
    """Export one tenant's rows from its location into `out` (CSV files and a manifest)."""
    import tarfile
    import tempfile

    from adxdb.inventory.loader import load_inventory
    from adxdb.plan import tenant_export as export

    try:
        env = load_inventory(inventory_yml).env
        location = export.tenant_location(env, slug)
        source = export.export_source(env, location, at)
        if out.exists() and any(out.iterdir()):
            raise AdxError(f"--out {out}: not empty; an export goes into a new folder")
    except AdxError as error:
        return _refused(error)
    with tempfile.TemporaryDirectory(prefix="adx-export-") as scratch:
        local_tar = Path(scratch) / "export.tar"
        data = json.dumps({"slug": slug, "at": at, "local_tar": str(local_tar)})
        code = _pyinfra(
            inventory_yml,
            "tenant_export.py",
            ["-y", "--limit", source.host, "--data", f"adx_export={data}", *extra],
        )
        if code != 0 or not local_tar.is_file():
            print(f"error: the export of {slug} failed on {source.host}", file=sys.stderr)
            return code or 1
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        out.chmod(0o700)  # a tenant's rows (password hashes, personal data): the user's only
        with tarfile.open(local_tar) as archive:
            archive.extractall(out, filter="data")
        for path in out.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
    manifest = export.build_manifest(
        out, location, source.point_in_time or export.now_text(), source.host
    )
    (out / export.MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    problems = export.other_tenant_rows(out, manifest)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    for line in export.table_summary(manifest):
        print(line)
    rows = sum(e["rows"] for e in manifest["tables"].values())
    print(
        f"exported {slug} ({location.isolation}, {source.host}:{location.database}."
        f"{location.schema}): {len(manifest['tables'])} table(s), {rows} row(s), "
        f"{len(manifest['control_plane'])} control-plane table(s) -> {out}"
    )
    return 1 if problems else 0


def tenant_import(inventory_yml: Path, slug: str, source: Path, extra: Sequence[str]) -> int:
    """Load an export into the tenant's declared, empty location, checked per table."""
    import tarfile
    import tempfile

    from adxdb.inventory.loader import load_inventory
    from adxdb.plan import tenant_export as export

    try:
        env = load_inventory(inventory_yml).env
        manifest = export.read_manifest(source)
        target = export.check_import(env, slug, manifest)
    except AdxError as error:
        return _refused(error)
    workdir = f"{export.IMPORT_DIR}/{slug}"
    with tempfile.TemporaryDirectory(prefix="adx-import-") as scratch:
        local_tar = Path(scratch) / "export.tar"
        with tarfile.open(local_tar, "w") as archive:
            for entry in manifest["tables"].values():
                archive.add(source / entry["file"], arcname=entry["file"])
        local_script = Path(scratch) / "import.psql"
        local_script.write_text(export.render_import(manifest, target, workdir))
        data = json.dumps(
            {"slug": slug, "local_tar": str(local_tar), "local_script": str(local_script)}
        )
        code = _pyinfra(
            inventory_yml,
            "tenant_import.py",
            ["-y", "--limit", target.host, "--data", f"adx_import={data}", *extra],
        )
    if code == 0:
        rows = sum(e["rows"] for e in manifest["tables"].values())
        print(
            f"imported {slug} into {target.host}:{target.database}.{target.schema}: "
            f"{len(manifest['tables'])} table(s), {rows} row(s), each checked against the manifest"
        )
    return code


def tenant_erasure_horizon(inventory_yml: Path, slug: str) -> int:
    """When the last backup holding an offboarded tenant expires; exit 1 when there is no
    horizon yet (its data is still in the cluster, or it is not dropped yet)."""
    import datetime as dt

    from adxdb.inventory.loader import load_inventory
    from adxdb.plan import erasure
    from adxdb.plan.backups import stanza_of
    from adxdb.plan.drill import repository_host
    from adxdb.plan.tenant_export import find_tenant
    from adxdb.plan.tenants import tenant_host

    try:
        env = load_inventory(inventory_yml).env
        tenant = find_tenant(env, slug)
        answer = erasure.kept_answer(tenant)
        if answer is None:
            repository = repository_host(env)
            if repository is None:
                raise AdxError("backups.enabled is false: no backup holds the tenant")
            host_name = tenant_host(env, tenant)
            dumps = host_facts(inventory_yml, host_name, ["FinalDumps"])["FinalDumps"]
            repo = host_facts(inventory_yml, repository, ["PgBackRestRepository"])
            found = repo["PgBackRestRepository"]
            stanza = stanza_of(env, host_name)
            entry = found["stanzas"].get(stanza) or {}
            answer = erasure.erasure_horizon(
                tenant,
                dumps,
                entry.get("backup_list") or [],
                env.backups,
                stanza,
                dt.datetime.fromtimestamp(int(found["now"]), dt.UTC),
            )
    except AdxError as error:
        return _refused(error)
    for line in answer.lines:
        print(line)
    return 0 if answer.when is not None else 1


def estate_facts(
    inventory: Path, hosts: Sequence[str], fact: str, args: Sequence[str] = ()
) -> tuple[dict[str, Any], dict[str, str]]:
    """One fact of `operations.facts` gathered on several hosts at once (one pyinfra run, the
    hosts in parallel): the values by host, and why each host that gave none did not."""
    command = _pyinfra_command(inventory, "fact", f"operations.facts.{fact}", *args)
    if command is None:
        raise AdxError(f"{inventory}: no pyinfra inventory file beside it")
    command[1:1] = ["-y", "--json", *(part for host in hosts for part in ("--limit", host))]
    run = subprocess.run(command, cwd=REPO, check=False, capture_output=True, text=True)
    try:
        found = json.loads(run.stdout) if run.stdout.strip() else {}
    except ValueError:
        found = {}
    values: dict[str, Any] = next(
        (v for k, v in found.items() if k.split(" ")[0].endswith(f".{fact}")), {}
    )
    errors = [line.strip() for line in run.stderr.splitlines() if line.strip()]
    unreachable = {
        host: next((e for e in errors if host in e), errors[-1] if errors else "no answer")
        for host in hosts
        if values.get(host) is None
    }
    return {h: v for h, v in values.items() if v is not None}, unreachable


def _place_of_stanza(env: Environment, stanza: str) -> str:
    return next((c.name for c in env.estate_clusters() if c.stanza == stanza), "")


def estate_job(inventory_yml: Path, job: str, as_json: bool) -> int:
    """A read job on every database of every cluster of the estate, over SSH: one table with
    host, cluster and database columns (or one JSON document); exit 1 on any problem."""
    from adxdb.inventory.loader import load_inventory  # the deploy side: PyYAML, cryptography
    from adxdb.plan import estate_jobs

    try:
        env = load_inventory(inventory_yml).env
    except AdxError as error:
        return _refused(error)
    hosts = list(dict.fromkeys(place.host for place in estate_jobs.job_places(env)))
    args = [
        f"port={env.postgres.port}",
        f"job={job}",
        f"databases={','.join(estate_jobs.estate_databases(env))}",
    ]
    # The hosts' answers, and what else the job reads, at once: each is one pyinfra run.
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = pool.submit(estate_facts, inventory_yml, hosts, "JobQueries", args)
        extra: Future[Rows] | None = None
        if job == "health-check":
            extra = pool.submit(_backup_rows, inventory_yml, env)
        elif job == "validate":
            extra = pool.submit(_plan_rows, inventory_yml, env)
        try:
            found, unreachable = answers.result()
        except AdxError as error:
            return _refused(error)
        extra_rows = extra.result() if extra is not None else []
    if job == "validate":
        report = estate_jobs.validate_report(env, found, unreachable, discover())
    else:
        report = estate_jobs.job_report(env, job, found, unreachable)
    if extra_rows:
        report.add_rows(extra_rows)
        report.problems += [
            f"{row[0] or 'deploy'}: {row[3]}: {row[5]}"
            for row in extra_rows
            if row[4] == "critical"
        ]
    if as_json:
        print(json.dumps(report.as_json(job), indent=2, default=str))
    else:
        print(_table(report.columns, report.rows))
        for problem in report.problems:
            print(f"critical: {problem}")
        databases = len({(row[0], row[2]) for row in report.rows if row[2]})
        print(
            f"{job}: {databases} database(s) on {len(hosts)} database host(s), "
            f"{len(report.problems)} problem(s)"
        )
    return 1 if report.problems else 0


def _plan_rows(inventory_yml: Path, env: Environment) -> Rows:
    """validate's rows of the deploy's own dry run (`pyinfra -v --dry`): what the next deploy
    would change on each host."""
    from adxdb.plan import estate_jobs

    command = _pyinfra_command(inventory_yml, str(REPO / "deploy.py"))
    if command is None:
        return estate_jobs.plan_rows(env, {}, "no pyinfra inventory file")
    command[1:1] = ["-v", "--dry"]
    run = subprocess.run(command, cwd=REPO, check=False, capture_output=True, text=True)
    output = run.stdout + run.stderr
    failure = None
    if run.returncode != 0:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        failure = next(
            (line for line in reversed(lines) if "rror" in line), lines[-1] if lines else ""
        )
    return estate_jobs.plan_rows(env, estate_jobs.planned_changes(output), failure)


def _backup_rows(inventory_yml: Path, env: Environment) -> Rows:
    """The health check's rows of the estate's backups (host, cluster, "", name, status,
    detail), read on the repository's host."""
    from adxdb.plan.drill import repository_host

    repository = repository_host(env) or ""
    try:
        rows = inventory_health(inventory_yml)
    except (AdxError, ValueError) as error:
        rows = [("backups", "critical", str(error).replace("\n", "; "))]
    return [
        (repository, _place_of_stanza(env, name.partition(":")[2]), "", name, status, detail)
        for name, status, detail in rows
    ]


READ_JOBS: dict[str, Callable[[psycopg.Connection[Any]], int]] = {
    "health": job_health,
    "health-check": job_health_check,
    "analyze-indexes": job_analyze_indexes,
    "monitor-pool": job_monitor_pool,
    "validate": job_validate,
    "stats": job_stats,
}
DEPLOY_JOBS = ("migrate", "seed", "clean")


def _pyinfra_command(inventory: Path, *args: str) -> list[str] | None:
    """pyinfra against the inventory's pyinfra file (`<env>.py` beside the YAML), or None
    (said on stderr) when there is none."""
    # Resolved here: pyinfra runs from the repository, and the user means the file they named.
    pyinfra_inventory = inventory.resolve().with_suffix(".py")
    if not pyinfra_inventory.is_file():
        print(f"error: {pyinfra_inventory}: inventory file not found", file=sys.stderr)
        return None
    pyinfra = Path(sys.executable).parent / "pyinfra"
    return [str(pyinfra), str(pyinfra_inventory), *args]


def _pyinfra(inventory: Path, deploy: str, extra: Sequence[str]) -> int:
    """Run a deploy over SSH against the inventory."""
    command = _pyinfra_command(inventory, str(REPO / deploy))
    if command is None:
        return 2
    command[1:1] = extra
    return subprocess.run(command, cwd=REPO, check=False).returncode


def host_facts(
    inventory: Path, host_name: str, facts: Sequence[str], args: Sequence[str] = ()
) -> dict[str, Any]:
    """Facts of `operations.facts` gathered on one host of the inventory (pyinfra over SSH,
    as the deploy reads them), by class name, with `args` (`key=value`) for each; AdxError
    when they cannot be read."""
    command = _pyinfra_command(
        inventory, "fact", *(part for name in facts for part in (f"operations.facts.{name}", *args))
    )
    if command is None:
        raise AdxError(f"{inventory}: no pyinfra inventory file beside it")
    command[1:1] = ["-y", "--json", "--limit", host_name]
    run = subprocess.run(command, cwd=REPO, check=False, capture_output=True, text=True)
    try:
        found = json.loads(run.stdout) if run.returncode == 0 else {}
    except ValueError:
        found = {}
    result: dict[str, Any] = {}
    for name in facts:
        # Keyed "operations.facts.Name", or "operations.facts.Name (key=value)" with args.
        values: dict[str, Any] = next(
            (v for k, v in found.items() if k.split(" ")[0].endswith(f".{name}")), {}
        )
        if values.get(host_name) is None:
            last = (run.stderr.strip().splitlines() or ["no answer"])[-1]
            raise AdxError(f"{host_name}: cannot read {name}: {last}")
        result[name] = values[host_name]
    return result


def inventory_health(inventory_yml: Path) -> list[tuple[str, str, str]]:
    """Health-check rows of the estate's backups, read on the repository's host: each
    stanza's status and freshness, and its last verified restore."""
    from adxdb.inventory.loader import load_inventory  # the deploy side: PyYAML, cryptography
    from adxdb.plan.backups import backup_health
    from adxdb.plan.drill import drill_health, repository_host, stanza_names

    env = load_inventory(inventory_yml).env
    repository = repository_host(env)
    if repository is None:
        return [("backups", "warning", "backups.enabled is false: no WAL archive, no backup")]
    facts = host_facts(inventory_yml, repository, ["PgBackRestRepository", "RestoreDrillResults"])
    drills = facts["RestoreDrillResults"]
    return backup_health(env, facts["PgBackRestRepository"]) + drill_health(
        stanza_names(env), env.backups.drill_max_age, drills["now"], drills["results"]
    )


def restore_drill(
    inventory_yml: Path, clusters: Sequence[str], at: str | None, extra: Sequence[str]
) -> int:
    """Run the drill deploy on the repository's host for the clusters asked for."""
    from adxdb.inventory.loader import load_inventory
    from adxdb.plan.drill import check_request, repository_host

    try:
        env = load_inventory(inventory_yml).env
        request = check_request(env, clusters, at)
    except AdxError as error:
        return _refused(error)
    repository = repository_host(env)
    assert repository is not None
    data = json.dumps(request.as_data())
    return _pyinfra(
        inventory_yml,
        "drill.py",
        ["-y", "--limit", repository, "--data", f"adx_drill={data}", *extra],
    )


def _cluster_view(inventory_yml: Path, members: Sequence[str], port: int) -> tuple[str, Any]:
    """The HA cluster as the first member that answers sees it: (member, PatroniCluster)."""
    problems: list[str] = []
    for member in members:
        try:
            found = host_facts(inventory_yml, member, ["PatroniCluster"], [f"port={port}"])
        except AdxError as error:
            problems.append(str(error))
            continue
        view = found["PatroniCluster"]
        if view and view.get("members"):
            return member, view
        problems.append(f"{member}: Patroni does not answer")
    raise AdxError("no member of the cluster answers: " + "; ".join(problems))


def _ha_cluster(env: Environment, name: str) -> ClusterMembers:
    """The estate's cluster called `name` (`main`, or a dedicated tenant cluster), refused
    unless Patroni runs it."""
    found = {c.name: c for c in env.estate_clusters()}
    cluster = found.get(name)
    if cluster is None:
        names = ", ".join(c.name for c in found.values() if c.ha) or "none"
        raise AdxError(f"--cluster {name}: no such cluster (the clusters Patroni runs: {names})")
    if not cluster.ha:
        raise AdxError(
            f"--cluster {name}: one host, {cluster.members[0]} (no Patroni): there is no "
            "other member"
        )
    return cluster


def cluster_status(inventory_yml: Path, as_json: bool, cluster_name: str = "main") -> int:
    """Members of a cluster (role, state, timeline, lag, pending restart) and the leader's
    replication slots; exit 1 on no leader, a member not running or a restart pending."""
    from adxdb.inventory.loader import load_inventory
    from adxdb.plan.ha import status_problems, status_rows

    try:
        env = load_inventory(inventory_yml).env
        if cluster_name == "main" and not env.is_ha():
            print(f"main cluster: one primary, {env.primary_host()} (no Patroni)")
            return 0
        cluster = _ha_cluster(env, cluster_name)
        expected = list(cluster.members)
        asked, view = _cluster_view(inventory_yml, expected, env.postgres.port)
        members = view["members"]
        leader = next((m["Member"] for m in members if m.get("Role") == "Leader"), None)
        slots = view.get("slots") or []
        if leader is not None and leader != asked:
            found = host_facts(
                inventory_yml, leader, ["PatroniCluster"], [f"port={env.postgres.port}"]
            )
            slots = (found["PatroniCluster"] or {}).get("slots") or []
    except AdxError as error:
        return _refused(error)
    problems = status_problems(members, expected)
    if as_json:
        document = {"cluster": cluster.name, "members": members, "slots": slots}
        print(json.dumps({**document, "problems": problems}, indent=2))
    else:
        print("\n".join(status_rows(members, slots)))
        for problem in problems:
            print(f"critical: {problem}")
    return 1 if problems else 0


def switchover(inventory_yml: Path, cluster_name: str, to: str | None, extra: Sequence[str]) -> int:
    """Run the switchover deploy on a member of the cluster that answers."""
    from adxdb.inventory.loader import load_inventory

    try:
        env = load_inventory(inventory_yml).env
        if cluster_name == "main" and not env.is_ha():
            raise AdxError("the main cluster has one primary: there is nothing to switch over to")
        cluster = _ha_cluster(env, cluster_name)
        if to is not None and to not in cluster.members:
            raise AdxError(f"--to {to}: not a member of cluster {cluster.name}")
        asked, _ = _cluster_view(inventory_yml, list(cluster.members), env.postgres.port)
    except AdxError as error:
        return _refused(error)
    data = json.dumps({"to": to})
    return _pyinfra(
        inventory_yml,
        "switchover.py",
        ["-y", "--limit", asked, "--data", f"adx_switchover={data}", *extra],
    )


def app_env(inventory_yml: Path) -> int:
    """Write `app.env` (0600) and the CA the application verifies the server with."""
    from adxdb.inventory.loader import load_inventory  # the deploy side: PyYAML, cryptography
    from adxdb.plan.app_env import ca_path, job_command, render_app_env

    try:
        inventory = load_inventory(inventory_yml)
        text = render_app_env(inventory)
    except (AdxError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    primary = inventory.env.primary_host()
    ca_path(inventory).write_text(inventory.tls[primary].ca_pem)
    path = inventory.state_dir / "app.env"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    print(
        f"wrote {path} (mode 0600): DATABASE_URL for adx_app (the application), "
        "MONITOR_DATABASE_URL for adx_monitor (the read jobs), over TLS verify-full"
    )
    print("use it:")
    print(f"  set -a; . {path}; set +a")
    print(
        '  psql "$DATABASE_URL" -c "select current_user, ssl from pg_stat_ssl '
        'where pid = pg_backend_pid()"'
    )
    print("a health check of the environment, from the repository's folder:")
    print(f"  {job_command(path)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="adxdb", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="job", required=True)
    for job in DEPLOY_JOBS:
        deploy_parser = sub.add_parser(job, help=f"{job} through the deploy (pyinfra over SSH)")
        deploy_parser.add_argument("inventory", type=Path, help="inventories/<env>.yml")
        deploy_parser.epilog = "Other options (e.g. --dry, -y, -v) are passed on to pyinfra."
    env_parser = sub.add_parser("app-env", help="write .adx/<env>/app.env (local and test)")
    env_parser.add_argument("inventory", type=Path, help="inventories/<env>.yml")
    for job in READ_JOBS:
        read_parser = sub.add_parser(
            job, help=f"{job} on every database of an inventory (over SSH), or of one --dsn"
        )
        read_parser.add_argument(
            "inventory",
            type=Path,
            nargs="?",
            help="inventories/<env>.yml: every database of every cluster, read on its hosts "
            "over SSH as adx_monitor"
            + (
                " (and each stanza's backups and last verified restore)"
                if job == "health-check"
                else ""
            ),
        )
        read_parser.add_argument(
            "--dsn", help="one database instead (default without an inventory: $DATABASE_URL)"
        )
        read_parser.add_argument(
            "--json", action="store_true", help="one JSON document (with an inventory)"
        )
    drill_parser = sub.add_parser(
        "restore-drill",
        help="restore a cluster's backup into a scratch instance on the backup host, verify it "
        "(ledger, amcheck, row counts), record the result",
    )
    drill_parser.add_argument("inventory", type=Path, help="inventories/<env>.yml")
    drill_parser.add_argument(
        "--cluster",
        action="append",
        default=[],
        help="the cluster's stanza (backups.stanza for the main cluster, a dedicated host's "
        "name); repeat for several; default: every cluster",
    )
    drill_parser.add_argument(
        "--at", help="recover to this time (ISO 8601 with a zone); default: the end of the archive"
    )
    drill_parser.epilog = "Other options (e.g. -v) are passed on to pyinfra."
    restore_parser = sub.add_parser(
        "restore",
        help="rebuild a lost cluster from the backup host onto the fresh host the inventory "
        "declares for it; then run the deploy",
    )
    restore_parser.add_argument("inventory", type=Path, help="inventories/<env>.yml")
    restore_parser.add_argument(
        "--cluster", help="the cluster's stanza (backups.stanza, or a dedicated host's name)"
    )
    restore_parser.add_argument(
        "--at", help="recover to this time (ISO 8601 with a zone); default: the end of the archive"
    )
    restore_parser.epilog = "Other options (e.g. -v) are passed on to pyinfra."
    export_parser = sub.add_parser(
        "tenant-export", help="export one tenant's rows (any isolation level) with a manifest"
    )
    export_parser.add_argument("inventory", type=Path, help="inventories/<env>.yml")
    export_parser.add_argument("slug", help="the tenant's slug")
    export_parser.add_argument("--out", type=Path, required=True, help="a new folder")
    export_parser.add_argument("--at", help="a point in time (ISO 8601 with a zone)")
    import_parser = sub.add_parser(
        "tenant-import", help="load an export into the tenant's declared, empty location"
    )
    import_parser.add_argument("inventory", type=Path, help="inventories/<env>.yml")
    import_parser.add_argument("slug", help="the tenant's slug")
    import_parser.add_argument(
        "--from", dest="source", type=Path, required=True, help="an export's folder"
    )
    horizon_parser = sub.add_parser(
        "tenant-erasure-horizon",
        help="when the last backup holding an offboarded (dropped) tenant expires",
    )
    horizon_parser.add_argument("inventory", type=Path, help="inventories/<env>.yml")
    horizon_parser.add_argument("slug", help="the tenant's slug")
    status_parser = sub.add_parser(
        "cluster-status",
        help="a cluster's members (role, lag, timeline, pending restart) and slots",
    )
    status_parser.add_argument("inventory", type=Path, help="inventories/<env>.yml")
    status_parser.add_argument(
        "--cluster", default="main", help="main, or a dedicated tenant cluster's name"
    )
    status_parser.add_argument("--json", action="store_true", help="one JSON document")
    switch_parser = sub.add_parser(
        "switchover", help="hand a cluster's leader role to another member"
    )
    switch_parser.add_argument("inventory", type=Path, help="inventories/<env>.yml")
    switch_parser.add_argument(
        "--cluster", default="main", help="main, or a dedicated tenant cluster's name"
    )
    switch_parser.add_argument("--to", help="the member to lead; default: the synchronous standby")
    switch_parser.epilog = "Other options (e.g. -v) are passed on to pyinfra."
    args, passed_on = parser.parse_known_args(argv)

    if args.job == "cluster-status":
        if passed_on:
            parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
        return cluster_status(args.inventory, args.json, args.cluster)
    if args.job == "switchover":
        return switchover(args.inventory, args.cluster, args.to, passed_on)

    if args.job == "tenant-erasure-horizon":
        if passed_on:
            parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
        return tenant_erasure_horizon(args.inventory, args.slug)
    if args.job == "tenant-export":
        return tenant_export(args.inventory, args.slug, args.out, args.at, passed_on)
    if args.job == "tenant-import":
        return tenant_import(args.inventory, args.slug, args.source, passed_on)
    if args.job == "restore":
        return restore_cluster(args.inventory, args.cluster, args.at, passed_on)
    if args.job == "restore-drill":
        return restore_drill(args.inventory, args.cluster, args.at, passed_on)
    if args.job == "app-env":
        if passed_on:
            parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
        return app_env(args.inventory)
    if args.job in DEPLOY_JOBS:
        deploy = "clean.py" if args.job == "clean" else "deploy.py"
        return _pyinfra(args.inventory, deploy, passed_on)
    if passed_on:
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
    if args.inventory is not None and args.dsn:
        parser.error("give an inventory or --dsn, not both")
    if args.inventory is not None:
        return estate_job(args.inventory, args.job, args.json)
    if args.json:
        parser.error("--json needs an inventory")
    dsn = args.dsn or os.environ.get("DATABASE_URL")
    if not dsn:
        print("error: give an inventory, --dsn, or set DATABASE_URL", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(dsn, connect_timeout=10, autocommit=True) as conn:
            return READ_JOBS[args.job](conn)
    except psycopg.Error as error:
        print(f"error: {type(error).__name__}: {error}".rstrip(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
