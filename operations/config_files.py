"""The files and folders a host plan manages, through pyinfra's own `files` operations."""

from __future__ import annotations

from io import StringIO

from pyinfra.operations import files

from adxdb.plan.host import ManagedDirectory, ManagedFile

__all__ = ["ManagedDirectory", "ManagedFile", "converge", "removed"]


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


def removed(paths: tuple[str, ...] | list[str]) -> None:
    """Files the deploy wrote once and no longer does (an HA member's conf.d settings, now in
    Patroni's dynamic configuration)."""
    for path in paths:
        files.file(name=f"Removed {path}", path=path, present=False)
