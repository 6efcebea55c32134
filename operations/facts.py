"""Every fact of the deploy. Each reads its whole subject in one command (all clusters, all
roles of a cluster, all databases, the ledger of a database, the registry, ...) and returns a
JSON-native shape with string keys, so `pyinfra INVENTORY fact ...` output, the JSON test cases
and the code agree. Facts that run SQL read it from `sql/facts/` and, when the server is down,
return None: operations turn that into one clear error with `require()`.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
from typing import Any, TypeVar

from pyinfra.api import FactBase, HiddenValue, OperationError, QuoteString, StringCommand

from adxdb import sqlfiles
from adxdb.contract import MONITOR_ROLE
from adxdb.plan.backups import INFO_FAILED, MISSING_ENTRY, OTHER_ERROR
from adxdb.plan.config import ClusterPaths
from adxdb.plan.drill import RESULTS_DIR
from adxdb.plan.erasure import DUMP_DIR
from adxdb.plan.estate_jobs import JOBS
from operations.psql import if_ready, psql_query, psql_script_query, server_ready
from operations.scripts import inline_script

T = TypeVar("T")


def parse_json(lines: list[str]) -> Any:
    text = "\n".join(lines).strip()
    return json.loads(text) if text else None


def require(state: T | None, what: str, port: int) -> T:
    """The fact's value, or the one error every operation gives when the server is down."""
    if state is None:
        raise OperationError(f"cannot read {what}: no PostgreSQL server answers on port {port}")
    return state


class JsonFact(FactBase[dict[str, Any] | None]):
    """A fact whose command prints one JSON document (built in SQL), or `null` when the server
    does not answer; `process` returns the document, or None."""

    def requires_command(self, *args: Any, **kwargs: Any) -> str:
        return "psql"

    def process(self, output: list[str]) -> dict[str, Any] | None:
        data = parse_json(output)
        return None if data is None else dict(data)


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


class PgRoles(JsonFact):
    """
    Every role of the running cluster (names not starting `pg_`), or None when it is down.

    Passwords are reported as the SCRAM salt, iteration count and a digest of the verifier
    keyed by `digest_key` (give it as a `HiddenValue`: it is masked in pyinfra's output), so
    neither the verifier nor anything an outsider could test guesses against leaves the host.

    .. code:: python

        {"adx_app": {"login": True, "superuser": False, "createdb": False,
                     "createrole": False, "replication": False, "bypassrls": False,
                     "inherit": True, "connection_limit": -1, "member_of": [],
                     "password": {"iterations": 4096, "salt": "...", "digest": "..."}}}
    """

    def command(self, port: int, digest_key: str | HiddenValue = "") -> StringCommand:
        script = sqlfiles.load("facts/roles")
        return if_ready(port, psql_script_query(port, script, adx_digest_key=digest_key))


class PgDatabases(JsonFact):
    """
    Every non-template database with owner, encoding, limit and privileges; None when down.

    .. code:: python

        {"adx_core": {"owner": "adx_owner", "encoding": "UTF8", "connection_limit": -1,
                      "privileges": [{"grantee": "adx_app", "privilege": "CONNECT"}]}}
    """

    def command(self, port: int) -> StringCommand:
        return if_ready(port, psql_query(port, "postgres", sqlfiles.load("facts/databases")))


class PgMigrationLedger(JsonFact):
    """
    The migration ledger of one database and its INVALID indexes, or None when the server is
    down. A database or ledger that does not exist yet reads as an empty ledger.

    .. code:: python

        {"database": True, "invalid_indexes": [],
         "ledger": [{"stream": "shared", "target_schema": "public", "version": 1,
                     "name": "initial_schema", "checksum": "..."}]}
    """

    def command(self, port: int, database: str) -> StringCommand:
        script = sqlfiles.load("facts/ledger")
        return if_ready(port, psql_script_query(port, script, adx_database=database))


class PgSchemas(JsonFact):
    """
    The `public` and `tenant_*` schemas of one database: owner, roles with USAGE, roles given
    data privileges by `adx_owner`'s default privileges. None when the server is down; empty
    when the database does not exist yet.

    .. code:: python

        {"tenant_acme": {"owner": "adx_owner", "usage": ["adx_app", "adx_tenant_acme"],
                         "data_roles": ["adx_tenant_acme"]}}
    """

    def command(self, port: int, database: str) -> StringCommand:
        script = sqlfiles.load("facts/schemas")
        return if_ready(port, psql_script_query(port, script, adx_database=database))


