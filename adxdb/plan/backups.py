"""pgBackRest rendered from the model (DESIGN.md decision 7): which stanza each cluster has,
the configuration of a database host and of the repository host, the backup schedule, and the
plan of a host's backup operations.

With a host in group `backup`, the repository is there: every database host pushes its WAL to
the backup host's TLS server, and the backup host takes the backups through each database
host's TLS server. Each side knows the other by its certificate's common name
(`tls-server-auth`), issued by the environment's CA; no SSH keys between hosts. Without one
(`local` only), each database host keeps a repository of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from adxdb.inventory.model import Backups, Environment
from adxdb.inventory.types import duration_seconds
from adxdb.plan.config import ClusterPaths

HEADER = "# Managed by adxdb from the environment inventory; local edits are overwritten.\n"
CONFIG_DIR = "/etc/pgbackrest"
CONFIG_FILE = f"{CONFIG_DIR}/pgbackrest.conf"
TLS_DIR = f"{CONFIG_DIR}/tls"
CA_FILE = f"{TLS_DIR}/ca.crt"
CERT_FILE = f"{TLS_DIR}/host.crt"
KEY_FILE = f"{TLS_DIR}/host.key"
SCHEDULE_FILE = "/etc/cron.d/adx-pgbackrest"
LOG_DIR = "/var/log/pgbackrest"
SOCKET_DIR = "/var/run/postgresql"
# What pgBackRest's TLS server reads when it starts: a change restarts it.
SERVER_FILES = (CONFIG_FILE, CA_FILE, CERT_FILE, KEY_FILE)

# pgBackRest's `info` status codes (doc: command reference, info), and ours.
STANZA_OK = 0
MISSING_STANZA_CODES = (1, 3)  # no stanza path / no stanza data: stanza-create
NO_VALID_BACKUP = 2
OTHER_ERROR = 99  # pgBackRest's own "other": the repository's status says why
# `info` could not answer at all (no status of pgBackRest's own): the repository is unreachable,
# a certificate is refused, the configuration is wrong; the message says which.
INFO_FAILED = -1


@dataclass(frozen=True)
class ClusterStanza:
    """One cluster's stanza: its name and its members (database hosts), leader first."""

    name: str
    hosts: tuple[str, ...]


def stanzas(env: Environment) -> list[ClusterStanza]:
    """One per cluster: the main cluster (its primary, or every member of an HA main cluster:
    `backups.stanza`), each dedicated tenant cluster (its name, every member) and each
    dedicated tenant host in no cluster (its own name)."""
    return [ClusterStanza(c.stanza, c.members) for c in env.estate_clusters()]


def stanza_of(env: Environment, host_name: str) -> str:
    return next(s.name for s in stanzas(env) if host_name in s.hosts)


def _retention(backups: Backups) -> str:
    lines = (
        f"repo1-path={backups.repo_path}\n"
        + f"repo1-retention-full={int(backups.retention_full)}\n"
        + f"repo1-retention-full-type={backups.retention_full_type}\n"
    )
    if backups.retention_diff is not None:
        lines += f"repo1-retention-diff={int(backups.retention_diff)}\n"
    return lines + "start-fast=y\n"


def _common() -> str:
    return (
        "compress-type=zst\n"
        + "log-level-console=warn\n"
        + "log-level-file=info\n"
        + f"log-path={LOG_DIR}\n"
    )


def _tls_server(backups: Backups, clients: Mapping[str, str]) -> str:
    """The TLS server of a host: its certificate, the CA its clients' certificates must come
    from, and which stanzas each client (by common name) may use."""
    lines = (
        "tls-server-address=*\n"
        + f"tls-server-port={int(backups.tls_port)}\n"
        + f"tls-server-ca-file={CA_FILE}\n"
        + f"tls-server-cert-file={CERT_FILE}\n"
        + f"tls-server-key-file={KEY_FILE}\n"
    )
    return lines + "".join(f"tls-server-auth={cn}={s}\n" for cn, s in sorted(clients.items()))


def _cluster(paths: ClusterPaths, port: int) -> str:
    return (
        f"pg1-path=/var/lib/postgresql/{paths.version}/{paths.cluster}\n"
        + f"pg1-port={int(port)}\n"
        + f"pg1-socket-path={SOCKET_DIR}\n"
    )


def render_local_config(backups: Backups, stanza: str, paths: ClusterPaths, port: int) -> str:
    """pgbackrest.conf of a database host that keeps its own repository (`local`)."""
    return (
        HEADER
        + "[global]\n"
        + _retention(backups)
        + _common()
        + "\n"
        + f"[{stanza}]\n"
        + _cluster(paths, port)
    )


