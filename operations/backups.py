"""WAL archiving and backups with pgBackRest on a host: the stanza, created and checked once,
and a first full backup; the schedule takes it from there."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

from pyinfra import host
from pyinfra.api import OperationError, StringCommand, operation

from operations.facts import PgBackRestState

logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI

# pgBackRest's `info` status codes (doc: command reference, info).
STANZA_OK = 0
MISSING_STANZA = (1, 3)  # no stanza path / no stanza data: stanza-create
NO_VALID_BACKUP = 2


def _pgbackrest(stanza: str, *args: str) -> StringCommand:
    return StringCommand(
        "runuser", "-u", "postgres", "--", "pgbackrest", f"--stanza={stanza}", *args
    )


@operation()
def stanza(stanza: str, port: int) -> Generator[Any, None, None]:
    """
    Make the cluster's pgBackRest stanza, check that WAL archiving reaches it, and take a
    first full backup; later runs only check that it is there.

    + stanza: the stanza name (the inventory's `backups.stanza`)
    + port: the cluster's port

    While `archive_mode` is still off (a restart pending under `restart_policy: never`), this
    waits and says so: stanza-create and check would fail without archiving.

    **Example:**

    .. code:: python

        stanza(name="pgBackRest stanza", stanza="adx", port=5432)
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
    if code == STANZA_OK and state["backups"]:
        host.noop(f"stanza {stanza} holds {state['backups']} backup(s)")
        return
    if code in MISSING_STANZA:
        yield _pgbackrest(stanza, "stanza-create")
    elif code != NO_VALID_BACKUP:
        raise OperationError(
            f"pgBackRest stanza {stanza} reports status {code} ({message}): see "
            "/var/log/pgbackrest and `pgbackrest info` on the host"
        )
    yield _pgbackrest(stanza, "check")
    yield _pgbackrest(stanza, "--type=full", "backup")
