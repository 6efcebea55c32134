"""The files and folders a host plan manages, through pyinfra's own `files` operations."""

from __future__ import annotations

from io import StringIO

from pyinfra.operations import files

from adxdb.plan.host import ManagedDirectory, ManagedFile


def converge(item: ManagedDirectory | ManagedFile) -> None:
    """Put one managed file (content, owner, mode) or folder in place; named by its title, so
    pyinfra never prints its arguments (a TLS key is one)."""
    if isinstance(item, ManagedDirectory):
        files.directory(
            name=item.title, path=item.path, user=item.user, group=item.group, mode=item.mode
        )
        return
    files.put(
        name=item.title,
        src=StringIO(item.content),
        dest=item.dest,
        user=item.user,
        group=item.group,
        mode=item.mode,
        create_remote_dir=item.create_remote_dir,
    )
