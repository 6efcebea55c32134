"""The security defaults, verified from outside with psycopg over TLS verify-full."""

from __future__ import annotations

import psycopg
import pytest

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import connect

LOGIN_ROLES = ("adx_migrator", "adx_app", "adx_readonly", "adx_monitor")
# A database each host serves to the platform roles (postgres and template1 are closed to them).
PLATFORM_DATABASE = {"pg1": "adx_core", "tenant1": "adx_tenant_initech"}


@pytest.mark.parametrize("host", ["pg1", "tenant1"])
def test_tls_verify_full_with_modern_protocol(test_env: HostsUnderTest, host: str) -> None:
    with connect("adx_monitor", test_env.pg_port(host), dbname=PLATFORM_DATABASE[host]) as conn:
        ssl, version = conn.execute(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone() or (None, None)
        assert ssl is True
        assert version in ("TLSv1.2", "TLSv1.3")
        minimum = conn.execute("SHOW ssl_min_protocol_version").fetchone()
        assert minimum is not None and minimum[0] in ("TLSv1.2", "TLSv1.3")
        assert conn.execute("SHOW ssl").fetchone() == ("on",)


@pytest.mark.parametrize("host", ["pg1", "tenant1"])
def test_plain_tcp_is_rejected(test_env: HostsUnderTest, host: str) -> None:
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        connect(
            "adx_app", test_env.pg_port(host), dbname=PLATFORM_DATABASE[host], sslmode="disable"
        )


def test_certificate_is_checked(test_env: HostsUnderTest, tmp_path: object) -> None:
    """Negative twin of verify-full: a CA that did not sign the server certificate fails."""
    from pathlib import Path

    from adxdb.inventory.tls import ensure_ca

    other = Path(str(tmp_path))
    ensure_ca(other, "other")
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        connect("adx_app", test_env.pg_port("pg1"), sslrootcert=str(other / "ca.crt"))


def test_every_login_role_has_a_scram_verifier_and_logs_in(test_env: HostsUnderTest) -> None:
    for host in test_env.database_hosts:
        not_scram = test_env.psql(
            host,
            "SELECT string_agg(rolname, ',') FROM pg_authid WHERE rolcanlogin "
            "AND rolname <> 'postgres' AND coalesce(rolpassword, '') NOT LIKE 'SCRAM-SHA-256$%'",
        )
        assert not_scram == ""
        for role in LOGIN_ROLES:
            with connect(role, test_env.pg_port(host), dbname=PLATFORM_DATABASE[host]) as conn:
                assert conn.execute("SELECT current_user").fetchone() == (role,)
        # The replication role logs in on a physical replication connection only.
        with connect("adx_replication", test_env.pg_port(host), replication="true") as conn:
            identified = conn.pgconn.exec_(b"IDENTIFY_SYSTEM")
            assert identified.status == psycopg.pq.ExecStatus.TUPLES_OK


def test_wrong_password_is_refused(test_env: HostsUnderTest) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect("adx_app", test_env.pg_port("pg1"), password="not-the-password")


def test_app_role_is_least_privilege(test_env: HostsUnderTest) -> None:
    with connect("adx_app", test_env.pg_port("pg1")) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False, False, False, False)
        # pg_shdepend records ownership of objects in every database of the cluster.
        owned = conn.execute(
            "SELECT count(*) FROM pg_shdepend WHERE refobjid = 'adx_app'::regrole AND deptype = 'o'"
        ).fetchone()
        assert owned == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE SCHEMA nope")


def test_monitor_role_is_member_of_pg_monitor(test_env: HostsUnderTest) -> None:
    with connect("adx_monitor", test_env.pg_port("pg1")) as conn:
        assert conn.execute("SELECT pg_has_role('pg_monitor', 'MEMBER')").fetchone() == (True,)
    with connect("adx_app", test_env.pg_port("pg1")) as conn:
        assert conn.execute("SELECT pg_has_role('pg_monitor', 'MEMBER')").fetchone() == (False,)


def test_main_database_only_for_granted_roles(test_env: HostsUnderTest) -> None:
    port = test_env.pg_port("pg1")
    for role in ("adx_migrator", "adx_app", "adx_readonly", "adx_monitor"):
        with connect(role, port) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("adx_core",)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        connect("adx_replication", port)
    public_privileges = test_env.psql(
        "pg1",
        "SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a "
        "WHERE d.datname = 'adx_core' AND a.grantee = 0",
    )
    assert public_privileges == "0"
    owner = test_env.psql(
        "pg1", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'adx_core'"
    )
    assert owner == "adx_owner"
