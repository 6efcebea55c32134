"""Cross-object rules of an environment: what no single field can check on its own.

Each rule returns (dotted path, message) pairs; the model's validator raises them together as
`ModelProblems`, and the loader prints one line each. The contract (DESIGN.md) is enforced
here: its roles keep their attributes and memberships, `adx_core` keeps its owner.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from uuid import UUID

from adxdb.contract import (
    GENERATED_SECRET_ENVIRONMENTS,
    MAIN_DATABASE,
    MIGRATOR_ROLE,
    OWNER_ROLE,
    TENANT_ROLE_PREFIX,
    tenant_database,
    tenant_role,
)
from adxdb.inventory.model import (
    CONTRACT_DATABASES,
    CONTRACT_ROLE_ATTRIBUTES,
    CONTRACT_ROLES,
    PREDEFINED_ROLES,
    Environment,
)
from adxdb.inventory.settings_catalogue import setting_problems

Problems = Iterator[tuple[str, str]]


def environment_problems(env: Environment) -> list[tuple[str, str]]:
    return [
        *_host_problems(env),
        *_role_problems(env),
        *_database_problems(env),
        *_tenant_problems(env),
        *_tls_problems(env),
        *_backup_problems(env),
        *_environment_kind_problems(env),
        *setting_problems(env.postgres.version, env.postgres.settings),
    ]


def _host_problems(env: Environment) -> Problems:
    primaries = [name for name, host in env.hosts.items() if "primary" in host.groups]
    if not primaries:
        yield "hosts", "no host is in the 'primary' group"
    elif len(primaries) > 1:
        yield (
            "hosts",
            f"{len(primaries)} hosts are in the 'primary' group ({', '.join(primaries)}); "
            "an environment has one primary",
        )
    endpoints: dict[tuple[str, int], str] = {}
    addresses: dict[str, str] = {}
    for name, host in env.hosts.items():
        if "primary" in host.groups and "replica" in host.groups:
            yield f"hosts.{name}.groups", "a host is either 'primary' or 'replica', not both"
        elif "replica" in host.groups:
            # Refused until replicas stream from their primary (Patroni on etcd, DESIGN.md
            # decision 8): the host would run an independent, writable cluster of its own.
            yield (
                f"hosts.{name}.groups",
                "'replica' is not supported yet: the host would run a writable cluster of its "
                "own, not a copy of the primary; remove the group (streaming replicas come "
                "with high availability on Patroni and etcd)",
            )
        if len(set(host.groups)) != len(host.groups):
            yield f"hosts.{name}.groups", "names a group twice"
        endpoint = (host.ssh.hostname, host.ssh.port)
        if endpoint in endpoints:
            yield (
                f"hosts.{name}.ssh",
                f"{endpoint[0]}:{endpoint[1]} is also the SSH endpoint of {endpoints[endpoint]}",
            )
        endpoints.setdefault(endpoint, name)
        if host.address in addresses:
            yield (
                f"hosts.{name}.address",
                f"{host.address} is also the address of {addresses[host.address]}",
            )
        addresses.setdefault(host.address, name)
        if host.container is not None and env.name not in GENERATED_SECRET_ENVIRONMENTS:
            yield f"hosts.{name}.container", "is for local and test environments only"
    if env.container_network is not None:
        subnet = env.container_network.subnet
        for name, host in env.hosts.items():
            try:
                inside = ipaddress.ip_address(host.address) in subnet
            except ValueError:
                inside = False
            if not inside:
                yield (
                    f"hosts.{name}.address",
                    f"must be an IP address in container_network.subnet {subnet}",
                )


def _role_problems(env: Environment) -> Problems:
    for role_name, contract in CONTRACT_ROLES.items():
        role = env.roles[role_name]
        for attribute in CONTRACT_ROLE_ATTRIBUTES:
            if getattr(role, attribute) != getattr(contract, attribute):
                yield (
                    f"roles.{role_name}.{attribute}",
                    f"is fixed by the contract to {getattr(contract, attribute)}",
                )
        if set(role.member_of) != set(contract.member_of):
            fixed = ", ".join(contract.member_of) or "no role"
            yield f"roles.{role_name}.member_of", f"is fixed by the contract to {fixed}"
    tenant_roles = {tenant_role(t.slug): t.slug for t in env.tenants}
    for role_name, role in env.roles.items():
        if role_name in tenant_roles:
            yield (
                f"roles.{role_name}",
                f"is the own role of tenant {tenant_roles[role_name]}: the deploy manages it",
            )
        elif role_name.startswith(TENANT_ROLE_PREFIX):
            yield f"roles.{role_name}", f"names starting {TENANT_ROLE_PREFIX} are tenants' roles"
        if role_name in CONTRACT_ROLES:
            continue
        for index, parent in enumerate(role.member_of):
            where = f"roles.{role_name}.member_of[{index}]"
            if parent not in env.roles and parent not in PREDEFINED_ROLES:
                yield where, f"{parent!r} is not a declared role"
            elif parent in (OWNER_ROLE, MIGRATOR_ROLE):
                yield (
                    where,
                    f"{parent!r} owns every schema object: only {MIGRATOR_ROLE} is a member "
                    f"of {OWNER_ROLE}",
                )


def _database_problems(env: Environment) -> Problems:
    tenant_databases = {tenant_database(t.slug) for t in env.tenants}
    for db_name, database in env.databases.items():
        contract = CONTRACT_DATABASES.get(db_name)
        if contract is not None and database.owner != contract.owner:
            yield f"databases.{db_name}.owner", f"is fixed by the contract to {contract.owner}"
        elif database.owner not in env.roles:
            yield f"databases.{db_name}.owner", f"{database.owner!r} is not a declared role"
        if db_name in tenant_databases:
            yield f"databases.{db_name}", "is a tenant's own database: the deploy manages it"
        for index, grantee in enumerate(database.connect):
            if grantee not in env.roles:
                yield (
                    f"databases.{db_name}.connect[{index}]",
                    f"{grantee!r} is not a declared role",
                )
    main = env.databases.get(MAIN_DATABASE)
    if main is not None:
        missing = [r for r in CONTRACT_DATABASES[MAIN_DATABASE].connect if r not in main.connect]
        if missing:
            yield (
                f"databases.{MAIN_DATABASE}.connect",
                f"must keep the contract's roles ({', '.join(missing)} missing)",
            )


def _tenant_problems(env: Environment) -> Problems:
    seen_slugs: dict[str, int] = {}
    seen_ids: dict[UUID, int] = {}
    for index, tenant in enumerate(env.tenants):
        where = f"tenants[{index}]"
        if tenant.drop and (tenant.state != "absent" or tenant.isolation == "rls"):
            yield (
                f"{where}.drop",
                "is only allowed with state 'absent' for a schema or database tenant",
            )
        if tenant.slug in seen_slugs:
            yield f"{where}.slug", f"{tenant.slug!r} repeats tenants[{seen_slugs[tenant.slug]}]"
        seen_slugs.setdefault(tenant.slug, index)
        if tenant.id in seen_ids:
            yield f"{where}.id", f"{tenant.id} repeats tenants[{seen_ids[tenant.id]}]"
        seen_ids.setdefault(tenant.id, index)
        if tenant.isolation == "rls" and tenant.password is not None:
            yield (
                f"{where}.password",
                "an rls tenant has no role of its own (its rows are in the shared tables): "
                "remove the password",
            )
        if tenant.isolation == "database":
            if tenant.host is None:
                yield f"{where}.host", "is required for isolation 'database'"
            elif tenant.host not in env.hosts:
                yield f"{where}.host", f"{tenant.host!r} is not a host of this environment"
            elif "replica" in env.hosts[tenant.host].groups:
                yield f"{where}.host", f"{tenant.host!r} is a replica"
            elif "backup" in env.hosts[tenant.host].groups:
                yield f"{where}.host", f"{tenant.host!r} is the backup host: it holds no database"
        elif tenant.host is not None:
            yield (
                f"{where}.host",
                f"is only allowed for isolation 'database', not {tenant.isolation!r}",
            )


def _tls_problems(env: Environment) -> Problems:
    if env.tls.mode != "files":
        return
    if env.tls.ca_file is None:
        yield "tls.ca_file", "is required when tls.mode is 'files'"
    for host_name, host in env.hosts.items():
        for field in ("tls_cert_file", "tls_key_file"):
            if getattr(host, field) is None:
                yield f"hosts.{host_name}.{field}", "is required when tls.mode is 'files'"


def _backup_problems(env: Environment) -> Problems:
    backup_hosts = [name for name, host in env.hosts.items() if "backup" in host.groups]
    if len(backup_hosts) > 1:
        yield (
            "hosts",
            f"{len(backup_hosts)} hosts are in the 'backup' group ({', '.join(backup_hosts)}); "
            "an environment has one pgBackRest repository host",
        )
    for name in backup_hosts:
        if len(env.hosts[name].groups) > 1:
            yield (
                f"hosts.{name}.groups",
                "a 'backup' host is in no other group: a repository on a database host is "
                "lost with it",
            )
    if not env.backups.enabled:
        return
    if not backup_hosts and env.name not in GENERATED_SECRET_ENVIRONMENTS:
        yield (
            "backups",
            f"{env.name} keeps its backups off the database hosts: add a host in group "
            "'backup' (or set backups.enabled: false)",
        )
    for name, host in env.hosts.items():
        if name == env.backups.stanza and "backup" not in host.groups:
            yield (
                f"hosts.{name}",
                f"is named like the main cluster's stanza (backups.stanza {name!r}); a "
                "dedicated host's stanza is its name: rename one of them",
            )


def _environment_kind_problems(env: Environment) -> Problems:
    if env.name in GENERATED_SECRET_ENVIRONMENTS:
        return
    if env.tls.mode == "generate":
        yield "tls.mode", f"'generate' is for local and test; {env.name} needs 'files'"
    if env.container_network is not None:
        yield "container_network", "is for local and test environments only"
    if env.seed is not None:
        yield "seed", f"{env.seed!r} seed data is for local and test environments only"