class PgTenantRegistry(JsonFact):
    """
    The tenants registry of adx_core keyed by tenant id; None when the server is down.

    .. code:: python

        {"3f1c...": {"slug": "acme", "name": "Acme", "status": "active",
                     "isolation_level": "rls", "db_host": None, "db_port": 5432,
                     "db_name": "adx_core", "db_schema": "public"}}
    """

    def command(self, port: int) -> StringCommand:
        return if_ready(port, psql_script_query(port, sqlfiles.load("facts/registry")))


class PgTenantTables(FactBase[dict[str, dict[str, Any]] | None]):
    """
    The tables of one schema (partitions aside), each with the stream the migration ledger
    records as its creator (`tenant`, `shared`, `unrecorded`, or None: no migration made it),
    whether it has a `tenant_id` column, and the tables of that schema its foreign keys
    reference; None when the server is down.

    .. code:: python

        {"users": {"stream": "tenant", "tenant_id": True, "parents": []},
         "files": {"stream": "tenant", "tenant_id": True, "parents": ["folders", "users"]},
         "tenant_billing": {"stream": "shared", "tenant_id": True, "parents": ["tenants"]}}
    """

    def requires_command(self, port: int, database: str, schema: str) -> str:
        return "psql"

    def command(self, port: int, database: str, schema: str) -> StringCommand:
        script = sqlfiles.load("facts/tenant_tables")
        return if_ready(
            port, psql_script_query(port, script, adx_database=database, adx_schema=schema)
        )

    def process(self, output: list[str]) -> dict[str, dict[str, Any]] | None:
        data = parse_json(output)
        return None if data is None else {str(k): dict(v) for k, v in dict(data).items()}


def _backup(found: dict[str, Any], index: int) -> dict[str, Any] | None:
    backups = found.get("backup") or []
    if not backups:
        return None
    chosen = backups[index]
    return {
        "label": str(chosen["label"]),
        "type": str(chosen["type"]),
        "stop": int(chosen["timestamp"]["stop"]),
        "wal_start": str((chosen.get("archive") or {}).get("start") or ""),
    }


def parse_info(lines: list[str]) -> tuple[int, dict[str, dict[str, Any]]]:
    """`pgbackrest_info.sh` output: the host's clock, and each stanza's status, backup count
    and last backup; when `info` failed, one entry under "" with the error."""
    now = int(lines[0])
    text = "\n".join(lines[2:]).strip()
    if lines[1].strip() != "ok":
        message = next((line for line in reversed(text.splitlines()) if line.strip()), "")
        failed = {"code": INFO_FAILED, "message": message or "pgbackrest info failed"}
        return now, {"": {**MISSING_STANZA, "status": failed}}
    stanzas: dict[str, dict[str, Any]] = {}
    for found in json.loads(text or "[]"):
        status = found.get("status", {"code": 1, "message": "missing"})
        message = str(status["message"])
        # "other" (99) is told by the repository's own status: why it could not be read.
        repo_messages = [
            str(r["status"]["message"])
            for r in found.get("repo") or []
            if int(r.get("status", {}).get("code", 0)) != 0
        ]
        if int(status["code"]) == OTHER_ERROR and repo_messages:
            message = "; ".join(repo_messages)
        stanzas[str(found["name"])] = {
            "status": {"code": int(status["code"]), "message": message},
            "backups": len(found.get("backup") or []),
            "first_backup": _backup(found, 0),
            "last_backup": _backup(found, -1),
            "backup_list": [
                {
                    "label": str(b["label"]),
                    "type": str(b["type"]),
                    "start": int(b["timestamp"]["start"]),
                    "stop": int(b["timestamp"]["stop"]),
                }
                for b in found.get("backup") or []
            ],
        }
    return now, stanzas


MISSING_STANZA = MISSING_ENTRY


