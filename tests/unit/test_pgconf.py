"""The rendered postgresql.conf fragment and pg_hba.conf."""

from __future__ import annotations

from typing import Any

import pytest

from adxdb.inventory.model import Environment
from adxdb.plan import config as pgconf
from adxdb.plan.config import ClusterPaths

PATHS = ClusterPaths(15, "main")


def environment(**settings: Any) -> Environment:
    return Environment.model_validate(
        {
            "name": "test",
            "tls": {"mode": "generate", "min_protocol_version": "TLSv1.2"},
            "client_networks": ["10.20.0.0/16", "fd00:20::/64"],
            "postgres": {"settings": settings},
            "hosts": {
                "pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}},
                "tenant1": {
                    "address": "tenant1.example.internal",
                    "ssh": {"hostname": "tenant1.example.internal"},
                    "groups": ["tenant_hosts"],
                },
            },
        }
    )


def conf_lines(env: Environment) -> list[str]:
    text = pgconf.render_conf(env, PATHS)
    assert text.startswith(pgconf.HEADER)
    return text.removeprefix(pgconf.HEADER).splitlines()


def test_conf_carries_the_security_defaults() -> None:
    lines = conf_lines(environment())
    for line in (
        "ssl = on",
        "ssl_min_protocol_version = 'TLSv1.2'",
        "password_encryption = 'scram-sha-256'",
        "ssl_cert_file = '/etc/postgresql/15/main/tls/server.crt'",
        "ssl_key_file = '/etc/postgresql/15/main/tls/server.key'",
        "ssl_ca_file = '/etc/postgresql/15/main/tls/ca.crt'",
        "listen_addresses = '*'",
    ):
        assert line in lines


def test_conf_carries_the_inventory_settings_with_their_types() -> None:
    lines = conf_lines(
        environment(shared_buffers="128MB", max_connections=100, jit=False, random_page_cost=1.1)
    )
    assert lines[-4:] == [
        "shared_buffers = '128MB'",
        "max_connections = 100",
        "jit = off",
        "random_page_cost = 1.1",
    ]


def test_an_inventory_setting_overrides_a_default_in_place() -> None:
    lines = conf_lines(environment(log_statement="mod"))
    assert lines.count("log_statement = 'mod'") == 1
    assert not any(line.startswith("log_statement = 'ddl'") for line in lines)


def test_quotes_and_backslashes_in_a_value_are_escaped() -> None:
    lines = conf_lines(environment(application_name="adx's \\core"))
    assert "application_name = 'adx''s \\\\core'" in lines


@pytest.mark.parametrize("value", ["line\nbreak", "tab\there", "nul\x00", "escape\x1b[0m"])
def test_a_control_character_in_a_value_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        pgconf.render_conf(environment(application_name=value), PATHS)


@pytest.mark.parametrize(
    ("value", "rendered"),
    [(True, "on"), (False, "off"), (0, "0"), (-1, "-1"), (0.5, "0.5"), ("", "''")],
)
def test_quote_value(value: bool | int | float | str, rendered: str) -> None:
    assert pgconf.quote_value(value) == rendered


def test_tls_1_3_minimum_is_rendered() -> None:
    env = environment().model_copy(
        update={"tls": environment().tls.model_copy(update={"min_protocol_version": "TLSv1.3"})}
    )
    assert "ssl_min_protocol_version = 'TLSv1.3'" in conf_lines(env)


def hba_rows(env: Environment) -> list[list[str]]:
    text = pgconf.render_hba(env)
    assert text.startswith(pgconf.HEADER)
    return [line.split() for line in text.splitlines() if line and not line.startswith("#")]


def test_hba_ends_by_rejecting_every_non_tls_connection() -> None:
    rows = hba_rows(environment())
    assert rows[-2:] == [
        ["hostnossl", "all", "all", "0.0.0.0/0", "reject"],
        ["hostnossl", "all", "all", "::/0", "reject"],
    ]


def test_hba_has_no_plain_host_lines() -> None:
    text = pgconf.render_hba(environment())
    assert not [line for line in text.splitlines() if line.split()[:1] == ["host"]]
    assert {row[0] for row in hba_rows(environment())} == {"local", "hostssl", "hostnossl"}


def test_hba_peer_for_postgres_and_scram_for_everyone_else() -> None:
    rows = hba_rows(environment())
    assert rows[:2] == [
        ["local", "all", "postgres", "peer"],
        ["local", "all", "all", "scram-sha-256"],
    ]
    assert all(row[-1] == "scram-sha-256" for row in rows if row[0] == "hostssl")


def test_hba_admits_loopback_client_networks_and_hosts_over_tls() -> None:
    rows = hba_rows(environment())
    networks = [row[3] for row in rows if row[:3] == ["hostssl", "all", "all"]]
    assert networks == ["10.20.0.0/16", "fd00:20::/64", "10.0.0.10/32", "127.0.0.1/32", "::1/128"]
    replication = [row[3] for row in rows if row[1] == "replication"]
    assert replication == networks
    assert all(row[2] == "adx_replication" for row in rows if row[1] == "replication")


def test_hba_lists_a_network_once() -> None:
    env = environment().model_copy(update={"client_networks": environment().client_networks * 2})
    assert pgconf.hba_networks(env).count("10.20.0.0/16") == 1


def test_backups_archive_every_wal_segment_through_pgbackrest() -> None:
    lines = conf_lines(environment())
    assert "archive_mode = on" in lines
    assert "archive_command = 'pgbackrest --stanza=adx archive-push %p'" in lines
    off = environment().model_copy(
        update={"backups": environment().backups.model_copy(update={"enabled": False})}
    )
    archive_lines = [line for line in conf_lines(off) if line.startswith("archive_")]
    assert archive_lines == ["archive_mode = off"]  # said, so a running archiver is stopped


def test_archive_settings_belong_to_the_deploy() -> None:
    with pytest.raises(ValueError, match="archive_command"):
        environment(archive_command="cp %p /tmp/%f")
