"""High availability of the estate's clusters rendered from the model (DESIGN.md decision 8): etcd's
configuration on its members, Patroni's on the cluster's members, and the dynamic
configuration (settings, pg_hba) Patroni keeps in etcd.

Facts of Debian 12's packages (DEBIAN12-NOTES.md): etcd 3.4 reads `/etc/default/etcd`; Patroni
3.0.2 runs `patroni@15-main` from `/etc/patroni/15-main.yml`, its `etcd3` module talks etcd's
v3 API, its REST API names roles `master`/`replica`. Every member is a member by its host
name (unique: the inventory's keys); the leader is never named here, Patroni elects it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from psycopg import sql
from pydantic import SecretStr

from adxdb.contract import PATRONI_REST_USER, REPLICATION_ROLE, SUPERUSER
from adxdb.inventory.model import ClusterMembers, Environment
from adxdb.inventory.types import SettingValue
from adxdb.plan import backups as pgbackrest
from adxdb.plan.config import HEADER, ClusterPaths, hba_rows, settings

ETCD_DEFAULT = "/etc/default/etcd"
ETCD_TLS_DIR = "/etc/etcd/tls"
ETCD_DATA_DIR = "/var/lib/etcd/adx"  # not the package's /var/lib/etcd/default (a lone member)
PATRONI_DIR = "/etc/patroni"
PATRONI_TLS_DIR = f"{PATRONI_DIR}/tls"
PATRONI_LOG_DIR = "/var/log/patroni"
NAMESPACE = "/adx/"
# What Patroni sets itself (from `postgresql.listen`, `connect_address`, its own files): the
# dynamic configuration does not carry them.
PATRONI_OWNED = frozenset({"listen_addresses", "port", "hba_file", "ident_file"})
# Replication settings every member needs (Patroni takes these from the dynamic configuration
# only, so that members agree).
REPLICATION_SETTINGS: dict[str, SettingValue] = {
    "wal_level": "replica",
    "hot_standby": "on",
    "max_wal_senders": 10,
    "max_replication_slots": 10,
    "wal_log_hints": "on",
    "hot_standby_feedback": "on",
}


def scope(env: Environment, cluster: ClusterMembers | None = None) -> str:
    """The Patroni cluster's name (its key under the namespace in etcd): from its stanza (the
    main cluster's by default)."""
    stanza = env.backups.stanza if cluster is None else cluster.stanza
    return f"adx-{env.name}-{stanza}"


def config_file(paths: ClusterPaths) -> str:
    return f"{PATRONI_DIR}/{paths.version}-{paths.cluster}.yml"


def unit(paths: ClusterPaths) -> str:
    return f"patroni@{paths.version}-{paths.cluster}"


def pgpass_file(paths: ClusterPaths) -> str:
    return f"/var/lib/postgresql/{paths.version}-{paths.cluster}.pgpass"


def data_dir(paths: ClusterPaths) -> str:
    return f"/var/lib/postgresql/{paths.version}/{paths.cluster}"


def _etcd_url(env: Environment, host_name: str, port: int) -> str:
    return f"https://{env.hosts[host_name].address}:{int(port)}"


def etcd_endpoints(env: Environment) -> list[str]:
    """host:port of every etcd member's client side."""
    port = env.etcd_settings().client_port
    return [f"{env.hosts[m].address}:{int(port)}" for m in env.etcd_members()]


