"""WAL archiving and backups with pgBackRest on a host (DESIGN.md decision 7): the TLS server
each host runs when the repository is on the backup host; on a database host, its cluster's
stanza, created and checked; on the repository's host, each stanza's first full backup and the
freshness of its last backup (the schedule takes the backups from there)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Generator
from typing import Any

from pyinfra import host
from pyinfra.api import OperationError, StringCommand, operation

from operations.facts import (
    INFO_FAILED,
    MISSING_STANZA,
    OTHER_ERROR,
    PgBackRestRepository,
    PgBackRestServer,
    PgBackRestState,
)
from operations.scripts import inline_script

logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI

# pgBackRest's `info` status codes (doc: command reference, info).
STANZA_OK = 0
MISSING_STANZA_CODES = (1, 3)  # no stanza path / no stanza data: stanza-create
NO_VALID_BACKUP = 2


def _pgbackrest(stanza: str, *args: str) -> StringCommand:
    return StringCommand(
        "runuser", "-u", "postgres", "--", "pgbackrest", f"--stanza={stanza}", *args
    )


def _when(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def freshness_problem(
    stanza: str, entry: dict[str, Any], now: int, max_age: str, seconds: int
) -> str | None:
    """Why a stanza with backups is not fresh (its last backup older than `max_age`), or None."""
    last = entry.get("last_backup")
    if last is None:
        return f"stanza {stanza}: holds no backup"
    age = now - int(last["stop"])
    if age <= seconds:
        return None
    return (
        f"stanza {stanza}: its last backup ({last['label']}, {last['type']}) finished at "
        f"{_when(int(last['stop']))}, {age // 3600} h {age % 3600 // 60} min ago, older than "
        f"backups.max_age {max_age}: see the schedule (/etc/cron.d/adx-pgbackrest) and "
        "/var/log/pgbackrest on the backup host"
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
    state = host.get_fact(PgBackRestServer, port=port, files=files)
    if state["running"] and not state["stale"]:
        host.noop("pgBackRest's TLS server runs with its current files")
        return
    yield inline_script("pgbackrest_server.sh", "start", str(int(port)))


@operation()
def stanza(
    stanza: str, port: int, local_repository: bool, max_age: str, max_age_seconds: int
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

    **Example:**

    .. code:: python

        stanza(name="pgBackRest stanza", stanza="adx", port=5432, local_repository=False,
               max_age="26h", max_age_seconds=93600)
    """
    state = host.get_fact(PgBackRestState, stanza=stanza, port=port)
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
    stanzas: list[str], max_age: str, max_age_seconds: int
) -> Generator[Any, None, None]:
    """
    On the backup host: take the first full backup of each stanza that has none, then fail,
    naming each stanza, when one is not ok or its last backup is older than `max_age`.

    + stanzas: every cluster's stanza (none on a database host: a no-op there)
    + max_age, max_age_seconds: `backups.max_age`

    **Example:**

    .. code:: python

        repository(name="Backups", stanzas=["adx", "tenant1"], max_age="26h",
                   max_age_seconds=93600)
    """
    if not stanzas:
        host.noop("the repository is on the backup host")
        return
    repo = host.get_fact(PgBackRestRepository)
    found: dict[str, Any] = repo["stanzas"]
    problems: list[str] = []
    fresh: list[str] = []
    for name in stanzas:
        entry = found.get(name) or found.get("") or dict(MISSING_STANZA)
        code, message = entry["status"]["code"], entry["status"]["message"]
        if code == NO_VALID_BACKUP:
            yield _pgbackrest(name, "--type=full", "backup")
        elif code == STANZA_OK:
            problem = freshness_problem(name, entry, repo["now"], max_age, max_age_seconds)
            if problem is None:
                fresh.append(f"{name} ({entry['backups']})")
            else:
                problems.append(problem)
        elif code in MISSING_STANZA_CODES:
            problems.append(
                f"stanza {name}: does not exist: its cluster's deploy creates it once "
                "archive_mode is on (is a restart pending?)"
            )
        elif code in (INFO_FAILED, OTHER_ERROR):
            problems.append(f"stanza {name}: pgbackrest info cannot read it: {message}")
        else:
            problems.append(
                f"stanza {name}: pgBackRest reports status {code} ({message}): see "
                "/var/log/pgbackrest on the backup host"
            )
    if problems:
        raise OperationError("\n".join(problems))
    if len(fresh) == len(stanzas):
        host.noop(f"backups are fresh: {', '.join(fresh)}")
