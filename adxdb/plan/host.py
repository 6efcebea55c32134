"""The plan of one host, computed once from the inventory: everything `deploy.py` passes to the
operations, in the order of DESIGN.md, so that the deploy file holds no logic.

packages -> cluster -> TLS -> config + pg_hba (+ pgBackRest configuration) -> service ->
pgBackRest stanza and schedule -> roles -> databases -> tenant schemas -> migrations ->
tenant moves -> dropped tenants -> tenants registry -> seed data.

The plan holds secrets (TLS keys, passwords) for the operations that need them; its repr
shows none of them, and it never goes into pyinfra's host data.
"""

from __future__ import annotations

import getpass
import posixpath
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import SecretStr

from adxdb.contract import (
    LEDGER_READERS,
    MAIN_DATABASE,
    MIGRATOR_ROLE,
    OWNER_ROLE,
    tenant_database,
    tenant_schema,
)
from adxdb.inventory.loader import Inventory
from adxdb.inventory.migration_files import MigrationFile
from adxdb.inventory.model import Database, Host, MoveSettings, Role
from adxdb.inventory.tls import common_name
from adxdb.inventory.types import RestartPolicy, SettingValue, duration_seconds
from adxdb.plan import backups as pgbackrest
from adxdb.plan import ha as patroni
from adxdb.plan.config import ClusterPaths, render_conf, render_hba
from adxdb.plan.config import settings as cluster_settings
from adxdb.plan.migrations import Target, Timeouts
from adxdb.plan.seeds import seed_text
from adxdb.plan.tenants import (
    RegistryRow,
    SchemaSpec,
    copy_session_settings,
    databases_for_host,
    dropped_tenants,
    migration_targets,
    registry_bound_roles,
    registry_rows,
    retired_roles_for_host,
    roles_for_host,
    schemas_for_host,
)

CREATECLUSTER_CONF = "/etc/postgresql-common/createcluster.d/50-adx.conf"
# Where the SSH user of a host reached through sudo stages uploads (operations/uploads.py).
STAGING_DIR = "/var/lib/adx-deploy-staging"
STAGING_PREFIX = "adx-upload-"
CREATECLUSTER_TEXT = (
    "# Managed by adxdb: the deploy creates its clusters itself.\ncreate_main_cluster = false\n"
)
BACKUP_PACKAGES = ("pgbackrest", "cron", "jq")  # jq: the restore drill records JSON
# Patroni 3.0.2's etcd3 module imports python3-etcd, which the package lists only as one
# alternative (DEBIAN12-NOTES.md); etcdctl and curl read etcd and the REST API for facts.
HA_PACKAGES = ("patroni", "python3-etcd", "etcd-client", "curl", "jq")
ETCD_SERVER_PACKAGE = "etcd-server"


def server_packages(version: int) -> list[str]:
    return [f"postgresql-{version}", f"postgresql-client-{version}", "postgresql-common"]


@dataclass(frozen=True)
class ManagedDirectory:
    """A folder the deploy owns; `title` is the operation's name in pyinfra's output."""

    title: str
    path: str
    user: str
    group: str
    mode: str


@dataclass(frozen=True)
class ManagedFile:
    """A file the deploy renders; its content stays out of every repr (a TLS key is one)."""

    title: str
    dest: str
    content: str = field(repr=False)
    user: str | None = None
    group: str | None = None
    mode: str | None = None
    create_remote_dir: bool = True


@dataclass(frozen=True)
class RunInfo:
    """What one run records: who runs it (the ledger's `applied_by`) and when (dump names)."""

    applied_by: str
    stamp: str

    @classmethod
    def now(cls) -> RunInfo:
        return cls(
            applied_by=f"{getpass.getuser()}@{socket.gethostname()}",
            stamp=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        )


