"""The migration engine on a host: one ledger fact per database, one psql session applying
every pending file of every target of that database, under a session-level advisory lock."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from pyinfra import host
from pyinfra.api import FunctionCommand, OperationError, StringCommand, operation

from adxdb.errors import MigrationError
from adxdb.inventory.migration_files import MigrationFile
from adxdb.plan import migration_scripts as scripts
from adxdb.plan import migrations as engine
from operations import fact_memo
from operations.facts import PgMigrationLedger, require
from operations.ha import on_standby
from operations.psql import run_sql_script
from operations.uploads import upload

# Migration files are not secret: readable by postgres, which includes them with \\i.
MIGRATIONS_DIR = "/var/lib/adx-migrations"
logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI
# Targets (schemas) migrated per psql session: progress is reported after each session.
TARGETS_PER_RUN = 100

SEED_VERSIONS = {"development": 1, "test": 2}


def _ledger(port: int, database: str) -> dict[str, Any]:
    return require(
        fact_memo.read(PgMigrationLedger, port=port, database=database),
        f"the ledger of {database}",
        port,
    )


def _unfenced(state: Mapping[str, Any], targets: Sequence[engine.Target]) -> list[str]:
    """The tenant-stream target schemas of a migrated database that lack write fences."""
    tenant_schemas = [t.schema for t in targets if "tenant" in t.streams]
    if not (state.get("fences", False) and state.get("captures", False)):
        return tenant_schemas
    return [s for s in tenant_schemas if s in set(state.get("unfenced", []))]


@operation()
def migrations(
    targets: Mapping[str, Sequence[engine.Target]],
    files: Sequence[MigrationFile],
    owner: str,
    readers: Sequence[str],
    timeouts: engine.Timeouts,
    applied_by: str,
    port: int,
    leader_only: bool = False,
) -> Generator[Any, None, None]:
    """
    Apply every pending migration to each target of each database on the host.

    + targets: database -> its schemas and the streams each receives (from the model)
    + files: the migration files of both streams
    + owner: the role that owns every migrated object (`SET ROLE`)
    + readers: roles that may read the ledger
    + timeouts: `lock_timeout` and `statement_timeout` for every migration
    + applied_by: who runs the deploy, recorded in the ledger
    + port: the cluster's port

    One ledger fact and, when something is pending, one psql session per database. Every
    database is planned before anything runs: a file changed after it was applied (or missing
    while a ledger records it) stops the operation with the file, the target and both
    checksums, and nothing is applied.
    + leader_only: an HA member: run only where the server is the leader (found now)

    **Example:**

    .. code:: python

        migrations(name="Migrations", targets={"adx_core": [Target(...)]}, files=discover(),
                   owner="adx_owner", readers=["adx_migrator"], timeouts=Timeouts(),
                   applied_by="ops@laptop", port=5432)
    """
    if leader_only and on_standby(port):
        host.noop("migrations: written on the leader")
        return
    plans: dict[str, list[engine.Step]] = {}
    unfenced: dict[str, list[str]] = {}
    problems: list[str] = []
    for database, database_targets in targets.items():
        state = _ledger(port, database)
        if state.get("ledger"):
            unfenced[database] = _unfenced(state, database_targets)
        try:
            plans[database] = engine.plan(
                files, database_targets, state["ledger"], state.get("invalid_indexes", [])
            )
        except MigrationError as error:
            problems += error.problems
    if problems:
        raise OperationError("migrations refused:\n" + "\n".join(problems))
    pending = {database: steps for database, steps in plans.items() if steps}
    fences = {db: schemas for db, schemas in unfenced.items() if schemas and db not in pending}
    for database, schemas in fences.items():  # migrated before the deploy made fences
        script = scripts.render_fences(readers, schemas)
        yield from run_sql_script(port, database, script, f"fences-{database}")
    if not pending:
        if not fences:
            host.noop(f"migrations are applied in {', '.join(targets)}")
        return
    # Each needed file goes to the host once; the per-database scripts include it (\\i), so
    # their size grows with the number of targets, not targets x file size.
    for steps in pending.values():  # before any yield: --dry only reads up to the first one
        for line in engine.describe(steps):
            logger.info("%spending migration %s", host.print_prefix, line)
    needed = {s.migration.checksum: s.migration for steps in pending.values() for s in steps}
    # A folder per run: a concurrent deploy's clean-up never removes a file this run includes.
    run_dir = f"{MIGRATIONS_DIR}/run-{secrets.token_hex(4)}"
    paths = {c: f"{run_dir}/{engine.host_file_name(m)}" for c, m in needed.items()}
    yield StringCommand("install", "-d", "-m", "0755", "-o", "root", "-g", "root", run_dir)
    for checksum, migration in needed.items():
        yield upload(migration.text, paths[checksum])
    for database, steps in pending.items():
        chunks = target_chunks(steps)
        for number, chunk in enumerate(chunks, start=1):
            script = scripts.render_script(chunk, owner, readers, timeouts, applied_by, paths)
            if number == len(chunks):
                fenced = unfenced.get(database, [])
                script += "".join(scripts.tenant_fence(schema) for schema in fenced)
            *prepare, run = run_sql_script(port, database, script, f"migrate-{database}", run_dir)
            yield from prepare
            # A failed migration stops the operation here: its run folder goes with it.
            yield StringCommand(
                run, "||", "{", "status=$?;", "rm", "-rf", run_dir, ";", "exit", "$status;", "}"
            )
            if len(chunks) > 1:
                done = sum(len({s.target for s in c}) for c in chunks[:number])
                total = sum(len({s.target for s in c}) for c in chunks)
                yield FunctionCommand(_progress, (database, done, total), {})
    yield StringCommand("rm", "-rf", run_dir)


def target_chunks(steps: Sequence[engine.Step]) -> list[list[engine.Step]]:
    """The steps of one database in runs of `TARGETS_PER_RUN` targets (schemas), in order:
    a first converge of many tenants reports its progress after each run."""
    chunks: list[list[engine.Step]] = []
    targets: list[engine.Target] = []
    for step in steps:
        if step.target not in targets:
            targets.append(step.target)
            if (len(targets) - 1) % TARGETS_PER_RUN == 0:
                chunks.append([])
        chunks[-1].append(step)
    return chunks


def _progress(state: Any, host: Any, database: str, done: int, total: int) -> bool:
    """Said as the run goes (pyinfra calls it with its state and the host)."""
    logger.info("%smigrations of %s: %d/%d targets done", host.print_prefix, database, done, total)
    return True


@operation()
def seed(
    database: str, seed_name: str, text: str, applied_by: str, port: int, leader_only: bool = False
) -> Generator[Any, None, None]:
    """
    Load a seed data set into a database once per content: a changed seed runs again (seeds are
    written to be re-runnable without duplicates), an unchanged one does nothing.

    + database: the database to seed
    + seed_name: `development` or `test`
    + text: the seed's SQL
    + applied_by: who runs the deploy, recorded in the ledger
    + port: the cluster's port
    + leader_only: an HA member: run only where the server is the leader (found now)

    **Example:**

    .. code:: python

        seed(name="Seed development", database="adx_core", seed_name="development",
             text=sqlfiles.load("seeds/development"), applied_by="ops@laptop", port=5432)
    """
    if leader_only and on_standby(port):
        host.noop("seed: written on the leader")
        return
    if seed_name not in SEED_VERSIONS:
        raise OperationError(f"unknown seed {seed_name!r}: use one of {sorted(SEED_VERSIONS)}")
    seed_file = MigrationFile("shared", SEED_VERSIONS[seed_name], seed_name, text)
    state = _ledger(port, database)
    done = any(
        row["stream"] == "seed"
        and row["version"] == seed_file.version
        and row["checksum"] == seed_file.checksum
        for row in state["ledger"]
    )
    if done:
        host.noop(f"seed {seed_name} is loaded in {database}")
        return
    script = scripts.render_seed(seed_file, applied_by)
    yield from run_sql_script(port, database, script, f"seed-{database}")


@operation()
def test_data(
    database: str, clean_text: str, port: int, present: bool = False
) -> Generator[Any, None, None]:
    """
    Remove the test seed's data (the `adxdb clean` job) and its ledger row, in one transaction,
    so that a deploy of an environment with `seed: test` loads it afresh.

    + database: the database to clean
    + clean_text: the SQL that deletes the test tenants and their rows
    + port: the cluster's port
    + present: only `False` (removal) is supported; the seed operation loads test data

    **Example:**

    .. code:: python

        test_data(name="Clean test data", database="adx_core",
                  clean_text=sqlfiles.load("seeds/clean_test"), port=5432)
    """
    if present:
        raise OperationError("test_data(present=True): load test data with seed(seed_name='test')")
    _ledger(port, database)  # the server answers
    script = scripts.render_test_data_removal(clean_text, SEED_VERSIONS["test"])
    yield from run_sql_script(port, database, script, f"clean-{database}")
