"""The facts a host's deploy reads first, with the arguments its operations read them with:
`fact_memo.prefetch` reads them all, with the server's catalog, in one command. An argument
here that differs from the operation's only costs that fact a read of its own (a test counts
the no-op's commands per host)."""

from __future__ import annotations

from typing import Any

from pyinfra.api import FactBase
from pyinfra.facts.deb import DebPackages

from adxdb.plan.host import HostPlan
from operations import leftovers
from operations.facts import (
    ArchivedSegments,
    PathStates,
    PgBackRestRepository,
    PgBackRestServer,
    PgBackRestState,
    PgClusters,
    PgServerState,
    RestoreDrillResults,
)

Reads = list[tuple[type[FactBase[Any]], dict[str, Any]]]


def first_reads(plan: HostPlan, paths: list[str]) -> Reads:
    """Leftovers, managed paths, packages, clusters, the pgBackRest server and stanza, the
    server's state, the repository and its drills (the backup host): each as the operation
    of `deploy.py` asks for it."""
    reads: Reads = [
        *leftovers.first_reads(plan.staging.path if plan.staging is not None else None),
        (PathStates, {"paths": paths}),
        (DebPackages, {}),
    ]
    if plan.runs_postgres:
        reads.append((PgClusters, {}))
    if plan.backup is not None and plan.backup.server:
        files = list(plan.backup.server_files)
        reads.append((PgBackRestServer, {"port": plan.backup.tls_port, "files": files}))
    if plan.runs_postgres and plan.ha is None:
        server = {"version": plan.version, "cluster": plan.cluster, "port": plan.port}
        reads.append((PgServerState, server))
    if plan.backup is not None and plan.backup.stanza is not None:
        reads.append((PgBackRestState, {"stanza": plan.backup.stanza, "port": plan.port}))
    if plan.backup is not None and plan.backup.server and plan.backup.repository_stanzas:
        reads += [
            (RestoreDrillResults, {}),
            (PgBackRestRepository, {}),
            (ArchivedSegments, {"repo_path": plan.backup.repo_path}),
        ]
    return reads
