"""Passwords: compared with the stored SCRAM verifier, changed only when they change, and never
shown: not in pyinfra's output at -vvv (which prints every command, so not in any argv either),
not in the server log."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import psycopg
import pytest

from adxdb.plan import scram
from adxdb.plan.catalog import QUIET_PRELUDE
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import STATE_DIR, connect, converge, password, variant_inventory
from tools.testhosts.engine import engine_client
from tools.testhosts.hosts import container_name

VERIFIERS = (
    "SELECT rolname || ' ' || rolpassword FROM pg_authid WHERE rolname LIKE 'adx\\_%' ORDER BY 1"
)


def _verifiers(test_env: HostsUnderTest, host: str) -> dict[str, str]:
    rows = test_env.psql(host, VERIFIERS).splitlines()
    return dict(row.split(" ", 1) for row in rows)


def _secrets() -> list[str]:
    values = [path.read_text().strip() for path in (STATE_DIR / "secrets").glob("*.password")]
    values += [path.read_text().strip() for path in (STATE_DIR / "secrets").glob("*.key")]
    values += [path.read_text() for path in (STATE_DIR / "tls").glob("*.key")]
    return values


@pytest.mark.usefixtures("restore")
def test_changed_password_changes_exactly_that_role(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    before = {host: _verifiers(test_env, host) for host in test_env.database_hosts}
    old = password("adx_readonly")
    new_secret = tmp_path / "readonly.password"
    new_secret.write_text("rotated-Readonly-Secret-4f9c2a\n")
    inventory = variant_inventory(
        tmp_path, {"roles": {"adx_readonly": {"password": {"file": str(new_secret)}}}}
    )

    run = converge(inventory, "-vvv")

    assert run.changed_ops == {"ADX roles": 2}
    for host in test_env.database_hosts:
        after = _verifiers(test_env, host)
        assert after["adx_readonly"] != before[host]["adx_readonly"]
        assert {k: v for k, v in after.items() if k != "adx_readonly"} == {
            k: v for k, v in before[host].items() if k != "adx_readonly"
        }
    with connect(
        "adx_readonly", test_env.pg_port("pg1"), password="rotated-Readonly-Secret-4f9c2a"
    ) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("adx_readonly",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect("adx_readonly", test_env.pg_port("pg1"), password=old)

    for secret in [*_secrets(), "rotated-Readonly-Secret-4f9c2a"]:
        assert secret not in run.output
    assert re.search(r"SCRAM-SHA-256\$\d+:", run.output) is None  # no verifier either
    assert "BEGIN PRIVATE KEY" not in run.output

    assert converge(inventory).changed_ops == {}


def test_unchanged_passwords_change_nothing(test_env: HostsUnderTest) -> None:
    before = _verifiers(test_env, "pg1")
    assert converge(test_env.inventory).changed_ops == {}
    assert _verifiers(test_env, "pg1") == before


def _salt_key() -> str:
    return (STATE_DIR / "secrets" / "password-salt.key").read_text().strip()


def _salt(verifier: str) -> bytes:
    """The salt of `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`."""
    return base64.b64decode(verifier.split("$")[1].split(":")[1])


def test_every_password_the_deploy_set_has_its_keyed_salt(test_env: HostsUnderTest) -> None:
    """So the next run recognises it without PBKDF2; the twin: another key's salt differs."""
    key = _salt_key()
    for host in test_env.database_hosts:
        verifiers = _verifiers(test_env, host)
        keyed = {role: _salt(text) == scram.keyed_salt(key, role, password(role))
                 for role, text in verifiers.items()
                 if (STATE_DIR / "secrets" / f"{role}.password").exists()}  # fmt: skip
        assert keyed and all(keyed.values()), (host, keyed)
        assert _salt(verifiers["adx_app"]) != scram.keyed_salt(
            key + "x", "adx_app", password("adx_app")
        )


def _set_by_hand(test_env: HostsUnderTest, role: str, secret: str, tmp_path: Path) -> None:
    """`ALTER ROLE ... PASSWORD` with a verifier of a random salt, as an operator's psql does:
    from a script (not an argument list), one statement at a time so the quiet settings hold
    before the verifier is parsed."""
    script = tmp_path / "set-by-hand.sql"
    script.write_text(QUIET_PRELUDE + f"ALTER ROLE {role} PASSWORD '{scram.verifier(secret)}';\n")
    try:
        test_env.psql_file("pg1", script, "postgres")
    finally:
        script.unlink()
        container = engine_client().containers.get(container_name(test_env.env, "pg1"))
        container.exec_run(["rm", "-f", f"/tmp/{script.name}"])


@pytest.mark.usefixtures("restore")
def test_a_password_set_by_hand_is_checked_by_recomputing(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    """The same password under a random salt is left alone (PBKDF2 says it matches); another
    one is put back, with the keyed salt again."""
    _set_by_hand(test_env, "adx_readonly", password("adx_readonly"), tmp_path)
    same = _verifiers(test_env, "pg1")["adx_readonly"]
    assert _salt(same) != scram.keyed_salt(_salt_key(), "adx_readonly", password("adx_readonly"))
    assert converge(test_env.inventory).changed_ops == {}
    assert _verifiers(test_env, "pg1")["adx_readonly"] == same

    _set_by_hand(test_env, "adx_readonly", "drifted-Readonly-Secret-77a1", tmp_path)
    assert converge(test_env.inventory).changed_ops == {"ADX roles": 1}
    restored = _verifiers(test_env, "pg1")["adx_readonly"]
    assert _salt(restored) == scram.keyed_salt(
        _salt_key(), "adx_readonly", password("adx_readonly")
    )
    with connect(
        "adx_readonly", test_env.pg_port("pg1"), password=password("adx_readonly")
    ) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("adx_readonly",)
    assert converge(test_env.inventory).changed_ops == {}


def test_server_log_holds_no_verifier(test_env: HostsUnderTest) -> None:
    client = engine_client()
    for host in test_env.database_hosts:
        container = client.containers.get(container_name(test_env.env, host))
        log = container.exec_run(["cat", "/var/log/postgresql/postgresql-15-main.log"])
        assert log.exit_code == 0
        text = log.output.decode(errors="replace")
        assert "connection authorized" in text  # connection logging is on
        assert re.search(r"SCRAM-SHA-256\$\d+:", text) is None
        assert re.search(r"ROLE \S+ .*PASSWORD", text, re.IGNORECASE) is None
        for secret in _secrets():
            assert secret not in text
