"""The files and folders a host plan manages: their state read for all of them in one command
(`PathStates`, from this run's memo), then only what differs is written.

pyinfra's own `files.put` reads three facts per file (the file, its checksum, its folder),
each one round trip: a no-op deploy would pay for every managed file. Here one fact covers
every path the host plan manages (`HostPlan.managed_paths`); each operation compares its own
path with it and yields the fewest commands: an upload (staged privately on sudo hosts,
`operations.uploads`), `chown`, `chmod`, `mkdir`, or a noop.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from pyinfra import host
from pyinfra.api import FileUploadCommand, OperationValueError, StringCommand, operation

from adxdb.plan.host import ManagedDirectory, ManagedFile
from operations import fact_memo
from operations.facts import PathStates
from operations.uploads import upload

__all__ = ["ManagedDirectory", "ManagedFile", "converge", "removed"]

Command = FileUploadCommand | StringCommand


def _attributes(
    path: str, found: Mapping[str, Any], user: str | None, group: str | None, mode: str | None
) -> list[StringCommand]:
    """chown and chmod where the owner, group or mode differ from what is asked."""
    commands: list[StringCommand] = []
    if (user and found.get("user") != user) or (group and found.get("group") != group):
        owner = f"{user or ''}:{group or ''}" if group else str(user)
        commands.append(StringCommand("chown", owner, path))
    if mode and int(str(found.get("mode") or "0"), 8) != int(mode, 8):
        commands.append(StringCommand("chmod", mode, path))
    return commands


def file_commands(
    item: ManagedFile, states: Mapping[str, Mapping[str, Any]]
) -> list[Command] | None:
    """What makes the host's file what the plan says (None: it already is)."""
    found = states.get(item.dest, {"kind": "absent"})
    if found["kind"] not in ("file", "absent"):
        raise OperationValueError(f"{item.dest} is a {found['kind']}, not a file: remove it")
    digest = hashlib.sha256(item.content.encode()).hexdigest()
    commands: list[Command] = []
    if found["kind"] == "absent" or found.get("sha256") != digest:
        parent = os.path.dirname(item.dest)
        if item.create_remote_dir and states.get(parent, {"kind": "absent"})["kind"] == "absent":
            commands.append(StringCommand("mkdir", "-p", parent))
        if found["kind"] == "absent" and item.mode:
            # Made empty with its mode first: a new key is never readable by others, not even
            # between the upload and the chmod (the upload keeps the file's mode).
            commands.append(StringCommand("install", "-m", item.mode, "/dev/null", item.dest))
        commands.append(upload(item.content, item.dest))
        # A new upload's owner and mode are the SSH user's: always set what the plan says.
        commands += _attributes(item.dest, {}, item.user, item.group, item.mode)
    else:
        commands += _attributes(item.dest, found, item.user, item.group, item.mode)
    return commands or None


def directory_commands(
    item: ManagedDirectory, states: Mapping[str, Mapping[str, Any]]
) -> list[Command] | None:
    found = states.get(item.path, {"kind": "absent"})
    if found["kind"] not in ("directory", "absent"):
        raise OperationValueError(f"{item.path} is a {found['kind']}, not a folder: remove it")
    commands: list[Command] = []
    if found["kind"] == "absent":
        commands.append(StringCommand("mkdir", "-p", item.path))
        found = {}
    commands += _attributes(item.path, found, item.user, item.group, item.mode)
    return commands or None


def _states(paths: Sequence[str]) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = fact_memo.read(PathStates, paths=list(paths))
    return states


@operation()
def managed_file(item: ManagedFile, paths: Sequence[str]) -> Generator[Command, None, None]:
    """
    Put one file the host plan renders in place (content, owner, group, mode).

    + item: the file (its content never appears in pyinfra's output)
    + paths: every path the host plan manages (one `PathStates` read for all of them)

    **Example:**

    .. code:: python

        managed_file(name="pg_hba.conf", item=plan_file, paths=plan.managed_paths())
    """
    commands = file_commands(item, _states(paths))
    if commands is None:
        host.noop(f"file {item.dest} is converged")
        return
    yield from commands


@operation()
def managed_directory(
    item: ManagedDirectory, paths: Sequence[str]
) -> Generator[Command, None, None]:
    """
    Make one folder the host plan owns (owner, group, mode).

    + item: the folder
    + paths: every path the host plan manages (one `PathStates` read for all of them)
    """
    commands = directory_commands(item, _states(paths))
    if commands is None:
        host.noop(f"directory {item.path} is converged")
        return
    yield from commands


@operation()
def absent_file(path: str, paths: Sequence[str]) -> Generator[StringCommand, None, None]:
    """
    Remove a file the deploy wrote once and no longer does.

    + path: the file
    + paths: every path the host plan manages (one `PathStates` read for all of them)
    """
    found = _states(paths).get(path, {"kind": "absent"})
    if found["kind"] == "absent":
        host.noop(f"file {path} is absent")
        return
    yield StringCommand("rm", "-f", path)


def converge(item: ManagedDirectory | ManagedFile, paths: Sequence[str]) -> None:
    """Put one managed file (content, owner, mode) or folder in place; named by its title, so
    pyinfra never prints its arguments (a TLS key is one)."""
    if isinstance(item, ManagedDirectory):
        managed_directory(name=item.title, item=item, paths=paths)
    else:
        managed_file(name=item.title, item=item, paths=paths)


def removed(files: Sequence[str], paths: Sequence[str]) -> None:
    """Files the deploy wrote once and no longer does (an HA member's conf.d settings, now in
    Patroni's dynamic configuration)."""
    for path in files:
        absent_file(name=f"Removed {path}", path=path, paths=paths)