def render_database_host_config(
    env: Environment, host_name: str, paths: ClusterPaths, common_names: Mapping[str, str]
) -> str:
    """pgbackrest.conf of a database host whose repository is on the backup host: WAL goes
    there (`archive-push`), and the backup host may reach this host's cluster for its stanza."""
    backups = env.backups
    backup_host = env.backup_host()
    assert backup_host is not None
    stanza = stanza_of(env, host_name)
    return (
        HEADER
        + "[global]\n"
        + f"repo1-host={env.hosts[backup_host].address}\n"
        + "repo1-host-type=tls\n"
        + f"repo1-host-port={int(backups.tls_port)}\n"
        + f"repo1-host-ca-file={CA_FILE}\n"
        + f"repo1-host-cert-file={CERT_FILE}\n"
        + f"repo1-host-key-file={KEY_FILE}\n"
        + _tls_server(backups, {common_names[backup_host]: stanza})
        + _common()
        + "\n"
        + f"[{stanza}]\n"
        + _cluster(paths, env.postgres.port)
    )


def render_repository_config(
    env: Environment, paths: ClusterPaths, common_names: Mapping[str, str]
) -> str:
    """pgbackrest.conf of the backup host: the repository, its retention, which database host
    may push to which stanza, and how each stanza's cluster is reached (TLS, verify-full)."""
    backups = env.backups
    clients = {common_names[h]: s.name for s in stanzas(env) for h in s.hosts}
    text = HEADER + "[global]\n" + _retention(backups) + _tls_server(backups, clients) + _common()
    for stanza in stanzas(env):
        text += f"\n[{stanza.name}]\n"
        for index, member in enumerate(stanza.hosts, start=1):
            text += (
                f"pg{index}-host={env.hosts[member].address}\n"
                + f"pg{index}-host-type=tls\n"
                + f"pg{index}-host-port={int(backups.tls_port)}\n"
                + f"pg{index}-host-ca-file={CA_FILE}\n"
                + f"pg{index}-host-cert-file={CERT_FILE}\n"
                + f"pg{index}-host-key-file={KEY_FILE}\n"
                + f"pg{index}-path=/var/lib/postgresql/{paths.version}/{paths.cluster}\n"
                + f"pg{index}-port={int(env.postgres.port)}\n"
                + f"pg{index}-socket-path={SOCKET_DIR}\n"
            )
    return text


def render_schedule(
    backups: Backups, stanza_names: list[str], standby_stanzas: Collection[str] = ()
) -> str:
    """The cron file of the repository's host: full backups and differential ones in between,
    as postgres, for every stanza. A stanza of an HA cluster (`standby_stanzas`) is backed up
    from a standby when one runs (pgBackRest's `backup-standby`: the leader sends only what a
    standby cannot), else from the leader: with no standby, pgBackRest 2.45 refuses before it
    copies anything, and the second command takes the backup from the leader."""
    text = HEADER + "SHELL=/bin/sh\n" + "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
    for stanza in stanza_names:
        command = f"pgbackrest --stanza={stanza}"
        for schedule, kind in ((backups.full_schedule, "full"), (backups.diff_schedule, "diff")):
            line = f"{command} --type={kind} backup"
            if stanza in standby_stanzas:
                line = (
                    f"{command} --type={kind} --backup-standby=y backup"
                    f" || {command} --type={kind} --no-backup-standby backup"
                )
            text += f"{schedule} postgres {line}\n"
    return text


def standby_stanzas(env: Environment) -> tuple[str, ...]:
    """The stanzas of clusters with standbys (an HA cluster): backed up from a standby."""
    return tuple(s.name for s in stanzas(env) if len(s.hosts) > 1)


@dataclass(frozen=True)
class BackupPlan:
    """What a host's backup operations get: the TLS server's files (database and backup
    hosts with a backup host), the stanza a database host archives to, and the stanzas whose
    backups this host takes and checks for freshness (the backup host, or a `local` host)."""

    tls_port: int
    server: bool
    stanza: str | None
    local_repository: bool
    repository_stanzas: tuple[str, ...]
    max_age_seconds: int
    max_age: str
    drill_max_age: str = "8d"
    repo_path: str = "/var/lib/pgbackrest"
    server_files: tuple[str, ...] = field(default=SERVER_FILES)


