"""The environment model: one validated, frozen description of a PostgreSQL estate.

Everything a deploy needs is checked here, before any host is touched. The model holds no
secret values; it names where each secret comes from (see `adxdb.inventory.secrets`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, model_validator

from adxdb.contract import MAIN_DATABASE
from adxdb.errors import ModelProblems
from adxdb.inventory.types import (
    Address,
    ConnectionLimit,
    CronSchedule,
    DatabaseName,
    Duration,
    Frozen,
    HostGroup,
    HostName,
    IPv4Network,
    IsolationLevel,
    Network,
    PgIdentifier,
    Port,
    RepoPath,
    RestartPolicy,
    RoleName,
    SecretSource,
    SettingName,
    SettingValue,
    TenantSlug,
    duration_between,
)


class SSH(Frozen):
    hostname: Address
    port: Port = 22
    user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_.-]{0,31}$")] = "root"
    key: Path | None = None
    known_hosts: Path | None = None
    sudo: bool = False


class ContainerSpec(Frozen):
    """How a local/test host runs as a container: the PostgreSQL port published on 127.0.0.1
    (none for a backup host: it runs no server clients reach)."""

    pg_port: Port | None = None


class Host(Frozen):
    address: Address = Field(description="the address clients and peers use")
    dns_names: tuple[Address, ...] = ()
    ssh: SSH
    groups: Annotated[tuple[HostGroup, ...], Field(min_length=1)] = ("primary",)
    restart_policy: RestartPolicy | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    container: ContainerSpec | None = None


class Postgres(Frozen):
    version: Annotated[int, Field(ge=13, le=18)] = 15
    cluster: PgIdentifier = "main"
    port: Port = 5432
    restart_policy: RestartPolicy = "never"
    settings: dict[SettingName, SettingValue] = Field(default_factory=dict)
    password_salt_key: SecretSource | None = Field(
        default=None,
        description="the key each login role's SCRAM salt is derived with (from the role and "
        "its password), so a no-op deploy recognises a converged password without PBKDF2; "
        "local/test: generated; without it every password is checked by recomputing",
    )


class TLS(Frozen):
    mode: Literal["generate", "files"]
    ca_file: Path | None = None
    min_protocol_version: Literal["TLSv1.2", "TLSv1.3"] = "TLSv1.2"


class Role(Frozen):
    login: bool = True
    superuser: bool = False
    createdb: bool = False
    createrole: bool = False
    replication: bool = False
    bypassrls: bool = False
    inherit: bool = True
    connection_limit: ConnectionLimit = -1
    member_of: tuple[PgIdentifier, ...] = ()
    password: SecretSource | None = None


class Database(Frozen):
    owner: PgIdentifier
    connect: tuple[PgIdentifier, ...] = ()
    encoding: Literal["UTF8"] = "UTF8"
    locale: Literal["C.UTF-8", "C"] = "C.UTF-8"
    connection_limit: ConnectionLimit = -1


class Tenant(Frozen):
    slug: TenantSlug
    id: UUID
    name: Annotated[str, Field(min_length=1, max_length=200)]
    isolation: IsolationLevel = "rls"
    host: HostName | None = Field(
        default=None, description="a database tenant's dedicated host (a cluster of one)"
    )
    cluster: PgIdentifier | None = Field(
        default=None,
        description="a database tenant's dedicated cluster of several members (`clusters:`)",
    )
    connection_limit: ConnectionLimit = -1
    state: Literal["present", "absent"] = "present"
    drop: bool = Field(
        default=False,
        description="with state absent: dump the tenant's schema or database, then drop it",
    )
    password: SecretSource | None = Field(
        default=None, description="the password of the tenant's own role (schema, database)"
    )


class MigrationSettings(Frozen):
    """Timeouts set for every migration (PostgreSQL interval syntax, e.g. `5s`, `30min`)."""

    directory: Path | None = Field(
        default=None,
        description="migration streams folder; default: the repository's sql/migrations",
    )
    lock_timeout: Duration = "10s"
    statement_timeout: Duration = "30min"
    lock_wait: Duration = Field(
        default="3min",
        description="how long a deploy waits for another deploy's migration lock of a database",
    )


class MoveSettings(Frozen):
    """How a tenant moves between isolation levels and hosts while it writes (DESIGN.md
    decision 10): its writes are captured and caught up in passes, then frozen, for that tenant
    only, for the last pass and the switch."""

    freeze: Annotated[Duration, duration_between("100ms", "10min")] = Field(
        default="5s",
        description="the longest the moving tenant's writes wait for the transactions that "
        "began before the freeze; the freeze's length is reported",
    )
    start_wait: Annotated[Duration, duration_between("1s", "1d")] = Field(
        default="1min",
        description="how long a move waits, before its copy, for transactions that began "
        "before its capture",
    )
    catch_up_passes: Annotated[int, Field(ge=1, le=100)] = 5
    catch_up_rows: Annotated[int, Field(ge=0, le=1_000_000)] = Field(
        default=100,
        description="a catch-up pass that copied at most this many changed rows goes on to the "
        "freeze",
    )


class Backups(Frozen):
    """WAL archiving and backups with pgBackRest (DESIGN.md decision 7): one stanza per cluster
    (the main cluster's is `stanza`, a dedicated tenant host's is the host's name), the
    repository on the host in group `backup`, reached over pgBackRest's TLS server; `local`
    alone may keep the repository on its database host."""

    enabled: bool = True
    stanza: PgIdentifier = "adx"
    repo_path: RepoPath = "/var/lib/pgbackrest"
    retention_full: Annotated[int, Field(ge=1, le=9999)] = Field(
        default=2,
        description="full backups kept: a count, or days with retention_full_type 'time'",
    )
    retention_full_type: Literal["count", "time"] = "count"
    retention_diff: Annotated[int, Field(ge=1, le=9999)] | None = Field(
        default=None, description="differential backups kept (default: pgBackRest's, all)"
    )
    full_schedule: CronSchedule = "30 1 * * 0"
    diff_schedule: CronSchedule = "30 1 * * 1-6"
    max_age: Annotated[Duration, duration_between("1s", "90d")] = Field(
        default="26h",
        description="the deploy fails, naming the stanza, when a stanza's last backup is older",
    )
    tls_port: Port = Field(default=8432, description="the port of pgBackRest's TLS servers")
    drill_max_age: Annotated[Duration, duration_between("1h", "365d")] = Field(
        default="8d",
        description="the health check and the plan warn when a stanza's last verified restore "
        "(`adxdb restore-drill`) is older, or there is none",
    )


class Etcd(Frozen):
    """The etcd cluster Patroni keeps its leader lock in (v3 API, TLS between members and to
    clients, client certificates required)."""

    members: tuple[HostName, ...] = Field(
        default=(), description="etcd's hosts (3 or 5); default: the main cluster's members"
    )
    client_port: Port = 2379
    peer_port: Port = 2380


class HA(Frozen):
    """High availability of the main cluster (hosts in group `main`): Patroni 3.0.2 on etcd,
    DESIGN.md decision 8. Durations in seconds, as Patroni takes them."""

    synchronous_mode: bool = Field(
        default=True,
        description="commit waits for one synchronous standby (no acknowledged write is lost "
        "in a failover while it is healthy)",
    )
    ttl: Annotated[int, Field(ge=10, le=600)] = 30
    loop_wait: Annotated[int, Field(ge=1, le=60)] = 10
    retry_timeout: Annotated[int, Field(ge=3, le=600)] = 10
    maximum_lag_on_failover: Annotated[int, Field(ge=0)] = Field(
        default=1048576,
        description="bytes a replica may lag and still be promoted (with synchronous mode "
        "only the synchronous standby is)",
    )
    max_slot_wal_keep_size: Annotated[str, Field(pattern=r"^(-1|[1-9][0-9]*(kB|MB|GB|TB))$")] = (
        "10GB"
    )
    rest_port: Port = 8008
    rest_password: SecretSource | None = Field(
        default=None, description="the password of Patroni's REST API (user adx_patroni)"
    )


class TenantCluster(Frozen):
    """A dedicated tenant cluster of two or more members (hosts in group `tenant_hosts`):
    Patroni runs it on the environment's etcd, like an HA main cluster; its stanza is its
    name."""

    members: Annotated[tuple[HostName, ...], Field(min_length=2)]


@dataclass(frozen=True)
class ClusterMembers:
    """One PostgreSQL cluster of the estate: the main one (`main`), a dedicated tenant cluster
    (its `clusters:` key) or a lone dedicated tenant host (its host name); its pgBackRest
    stanza; its members (Patroni runs a cluster of two or more)."""

    name: str
    stanza: str
    members: tuple[str, ...]
    main: bool = False

    @property
    def ha(self) -> bool:
        return len(self.members) >= 2


class ContainerNetwork(Frozen):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
    subnet: IPv4Network


# The contract roles of DESIGN.md: every environment has them; an inventory may tune them
# (connection limit, password source) but not weaken their contract attributes.
CONTRACT_ROLES: dict[str, Role] = {
    # The control plane: owns every schema object and sees every row (migrations backfill
    # all tenants; SECURITY DEFINER routing functions read across tenants). No login.
    "adx_owner": Role(login=False, bypassrls=True),
    "adx_migrator": Role(member_of=("adx_owner",)),
    "adx_app": Role(),
    "adx_readonly": Role(),
    "adx_monitor": Role(member_of=("pg_monitor",)),
    "adx_replication": Role(replication=True),
}
CONTRACT_ROLE_ATTRIBUTES = (
    "login",
    "superuser",
    "createdb",
    "createrole",
    "replication",
    "bypassrls",
)
CONTRACT_DATABASES: dict[str, Database] = {
    MAIN_DATABASE: Database(
        owner="adx_owner",
        connect=("adx_migrator", "adx_app", "adx_readonly", "adx_monitor"),
    ),
}
PREDEFINED_ROLES = frozenset(
    {
        "pg_monitor",
        "pg_read_all_settings",
        "pg_read_all_stats",
        "pg_stat_scan_tables",
        "pg_read_all_data",
        "pg_write_all_data",
        "pg_signal_backend",
        "pg_checkpoint",
    }
)


class Environment(Frozen):
    name: Literal["local", "test", "staging", "prod"]
    hosts: dict[HostName, Host]
    postgres: Postgres = Postgres()
    tls: TLS
    client_networks: tuple[Network, ...] = ()
    roles: dict[RoleName, Role] = Field(default_factory=dict)
    databases: dict[DatabaseName, Database] = Field(default_factory=dict)
    tenants: tuple[Tenant, ...] = ()
    clusters: dict[PgIdentifier, TenantCluster] = Field(default_factory=dict)
    migrations: MigrationSettings = MigrationSettings()
    moves: MoveSettings = MoveSettings()
    backups: Backups = Backups()
    etcd: Etcd | None = None
    ha: HA | None = None
    seed: Literal["development", "test"] | None = None
    container_network: ContainerNetwork | None = None

    @model_validator(mode="before")
    @classmethod
    def _merge_contract(cls, data: Any) -> Any:
        """Contract roles and databases exist in every environment; the YAML tunes them."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key, contract in (("roles", CONTRACT_ROLES), ("databases", CONTRACT_DATABASES)):
            declared = data.get(key) or {}
            if not isinstance(declared, dict):
                continue
            merged: dict[str, Any] = {}
            for object_name, default in contract.items():
                # A contract object cannot be switched off: `adx_app: null` (or false) is kept
                # as it is, and refused as not a mapping.
                override = declared.get(object_name, {})
                if isinstance(override, dict):
                    merged[object_name] = {**default.model_dump(exclude_defaults=True), **override}
                else:
                    merged[object_name] = override
            for object_name, spec in declared.items():
                merged.setdefault(object_name, spec)
            data[key] = merged
        return data

    @model_validator(mode="after")
    def _cross_checks(self) -> Environment:
        from adxdb.inventory.checks import environment_problems  # it reads this module

        problems = environment_problems(self)
        if problems:
            raise ModelProblems(problems)
        return self

    # Derived views the operations use ------------------------------------------------

    def restart_policy(self, host_name: str) -> RestartPolicy:
        return self.hosts[host_name].restart_policy or self.postgres.restart_policy

    def primary_host(self) -> str:
        """The main cluster's host when it has one; the first member of an HA main cluster (a
        name to address it by, not its leader: that is found at run time)."""
        return self.main_members()[0]

    def main_members(self) -> list[str]:
        """The hosts of the main cluster: its one `primary`, or every host in group `main`."""
        return [n for n, h in self.hosts.items() if {"primary", "main"} & set(h.groups)]

    def is_ha(self) -> bool:
        """The main cluster has more than one member: Patroni runs it."""
        return sum("main" in h.groups for h in self.hosts.values()) >= 2

    def any_ha(self) -> bool:
        """Some cluster of the estate (main or a dedicated tenant one) runs under Patroni."""
        return self.is_ha() or bool(self.clusters)

    def estate_clusters(self) -> list[ClusterMembers]:
        """Every PostgreSQL cluster: the main one, each dedicated tenant cluster (by name),
        each dedicated host in no cluster (by name): the same order whatever order the
        inventory lists them in."""
        found = [ClusterMembers("main", self.backups.stanza, tuple(self.main_members()), True)]
        found += [
            ClusterMembers(name, name, tuple(self.clusters[name].members))
            for name in sorted(self.clusters)
        ]
        taken = {m for c in found for m in c.members}
        found += [
            ClusterMembers(name, name, (name,))
            for name in sorted(self.database_hosts())
            if name not in taken
        ]
        return found

    def cluster_of(self, host_name: str) -> ClusterMembers:
        """The cluster `host_name` is a member of (a database host)."""
        return next(c for c in self.estate_clusters() if host_name in c.members)

    def tenant_cluster(self, tenant: Tenant) -> ClusterMembers:
        """The cluster holding the tenant's data: its dedicated cluster or host, else main."""
        if tenant.isolation == "database" and tenant.cluster is not None:
            return next(c for c in self.estate_clusters() if c.name == tenant.cluster)
        if tenant.isolation == "database" and tenant.host is not None:
            return self.cluster_of(tenant.host)
        return self.estate_clusters()[0]

    def ha_settings(self) -> HA:
        return self.ha or HA()

    def etcd_members(self) -> list[str]:
        if not self.any_ha():
            return []
        if self.etcd is not None and self.etcd.members:
            return list(self.etcd.members)
        return self.main_members() if self.is_ha() else []

    def etcd_settings(self) -> Etcd:
        return self.etcd or Etcd()

    def backup_host(self) -> str | None:
        """The host of the pgBackRest repository, or None (a repository on each database host)."""
        return next((n for n, h in self.hosts.items() if "backup" in h.groups), None)

    def database_hosts(self) -> list[str]:
        """The hosts that run PostgreSQL: all but the backup host."""
        return [n for n, h in self.hosts.items() if "backup" not in h.groups]

    def login_roles(self) -> list[str]:
        return [name for name, role in self.roles.items() if role.login]