@dataclass(frozen=True)
class MovesPlan:
    """What the primary's `tenant_moves` operation needs."""

    rows: tuple[RegistryRow, ...]
    stream_versions: tuple[tuple[str, int], ...]
    primary_address: str
    ca_file: str
    mover: str
    mover_password: SecretStr
    lock_timeout: str
    settings: MoveSettings = field(default_factory=MoveSettings)
    # address -> name of every host of the inventory: where a tenant's old location is.
    hosts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedPlan:
    name: str
    database: str
    text: str = field(repr=False)


@dataclass(frozen=True)
class HostPlan:
    host: str
    version: int
    cluster: str
    port: int
    packages: tuple[str, ...]
    staging: ManagedDirectory | None
    createcluster: ManagedFile
    config: tuple[ManagedDirectory | ManagedFile, ...]
    backup_files: tuple[ManagedDirectory | ManagedFile, ...]
    restart_policy: RestartPolicy
    settings: Mapping[str, SettingValue]
    conf_file: str
    backup: pgbackrest.BackupPlan | None
    backup_schedule: ManagedFile | None
    roles: Mapping[str, Role]
    retired_roles: tuple[str, ...]
    registry_bound_roles: Mapping[str, str]
    database_role_settings: Mapping[str, Mapping[str, Mapping[str, str]]]
    passwords: Mapping[str, SecretStr] = field(repr=False)
    salt_key: SecretStr | None = field(default=None, repr=False)
    databases: Mapping[str, Database] = field(default_factory=dict)
    schemas: Mapping[str, Mapping[str, SchemaSpec]] = field(default_factory=dict)
    migration_targets: Mapping[str, list[Target]] = field(default_factory=dict)
    migration_files: tuple[MigrationFile, ...] = field(default=(), repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)
    applied_by: str = ""
    moves: MovesPlan | None = None
    dropped_schemas: tuple[str, ...] = ()
    dropped_databases: tuple[str, ...] = ()
    dump_stamp: str = ""
    registry: tuple[RegistryRow, ...] | None = None
    seed: SeedPlan | None = None

    runs_postgres: bool = True
    # An HA member: etcd and Patroni; Patroni owns the server (start, settings, pg_hba) and
    # the writes below run where the server is the leader, found at run time.
    ha: patroni.HAPlan | None = None
    etcd_files: tuple[ManagedDirectory | ManagedFile, ...] = ()
    patroni_files: tuple[ManagedDirectory | ManagedFile, ...] = ()
    removed_files: tuple[str, ...] = ()

    @property
    def leader_only(self) -> bool:
        return self.ha is not None

    def managed_items(self) -> list[ManagedDirectory | ManagedFile]:
        """Every file and folder the plan manages, in the deploy's order."""
        items: list[ManagedDirectory | ManagedFile] = [self.createcluster]
        if self.staging is not None:
            items.insert(0, self.staging)
        items += [*self.config, *self.backup_files, *self.etcd_files, *self.patroni_files]
        if self.backup_schedule is not None:
            items.append(self.backup_schedule)
        return items

    def managed_paths(self) -> list[str]:
        """The paths whose state one fact reads for the whole run (`managed_paths`)."""
        return managed_paths(self.managed_items(), self.removed_files)

    owner: str = OWNER_ROLE
    ledger_readers: tuple[str, ...] = LEDGER_READERS
    main_database: str = MAIN_DATABASE


ManagedItem = ManagedDirectory | ManagedFile


def managed_paths(items: Sequence[ManagedItem], removed: Sequence[str] = ()) -> list[str]:
    """Every path a set of managed items touches: each file, each folder, the folder a file
    goes into (made when missing), each file to remove; once each, sorted."""
    paths: set[str] = set(removed)
    for item in items:
        if isinstance(item, ManagedDirectory):
            paths.add(item.path)
        else:
            paths.add(item.dest)
            if item.create_remote_dir:
                paths.add(posixpath.dirname(item.dest))
    return sorted(paths)


