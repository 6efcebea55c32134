"""WAL archiving and backups with pgBackRest on a host (DESIGN.md decision 7): the TLS server
each host runs when the repository is on the backup host; on a database host, its cluster's
stanza, created and checked; on the repository's host, each stanza's first full backup and the
freshness of its last backup (the schedule takes the backups from there)."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

from pyinfra import host
from pyinfra.api import OperationError, StringCommand, operation

from adxdb.plan.backups import (
    INFO_FAILED,
    MISSING_STANZA_CODES,
    NO_VALID_BACKUP,
    OTHER_ERROR,
    STANZA_OK,
    archive_gap,
    freshness_problem,
    segment_name,
    stanza_problem,
    when,
)
from adxdb.plan.drill import drill_health
from operations import fact_memo
from operations.facts import (
    MISSING_STANZA,
    ArchivedSegments,
    PgBackRestRepository,
    PgBackRestServer,
    PgBackRestState,
    PgClusters,
    RestoreDrillResults,
)
from operations.ha import on_standby
from operations.scripts import inline_script

logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI


def _pgbackrest(stanza: str, *args: str) -> StringCommand:
    return StringCommand(
        "runuser", "-u", "postgres", "--", "pgbackrest", f"--stanza={stanza}", *args
    )


@operation()
def tls_server(port: int, files: list[str]) -> Generator[Any, None, None]:
    """
    Run pgBackRest's TLS server, restarted when a file it reads at start (configuration,
    certificates) changed since its last start.

    + port: the server's port (`backups.tls_port`)
    + files: the files it reads at start

    **Example:**

    .. code:: python

        tls_server(name="pgBackRest TLS server", port=8432,
                   files=["/etc/pgbackrest/pgbackrest.conf"])
    """
    state = fact_memo.read(PgBackRestServer, port=port, files=files)
    if state["running"] and not state["stale"]:
        host.noop("pgBackRest's TLS server runs with its current files")
        return
    yield inline_script("pgbackrest_server.sh", "start", str(int(port)))


@operation()
def stanza(
    stanza: str,
    port: int,
    local_repository: bool,
    max_age: str,
    max_age_seconds: int,
    leader_only: bool = False,
) -> Generator[Any, None, None]:
    """
    Make the cluster's pgBackRest stanza and check that WAL archiving reaches it; with a
    repository on this host (`local`), take a first full backup and check the last one's age.
    Later runs only read that it is there.

    + stanza: the cluster's stanza
    + port: the cluster's port
    + local_repository: the repository is on this host (else on the backup host, which takes
      the backups)
    + max_age, max_age_seconds: `backups.max_age` (local repository only)

    While `archive_mode` is still off (a restart pending under `restart_policy: never`), this
    waits and says so: stanza-create and check would fail without archiving.
    + leader_only: an HA member: run only where the server is the leader (found now)

    **Example:**

    .. code:: python

        stanza(name="pgBackRest stanza", stanza="adx", port=5432, local_repository=False,
               max_age="26h", max_age_seconds=93600)
    """
    if leader_only and on_standby(port):
        host.noop("stanza: written on the leader")
        return
    state = fact_memo.read(PgBackRestState, stanza=stanza, port=port)
    if state is None:
        raise OperationError(
            f"cannot read pgBackRest stanza {stanza}: no server on port {port}, or pgbackrest "
            "is not installed"
        )
    if state["archive_mode"] != "on":
        logger.warning(
            "%sWAL archiving waits for the restart that turns archive_mode on", host.print_prefix
        )
        host.noop(f"stanza {stanza} waits for archive_mode = on")
        return
    code, message = state["status"]["code"], state["status"]["message"]
    if code in (INFO_FAILED, OTHER_ERROR):
        raise OperationError(
            f"stanza {stanza}: pgbackrest info cannot read the repository: {message}"
        )
    if code == STANZA_OK and state["backups"]:
        if local_repository:
            problem = freshness_problem(stanza, state, state["now"], max_age, max_age_seconds)
            if problem is not None:
                raise OperationError(problem)
        host.noop(f"stanza {stanza} holds {state['backups']} backup(s)")
        return
    if code in MISSING_STANZA_CODES:
        yield _pgbackrest(stanza, "stanza-create")
    elif code not in (NO_VALID_BACKUP, STANZA_OK):
        raise OperationError(
            f"stanza {stanza}: pgBackRest reports status {code} ({message}): see "
            "/var/log/pgbackrest and `pgbackrest info` on the host"
        )
    yield _pgbackrest(stanza, "check")
    if local_repository:
        yield _pgbackrest(stanza, "--type=full", "backup")


@operation()
def repository(
    stanzas: list[str],
    max_age: str,
    max_age_seconds: int,
    drill_max_age: str = "8d",
    repo_path: str = "/var/lib/pgbackrest",
) -> Generator[Any, None, None]:
    """
    On the backup host: take the first full backup of each stanza that has none, then fail,
    naming each stanza, when one is not ok or its last backup is older than `max_age`. Each
    stanza's last verified restore (`adxdb restore-drill`) is shown, with a warning when it
    is older than `drill_max_age`, there is none, or the last drill failed (`--dry` shows it).

    + stanzas: every cluster's stanza (none on a database host: a no-op there)
    + max_age, max_age_seconds: `backups.max_age`
    + drill_max_age: `backups.drill_max_age`
    + repo_path: the repository, whose archive must be whole after each stanza's last backup:
      WAL written while archiving was off leaves a gap no restore crosses, so a new full
      backup is taken (and said) when there is one

    **Example:**

    .. code:: python

        repository(name="Backups", stanzas=["adx", "tenant1"], max_age="26h",
                   max_age_seconds=93600, drill_max_age="8d")
    """
    if not stanzas:
        host.noop("the repository is on the backup host")
        return
    drills = fact_memo.read(RestoreDrillResults)
    for check, status, detail in drill_health(
        stanzas, drill_max_age, drills["now"], drills["results"]
    ):
        log = logger.info if status == "ok" else logger.warning
        log("%s%s %s: %s", host.print_prefix, check, status, detail)
    repo = fact_memo.read(PgBackRestRepository)
    segments = fact_memo.read(ArchivedSegments, repo_path=repo_path)
    found: dict[str, Any] = repo["stanzas"]
    problems: list[str] = []
    fresh: list[str] = []
    for name in stanzas:
        entry = found.get(name) or found.get("") or dict(MISSING_STANZA)
        if entry["status"]["code"] == NO_VALID_BACKUP:
            yield _pgbackrest(name, "--type=full", "backup")
            continue
        problem = stanza_problem(name, entry, repo["now"], max_age, max_age_seconds)
        if problem is not None:
            problems.append(problem)
            continue
        gap = archive_gap(segments.get(name, []), str(entry["last_backup"].get("wal_start") or ""))
        if gap is not None:
            logger.warning(
                "%sstanza %s: WAL %s to %s was never archived (archiving was off): no restore "
                "crosses it, a new full backup is taken",
                host.print_prefix, name, segment_name(gap[0]), segment_name(gap[1]),
            )  # fmt: skip
            yield _pgbackrest(name, "--type=full", "backup")
            continue
        fresh.append(f"{name} ({entry['backups']})")
    if problems:
        raise OperationError("\n".join(problems))
    if len(fresh) == len(stanzas):
        host.noop(f"backups are fresh: {', '.join(fresh)}")


@operation()
def restore_drill(
    stanza: str,
    target: str,
    target_epoch: int | None,
    databases: list[str],
    repo_path: str,
    version: int,
    drill_dir: str,
) -> Generator[Any, None, None]:
    """
    Restore `stanza` into a scratch instance on this host (the repository's), verify it and
    record the result (`operations/files/restore_drill.sh`). Refused before anything is
    restored when the stanza holds no backup, or the target is before its oldest backup or
    after this host's clock.

    + stanza: the cluster's stanza
    + target: "latest" or a UTC time as pgBackRest reads it; target_epoch: the same in seconds
    + databases: the databases to verify (their SQL uploaded under `drill_dir`/verify/stanza)
    + repo_path, version: the repository's path, PostgreSQL's major version

    **Example:**

    .. code:: python

        restore_drill(name="Restore drill of adx", stanza="adx", target="latest",
                      target_epoch=None, databases=["adx_core"], repo_path="/var/lib/pgbackrest",
                      version=15, drill_dir="/var/lib/adx-drill")
    """
    check_restorable(stanza, target, target_epoch)
    yield inline_script(
        "restore_drill.sh", stanza, target, repo_path, str(int(version)), drill_dir, *databases
    )


def check_restorable(stanza: str, target: str, target_epoch: int | None) -> None:
    """On the repository's host: refuse (OperationError) a restore of `stanza` when it holds
    no backup, or `target` is before its oldest backup or after this host's clock."""
    repo = fact_memo.read(PgBackRestRepository)
    entry = repo["stanzas"].get(stanza) or repo["stanzas"].get("") or dict(MISSING_STANZA)
    code, message = entry["status"]["code"], entry["status"]["message"]
    if code != STANZA_OK or entry.get("first_backup") is None:
        raise OperationError(
            f"restore-drill: stanza {stanza} has nothing to restore: pgBackRest reports status "
            f"{code} ({message})"
        )
    if target_epoch is not None:
        first = entry["first_backup"]
        if target_epoch < int(first["stop"]):
            raise OperationError(
                f"--at {target}: before the oldest backup of stanza {stanza} ({first['label']}, "
                f"finished {when(int(first['stop']))}): no backup holds that point in time"
            )
        if target_epoch > int(repo["now"]):
            raise OperationError(
                f"--at {target}: later than the repository host's clock ({when(int(repo['now']))})"
            )


def scratch_restore(
    keep: bool, stanza: str, target: str, repo_path: str, version: int, drill_dir: str
) -> StringCommand:
    """Restore `stanza` to `target` into a scratch instance kept running (`keep`), or stop and
    remove it: the point-in-time copy a tenant export reads."""
    return inline_script(
        "restore_drill.sh", "--keep" if keep else "--remove", stanza, target, repo_path,
        str(int(version)), drill_dir,
    )  # fmt: skip


@operation()
def restore_cluster(
    stanza: str,
    target: str,
    target_epoch: int | None,
    version: int,
    cluster: str,
    port: int,
) -> Generator[Any, None, None]:
    """
    Restore a lost cluster onto this fresh host from its stanza on the backup host and adopt
    the restored data folder as the Debian cluster (`operations/files/restore_cluster.sh`);
    refused when the cluster exists here (read now, and again on the host), its data folder
    holds anything, or the target is before the stanza's oldest backup.

    + stanza: the cluster's stanza
    + target: "latest" or a UTC time as pgBackRest reads it; target_epoch: the same in seconds
    + version, cluster, port: the cluster the inventory declares

    **Example:**

    .. code:: python

        restore_cluster(name="Restore cluster 15/main", stanza="adx", target="latest",
                        target_epoch=None, version=15, cluster="main", port=5432)
    """
    existing = fact_memo.read(PgClusters).get(f"{version}/{cluster}")
    if existing is not None:
        state = "running" if existing["running"] else "stopped"
        raise OperationError(
            f"restore {stanza}: refused: cluster {version}/{cluster} exists on {host.name} "
            f"({state}): a cluster is restored onto a fresh host only; nothing was changed"
        )
    yield inline_script(
        "restore_cluster.sh", "restore", stanza, target,
        str(int(target_epoch or 0)), str(int(version)), cluster, str(int(port)),
    )  # fmt: skip


@operation(is_idempotent=False)
def restored_cluster_started(
    stanza: str, version: int, cluster: str, port: int
) -> Generator[Any, None, None]:
    """
    Start the restored cluster and wait until its recovery ends and it is promoted.

    + stanza: the cluster's stanza (named in the progress lines)
    + version, cluster, port: the cluster

    **Example:**

    .. code:: python

        restored_cluster_started(name="Restored cluster started", stanza="adx", version=15,
                                 cluster="main", port=5432)
    """
    yield inline_script(
        "restore_cluster.sh", "start", stanza, str(int(version)), cluster, str(int(port))
    )
