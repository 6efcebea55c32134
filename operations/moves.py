"""Tenant moves on the primary (DESIGN.md decision 10): the registry fact against the
inventory, then per move the tables fact, the rendered scripts uploaded to a root-only folder,
and the move runner (`operations/files/tenant_move.sh`) run once."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pyinfra import host, state
from pyinfra.api import OperationError, QuoteString, StringCommand, operation

from adxdb.contract import MAIN_DATABASE
from adxdb.errors import MoveRefused
from adxdb.inventory.model import MoveSettings
from adxdb.inventory.types import duration_milliseconds
from adxdb.plan import move_catch_up, move_scripts
from adxdb.plan import moves as tenant_moves_plan
from adxdb.plan.tenants import RegistryRow
from operations import fact_memo
from operations.facts import PgTenantRegistry, PgTenantTables, require
from operations.ha import on_standby
from operations.psql import PRIVATE_DIR
from operations.uploads import upload

logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI
# The move runner, shipped with the package (`operations/files/` is package data).
RUNNER = Path(__file__).parent / "files" / "tenant_move.sh"
# On the primary: the runner's lock, check and receipt files, and a remote target's pgpass.
MOVE_WORK_DIR = "/var/lib/postgresql/adx-moves"


@operation()
def tenant_moves(
    rows: Sequence[RegistryRow],
    stream_versions: Sequence[tuple[str, int]],
    primary_address: str,
    port: int,
    ca_file: str,
    mover: str,
    mover_password: SecretStr,
    lock_timeout: str,
    settings: MoveSettings | None = None,
    hosts: Mapping[str, str] | None = None,
    leader_only: bool = False,
) -> Generator[Any, None, None]:
    """
    Move every tenant whose declared isolation level or location differs from the registry's:
    copy its rows to the new location, verify them, then switch the registry and delete the
    old rows (see `adxdb.plan.moves`). Runs on the primary, where the registry and the `rls`
    and `schema` tenants' rows live, before the registry operation.

    + rows: the registry rows the inventory declares
    + stream_versions: (stream, version) of every migration file: the new location must have
      them all before anything is copied into it
    + primary_address: the primary's address (a location there is copied locally)
    + port: the cluster's port (the same on every host of the environment)
    + ca_file: the CA the primary verifies a remote target's certificate with
    + mover: the login role that writes the copy into a remote target (`adx_migrator`)
    + mover_password: its password, uploaded in a pgpass file, never in a command line
    + lock_timeout: how long the freeze and the switch wait for the tenant's route lock
    + settings: the inventory's `moves` (freeze, catch-up passes, start wait)
    + hosts: address -> name of every host of the inventory (an old location on another host
      is read there; a registered address no host has is a re-addressed host, or refused)
    + leader_only: an HA member: run only where the server is the leader (found now)

    **Example:**

    .. code:: python

        tenant_moves(name="Tenant moves", rows=registry_rows(env),
                     stream_versions=[("shared", 1), ("tenant", 1)],
                     primary_address="10.0.0.1", port=5432, ca_file=".../ca.crt",
                     mover="adx_migrator", mover_password=SecretStr("..."), lock_timeout="10s")
    """
    if leader_only and on_standby(port):
        host.noop("tenant moves: written on the leader")
        return
    current = require(fact_memo.read(PgTenantRegistry, port=port), "the tenants registry", port)
    try:
        planned = tenant_moves_plan.plan_moves(list(rows), current, primary_address, hosts)
    except MoveRefused as refused:
        raise OperationError(str(refused)) from None
    unfences = tenant_moves_plan.plan_unfences(list(rows), current, primary_address)
    tidies = tenant_moves_plan.plan_tidies(list(rows), current, primary_address)
    if not planned and not unfences and not tidies:
        host.noop("every tenant is at its declared isolation level")
        return
    for move in planned:  # before any yield: --dry reads only up to the first
        logger.warning("%s%s", host.print_prefix, move.describe())
    for move in unfences:
        logger.warning(
            "%stenant %s: its move switched; the fence at %s is still to be lifted",
            host.print_prefix,
            move.slug,
            move.describe_target(),
        )
    for tidy in tidies:
        logger.warning(
            "%stenant %s: tidying what a move left (capture: %s, freeze lifted: %s, rows "
            "deleted at: %s)",
            host.print_prefix,
            tidy.slug,
            "stopped" if tidy.capturing else "none",
            tidy.fenced_here or "-",
            ", ".join(tidy.old_rows) or "-",
        )
    access = _MoverAccess(port, ca_file, mover, mover_password)
    for tidy in tidies:
        old_tables = {
            schema: tenant_moves_plan.tenant_tables_of(
                require(
                    fact_memo.read(
                        PgTenantTables, port=port, database=MAIN_DATABASE, schema=schema
                    ),
                    f"the tables of {MAIN_DATABASE}.{schema}",
                    port,
                )
            )
            for schema in tidy.old_rows
        }
        yield from _tidy_commands(tidy, move_catch_up.render_tidy(tidy, old_tables), access)
    for move in unfences:
        yield from _runner_commands(move, {}, {"--mode": "unfence"}, access)
    for move in planned:
        if move.readdress:
            yield from _readdress_commands(move, access, lock_timeout)
            continue
        # The old location's tables, read where it is (the primary, or its own host).
        where = host if move.source_host is None else inventory_host(move.source_host)
        found = require(
            where.get_fact(
                PgTenantTables, port=port, database=move.source.database, schema=move.source.schema
            ),
            f"the tables of {move.describe_source()}",
            port,
        )
        try:
            tables = tenant_moves_plan.tables_to_move(move, found)
        except MoveRefused as refused:
            raise OperationError(str(refused)) from None
        yield from _move_commands(
            move, tables, access, lock_timeout, stream_versions, settings or MoveSettings()
        )


def inventory_host(name: str) -> Any:
    """The pyinfra host of the inventory named `name` (facts are read there over its SSH)."""
    return state.inventory.get_host(name)


@dataclass(frozen=True)
class _MoverAccess:
    """How the primary reaches a move's target: port, CA, login role and its password."""

    port: int
    ca_file: str
    mover: str
    mover_password: SecretStr