class PgBackRestState(FactBase[dict[str, Any] | None]):
    """
    What the server's `archive_mode` is now and what `pgbackrest info` says of one stanza
    (through the repository's host when it is remote); None when the server is down. A
    status code of -1 is an `info` that could not answer (the message says why).

    .. code:: python

        {"archive_mode": "on", "now": 1764700000, "status": {"code": 0, "message": "ok"},
         "backups": 3, "last_backup": {"label": "20261202-101500F", "type": "full",
                                       "stop": 1764670500}}
    """

    def requires_command(self, stanza: str, port: int) -> str:
        return "pgbackrest"

    def command(self, stanza: str, port: int) -> StringCommand:
        return StringCommand(
            "if", server_ready(port), ";", "then",
            "echo", "archive_mode=$(", psql_query(port, "postgres", "SHOW archive_mode"), ")", ";",
            inline_script("pgbackrest_info.sh", stanza), ";",
            "else", "echo", "null", ";", "fi",
        )  # fmt: skip

    def process(self, output: list[str]) -> dict[str, Any] | None:
        if not output or output[0].strip() == "null":
            return None
        archive_mode = output[0].strip().removeprefix("archive_mode=")
        now, stanzas = parse_info(output[1:])
        # `info --stanza` answers for that stanza alone (or the one failure entry).
        found = next(iter(stanzas.values()), None) or dict(MISSING_STANZA)
        return {"archive_mode": archive_mode, "now": now, **found}


class PgBackRestRepository(FactBase[dict[str, Any]]):
    """
    The repository on this host (the backup host, or a `local` database host): the host's
    clock and every stanza `pgbackrest info` knows, keyed by name (an `info` that could not
    answer is one entry under "", status code -1).

    .. code:: python

        {"now": 1764700000,
         "stanzas": {"adx": {"status": {"code": 0, "message": "ok"}, "backups": 2,
                             "last_backup": {"label": "...", "type": "diff", "stop": 17646...}}}}
    """

    def requires_command(self) -> str:
        return "pgbackrest"

    def command(self) -> StringCommand:
        return inline_script("pgbackrest_info.sh")

    def process(self, output: list[str]) -> dict[str, Any]:
        now, stanzas = parse_info(output)
        return {"now": now, "stanzas": stanzas}


class RestoreDrillResults(FactBase[dict[str, Any]]):
    """
    The restore drills recorded on the repository's host (`operations/files/restore_drill.sh`):
    the host's clock and, per stanza, the last drill and the last verified one.

    .. code:: python

        {"now": 1764700000,
         "results": {"adx.last": {"verdict": "verified", "finished": 1764690000, ...},
                     "adx.verified": {...}}}
    """

    def command(self) -> StringCommand:
        return inline_script("restore_drill_results.sh", RESULTS_DIR)

    def process(self, output: list[str]) -> dict[str, Any]:
        results: dict[str, Any] = {}
        for line in output[1:]:
            key, _, text = line.partition(" ")
            if text.strip():
                results[key] = json.loads(text)
        return {"now": int(output[0]), "results": results}


class FinalDumps(FactBase[list[str]]):
    """
    The final dumps the deploy took of dropped tenants on this host (`/var/backups/adx`):
    their file names, whose stamp is the drop's time.

    .. code:: python

        ["adx_core-tenant_globex-20261202T210000Z.dump"]
    """

    def command(self) -> StringCommand:
        return StringCommand("ls", "-1", DUMP_DIR, "2>/dev/null", "||", "true")

    def process(self, output: list[str]) -> list[str]:
        return sorted(line.strip() for line in output if line.strip().endswith(".dump"))


