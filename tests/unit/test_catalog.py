"""Role and database plans: wanted model + catalog facts (plain dicts) -> SQL statements."""

from __future__ import annotations

import base64
from typing import Any

from pydantic import SecretStr

from adxdb.inventory.model import Database, Role
from adxdb.plan import scram
from adxdb.plan.catalog import plan_databases, plan_roles

SALT = b"adx-unit-salt-16"
APP_PASSWORD = "unit-app-password"


def stored_password(password: str, salt: bytes = SALT) -> dict[str, Any]:
    """The roles fact's `password` entry for a role whose password is `password`."""
    return {
        "iterations": scram.ITERATIONS,
        "salt": base64.b64encode(salt).decode(),
        "digest": scram.digest(scram.verifier(password, salt=salt)),
    }


def role_fact(**changes: Any) -> dict[str, Any]:
    """One role as the roles fact reports it, for a default `Role()`, then `changes`."""
    fact: dict[str, Any] = {
        "login": True,
        "superuser": False,
        "createdb": False,
        "createrole": False,
        "replication": False,
        "bypassrls": False,
        "inherit": True,
        "connection_limit": -1,
        "member_of": [],
        "password": None,
    }
    return fact | changes


WANTED_ROLES = {
    "adx_owner": Role(login=False),
    "adx_app": Role(member_of=("adx_owner",)),
}
PASSWORDS = {"adx_app": SecretStr(APP_PASSWORD)}


def converged_roles(**app_changes: Any) -> dict[str, dict[str, Any]]:
    return {
        "adx_owner": role_fact(login=False),
        "adx_app": role_fact(member_of=["adx_owner"], password=stored_password(APP_PASSWORD))
        | app_changes,
        "postgres": role_fact(superuser=True, createdb=True, createrole=True, replication=True),
    }


def test_converged_roles_need_no_statement() -> None:
    plan = plan_roles(WANTED_ROLES, PASSWORDS, converged_roles())
    assert plan.statements == []
    assert plan.changed_roles == []
    assert not plan.sets_password


def test_one_changed_attribute_is_one_alter() -> None:
    plan = plan_roles(WANTED_ROLES, PASSWORDS, converged_roles(createdb=True))
    assert plan.statements == ['ALTER ROLE "adx_app" NOCREATEDB;']
    assert plan.changed_roles == ["adx_app"]
    assert not plan.sets_password


def test_several_changed_attributes_share_one_alter() -> None:
    plan = plan_roles(WANTED_ROLES, PASSWORDS, converged_roles(bypassrls=True, connection_limit=10))
    assert plan.statements == ['ALTER ROLE "adx_app" NOBYPASSRLS CONNECTION LIMIT -1;']


def test_added_membership_is_granted() -> None:
    plan = plan_roles(WANTED_ROLES, PASSWORDS, converged_roles(member_of=[]))
    assert plan.statements == ['GRANT "adx_owner" TO "adx_app";']


def test_removed_membership_is_revoked() -> None:
    plan = plan_roles(
        WANTED_ROLES, PASSWORDS, converged_roles(member_of=["adx_owner", "pg_monitor"])
    )
    assert plan.statements == ['REVOKE "pg_monitor" FROM "adx_app";']


def test_unchanged_password_changes_nothing() -> None:
    """The stored verifier has another salt than a new one would: still the same password."""
    current = converged_roles(password=stored_password(APP_PASSWORD, b"another-salt-16b"))
    assert plan_roles(WANTED_ROLES, PASSWORDS, current).statements == []


def test_changed_password_is_sent_as_a_verifier() -> None:
    current = converged_roles(password=stored_password("the-old-password"))
    plan = plan_roles(WANTED_ROLES, PASSWORDS, current)
    (statement,) = plan.statements
    assert statement.startswith('ALTER ROLE "adx_app" PASSWORD \'SCRAM-SHA-256$4096:')
    assert APP_PASSWORD not in statement
    assert plan.sets_password
    verifier = statement.split("'")[1]
    stored = scram.StoredVerifier(
        iterations=4096, salt=verifier.split("$")[1].split(":")[1], digest=scram.digest(verifier)
    )
    assert scram.matches(APP_PASSWORD, stored)


def test_missing_password_is_set() -> None:
    plan = plan_roles(WANTED_ROLES, PASSWORDS, converged_roles(password=None))
    assert len(plan.statements) == 1
    assert plan.sets_password


def test_a_password_for_a_role_without_login_is_ignored() -> None:
    passwords = {**PASSWORDS, "adx_owner": SecretStr("never-used")}
    assert plan_roles(WANTED_ROLES, passwords, converged_roles()).statements == []