def render_etcd_default(env: Environment, host_name: str) -> str:
    """/etc/default/etcd of one member: v3 only, TLS between members and to clients, client
    certificates required on both sides."""
    etcd = env.etcd_settings()
    peers = ",".join(
        f"{member}={_etcd_url(env, member, etcd.peer_port)}" for member in env.etcd_members()
    )
    values = {
        "ETCD_NAME": host_name,
        "ETCD_DATA_DIR": ETCD_DATA_DIR,
        "ETCD_LISTEN_PEER_URLS": _etcd_url(env, host_name, etcd.peer_port),
        "ETCD_LISTEN_CLIENT_URLS": _etcd_url(env, host_name, etcd.client_port),
        "ETCD_ADVERTISE_CLIENT_URLS": _etcd_url(env, host_name, etcd.client_port),
        "ETCD_INITIAL_ADVERTISE_PEER_URLS": _etcd_url(env, host_name, etcd.peer_port),
        "ETCD_INITIAL_CLUSTER": peers,
        "ETCD_INITIAL_CLUSTER_STATE": "new",
        "ETCD_INITIAL_CLUSTER_TOKEN": scope(env),
        "ETCD_CERT_FILE": f"{ETCD_TLS_DIR}/host.crt",
        "ETCD_KEY_FILE": f"{ETCD_TLS_DIR}/host.key",
        "ETCD_TRUSTED_CA_FILE": f"{ETCD_TLS_DIR}/ca.crt",
        "ETCD_CLIENT_CERT_AUTH": "true",
        "ETCD_PEER_CERT_FILE": f"{ETCD_TLS_DIR}/host.crt",
        "ETCD_PEER_KEY_FILE": f"{ETCD_TLS_DIR}/host.key",
        "ETCD_PEER_TRUSTED_CA_FILE": f"{ETCD_TLS_DIR}/ca.crt",
        "ETCD_PEER_CLIENT_CERT_AUTH": "true",
        "ETCD_ENABLE_V2": "false",
    }
    return HEADER + "".join(f'{key}="{value}"\n' for key, value in values.items())


def _dcs_value(value: SettingValue) -> str | int | float:
    if isinstance(value, bool):
        return "on" if value else "off"
    return value


def dcs_parameters(
    env: Environment, paths: ClusterPaths, stanza: str
) -> dict[str, str | int | float]:
    """The server settings of every member: the deploy's own and the inventory's (the same as
    a single host's conf.d file; archiving to the cluster's `stanza`), the replication
    settings, and the slots' WAL limit."""
    wanted: dict[str, SettingValue] = {
        **REPLICATION_SETTINGS,
        "max_slot_wal_keep_size": env.ha_settings().max_slot_wal_keep_size,
        **settings(env, paths, stanza),
    }
    return {name: _dcs_value(value) for name, value in wanted.items() if name not in PATRONI_OWNED}


def dcs_hba(env: Environment) -> list[str]:
    return [
        " ".join(part for part in (kind, database, user, address, method) if part)
        for kind, database, user, address, method in hba_rows(env)
    ]


def dynamic_config(env: Environment, paths: ClusterPaths, stanza: str) -> dict[str, Any]:
    """What the deploy keeps in Patroni's dynamic configuration (`GET /config`) of the cluster
    whose stanza is `stanza`."""
    ha = env.ha_settings()
    return {
        "ttl": ha.ttl,
        "loop_wait": ha.loop_wait,
        "retry_timeout": ha.retry_timeout,
        "maximum_lag_on_failover": ha.maximum_lag_on_failover,
        "synchronous_mode": ha.synchronous_mode,
        "postgresql": {
            "use_pg_rewind": True,
            "use_slots": True,
            "parameters": dcs_parameters(env, paths, stanza),
            "pg_hba": dcs_hba(env),
        },
        # Slots Patroni did not make stay (DEBIAN12-NOTES: 3.0.2 drops unknown inactive ones).
        "ignore_slots": [{"type": "logical"}],
    }


