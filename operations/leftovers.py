"""What a killed deploy left on a host is removed by the next one (before anything else)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pyinfra import host
from pyinfra.api import StringCommand, operation

from operations import fact_memo
from operations.facts import DeployLeftovers
from operations.migrations import MIGRATIONS_DIR
from operations.moves import MOVE_WORK_DIR
from operations.psql import PRIVATE_DIR
from operations.scripts import inline_script


def first_reads(staging_dir: str | None) -> list[tuple[type[DeployLeftovers], dict[str, Any]]]:
    """The fact `removed` reads, with the arguments it reads it with (`fact_memo.prefetch`)."""
    arguments = {
        "private_dir": PRIVATE_DIR,
        "migrations_dir": MIGRATIONS_DIR,
        "move_dir": MOVE_WORK_DIR,
        "staging_dir": staging_dir,
    }
    return [(DeployLeftovers, arguments)]


@operation()
def removed(
    private_dir: str = PRIVATE_DIR,
    migrations_dir: str = MIGRATIONS_DIR,
    move_dir: str = MOVE_WORK_DIR,
    staging_dir: str | None = None,
) -> Generator[StringCommand, None, None]:
    """
    Remove the uploads a killed deploy left behind (psql scripts, pgpass files, migration run
    folders, a move's installed pgpass): entries no run holds a lock on, older than a minute.
    A run in progress, of this deploy or a concurrent one, keeps its files.

    + private_dir: the deploy's root-only upload folder
    + migrations_dir: where migration runs keep the files their scripts include
    + move_dir: the tenant moves' work folder
    + staging_dir: the SSH user's staging folder on a host reached through sudo

    **Example:**

    .. code:: python

        removed(name="Leftovers of killed deploys")
    """
    found = fact_memo.read(
        DeployLeftovers,
        private_dir=private_dir,
        migrations_dir=migrations_dir,
        move_dir=move_dir,
        staging_dir=staging_dir,
    )
    if not found:
        host.noop("no deploy left files behind")
        return
    folders = (private_dir, migrations_dir, move_dir, *([staging_dir] if staging_dir else []))
    yield inline_script("leftovers.sh", "remove", *folders)