def test_missing_role_is_created_with_every_attribute() -> None:
    current = converged_roles()
    del current["adx_app"]
    plan = plan_roles(WANTED_ROLES, PASSWORDS, current)
    create, attributes, grant = plan.statements
    # created only if a concurrent deploy has not made it meanwhile, then given everything
    assert create == (
        "DO $adx_role$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'adx_app') "
        'THEN CREATE ROLE "adx_app"; END IF; END $adx_role$;'
    )
    assert attributes.startswith(
        'ALTER ROLE "adx_app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
        "NOBYPASSRLS INHERIT CONNECTION LIMIT -1 PASSWORD 'SCRAM-SHA-256$4096:"
    )
    assert grant == 'GRANT "adx_owner" TO "adx_app";'
    assert plan.changed_roles == ["adx_app"]


def test_undeclared_roles_are_left_alone() -> None:
    current = converged_roles()
    current["someone_else"] = role_fact(superuser=True)
    assert plan_roles(WANTED_ROLES, PASSWORDS, current).statements == []


def test_role_names_are_quoted_identifiers() -> None:
    wanted = {'Tenant"Admin': Role(login=False, member_of=("select",))}
    plan = plan_roles(wanted, {}, {})
    assert plan.statements == [
        "DO $adx_role$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
        """'Tenant"Admin') THEN CREATE ROLE "Tenant""Admin"; END IF; END $adx_role$;""",
        'ALTER ROLE "Tenant""Admin" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
        "NOBYPASSRLS INHERIT CONNECTION LIMIT -1;",
        'GRANT "select" TO "Tenant""Admin";',
    ]


def test_non_scram_password_is_replaced_by_a_verifier() -> None:
    current = converged_roles(password={"iterations": 0, "salt": "", "digest": "not-scram"})
    plan = plan_roles(WANTED_ROLES, PASSWORDS, current)
    assert len(plan.statements) == 1
    assert plan.sets_password


# Databases -------------------------------------------------------------------------------

CONNECT = ("adx_migrator", "adx_app")
WANTED_DATABASES = {"adx_core": Database(owner="adx_owner", connect=CONNECT)}


def privileges(owner: str, *connect: str) -> list[dict[str, str]]:
    """The owner's default privileges, then CONNECT for each of `connect`."""
    return [
        {"grantee": owner, "privilege": privilege}
        for privilege in ("CONNECT", "CREATE", "TEMPORARY")
    ] + [{"grantee": grantee, "privilege": "CONNECT"} for grantee in connect]


def database_fact(**changes: Any) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "owner": "adx_owner",
        "encoding": "UTF8",
        "locale": "C.UTF-8",
        "connection_limit": -1,
        "privileges": privileges("adx_owner", *CONNECT),
    }
    return fact | changes


def test_converged_database_needs_no_statement() -> None:
    assert plan_databases(WANTED_DATABASES, {"adx_core": database_fact()}) == ([], [])


def test_absent_database_is_created_closed_to_public_and_granted() -> None:
    statements, changed = plan_databases(WANTED_DATABASES, {"postgres": database_fact()})
    assert statements == [
        """SELECT 'CREATE DATABASE "adx_core" OWNER "adx_owner" TEMPLATE template0 ENCODING """
        """''UTF8'' LOCALE ''C.UTF-8'' CONNECTION LIMIT  -1' WHERE NOT EXISTS (SELECT 1 FROM """
        """pg_database WHERE datname = 'adx_core') \\gexec""",
        'REVOKE ALL ON DATABASE "adx_core" FROM PUBLIC;',
        'GRANT CONNECT ON DATABASE "adx_core" TO "adx_app";',
        'GRANT CONNECT ON DATABASE "adx_core" TO "adx_migrator";',
    ]
    assert changed == ["adx_core"]


def test_public_privileges_are_revoked() -> None:
    public = [
        {"grantee": "PUBLIC", "privilege": "CONNECT"},
        {"grantee": "PUBLIC", "privilege": "TEMPORARY"},
    ]
    current = {"adx_core": database_fact(privileges=public + privileges("adx_owner", *CONNECT))}
    statements, _ = plan_databases(WANTED_DATABASES, current)
    assert statements == ['REVOKE ALL ON DATABASE "adx_core" FROM PUBLIC;']


def test_undeclared_grantee_is_revoked() -> None:
    current = {"adx_core": database_fact(privileges=privileges("adx_owner", *CONNECT, "intruder"))}
    statements, _ = plan_databases(WANTED_DATABASES, current)
    assert statements == ['REVOKE ALL ON DATABASE "adx_core" FROM "intruder";']


def test_declared_grantee_with_more_than_connect_is_reset_to_connect() -> None:
    extra = [{"grantee": "adx_app", "privilege": "TEMPORARY"}]
    current = {"adx_core": database_fact(privileges=privileges("adx_owner", *CONNECT) + extra)}
    statements, _ = plan_databases(WANTED_DATABASES, current)
    assert statements == [
        'REVOKE ALL ON DATABASE "adx_core" FROM "adx_app";',
        'GRANT CONNECT ON DATABASE "adx_core" TO "adx_app";',
    ]


