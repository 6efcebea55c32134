"""Rebuilding a lost cluster from the backup host (DESIGN.md decision 7): `adxdb restore
INVENTORY --cluster NAME [--at TIME]` restores the cluster's stanza onto the fresh host the
inventory declares for it (its leader), adopts the restored data directory as the Debian
cluster, starts it and waits for its promotion (a new timeline, archiving on). The deploy
then converges the host as any other.

Pure: which host a cluster is restored onto and what the restore operation gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adxdb.errors import AdxError
from adxdb.inventory.model import Environment
from adxdb.plan import backups as pgbackrest
from adxdb.plan.drill import LATEST, check_request, parse_target, target_text


@dataclass(frozen=True)
class RestoreRequest:
    """What `adxdb restore` asks for: one cluster's stanza and the point in time (None: the
    end of the archive)."""

    stanza: str
    at: str | None = None

    def as_data(self) -> dict[str, Any]:
        return {"stanza": self.stanza, "at": self.at}

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> RestoreRequest | None:
        if not data or not data.get("stanza"):
            return None
        return cls(str(data["stanza"]), data.get("at"))


@dataclass(frozen=True)
class RestorePlan:
    """The restore operation of the cluster's host."""

    stanza: str
    target: str  # LATEST or a UTC time as pgBackRest reads it
    target_epoch: int | None
    version: int
    cluster: str
    port: int


def check_restore(env: Environment, cluster: str | None, at: str | None) -> RestoreRequest:
    """The cluster asked for (`--cluster` is required) and `--at`, or every problem."""
    problems: list[str] = []
    if cluster is None:
        problems.append(
            "--cluster is required: the cluster's stanza ("
            + ", ".join(s.name for s in pgbackrest.stanzas(env))
            + ")"
        )
    try:
        request = check_request(env, [cluster] if cluster else [], at)
    except AdxError as error:
        problems += error.problems
    if problems:
        raise AdxError(problems)
    return RestoreRequest(request.stanzas[0], request.at)


def restore_host(env: Environment, stanza: str) -> str:
    """The host a cluster is restored onto: its leader as the inventory declares it."""
    return next(s.hosts[0] for s in pgbackrest.stanzas(env) if s.name == stanza)


def restore_plan(
    env: Environment, host_name: str, request: RestoreRequest | None
) -> RestorePlan | None:
    if request is None:
        return None
    checked = check_restore(env, request.stanza, request.at)
    if restore_host(env, checked.stanza) != host_name:
        return None
    when = None if checked.at is None else parse_target(checked.at)
    return RestorePlan(
        stanza=checked.stanza,
        target=LATEST if when is None else target_text(when),
        target_epoch=None if when is None else int(when.timestamp()),
        version=env.postgres.version,
        cluster=env.postgres.cluster,
        port=env.postgres.port,
    )
