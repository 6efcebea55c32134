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
        *_cluster_problems(env),
        *_tls_problems(env),
        *_backup_problems(env),
        *_ha_problems(env),
        *_environment_kind_problems(env),
        *setting_problems(env.postgres.version, env.postgres.settings),
    ]


def _host_problems(env: Environment) -> Problems:
    primaries = [name for name, host in env.hosts.items() if "primary" in host.groups]
    members = [name for name, host in env.hosts.items() if "main" in host.groups]
    if primaries and members:
        yield (
            "hosts",
            f"the main cluster is either one 'primary' host ({', '.join(primaries)}) or members "
            f"in group 'main' ({', '.join(members)}), not both: put every member in 'main' "
            "(Patroni elects the leader)",
        )
    elif len(members) == 1:
        yield (
            f"hosts.{members[0]}.groups",
            "a main cluster of one member is a 'primary' host; group 'main' is for two or more "
            "members under Patroni",
        )
    elif not primaries and not members:
        yield "hosts", "no host is in the 'primary' group (or the 'main' group of an HA cluster)"
    elif len(primaries) > 1:
        yield (
            "hosts",
            f"{len(primaries)} hosts are in the 'primary' group ({', '.join(primaries)}); "
            "an environment has one primary (an HA main cluster puts its members in 'main')",
        )
    endpoints: dict[tuple[str, int], str] = {}
    addresses: dict[str, str] = {}
    for name, host in env.hosts.items():
        if "replica" in host.groups:
            # An inventory never names a primary and its replicas: Patroni elects the leader
            # of the members (DESIGN.md decision 8).
            yield (
                f"hosts.{name}.groups",
                "'replica' is not a group: put the main cluster's members, this host included, "
                "in group 'main' (Patroni elects the leader; the others stream from it)",
            )
        if "main" in host.groups and len(host.groups) > 1:
            yield f"hosts.{name}.groups", "a 'main' member is in no other group"
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
        if tenant.isolation == "database" and tenant.cluster is not None:
            if tenant.host is not None:
                yield (
                    f"{where}.host",
                    "a database tenant is on a dedicated host or a dedicated cluster: name "
                    "either host or cluster, not both",
                )
            elif tenant.cluster not in env.clusters:
                known = ", ".join(sorted(env.clusters)) or "none"
                yield (
                    f"{where}.cluster",
                    f"{tenant.cluster!r} is not a cluster of this environment (clusters: {known})",
                )
        elif tenant.isolation == "database":
            if tenant.host is None:
                yield f"{where}.host", "is required for isolation 'database' (or cluster)"
            elif tenant.host not in env.hosts:
                yield f"{where}.host", f"{tenant.host!r} is not a host of this environment"
            elif "main" in env.hosts[tenant.host].groups:
                yield (
                    f"{where}.host",
                    f"{tenant.host!r} is a member of the main cluster: a database tenant's "
                    "host is a dedicated one (group 'tenant_hosts')",
                )
            elif "backup" in env.hosts[tenant.host].groups:
                yield f"{where}.host", f"{tenant.host!r} is the backup host: it holds no database"
            else:
                cluster = next(
                    (n for n, c in env.clusters.items() if tenant.host in c.members), None
                )
                if cluster is not None:
                    yield (
                        f"{where}.host",
                        f"{tenant.host!r} is a member of cluster {cluster!r}: name the cluster "
                        f"(cluster: {cluster}), whose leader Patroni elects",
                    )
        elif tenant.cluster is not None:
            yield (
                f"{where}.cluster",
                f"is only allowed for isolation 'database', not {tenant.isolation!r}",
            )
        if tenant.isolation != "database" and tenant.host is not None:
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


def _cluster_problems(env: Environment) -> Problems:
    """Dedicated tenant clusters: members that exist, are dedicated tenant hosts, each in one
    cluster; names that are no host's (a lone host's stanza is its name) nor the main
    stanza's."""
    member_of: dict[str, str] = {}
    for name, cluster in env.clusters.items():
        where = f"clusters.{name}"
        if name in env.hosts or name in (env.backups.stanza, "main"):
            yield (
                where,
                f"{name!r} is also a host's name, 'main' or the main stanza's: a cluster's "
                "stanza and Patroni scope are its name: rename it",
            )
        if len(set(cluster.members)) != len(cluster.members):
            yield f"{where}.members", "names a host twice"
        for index, member in enumerate(cluster.members):
            if member not in env.hosts:
                yield (
                    f"{where}.members[{index}]",
                    f"{member!r} is not a host of this environment",
                )
            elif "tenant_hosts" not in env.hosts[member].groups:
                yield (
                    f"{where}.members[{index}]",
                    f"{member!r} is not in group 'tenant_hosts': a dedicated cluster's members "
                    "are dedicated tenant hosts",
                )
            elif member in member_of and member_of[member] != name:
                yield (
                    f"{where}.members[{index}]",
                    f"{member!r} is also a member of cluster {member_of[member]!r}",
                )
            member_of.setdefault(member, name)


def _ha_problems(env: Environment) -> Problems:
    if not env.any_ha():
        if any("main" in host.groups for host in env.hosts.values()):
            return  # a 'main' of one member: refused above
        for key in ("etcd", "ha"):
            if getattr(env, key) is not None:
                yield (
                    key,
                    "applies to a cluster of two or more members (group 'main', or a "
                    "dedicated tenant cluster); this environment has none",
                )
        return
    members = env.etcd_members()
    where = "etcd.members" if env.etcd is not None and env.etcd.members else "hosts"
    if not members:
        yield (
            "etcd.members",
            "the dedicated tenant clusters need etcd, and the main cluster has one primary: "
            "name etcd's hosts (3 or 5 members of the estate's clusters)",
        )
        return
    ha_members = {m for c in env.estate_clusters() if c.ha for m in c.members}
    for index, member in enumerate(members):
        if member not in env.hosts:
            yield f"etcd.members[{index}]", f"{member!r} is not a host of this environment"
        elif member not in ha_members:
            yield (
                f"etcd.members[{index}]",
                f"{member!r} is not a member of a cluster Patroni runs: etcd runs on the "
                "members of the main or a dedicated tenant cluster only (for now)",
            )
    if len(set(members)) != len(members):
        yield "etcd.members", "names a host twice"
    if env.name != "local" and (len(members) < 3 or len(members) % 2 == 0):
        yield (
            where,
            f"etcd needs an odd number of members, at least 3 (it has {len(members)}: "
            f"{', '.join(members)}); a quorum of an even count survives no more losses",
        )
    etcd, ha = env.etcd_settings(), env.ha_settings()
    ports = {
        "postgres.port": env.postgres.port,
        "etcd.client_port": etcd.client_port,
        "etcd.peer_port": etcd.peer_port,
        "ha.rest_port": ha.rest_port,
        "backups.tls_port": env.backups.tls_port,
    }
    seen: dict[int, str] = {}
    for key, port in ports.items():
        if port in seen:
            yield key, f"{port} is also {seen[port]}"
        seen.setdefault(port, key)
    if ha.loop_wait + 2 * ha.retry_timeout > ha.ttl:
        yield (
            "ha.ttl",
            f"must be at least loop_wait + 2 x retry_timeout ({ha.loop_wait} + 2 x "
            f"{ha.retry_timeout}): a leader could lose its lock while it still runs",
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