def _config(inventory: Inventory, host_name: str, paths: ClusterPaths) -> list[ManagedItem]:
    """The server's TLS files; its settings and pg_hba (files here, Patroni's dynamic
    configuration on an HA member: `_ha_files`)."""
    env, tls = inventory.env, inventory.tls[host_name]
    items: list[ManagedItem] = [
        ManagedDirectory("TLS directory", paths.tls_dir, "postgres", "postgres", "700")
    ]
    for file_name, content, mode in (
        ("ca.crt", tls.ca_pem, "644"),
        ("server.crt", tls.cert_pem, "644"),
        ("server.key", tls.key_pem, "600"),
    ):
        items.append(
            ManagedFile(
                f"TLS {file_name}",
                f"{paths.tls_dir}/{file_name}",
                content,
                "postgres",
                "postgres",
                mode,
            )
        )
    if env.cluster_of(host_name).ha:
        # Debian's tools leave an HA member's server to Patroni (no start at boot).
        items.append(
            ManagedFile(
                "Cluster started by Patroni only (start.conf)",
                f"{paths.config_dir}/start.conf",
                "# Managed by adxdb: Patroni starts this cluster.\nmanual\n",
                "postgres",
                "postgres",
                "644",
            )
        )
        return items
    items.append(
        ManagedFile(
            "Managed settings (conf.d)",
            paths.conf_d_file,
            render_conf(env, paths, pgbackrest.stanza_of(env, host_name)),
            "postgres",
            "postgres",
            "644",
        )
    )
    items.append(
        ManagedFile("pg_hba.conf", paths.hba_file, render_hba(env), "postgres", "postgres", "640")
    )
    return items


def _tls_files(
    inventory: Inventory, host_name: str, title: str, directory: str, user: str
) -> list[ManagedItem]:
    tls = inventory.tls[host_name]
    items: list[ManagedItem] = [
        ManagedDirectory(f"{title} TLS directory", directory, user, user, "700")
    ]
    for file_name, content, mode in (
        ("ca.crt", tls.ca_pem, "644"),
        ("host.crt", tls.cert_pem, "644"),
        ("host.key", tls.key_pem, "600"),
    ):
        items.append(
            ManagedFile(
                f"{title} TLS {file_name}", f"{directory}/{file_name}", content, user, user, mode
            )
        )
    return items


def _etcd_files(inventory: Inventory, host_name: str) -> list[ManagedItem]:
    env = inventory.env
    if host_name not in env.etcd_members():
        return []
    return [
        *_tls_files(inventory, host_name, "etcd", patroni.ETCD_TLS_DIR, "etcd"),
        ManagedFile(
            "etcd configuration",
            patroni.ETCD_DEFAULT,
            patroni.render_etcd_default(env, host_name),
            "root",
            "root",
            "644",
        ),
    ]


def _patroni_files(inventory: Inventory, host_name: str, paths: ClusterPaths) -> list[ManagedItem]:
    env = inventory.env
    return [
        ManagedDirectory("Patroni directory", patroni.PATRONI_DIR, "root", "postgres", "750"),
        *_tls_files(inventory, host_name, "Patroni", patroni.PATRONI_TLS_DIR, "postgres"),
        ManagedFile(
            "Patroni configuration",
            patroni.config_file(paths),
            patroni.render_patroni_config(env, host_name, paths, inventory.passwords),
            "postgres",
            "postgres",
            "600",
        ),
    ]


