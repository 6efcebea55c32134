"""The environment model: one validated, frozen description of a PostgreSQL estate.

Everything a deploy needs is checked here, before any host is touched. The model holds no
secret values; it names where each secret comes from (see `adxdb.inventory.secrets`).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, model_validator

from adxdb.contract import GENERATED_SECRET_ENVIRONMENTS, MAIN_DATABASE
from adxdb.errors import ModelProblems
from adxdb.inventory.types import (
    Address,
    CronSchedule,
    Frozen,
    HostGroup,
    HostName,
    IsolationLevel,
    PgIdentifier,
    Port,
    RestartPolicy,
    SecretSource,
    SettingName,
    SettingValue,
    TenantSlug,
)


class SSH(Frozen):
    hostname: Address
    port: Port = 22
    user: str = "root"
    key: Path | None = None
    known_hosts: Path | None = None
    sudo: bool = False


class ContainerSpec(Frozen):
    """How a local/test host runs as a container: the PostgreSQL port published on 127.0.0.1."""

    pg_port: Port


class Host(Frozen):
    address: Address = Field(description="the address clients and peers use")
    dns_names: tuple[Address, ...] = ()
    ssh: SSH
    groups: tuple[HostGroup, ...] = ("primary",)
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
    connection_limit: Annotated[int, Field(ge=-1)] = -1
    member_of: tuple[PgIdentifier, ...] = ()
    password: SecretSource | None = None


class Database(Frozen):
    owner: PgIdentifier
    connect: tuple[PgIdentifier, ...] = ()
    encoding: Literal["UTF8"] = "UTF8"
    locale: Literal["C.UTF-8", "C"] = "C.UTF-8"
    connection_limit: Annotated[int, Field(ge=-1)] = -1


class Tenant(Frozen):
    slug: TenantSlug
    id: UUID
    name: Annotated[str, Field(min_length=1, max_length=200)]
    isolation: IsolationLevel = "rls"
    host: HostName | None = None
    connection_limit: Annotated[int, Field(ge=-1)] = -1
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
    lock_timeout: Annotated[str, Field(pattern=r"^\d+\s*(ms|s|min|h)?$")] = "10s"
    statement_timeout: Annotated[str, Field(pattern=r"^\d+\s*(ms|s|min|h)?$")] = "30min"


class Backups(Frozen):
    """WAL archiving and backups with pgBackRest: one stanza per cluster, its repository on the
    host itself (keep a copy elsewhere: the repository is only as safe as its disk)."""

    enabled: bool = True
    stanza: PgIdentifier = "adx"
    repo_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./-]+$")] = "/var/lib/pgbackrest"
    retention_full: Annotated[int, Field(ge=1, le=100)] = 2
    full_schedule: CronSchedule = "30 1 * * 0"
    diff_schedule: CronSchedule = "30 1 * * 1-6"


class ContainerNetwork(Frozen):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
    subnet: ipaddress.IPv4Network


# The contract roles of DESIGN.md: every environment has them; an inventory may tune them
# (connection limit, password source) but not weaken their contract attributes.
CONTRACT_ROLES: dict[str, Role] = {
    "adx_owner": Role(login=False),
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
    client_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    roles: dict[PgIdentifier, Role] = Field(default_factory=dict)
    databases: dict[PgIdentifier, Database] = Field(default_factory=dict)
    tenants: tuple[Tenant, ...] = ()
    migrations: MigrationSettings = MigrationSettings()
    backups: Backups = Backups()
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
                override = declared.get(object_name) or {}
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
        problems: list[tuple[str, str]] = []
        primaries = [n for n, h in self.hosts.items() if "primary" in h.groups]
        if not primaries:
            problems.append(("hosts", "no host is in the 'primary' group"))
        for role_name in CONTRACT_ROLES:
            role = self.roles[role_name]
            contract = CONTRACT_ROLES[role_name]
            for attribute in CONTRACT_ROLE_ATTRIBUTES:
                if getattr(role, attribute) != getattr(contract, attribute):
                    problems.append(
                        (
                            f"roles.{role_name}.{attribute}",
                            f"is fixed by the contract to {getattr(contract, attribute)}",
                        )
                    )
        for role_name, role in self.roles.items():
            for index, parent in enumerate(role.member_of):
                if parent not in self.roles and parent not in PREDEFINED_ROLES:
                    problems.append(
                        (
                            f"roles.{role_name}.member_of[{index}]",
                            f"{parent!r} is not a declared role",
                        )
                    )
        for db_name, database in self.databases.items():
            if database.owner not in self.roles:
                problems.append(
                    (f"databases.{db_name}.owner", f"{database.owner!r} is not a declared role")
                )
            for index, grantee in enumerate(database.connect):
                if grantee not in self.roles:
                    problems.append(
                        (
                            f"databases.{db_name}.connect[{index}]",
                            f"{grantee!r} is not a declared role",
                        )
                    )
        problems.extend(self._tenant_problems())
        if self.tls.mode == "files":
            if self.tls.ca_file is None:
                problems.append(("tls.ca_file", "is required when tls.mode is 'files'"))
            for host_name, host in self.hosts.items():
                for field in ("tls_cert_file", "tls_key_file"):
                    if getattr(host, field) is None:
                        problems.append(
                            (f"hosts.{host_name}.{field}", "is required when tls.mode is 'files'")
                        )
        if self.name not in GENERATED_SECRET_ENVIRONMENTS:
            if self.tls.mode == "generate":
                problems.append(
                    ("tls.mode", f"'generate' is for local and test; {self.name} needs 'files'")
                )
            if self.container_network is not None:
                problems.append(("container_network", "is for local and test environments only"))
        if self.container_network is not None:
            for host_name, host in self.hosts.items():
                try:
                    inside = ipaddress.ip_address(host.address) in self.container_network.subnet
                except ValueError:
                    inside = False
                if not inside:
                    problems.append(
                        (
                            f"hosts.{host_name}.address",
                            f"must be an IP address in container_network.subnet "
                            f"{self.container_network.subnet}",
                        )
                    )
        if problems:
            raise ModelProblems(problems)
        return self

    def _tenant_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        seen_slugs: dict[str, int] = {}
        seen_ids: dict[UUID, int] = {}
        for index, tenant in enumerate(self.tenants):
            where = f"tenants[{index}]"
            if tenant.drop and (tenant.state != "absent" or tenant.isolation == "rls"):
                problems.append(
                    (
                        f"{where}.drop",
                        "is only allowed with state 'absent' for a schema or database tenant",
                    )
                )
            if tenant.slug in seen_slugs:
                problems.append(
                    (f"{where}.slug", f"{tenant.slug!r} repeats tenants[{seen_slugs[tenant.slug]}]")
                )
            seen_slugs.setdefault(tenant.slug, index)
            if tenant.id in seen_ids:
                problems.append(
                    (f"{where}.id", f"{tenant.id} repeats tenants[{seen_ids[tenant.id]}]")
                )
            seen_ids.setdefault(tenant.id, index)
            if tenant.isolation == "database":
                if tenant.host is None:
                    problems.append((f"{where}.host", "is required for isolation 'database'"))
                elif tenant.host not in self.hosts:
                    problems.append(
                        (f"{where}.host", f"{tenant.host!r} is not a host of this environment")
                    )
                elif "replica" in self.hosts[tenant.host].groups:
                    problems.append((f"{where}.host", f"{tenant.host!r} is a replica"))
            elif tenant.host is not None:
                problems.append(
                    (
                        f"{where}.host",
                        f"is only allowed for isolation 'database', not {tenant.isolation!r}",
                    )
                )
        return problems

    # Derived views the operations use ------------------------------------------------

    def restart_policy(self, host_name: str) -> RestartPolicy:
        return self.hosts[host_name].restart_policy or self.postgres.restart_policy

    def primary_host(self) -> str:
        return next(n for n, h in self.hosts.items() if "primary" in h.groups)

    def login_roles(self) -> list[str]:
        return [name for name, role in self.roles.items() if role.login]
