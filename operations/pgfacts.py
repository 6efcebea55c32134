"""Facts about PostgreSQL clusters. Each reads its whole subject in one command: all clusters,
all roles of a cluster, all databases, the server's state. JSON-native shapes, string keys."""

from __future__ import annotations

import json
from typing import Any

from pyinfra.api import FactBase, QuoteString, StringCommand

from adxdb import sqlfiles
from adxdb.pgconf import ClusterPaths
from operations.psql import if_ready, psql_query


def _json(lines: list[str]) -> Any:
    text = "\n".join(lines).strip()
    return json.loads(text) if text else None


class PgClusters(FactBase[dict[str, dict[str, Any]]]):
    """
    Clusters on the host, keyed `<version>/<name>`, from `pg_lsclusters`.

    .. code:: python

        {"15/main": {"version": 15, "cluster": "main", "port": 5432, "running": True,
                     "owner": "postgres", "data_directory": "/var/lib/postgresql/15/main"}}
    """

    def requires_command(self) -> str:
        return "pg_lsclusters"

    def command(self) -> str:
        return "pg_lsclusters -h"

    @staticmethod
    def default() -> dict[str, dict[str, Any]]:
        return {}

    def process(self, output: list[str]) -> dict[str, dict[str, Any]]:
        clusters: dict[str, dict[str, Any]] = {}
        for line in output:
            parts = line.split()
            if len(parts) < 6:
                continue
            version, name, port, status, owner, data_directory = parts[:6]
            clusters[f"{version}/{name}"] = {
                "version": int(version),
                "cluster": name,
                "port": int(port),
                "running": status.startswith("online"),
                "owner": owner,
                "data_directory": data_directory,
            }
        return clusters


class PgRoles(FactBase[dict[str, dict[str, Any]] | None]):
    """
    Every role of the running cluster (names not starting `pg_`), or None when it is down.

    Passwords are reported as the SCRAM salt, iteration count and a digest of the verifier.
    """

    def requires_command(self, port: int) -> str:
        return "psql"

    def command(self, port: int) -> StringCommand:
        return if_ready(port, psql_query(port, "postgres", sqlfiles.load("facts/roles")))

    def process(self, output: list[str]) -> dict[str, dict[str, Any]] | None:
        data = _json(output)
        return None if data is None else dict(data)


class PgDatabases(FactBase[dict[str, dict[str, Any]] | None]):
    """Every non-template database with owner, encoding, limit and privileges; None when down."""

    def requires_command(self, port: int) -> str:
        return "psql"

    def command(self, port: int) -> StringCommand:
        return if_ready(port, psql_query(port, "postgres", sqlfiles.load("facts/databases")))

    def process(self, output: list[str]) -> dict[str, dict[str, Any]] | None:
        data = _json(output)
        return None if data is None else dict(data)


class PgServerState(FactBase[dict[str, Any]]):
    """
    The newest modification time of the cluster's configuration files and, when the server
    runs, its start time, configuration load time and settings pending a restart.

    .. code:: python

        {"config_mtime": 1732500000.5, "running": True, "start_time": 1732400000.1,
         "conf_load_time": 1732500001.2, "pending_restart": [], "file_errors": []}
    """

    def requires_command(self, version: int, cluster: str, port: int) -> str:
        return "psql"

    def command(self, version: int, cluster: str, port: int) -> StringCommand:
        paths = ClusterPaths(version, cluster)
        files = [QuoteString(path) for path in paths.watched_files]
        return StringCommand(
            "(",
            "stat",
            "-c",
            "%.9Y",
            *files,
            "2>/dev/null",
            "||",
            "true",
            ")",
            "|",
            "sort",
            "-n",
            "|",
            "tail",
            "-n1",
            "|",
            "sed",
            "s/^/mtime:/",
            ";",
            if_ready(port, psql_query(port, "postgres", sqlfiles.load("facts/server"))),
        )

    @staticmethod
    def default() -> dict[str, Any]:
        return {"config_mtime": None, "running": False}

    def process(self, output: list[str]) -> dict[str, Any]:
        mtime: float | None = None
        rest: list[str] = []
        for line in output:
            if line.startswith("mtime:"):
                value = line.removeprefix("mtime:").strip()
                mtime = float(value) if value else None
            else:
                rest.append(line)
        state = _json(rest)
        if state is None:
            return {"config_mtime": mtime, "running": False}
        return {"config_mtime": mtime, "running": True, **state}