def _backup_files(inventory: Inventory, host_name: str, paths: ClusterPaths) -> list[ManagedItem]:
    """pgBackRest's folders and configuration on a host; with a backup host, the TLS material
    of its TLS server and client (the host's own certificate, issued by the environment's CA)."""
    env = inventory.env
    backups = env.backups
    if not backups.enabled:
        return []
    host = env.hosts[host_name]
    remote = env.backup_host() is not None
    holds_repository = "backup" in host.groups or not remote
    # One order on every host (the repository's folder last): pyinfra orders the operations
    # of a loop by their place in it, across hosts.
    items: list[ManagedItem] = [
        ManagedDirectory(
            f"pgBackRest {pgbackrest.LOG_DIR}", pgbackrest.LOG_DIR, "postgres", "postgres", "770"
        )
    ]
    if remote:
        common_names = {name: common_name(tls.cert_pem) for name, tls in inventory.tls.items()}
        tls = inventory.tls[host_name]
        items.append(
            ManagedDirectory(
                "pgBackRest TLS directory", pgbackrest.TLS_DIR, "postgres", "postgres", "700"
            )
        )
        for title, dest, content, mode in (
            ("ca.crt", pgbackrest.CA_FILE, tls.ca_pem, "644"),
            ("host.crt", pgbackrest.CERT_FILE, tls.cert_pem, "644"),
            ("host.key", pgbackrest.KEY_FILE, tls.key_pem, "600"),
        ):
            items.append(
                ManagedFile(f"pgBackRest TLS {title}", dest, content, "postgres", "postgres", mode)
            )
        if "backup" in host.groups:
            text = pgbackrest.render_repository_config(env, paths, common_names)
        else:
            text = pgbackrest.render_database_host_config(env, host_name, paths, common_names)
    else:
        stanza = pgbackrest.stanza_of(env, host_name)
        text = pgbackrest.render_local_config(backups, stanza, paths, env.postgres.port)
    items.append(
        ManagedFile(
            "pgBackRest configuration", pgbackrest.CONFIG_FILE, text, "root", "postgres", "640"
        )
    )
    if holds_repository:
        items.append(
            ManagedDirectory(
                f"pgBackRest {backups.repo_path}", backups.repo_path, "postgres", "postgres", "750"
            )
        )
    return items


def _backup_schedule(inventory: Inventory, host_name: str) -> ManagedFile | None:
    plan = pgbackrest.backup_plan(inventory.env, host_name)
    if plan is None or not plan.repository_stanzas:
        return None
    return ManagedFile(
        "pgBackRest schedule",
        pgbackrest.SCHEDULE_FILE,
        pgbackrest.render_schedule(
            inventory.env.backups,
            list(plan.repository_stanzas),
            pgbackrest.standby_stanzas(inventory.env),
        ),
        "root",
        "root",
        "644",
    )


def _backup_host_plan(inventory: Inventory, host_name: str, run: RunInfo) -> HostPlan:
    """The backup host: pgBackRest (its TLS server, the repository, the schedule) and the
    PostgreSQL binaries restore drills run, but no cluster of its own."""
    env = inventory.env
    postgres = env.postgres
    paths = ClusterPaths(postgres.version, postgres.cluster)
    host = env.hosts[host_name]
    return HostPlan(
        host=host_name,
        version=postgres.version,
        cluster=postgres.cluster,
        port=postgres.port,
        packages=tuple(server_packages(postgres.version) + list(BACKUP_PACKAGES)),
        staging=_staging(host),
        createcluster=_createcluster(),
        config=(),
        backup_files=tuple(_backup_files(inventory, host_name, paths)),
        restart_policy=env.restart_policy(host_name),
        settings={},
        conf_file=paths.conf_d_file,
        backup=pgbackrest.backup_plan(env, host_name),
        backup_schedule=_backup_schedule(inventory, host_name),
        roles={},
        retired_roles=(),
        registry_bound_roles={},
        database_role_settings={},
        passwords={},
        applied_by=run.applied_by,
        runs_postgres=False,
    )


def _staging(host: Host) -> ManagedDirectory | None:
    if not host.ssh.sudo:
        return None
    return ManagedDirectory(
        f"Private staging folder of {host.ssh.user}",
        STAGING_DIR,
        host.ssh.user,
        host.ssh.user,
        "700",
    )


def _createcluster() -> ManagedFile:
    return ManagedFile(
        "Debian packages create no default cluster", CREATECLUSTER_CONF, CREATECLUSTER_TEXT
    )