def test_missing_grant_is_added() -> None:
    current = {"adx_core": database_fact(privileges=privileges("adx_owner", "adx_migrator"))}
    statements, _ = plan_databases(WANTED_DATABASES, current)
    assert statements == ['GRANT CONNECT ON DATABASE "adx_core" TO "adx_app";']


def test_owner_and_connection_limit_drift() -> None:
    current = {
        "adx_core": database_fact(
            owner="postgres", connection_limit=5, privileges=privileges("postgres", *CONNECT)
        )
    }
    statements, _ = plan_databases(WANTED_DATABASES, current)
    assert statements == [
        'ALTER DATABASE "adx_core" OWNER TO "adx_owner";',
        'ALTER DATABASE "adx_core" CONNECTION LIMIT  -1;',
    ]


def test_database_names_are_quoted_identifiers() -> None:
    wanted = {"select": Database(owner="adx_owner")}
    current = {"select": database_fact(privileges=privileges("adx_owner", 'we"ird'))}
    statements, _ = plan_databases(wanted, current)
    assert statements == ['REVOKE ALL ON DATABASE "select" FROM "we""ird";']


QUIET = {
    "adx_core": {"adx_migrator": {"log_statement": "none", "log_min_error_statement": "panic"}}
}


def test_role_settings_in_a_database_are_set_where_they_differ() -> None:
    stored = {"adx_migrator": ["log_statement=all"], "adx_app": ["work_mem=64MB"]}
    statements, changed = plan_databases(
        WANTED_DATABASES, {"adx_core": database_fact(role_settings=stored)}, QUIET
    )
    assert statements == [
        'ALTER ROLE "adx_migrator" IN DATABASE "adx_core" SET "log_statement" = \'none\';',
        'ALTER ROLE "adx_migrator" IN DATABASE "adx_core" SET "log_min_error_statement" = '
        "'panic';",
    ]  # adx_app's own setting is not the deploy's: left alone
    assert changed == ["adx_core"]


def test_role_settings_already_stored_change_nothing() -> None:
    stored = {"adx_migrator": ["log_min_error_statement=panic", "log_statement=none"]}
    fact = {"adx_core": database_fact(role_settings=stored)}
    assert plan_databases(WANTED_DATABASES, fact, QUIET) == ([], [])


SALT_KEY = SecretStr("unit-salt-key")


def keyed(password: str, role: str = "adx_app", key: SecretStr = SALT_KEY) -> dict[str, Any]:
    """The roles fact's `password` entry for a verifier set with the keyed salt."""
    return stored_password(password, scram.keyed_salt(key.get_secret_value(), role, password))


def recording_map(calls: list[str]) -> Any:
    def run(function: Any, items: list[str]) -> list[bool]:
        calls.extend(items)
        return [function(item) for item in items]

    return run


def test_a_keyed_salt_is_recognised_without_recomputing() -> None:
    calls: list[str] = []
    current = converged_roles(password=keyed(APP_PASSWORD))
    plan = plan_roles(
        WANTED_ROLES, PASSWORDS, current, map_function=recording_map(calls), salt_key=SALT_KEY
    )
    assert plan.statements == []
    assert calls == []


def test_another_salt_is_recomputed_with_the_salt_key() -> None:
    """A password set by hand (a random salt) is checked by PBKDF2: same password, no change."""
    calls: list[str] = []
    current = converged_roles(password=stored_password(APP_PASSWORD, b"another-salt-16b"))
    plan = plan_roles(
        WANTED_ROLES, PASSWORDS, current, map_function=recording_map(calls), salt_key=SALT_KEY
    )
    assert plan.statements == []
    assert calls == ["adx_app"]


def test_a_changed_password_misses_the_keyed_salt_and_is_set_keyed() -> None:
    current = converged_roles(password=keyed("the-old-password"))
    plan = plan_roles(WANTED_ROLES, PASSWORDS, current, salt_key=SALT_KEY)
    (statement,) = plan.statements
    verifier = statement.split("'")[1]
    assert verifier == scram.verifier(
        APP_PASSWORD, salt=scram.keyed_salt(SALT_KEY.get_secret_value(), "adx_app", APP_PASSWORD)
    )
    assert plan_roles(WANTED_ROLES, PASSWORDS, current, salt_key=SALT_KEY).statements == [statement]


def test_a_keyed_salt_of_another_key_is_recomputed() -> None:
    calls: list[str] = []
    current = converged_roles(password=keyed(APP_PASSWORD, key=SecretStr("another-key")))
    plan = plan_roles(
        WANTED_ROLES, PASSWORDS, current, map_function=recording_map(calls), salt_key=SALT_KEY
    )
    assert plan.statements == []
    assert calls == ["adx_app"]


def test_without_a_salt_key_a_new_verifier_has_a_random_salt() -> None:
    current = converged_roles(password=None)
    first = plan_roles(WANTED_ROLES, PASSWORDS, current).statements
    second = plan_roles(WANTED_ROLES, PASSWORDS, current).statements
    assert first != second
