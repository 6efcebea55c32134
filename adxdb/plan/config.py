"""Render the managed configuration files of a cluster from the model."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from adxdb.inventory.model import Environment
from adxdb.inventory.types import SettingValue

HEADER = "# Managed by adxdb from the environment inventory; local edits are overwritten.\n"


@dataclass(frozen=True)
class ClusterPaths:
    """Where Debian keeps one cluster's files."""

    version: int
    cluster: str

    @property
    def config_dir(self) -> str:
        return f"/etc/postgresql/{self.version}/{self.cluster}"

    @property
    def conf_d_file(self) -> str:
        return f"{self.config_dir}/conf.d/50-adx.conf"

    @property
    def hba_file(self) -> str:
        return f"{self.config_dir}/pg_hba.conf"

    @property
    def tls_dir(self) -> str:
        return f"{self.config_dir}/tls"

    @property
    def watched_files(self) -> list[str]:
        """Files whose change needs the server to re-read its configuration."""
        return [
            f"{self.config_dir}/postgresql.conf",
            self.conf_d_file,
            self.hba_file,
            f"{self.tls_dir}/server.crt",
            f"{self.tls_dir}/server.key",
            f"{self.tls_dir}/ca.crt",
        ]


def quote_value(value: SettingValue) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return str(value)
    if any(ord(char) < 32 for char in value):
        raise ValueError(f"setting value {value!r} contains a control character")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def settings(
    env: Environment, paths: ClusterPaths, stanza: str | None = None
) -> dict[str, SettingValue]:
    """The security defaults of DESIGN.md decision 6, then the inventory's own settings."""
    return {**owned_settings(env, paths, stanza), **LOGGING_DEFAULTS, **env.postgres.settings}


# Defaults an inventory may override (`log_statement: mod`, a longer prefix): the deploy's
# own sessions that carry a secret turn statement logging off for themselves.
LOGGING_DEFAULTS: dict[str, SettingValue] = {
    "log_connections": True,
    "log_disconnections": True,
    "log_statement": "ddl",
    "log_line_prefix": "%m [%p] %q%u@%d ",
}


def owned_settings(
    env: Environment, paths: ClusterPaths, stanza: str | None = None
) -> dict[str, SettingValue]:
    """What the deploy alone sets (the settings catalogue refuses these names); WAL goes to
    the cluster's `stanza` (default: the main cluster's)."""
    owned: dict[str, SettingValue] = {
        "listen_addresses": "*",
        "ssl": True,
        "ssl_cert_file": f"{paths.tls_dir}/server.crt",
        "ssl_key_file": f"{paths.tls_dir}/server.key",
        "ssl_ca_file": f"{paths.tls_dir}/ca.crt",
        "ssl_min_protocol_version": env.tls.min_protocol_version,
        "password_encryption": "scram-sha-256",
    }
    if env.backups.enabled:
        # Every completed WAL segment goes to the pgBackRest repository (point-in-time restore).
        owned["archive_mode"] = True
        owned["archive_command"] = (
            f"pgbackrest --stanza={stanza or env.backups.stanza} archive-push %p"
        )
    else:
        # Off, said so: a server that still archives (a restart pending under policy never)
        # would keep every WAL segment with nowhere to put it.
        owned["archive_mode"] = False
    return owned


def render_conf(env: Environment, paths: ClusterPaths, stanza: str | None = None) -> str:
    lines = [
        f"{name} = {quote_value(value)}" for name, value in settings(env, paths, stanza).items()
    ]
    return HEADER + "\n".join(lines) + "\n"


def hba_networks(env: Environment) -> list[str]:
    """Client networks of the inventory, every host of the environment, and loopback."""
    networks: list[str] = [str(net) for net in env.client_networks]
    # By host name: the same file whatever order the inventory lists its hosts in.
    for _, host in sorted(env.hosts.items()):
        try:
            address = ipaddress.ip_address(host.address)
        except ValueError:
            continue
        networks.append(str(ipaddress.ip_network(address)))
    networks += ["127.0.0.1/32", "::1/128"]
    return list(dict.fromkeys(networks))


def hba_rows(env: Environment) -> list[tuple[str, str, str, str, str]]:
    """pg_hba's rules: peer for postgres on the socket, TLS + SCRAM over TCP, plain TCP
    rejected."""
    rows: list[tuple[str, str, str, str, str]] = [
        ("local", "all", "postgres", "", "peer"),
        ("local", "all", "all", "", "scram-sha-256"),
    ]
    for network in hba_networks(env):
        rows.append(("hostssl", "replication", "adx_replication", network, "scram-sha-256"))
    for network in hba_networks(env):
        rows.append(("hostssl", "all", "all", network, "scram-sha-256"))
    rows += [
        ("hostnossl", "all", "all", "0.0.0.0/0", "reject"),
        ("hostnossl", "all", "all", "::/0", "reject"),
    ]
    return rows


def render_hba(env: Environment) -> str:
    """pg_hba.conf (`hba_rows`)."""
    rows = hba_rows(env)
    body = "\n".join(
        f"{kind:<10}{database:<13}{user:<17}{address:<20}{method}".rstrip()
        for kind, database, user, address, method in rows
    )
    return (
        HEADER
        + "# TYPE    DATABASE     USER             ADDRESS             METHOD\n"
        + body
        + "\n"
    )