def host_plan(inventory: Inventory, host_name: str, run: RunInfo) -> HostPlan:
    """The plan of `host_name`: what each operation of the deploy gets, in order."""
    env = inventory.env
    if "backup" in env.hosts[host_name].groups:
        return _backup_host_plan(inventory, host_name, run)
    postgres = env.postgres
    paths = ClusterPaths(postgres.version, postgres.cluster)
    host = env.hosts[host_name]
    # Every member of an HA main cluster gets the main cluster's writes; each write operation
    # runs them only where the server is the leader (found at run time, `leader_only`).
    is_primary = host_name in env.main_members()
    backups = env.backups
    rows = tuple(registry_rows(env))
    files = inventory.migration_files
    moves = None
    if is_primary and env.tenants:
        moves = MovesPlan(
            rows=rows,
            stream_versions=tuple((m.stream, m.version) for m in files),
            primary_address=host.address,
            ca_file=f"{paths.tls_dir}/ca.crt",
            mover=MIGRATOR_ROLE,
            mover_password=inventory.passwords[MIGRATOR_ROLE],
            lock_timeout=env.migrations.lock_timeout,
            settings=env.moves,
            hosts={h.address: name for name, h in env.hosts.items()},
        )
    dropped = dropped_tenants(env, host_name)
    ha = patroni.ha_plan(env, host_name, paths)
    packages = server_packages(postgres.version) + (
        list(BACKUP_PACKAGES) if backups.enabled else []
    )
    if ha is not None:
        packages += [*HA_PACKAGES, *([ETCD_SERVER_PACKAGE] if ha.etcd_member else [])]
    return HostPlan(
        host=host_name,
        version=postgres.version,
        cluster=postgres.cluster,
        port=postgres.port,
        packages=tuple(dict.fromkeys(packages)),
        staging=_staging(host),
        createcluster=_createcluster(),
        config=tuple(_config(inventory, host_name, paths)),
        backup_files=tuple(_backup_files(inventory, host_name, paths)),
        restart_policy=env.restart_policy(host_name),
        settings=cluster_settings(env, paths, pgbackrest.stanza_of(env, host_name)),
        conf_file=paths.conf_d_file,
        backup=pgbackrest.backup_plan(env, host_name),
        backup_schedule=_backup_schedule(inventory, host_name),
        roles={} if "replica" in host.groups else roles_for_host(env, host_name),
        retired_roles=tuple(retired_roles_for_host(env, host_name)),
        registry_bound_roles=(
            {} if "replica" in host.groups else registry_bound_roles(env, host_name)
        ),
        passwords=inventory.passwords,
        salt_key=inventory.salt_key,
        databases=databases_for_host(env, host_name),
        database_role_settings=copy_session_settings(env, host_name),
        schemas=schemas_for_host(env, host_name),
        migration_targets=migration_targets(env, host_name),
        migration_files=files,
        timeouts=Timeouts(
            env.migrations.lock_timeout,
            env.migrations.statement_timeout,
            duration_seconds(env.migrations.lock_wait),
        ),
        applied_by=run.applied_by,
        moves=moves,
        dropped_schemas=tuple(tenant_schema(t.slug) for t in dropped if t.isolation == "schema"),
        dropped_databases=tuple(
            tenant_database(t.slug) for t in dropped if t.isolation == "database"
        ),
        dump_stamp=run.stamp,
        registry=rows if is_primary else None,
        seed=(
            SeedPlan(env.seed, MAIN_DATABASE, seed_text(env.seed))
            if is_primary and env.seed is not None
            else None
        ),
        ha=ha,
        etcd_files=tuple(_etcd_files(inventory, host_name)) if ha is not None else (),
        patroni_files=tuple(_patroni_files(inventory, host_name, paths)) if ha is not None else (),
        removed_files=(paths.conf_d_file,) if ha is not None else (),
    )