def _move_commands(
    move: tenant_moves_plan.Move,
    tables: tenant_moves_plan.MoveTables,
    access: _MoverAccess,
    lock_timeout: str,
    stream_versions: Sequence[tuple[str, int]],
    settings: MoveSettings,
) -> Generator[Any, None, None]:
    export = move_scripts.render_export(
        move,
        tables.ordered,
        lock_timeout,
        self_referencing=tables.self_referencing,
        tree_keys=tables.tree_keys,
        migrations=stream_versions,
    )
    freeze = duration_milliseconds(settings.freeze) / 1000
    scripts = {
        "state": move_scripts.registry_state_query(move),
        "capture": move_scripts.render_capture_start(
            move, duration_milliseconds(settings.start_wait) / 1000
        ),
        "export": export,
        "catch-up": move_scripts.render_catch_up(move, tables, lock_timeout),
        "done": move_catch_up.render_catch_up_done(move, f"{MOVE_WORK_DIR}/{move.slug}.done"),
        "freeze": move_scripts.render_freeze(move, lock_timeout, freeze),
        "final": move_scripts.render_catch_up(move, tables, lock_timeout, final=True),
        "switch": move_scripts.render_switch(move, tables.ordered, lock_timeout),
        "unfreeze": move_catch_up.render_unfreeze(move),
        "cleanup": move_catch_up.render_delete_old_rows(move, tables.ordered),
    }
    if not move.source.in_registry_database:
        scripts["moved"] = move_scripts.render_moved(move)
    vacuum = move_scripts.render_vacuum(move, tables.ordered)
    if vacuum is not None:
        scripts["vacuum"] = vacuum
    passes = {
        "--catch-up-passes": str(settings.catch_up_passes),
        "--catch-up-rows": str(settings.catch_up_rows),
    }
    yield from _runner_commands(move, scripts, passes, access)


def _tidy_commands(
    tidy: tenant_moves_plan.Tidy, script: str, access: _MoverAccess
) -> Generator[Any, None, None]:
    """Run the runner in tidy mode (under the tenant's move lock) with its one script."""
    folder = f"{PRIVATE_DIR}/move-{tidy.slug}-{secrets.token_hex(4)}"
    prefix = f"{folder}/{tidy.slug}"
    uploads = {f"{prefix}.tidy.sql": script, f"{prefix}.sh": RUNNER.read_text(encoding="utf-8")}
    arguments = {
        "--slug": tidy.slug,
        "--work-dir": MOVE_WORK_DIR,
        "--port": str(int(access.port)),
        "--database": MAIN_DATABASE,
        "--target-database": MAIN_DATABASE,
        "--mode": "tidy",
        "--tidy-sql": f"{prefix}.tidy.sql",
    }
    yield from _run_uploaded(folder, f"{prefix}.sh", uploads, arguments)