class ArchivedSegments(FactBase[dict[str, list[str]]]):
    """
    The WAL segment files in the repository on this host, per stanza (names as pgBackRest
    stores them: segment, checksum, compression), for the archive's continuity.

    .. code:: python

        {"adx": ["000000010000000000000002-5f1c...zst", "000000010000000000000003-9a0b...zst"]}
    """

    def command(self, repo_path: str) -> StringCommand:
        return StringCommand(
            "find", QuoteString(f"{repo_path}/archive"), "-mindepth", "4", "-maxdepth", "4",
            "-type", "f", "2>/dev/null", "||", "true",
        )  # fmt: skip

    def process(self, output: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for line in output:
            parts = line.strip().split("/")
            if len(parts) >= 4:
                found.setdefault(parts[-4], []).append(parts[-1])
        return {stanza: sorted(names) for stanza, names in found.items()}


class PgBackRestServer(FactBase[dict[str, Any]]):
    """
    pgBackRest's TLS server on the host: whether systemd runs it, whether it runs, and whether
    a file it reads at start is newer than its last start (then it needs a restart).

    .. code:: python

        {"systemd": False, "running": True, "stale": False}
    """

    def requires_command(self, port: int, files: list[str]) -> str:
        return "pgbackrest"

    def command(self, port: int, files: list[str]) -> StringCommand:
        return inline_script("pgbackrest_server.sh", "state", str(int(port)), *files)

    def process(self, output: list[str]) -> dict[str, Any]:
        return dict(parse_json(output))


class PgServerState(FactBase[dict[str, Any]]):
    """
    The newest modification time of the cluster's configuration files and, when the server
    runs, its start time, configuration load time, settings pending a restart, errors in its
    files, and its restart-only settings (value in the base unit, the file that set it).

    .. code:: python

        {"config_mtime": 1732500000.5, "running": True, "start_time": 1732400000.1,
         "conf_load_time": 1732500001.2, "pending_restart": [], "file_errors": [],
         "restart_settings": {"max_connections": {"setting": "100", "sourcefile": "..."}}}
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
        state = parse_json(rest)
        if state is None:
            return {"config_mtime": mtime, "running": False}
        return {"config_mtime": mtime, "running": True, **state}


class DeployLeftovers(FactBase[list[str]]):
    """
    What a killed deploy left in the deploy's folders (see `operations/files/leftovers.sh`):
    entries no run holds a lock on, older than a minute.

    .. code:: python

        ["/var/lib/adx-deploy/roles-1f2e3d4c5b6a7988.sql", "/var/lib/adx-migrations/run-0a1b2c3d"]
    """

    def command(
        self,
        private_dir: str,
        migrations_dir: str,
        move_dir: str,
        staging_dir: str | None = None,
    ) -> StringCommand:
        folders = (private_dir, migrations_dir, move_dir, *([staging_dir] if staging_dir else []))
        return inline_script("leftovers.sh", "list", *folders)

    @staticmethod
    def default() -> list[str]:
        return []

    def process(self, output: list[str]) -> list[str]:
        return [line.strip() for line in output if line.strip()]


class HAService(FactBase[dict[str, Any]]):
    """
    etcd or Patroni on an HA member: whether it runs, and whether a file it reads at start is
    newer than its last start.

    .. code:: python

        {"running": True, "stale": False}
    """

    def command(self, service: str, unit: str, files: list[str]) -> StringCommand:
        return inline_script("ha_service.sh", "state", service, unit, *files)

    def process(self, output: list[str]) -> dict[str, Any]:
        return dict(parse_json(output))


class PatroniMember(FactBase[dict[str, Any]]):
    """
    One member of an HA cluster: etcd's initialize key of the cluster (the system identifier
    of its data; "unreachable" when etcd does not answer), the local data folder (its system
    identifier, empty, fresh: initdb's databases only) and Patroni's view (GET /patroni).

    .. code:: python

        {"initialize": "7447...", "sysid": "7447...", "empty": False, "fresh": False,
         "member": {"state": "running", "role": "replica", "timeline": 1, ...}}
    """

    def requires_command(self, *args: Any, **kwargs: Any) -> str:
        return "etcdctl"

    def command(
        self, data_dir: str, bin_dir: str, endpoints: list[str], key: str, rest_url: str
    ) -> StringCommand:
        urls = ",".join(f"https://{endpoint}" for endpoint in endpoints)
        return inline_script("ha_member_state.sh", data_dir, bin_dir, urls, key, rest_url)

    def process(self, output: list[str]) -> dict[str, Any]:
        return dict(parse_json(output))


class PatroniDynamicConfig(FactBase[dict[str, Any] | None]):
    """
    Patroni's dynamic configuration (`GET /config` of the member's REST API, over TLS), or
    None when Patroni does not answer.

    .. code:: python

        {"ttl": 30, "loop_wait": 10, "postgresql": {"parameters": {...}, "pg_hba": [...]}}
    """

    def requires_command(self, rest_url: str, ca_file: str) -> str:
        return "curl"

    def command(self, rest_url: str, ca_file: str) -> StringCommand:
        return StringCommand(
            "curl",
            "-s",
            "--fail",
            "--max-time",
            "5",
            # Just after a bootstrap the leader writes the configuration a moment later.
            "--retry",
            "10",
            "--retry-delay",
            "1",
            "--retry-all-errors",
            "--cacert",
            QuoteString(ca_file),
            QuoteString(f"{rest_url}/config"),
            "||",
            "echo",
            "null",
        )

    def process(self, output: list[str]) -> dict[str, Any] | None:
        data = parse_json(output)
        return None if data is None else dict(data)


class PgInRecovery(FactBase[bool | None]):
    """
    Whether the local server is a standby (`pg_is_in_recovery()`); None when it is down. An
    HA cluster's writes run where it is False: the leader, found at run time.

    .. code:: python

        False
    """

    def requires_command(self, port: int) -> str:
        return "psql"

    def command(self, port: int) -> StringCommand:
        return if_ready(port, psql_query(port, "postgres", "SELECT pg_is_in_recovery()"))

    def process(self, output: list[str]) -> bool | None:
        value = "\n".join(output).strip()
        return None if value in ("", "null") else value == "t"


class PatroniReady(FactBase[dict[str, Any]]):
    """
    Whether Patroni runs this member as it should: its state and role (GET /patroni) and,
    on a replica, its WAL receiver's status (`streaming` once it follows the leader).

    .. code:: python

        {"state": "running", "role": "replica", "receiver": "streaming"}
    """

    def requires_command(self, rest_url: str, port: int) -> str:
        return "jq"

    def command(self, rest_url: str, port: int) -> StringCommand:
        return inline_script("ha_member.sh", "ready", rest_url, str(int(port)))

    def process(self, output: list[str]) -> dict[str, Any]:
        return dict(parse_json(output))


class PgRewindGrants(FactBase[list[str] | None]):
    """
    The functions pg_rewind needs on the leader that adx_replication may not execute yet;
    None when the server is down.

    .. code:: python

        ["pg_catalog.pg_ls_dir(text, boolean, boolean)"]
    """

    def requires_command(self, port: int) -> str:
        return "psql"

    def command(self, port: int) -> StringCommand:
        return if_ready(port, psql_query(port, "postgres", sqlfiles.load("facts/rewind_grants")))

    def process(self, output: list[str]) -> list[str] | None:
        data = parse_json(output)
        return None if data is None else [str(name) for name in data]


class PgAutoConfSettings(FactBase[list[str] | None]):
    """
    The settings the server's `postgresql.auto.conf` sets (`ALTER SYSTEM`, or what a restore
    tool left there); None when the server is down.

    .. code:: python

        ["archive_mode"]
    """

    def requires_command(self, port: int) -> str:
        return "psql"

    def command(self, port: int) -> StringCommand:
        return if_ready(
            port, psql_query(port, "postgres", sqlfiles.load("facts/auto_conf_settings"))
        )

    def process(self, output: list[str]) -> list[str] | None:
        data = parse_json(output)
        return None if data is None else [str(name) for name in data]


class PatroniCluster(FactBase[dict[str, Any] | None]):
    """
    The HA cluster as this member sees it (`patronictl list`) and this member's replication
    slots; None on a host without Patroni.

    .. code:: python

        {"members": [{"Member": "pg1", "Role": "Leader", "State": "running", "TL": 2}],
         "slots": [{"slot": "pg2", "type": "physical", "active": True, "restart_lsn": "0/7"}]}
    """

    def requires_command(self, port: int = 5432) -> str:
        return "patronictl"

    def command(self, port: int = 5432) -> StringCommand:
        return inline_script("patroni_cluster.sh", str(int(port)))

    def process(self, output: list[str]) -> dict[str, Any] | None:
        data = parse_json(output)
        return None if data is None else dict(data)


JOB_MARK = "--adx-job-- "


class JobQueries(FactBase[dict[str, Any]]):
    """
    A read job's queries (`adxdb <job> INVENTORY`, `adxdb.plan.estate_jobs.JOBS`) in every
    database of the host that `databases` (comma-separated) names, run as `adx_monitor`:
    each query's columns and rows (text, NULL as ""), or psql's error; the host's other
    databases by name; `down` when no server answers.

    .. code:: python

        {"down": False, "unlisted": [],
         "databases": {"adx_core": {"health_check": {"ok": True, "columns": ["name", ...],
                                                     "rows": [["database", "ok", "..."]]}}}}
    """

    def requires_command(self, port: int, job: str, databases: str) -> str:
        return "psql"

    def command(self, port: int, job: str, databases: str) -> StringCommand:
        names = " ".join(name for name in str(databases).split(",") if name)
        queries = [
            part for query in JOBS[job].queries for part in (query, sqlfiles.load(f"jobs/{query}"))
        ]
        return inline_script("job_queries.sh", str(int(port)), MONITOR_ROLE, names, *queries)

    def process(self, output: list[str]) -> dict[str, Any]:
        state: dict[str, Any] = {"down": False, "unlisted": [], "databases": {}}
        blocks: list[tuple[list[str], list[str]]] = []
        for line in output:
            if line.startswith(JOB_MARK):
                blocks.append((line[len(JOB_MARK) :].split(), []))
            elif blocks:
                blocks[-1][1].append(line)
        for mark, lines in blocks:
            if mark == ["down"]:
                state["down"] = True
            elif mark[0] == "unlisted":
                state["unlisted"].append(mark[1])
            else:
                outcome, database, query = mark
                answers = state["databases"].setdefault(database, {})
                answers[query] = _query_answer(outcome == "ok", lines)
        return state


def _query_answer(ok: bool, lines: list[str]) -> dict[str, Any]:
    if not ok:
        return {"ok": False, "error": " ".join(line.strip() for line in lines if line.strip())}
    table = list(csv.reader(io.StringIO("\n".join(lines))))
    return {"ok": True, "columns": table[0] if table else [], "rows": table[1:]}


class PathStates(FactBase[dict[str, dict[str, Any]]]):
    """
    Every file and folder the deploy manages on the host (`paths`), read in one command:
    kind (`file`, `directory`, `other`, `absent`), mode (octal, as `stat` prints it), owner,
    group and, for a file, the sha256 of its content.

    .. code:: python

        {"/etc/postgresql/15/main/pg_hba.conf": {"kind": "file", "mode": "640",
                                                 "user": "postgres", "group": "postgres",
                                                 "sha256": "..."},
         "/etc/adx": {"kind": "absent"}}
    """

    def command(self, paths: list[str]) -> StringCommand:
        return inline_script("path_states.sh", *paths)

    @staticmethod
    def default() -> dict[str, dict[str, Any]]:
        return {}

    def process(self, output: list[str]) -> dict[str, dict[str, Any]]:
        states: dict[str, dict[str, Any]] = {}
        for line in output:
            path, kind, *rest = line.split("\t")
            if kind == "absent" or len(rest) != 4:
                states[path] = {"kind": "absent"}
                continue
            mode, user, group, digest = rest
            states[path] = {"kind": kind, "mode": mode, "user": user, "group": group}
            if kind == "file":
                states[path]["sha256"] = digest
        return states


CATALOG_MARK = "--adx-catalog-- "


def _catalog_part(title: str, script: str) -> str:
    # Each part starts from `postgres` (a part may \connect elsewhere) and says which it is;
    # a single query gets the semicolon a psql script needs.
    text = script.rstrip()
    last = text.splitlines()[-1].lstrip()
    if not last.startswith("\\") and not text.endswith(";"):
        text += ";"
    return f"\\connect postgres\n\\echo {CATALOG_MARK}{title}\n{text}\n"


class PgCatalog(FactBase[dict[str, Any] | None]):
    """
    What the deploy reads of a server, in one command (one psql session fed on stdin): the
    answers of `PgRoles`, `PgDatabases`, `PgTenantRegistry`, `PgInRecovery`,
    `PgAutoConfSettings` and, for each of `databases` (comma-separated), `PgSchemas` and
    `PgMigrationLedger`; None when the server is down. `operations.fact_memo` serves those
    facts from it while nothing has changed since it was read.

    .. code:: python

        {"roles": {...}, "databases": {...}, "registry": {...}, "in_recovery": False,
         "auto_conf": [], "schemas": {"adx_core": {...}}, "ledgers": {"adx_core": {...}}}
    """

    def requires_command(self, port: int, databases: str, digest_key: str | HiddenValue) -> str:
        return "psql"

    def command(self, port: int, databases: str, digest_key: str | HiddenValue) -> StringCommand:
        script = _catalog_part("roles", sqlfiles.load("facts/roles"))
        script += _catalog_part("databases", sqlfiles.load("facts/databases"))
        script += _catalog_part("registry", sqlfiles.load("facts/registry"))
        script += _catalog_part("in_recovery", "SELECT to_json(pg_is_in_recovery())")
        script += _catalog_part("auto_conf", sqlfiles.load("facts/auto_conf_settings"))
        for database in filter(None, str(databases).split(",")):
            if not database.replace("_", "").isalnum():
                raise ValueError(f"{database!r}: not a database name the deploy makes")
            for title, name in (("schemas", "facts/schemas"), ("ledgers", "facts/ledger")):
                part = f"\\set adx_database {database}\n" + sqlfiles.load(name)
                script += _catalog_part(f"{title} {database}", part)
        return if_ready(port, psql_script_query(port, script, adx_digest_key=digest_key))

    def process(self, output: list[str]) -> dict[str, Any] | None:
        parts: list[tuple[list[str], list[str]]] = []
        for line in output:
            if line.startswith(CATALOG_MARK):
                parts.append((line[len(CATALOG_MARK) :].split(), []))
            elif parts:
                parts[-1][1].append(line)
        if not parts:
            return None
        catalog: dict[str, Any] = {"schemas": {}, "ledgers": {}}
        for title, lines in parts:
            value = parse_json(lines)
            if len(title) == 2:
                catalog[title[0]][title[1]] = value
            else:
                catalog[title[0]] = value
        return catalog


BATCH_MARK = "--adx-batch-- "
# A shell function standing in for `pg_isready` within a batch: its answer for the same
# arguments is kept in the batch's private folder (subshells share it); arguments naming a
# path are asked every time.
READY_ONCE = (
    'pg_isready() { adx_ifs=$IFS; IFS=_; adx_key="$*"; IFS=$adx_ifs; '
    'case $adx_key in */*) command pg_isready "$@"; return ;; esac; '
    'if [ -f "$adx_batch/ready$adx_key" ]; then read -r adx_status < "$adx_batch/ready$adx_key"; '
    'return "$adx_status"; fi; command pg_isready "$@"; adx_status=$?; '
    'echo "$adx_status" > "$adx_batch/ready$adx_key"; return "$adx_status"; }'
)
MISSING_COMMAND = "--adx-batch-missing-command--"


class FactBatch(FactBase[list[dict[str, Any]]]):
    """
    Several facts read in one command (`operations.fact_memo.prefetch`): `reads` lists each
    fact's class (dotted path) and arguments; each fact's command runs in a subshell, guarded
    by its `requires_command` as pyinfra guards it, and is followed by its exit status. The
    value is each fact's raw output and status, in order: `fact_memo` processes each with its
    own fact (a failed or missing one is then read on its own, as pyinfra would).

    .. code:: python

        [{"status": 0, "lines": ["15 main 5432 online postgres /var/lib/... ..."]},
         {"status": 0, "lines": ["--adx-batch-missing-command--"]}]
    """

    def command(self, reads: list[tuple[str, dict[str, Any]]]) -> StringCommand:
        # `pg_isready` (a connection to the server: ~30 ms) is asked once per batch: several
        # facts guard their queries with it (`operations.psql.if_ready`).
        parts: list[Any] = ["adx_batch=$(mktemp", "-d)", "||", "exit", "1", ";"]
        parts += [READY_ONCE, ";"]
        for index, (path, kwargs) in enumerate(reads):
            fact = fact_class(path)()
            command = fact.command(**kwargs)
            required = fact.requires_command(**kwargs)
            if required:
                command = StringCommand(
                    "if", "command", "-v", required, ">/dev/null", "2>&1;", "then",
                    "(", command, ");", "else", "echo", MISSING_COMMAND, ";", "fi",
                )  # fmt: skip
            parts += ["(", command, ")", ";", "printf", QuoteString("%s%d %d\\n")]
            parts += [QuoteString(BATCH_MARK), str(index), "$?", ";"]
        parts += ["rm", "-rf", '"$adx_batch"']
        return StringCommand(*parts)

    @staticmethod
    def default() -> list[dict[str, Any]]:
        return []

    def process(self, output: list[str]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        lines: list[str] = []
        for line in output:
            text, mark, rest = line.partition(BATCH_MARK)
            if not mark:
                lines.append(line)
                continue
            if text:  # output that did not end its last line
                lines.append(text)
            _, status = rest.split()
            results.append({"status": int(status), "lines": lines})
            lines = []
        return results


def fact_class(path: str) -> type[FactBase[Any]]:
    """A fact class by its dotted path (`operations.facts.PgClusters`, `pyinfra.facts.deb...`)."""
    module_name, _, name = path.rpartition(".")
    found: type[FactBase[Any]] = getattr(importlib.import_module(module_name), name)
    return found