def config_differences(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Dotted keys of `wanted` whose value differs in `current` (keys only `current` has are
    left alone: Patroni adds its own)."""
    found: list[str] = []
    for key, value in wanted.items():
        have = current.get(key)
        if isinstance(value, Mapping) and key != "parameters":
            if not isinstance(have, Mapping):
                found.append(key)
            else:
                found += [f"{key}.{k}" for k in config_differences(value, have)]
        elif key == "parameters" and isinstance(value, Mapping):
            have = have if isinstance(have, Mapping) else {}
            found += [
                f"parameters.{name}"
                for name, setting in value.items()
                if str(have.get(name)) != str(setting)
            ]
            # A parameter the deploy no longer sets is removed (null in the patch).
        elif have != value:
            found.append(key)
    return found


def config_patch(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The patch that makes `current` the `wanted` configuration: wanted values, and null for
    a parameter `current` has and `wanted` does not (Patroni deletes a key patched to null)."""
    patch = dict(wanted)
    postgresql = dict(patch.get("postgresql") or {})
    parameters = dict(postgresql.get("parameters") or {})
    have = ((current.get("postgresql") or {}).get("parameters")) or {}
    for name in have:
        if name not in parameters:
            parameters[name] = None
    postgresql["parameters"] = parameters
    patch["postgresql"] = postgresql
    return patch


def removed_parameters(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    wanted_names = set(((wanted.get("postgresql") or {}).get("parameters")) or {})
    have = ((current.get("postgresql") or {}).get("parameters")) or {}
    return sorted(name for name in have if name not in wanted_names)


def patroni_config(
    env: Environment,
    host_name: str,
    paths: ClusterPaths,
    passwords: Mapping[str, SecretStr],
) -> dict[str, Any]:
    """patroni.yml of one member: its name, its REST API (TLS, a password for changes), etcd
    (v3, TLS, client certificate), and PostgreSQL in Debian's layout. Replicas are made from
    the backup host with pgBackRest where one is, else with pg_basebackup; both stream as
    adx_replication over TLS verify-full with the password in Patroni's 0600 pgpass file."""
    ha = env.ha_settings()
    address = env.hosts[host_name].address
    cluster = env.cluster_of(host_name)
    stanza = cluster.stanza
    tls = {
        "ca": f"{PATRONI_TLS_DIR}/ca.crt",
        "cert": f"{PATRONI_TLS_DIR}/host.crt",
        "key": f"{PATRONI_TLS_DIR}/host.key",
    }
    replication = {
        "username": REPLICATION_ROLE,
        "password": passwords[REPLICATION_ROLE].get_secret_value(),
        "sslmode": "verify-full",
        "sslrootcert": f"{paths.tls_dir}/ca.crt",
    }
    methods: list[str] = []
    postgresql: dict[str, Any] = {
        "listen": f"*:{int(env.postgres.port)}",
        "connect_address": f"{address}:{int(env.postgres.port)}",
        "data_dir": data_dir(paths),
        "bin_dir": f"/usr/lib/postgresql/{paths.version}/bin",
        "config_dir": paths.config_dir,
        "pgpass": pgpass_file(paths),
        "use_unix_socket": True,
        "use_unix_socket_repl": False,
        "authentication": {
            # Patroni runs as postgres: peer authentication on the socket, no password.
            "superuser": {"username": SUPERUSER},
            "replication": replication,
            "rewind": dict(replication),
        },
        "parameters": {"unix_socket_directories": pgbackrest.SOCKET_DIR},
        "remove_data_directory_on_rewind_failure": True,
        "remove_data_directory_on_diverged_timelines": True,
    }
    if env.backups.enabled and env.backup_host() is not None:
        methods.append("pgbackrest")
        postgresql["pgbackrest"] = {
            # archive_mode as it is (no `--archive-mode=off`: it would land in the replica's
            # postgresql.auto.conf, and the replica would not archive once it leads).
            "command": f"pgbackrest --stanza={stanza} --delta --type=standby restore",
            "keep_data": True,
            "no_params": True,
        }
    methods.append("basebackup")
    postgresql["create_replica_methods"] = methods
    postgresql["basebackup"] = [{"checkpoint": "fast"}]
    if env.backups.enabled:
        # A replica that fell behind its leader's WAL reads the archive.
        postgresql["recovery_conf"] = {
            "restore_command": f"pgbackrest --stanza={stanza} archive-get %f %p"
        }
    return {
        "scope": scope(env, cluster),
        "namespace": NAMESPACE,
        "name": host_name,
        "restapi": {
            "listen": f"{address}:{int(ha.rest_port)}",
            "connect_address": f"{address}:{int(ha.rest_port)}",
            "certfile": tls["cert"],
            "keyfile": tls["key"],
            "cafile": tls["ca"],
            "authentication": {
                "username": PATRONI_REST_USER,
                "password": passwords[PATRONI_REST_USER].get_secret_value(),
            },
        },
        "ctl": {"cacert": tls["ca"], "certfile": tls["cert"], "keyfile": tls["key"]},
        "etcd3": {
            "hosts": etcd_endpoints(env),
            "protocol": "https",
            "cacert": tls["ca"],
            "cert": tls["cert"],
            "key": tls["key"],
        },
        "bootstrap": {"dcs": dynamic_config(env, paths, stanza)},
        "postgresql": postgresql,
        "watchdog": {"mode": "off"},
        "tags": {
            "nofailover": False,
            "noloadbalance": False,
            "clonefrom": False,
            "nosync": False,
        },
    }


def render_patroni_config(
    env: Environment, host_name: str, paths: ClusterPaths, passwords: Mapping[str, SecretStr]
) -> str:
    body = yaml.safe_dump(
        patroni_config(env, host_name, paths, passwords), sort_keys=False, default_flow_style=False
    )
    return HEADER + body


@dataclass(frozen=True)
class HAPlan:
    """What an HA member's operations need (none of it secret but the files' contents)."""

    scope: str
    cluster: str
    member: str
    config_file: str
    unit: str
    rest_url: str
    ca_file: str
    initialize_key: str
    etcd_member: bool
    etcd_endpoint: str
    etcd_endpoints: tuple[str, ...]
    data_dir: str
    first_member: bool
    members: tuple[str, ...]
    dynamic_config: Mapping[str, Any]


def ha_plan(env: Environment, host_name: str, paths: ClusterPaths) -> HAPlan | None:
    """The plan of a member of a cluster Patroni runs (the main cluster or a dedicated tenant
    cluster of two or more members); None for any other host."""
    if "backup" in env.hosts[host_name].groups:
        return None
    cluster = env.cluster_of(host_name)
    if not cluster.ha:
        return None
    members = list(cluster.members)
    return HAPlan(
        scope=scope(env, cluster),
        cluster=cluster.name,
        member=host_name,
        config_file=config_file(paths),
        unit=unit(paths),
        rest_url=f"https://{env.hosts[host_name].address}:{int(env.ha_settings().rest_port)}",
        ca_file=f"{PATRONI_TLS_DIR}/ca.crt",
        initialize_key=f"{NAMESPACE}{scope(env, cluster)}/initialize",
        etcd_member=host_name in env.etcd_members(),
        etcd_endpoint=f"{env.hosts[host_name].address}:{int(env.etcd_settings().client_port)}",
        etcd_endpoints=tuple(etcd_endpoints(env)),
        data_dir=data_dir(paths),
        first_member=members[0] == host_name,
        members=tuple(members),
        dynamic_config=dynamic_config(env, paths, cluster.stanza),
    )


def status_rows(
    members: Sequence[Mapping[str, Any]], slots: Sequence[Mapping[str, Any]]
) -> list[str]:
    """`adxdb cluster-status`: one line per member (role, state, timeline, lag, pending
    restart), then the leader's replication slots."""
    lines = [f"{'member':<10}{'host':<17}{'role':<14}{'state':<18}{'tl':>4}{'lag MB':>8}  restart"]
    for member in sorted(members, key=lambda m: str(m.get("Member"))):
        lag = member.get("Lag in MB")
        lines.append(
            f"{member.get('Member', '?')!s:<10}{member.get('Host', '?')!s:<17}"
            f"{member.get('Role', '?')!s:<14}{member.get('State', '?')!s:<18}"
            f"{member.get('TL', '-')!s:>4}{'' if lag is None else lag!s:>8}  "
            f"{'pending' if member.get('Pending restart') else '-'}"
        )
    lines.append("slots on the leader:" if slots else "slots on the leader: none")
    for slot in slots:
        state = "active" if slot.get("active") else "inactive"
        lines.append(
            f"  {slot.get('slot')} ({slot.get('type')}, {state}, {slot.get('restart_lsn')})"
        )
    return lines


def status_problems(members: Sequence[Mapping[str, Any]], expected: Sequence[str]) -> list[str]:
    """What makes `cluster-status` exit 1: no running leader, a member missing or not running,
    a pending restart."""
    found = {str(m.get("Member")): m for m in members}
    problems: list[str] = []
    if not any(m.get("Role") == "Leader" and m.get("State") == "running" for m in members):
        problems.append("no running leader")
    for name in expected:
        member = found.get(name)
        if member is None:
            problems.append(f"{name}: not a member (Patroni does not run it)")
        elif member.get("State") not in ("running", "streaming"):
            problems.append(f"{name}: {member.get('State')}")
        elif member.get("Pending restart"):
            problems.append(f"{name}: restart pending")
    return problems


def running_leader(members: Sequence[Mapping[str, Any]]) -> str | None:
    """The member `patronictl list` shows leading and running, if one does."""
    return next(
        (
            str(m["Member"])
            for m in members
            if m.get("Role") == "Leader" and m.get("State") == "running"
        ),
        None,
    )


def switchover_candidate(
    members: Sequence[Mapping[str, Any]], wanted: str | None, synchronous: bool = False
) -> tuple[str, str | None]:
    """(current leader, candidate) of a switchover: `wanted`, else the synchronous standby,
    else a running replica; None when the wanted member already leads. In synchronous mode
    Patroni hands over to the synchronous standby only (no acknowledged write may be behind
    the candidate). ValueError says why there is none."""
    leader = running_leader(members)
    if leader is None:
        raise ValueError("the cluster has no running leader: nothing to switch over from")
    running = [m for m in members if m.get("State") in ("running", "streaming")]
    sync = [str(m["Member"]) for m in running if m.get("Role") == "Sync Standby"]
    if wanted is not None:
        if wanted == leader:
            return leader, None
        if wanted not in {str(m["Member"]) for m in running}:
            raise ValueError(f"{wanted} is not a running member of the cluster")
        if synchronous and wanted not in sync:
            raise ValueError(
                f"{wanted} is not the synchronous standby ({', '.join(sync) or 'none yet'}): "
                "in synchronous mode the leader hands over to it only"
            )
        return leader, wanted
    if sync:
        return leader, sync[0]
    if synchronous:
        raise ValueError("no synchronous standby runs: no switchover without losing writes")
    replicas = [str(m["Member"]) for m in running if m.get("Role") == "Replica"]
    if not replicas:
        raise ValueError("no running replica to switch over to")
    return leader, replicas[0]


def restart_handover(
    members: Sequence[Mapping[str, Any]], synchronous: bool = False
) -> tuple[str, str | None]:
    """(leader, member it hands over to before it restarts), None to restart it in place.

    The heir is a running synchronous standby (any running replica outside synchronous mode)
    with no restart pending of its own. A standby still waiting after its own restart is one
    whose setting cannot take effect before the leader's: a lowered `max_connections` (or
    another setting a standby keeps at the primary's value, read from its control file) stays
    at the old value until the leader has restarted with the new one. Handing over to it would
    only move the pending restart, so the leader restarts in place and the standbys after it."""
    leader = running_leader(members)
    if leader is None:
        raise ValueError("the cluster has no running leader")
    roles = ("Sync Standby",) if synchronous else ("Sync Standby", "Replica")
    ready = [
        m
        for m in members
        if m.get("State") in ("running", "streaming")
        and m.get("Role") in roles
        and not m.get("Pending restart")
    ]
    ready.sort(key=lambda m: roles.index(str(m.get("Role"))))
    return leader, (str(ready[0]["Member"]) if ready else None)


def reset_overrides_sql(names: Sequence[str]) -> str:
    """Reset what a member's postgresql.auto.conf sets for `names` (it would override the
    dynamic configuration there), then reload."""
    statements = [
        sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name)).as_string() + ";\n"
        for name in names
    ]
    return "".join(statements) + "SELECT pg_catalog.pg_reload_conf();\n"