def backup_plan(env: Environment, host_name: str) -> BackupPlan | None:
    backups = env.backups
    if not backups.enabled:
        return None
    host = env.hosts[host_name]
    remote = env.backup_host() is not None
    is_backup_host = "backup" in host.groups
    stanza = None if is_backup_host else stanza_of(env, host_name)
    # A replica archives only once promoted; its stanza is made and checked by the leader.
    archives_now = stanza is not None and "replica" not in host.groups
    if is_backup_host:
        taken: tuple[str, ...] = tuple(s.name for s in stanzas(env))
    elif not remote and archives_now:
        taken = (stanza,) if stanza is not None else ()
    else:
        taken = ()
    return BackupPlan(
        tls_port=backups.tls_port,
        server=remote,
        stanza=stanza if archives_now else None,
        local_repository=not remote,
        repository_stanzas=taken,
        max_age_seconds=duration_seconds(backups.max_age),
        max_age=backups.max_age,
        drill_max_age=backups.drill_max_age,
        repo_path=str(backups.repo_path),
    )


def when(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def freshness_problem(
    stanza: str, entry: Mapping[str, Any], now: int, max_age: str, seconds: int
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
        f"{when(int(last['stop']))}, {age // 3600} h {age % 3600 // 60} min ago, older than "
        f"backups.max_age {max_age}: see the schedule ({SCHEDULE_FILE}) and {LOG_DIR} on the "
        "backup host"
    )


def stanza_problem(
    stanza: str, entry: Mapping[str, Any], now: int, max_age: str, seconds: int
) -> str | None:
    """What is wrong with a stanza as the repository's `info` reads it (one line naming it),
    or None when it is ok and its last backup is fresh."""
    code, message = entry["status"]["code"], entry["status"]["message"]
    if code == STANZA_OK:
        return freshness_problem(stanza, entry, now, max_age, seconds)
    if code == NO_VALID_BACKUP:
        return f"stanza {stanza}: holds no valid backup"
    if code in MISSING_STANZA_CODES:
        return (
            f"stanza {stanza}: does not exist: its cluster's deploy creates it once "
            "archive_mode is on (is a restart pending?)"
        )
    if code in (INFO_FAILED, OTHER_ERROR):
        return f"stanza {stanza}: pgbackrest info cannot read it: {message}"
    return (
        f"stanza {stanza}: pgBackRest reports status {code} ({message}): see {LOG_DIR} on "
        "the backup host"
    )


MISSING_ENTRY: dict[str, Any] = {
    "status": {"code": 1, "message": "missing stanza path"},
    "backups": 0,
    "first_backup": None,
    "last_backup": None,
    "backup_list": [],
}


def backup_health(env: Environment, repository: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Health-check rows (name, status, detail) of every stanza, from the repository host's
    `PgBackRestRepository` fact: critical when a stanza is not ok or its last backup is older
    than `backups.max_age`."""
    found = repository.get("stanzas") or {}
    max_age = env.backups.max_age
    seconds = duration_seconds(max_age)
    rows = []
    for stanza in stanzas(env):
        entry = found.get(stanza.name) or found.get("") or MISSING_ENTRY
        problem = stanza_problem(stanza.name, entry, int(repository["now"]), max_age, seconds)
        if problem is not None:
            rows.append((f"backups:{stanza.name}", "critical", problem))
            continue
        last = entry["last_backup"]
        age = int(repository["now"]) - int(last["stop"])
        rows.append(
            (
                f"backups:{stanza.name}",
                "ok",
                f"{entry['backups']} backup(s); last {last['label']} ({last['type']}) finished "
                f"{when(int(last['stop']))}, {age // 3600} h {age % 3600 // 60} min ago "
                f"(max {max_age})",
            )
        )
    return rows


def _segment_number(name: str) -> int | None:
    """A WAL segment file's number (log * 256 + segment, 16 MB segments), any timeline; None
    for anything else (history files, partial segments)."""
    base = name.split("-", 1)[0]
    if len(base) != 24 or not all(c in "0123456789ABCDEF" for c in base) or ".partial" in name:
        return None
    return int(base[8:16], 16) * 256 + int(base[16:24], 16)


def segment_name(number: int, timeline: int = 1) -> str:
    return f"{timeline:08X}{number // 256:08X}{number % 256:08X}"


def archive_gap(segments: list[str], since: str) -> tuple[int, int] | None:
    """The first and last segment numbers missing from the archive between `since` (the last
    backup's first WAL segment) and the newest archived one: WAL written while archiving was
    off, that no restore can cross; None when the archive is whole from there."""
    start = _segment_number(since)
    if start is None:
        return None
    held = {n for n in (_segment_number(s) for s in segments) if n is not None and n >= start}
    if not held:
        return None
    missing = [n for n in range(start, max(held) + 1) if n not in held]
    return (missing[0], missing[-1]) if missing else None