def _readdress_commands(
    move: tenant_moves_plan.Move, access: _MoverAccess, lock_timeout: str
) -> Generator[Any, None, None]:
    """Re-address a tenant's database: check it at the new address, then switch the registry."""
    scripts = {
        "state": move_scripts.registry_state_query(move),
        "readdress-check": move_scripts.render_readdress_check(move),
        "identity": move_scripts.render_identity(),
        "switch": move_scripts.render_readdress(move, lock_timeout),
    }
    yield from _runner_commands(move, scripts, {"--mode": "readdress"}, access)


def _runner_commands(
    move: tenant_moves_plan.Move,
    scripts: dict[str, str],
    extra: dict[str, str],
    access: _MoverAccess,
) -> Generator[Any, None, None]:
    """Upload the runner, the move's `scripts` (name -> psql text, each given as `--NAME-sql`)
    and, for a location on another host, the pgpass file; for a new location outside the main
    database, its unfence scripts; run it; remove the uploads."""
    # A folder per run, locked while the runner uses it: the leftovers clean-up of a
    # concurrent deploy never removes it.
    folder = f"{PRIVATE_DIR}/move-{move.slug}-{secrets.token_hex(4)}"
    prefix = f"{folder}/{move.slug}"
    uploads = {f"{prefix}.{name}.sql": text for name, text in scripts.items()}
    arguments = {
        "--slug": move.slug,
        "--work-dir": MOVE_WORK_DIR,
        "--port": str(int(access.port)),
        "--database": MAIN_DATABASE,
        **{f"--{name}-sql": f"{prefix}.{name}.sql" for name in scripts},
        "--target-database": move.target.database,
        "--source-database": move.source.database,
        **extra,
    }
    if not move.target.in_registry_database and not move.readdress:
        uploads[f"{prefix}.unfence.sql"] = move_scripts.render_unfence(move)
        uploads[f"{prefix}.unfenced.sql"] = move_scripts.render_unfenced(move)
        arguments |= {
            "--unfence-sql": f"{prefix}.unfence.sql",
            "--unfenced-sql": f"{prefix}.unfenced.sql",
        }
    # A re-address only asks the old address which database answers there, if any does.
    sides = [("target", move.target), ("old" if move.readdress else "source", move.source)]
    remote = [(side, loc) for side, loc in sides if loc.address is not None]
    if remote:
        # The password travels in this file only, never in an argument.
        password = access.mover_password.get_secret_value()
        # One line per address: a dedicated cluster's location lists each member.
        uploads[f"{prefix}.pgpass"] = "".join(
            move_scripts.pgpass_line(address, access.port, database, access.mover, password)
            for address, database in dict.fromkeys(
                (address, loc.database)
                for _, loc in remote
                for address in tenant_moves_plan.addresses(loc)
            )
        )
        arguments |= {
            **{f"--{side}-host": str(loc.address) for side, loc in remote},
            "--mover-port": str(int(access.port)),
            "--mover": access.mover,
            "--ca-file": access.ca_file,
            "--pgpass": f"{prefix}.pgpass",
        }
    runner = f"{prefix}.sh"
    uploads[runner] = RUNNER.read_text(encoding="utf-8")
    yield from _run_uploaded(folder, runner, uploads, arguments)


def _run_uploaded(
    folder: str, runner: str, uploads: dict[str, str], arguments: dict[str, str]
) -> Generator[Any, None, None]:
    """Upload into `folder`, run the runner there (the folder locked meanwhile), remove it."""
    for directory in (PRIVATE_DIR, folder):
        yield StringCommand("install", "-d", "-m", "0700", "-o", "root", "-g", "root", directory)
    for path, text in uploads.items():
        yield upload(text, path)
    options = [part for option, value in arguments.items() for part in (option, QuoteString(value))]
    yield StringCommand(
        "flock",
        "-s",
        QuoteString(folder),
        "bash",
        QuoteString(runner),
        *options,
        ";",
        "status=$?;",
        "rm",
        "-rf",
        QuoteString(folder),
        ";",
        "exit",
        "$status",
    )
