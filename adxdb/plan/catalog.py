"""Plan role and database changes: wanted model + current catalog facts -> SQL statements.

Pure functions, no connection: the same statements run through psql on the host (operations)
or through psycopg (the CLI). Names are composed with `psycopg.sql.Identifier`, never glued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from pydantic import SecretStr

from adxdb import sqlfiles
from adxdb.contract import LEDGER_SCHEMA, LEDGER_TABLE, SYSTEM_DATABASES
from adxdb.inventory.model import Database, Role
from adxdb.plan import scram
from adxdb.plan.tenants import REGISTRY_COLUMNS, RegistryRow

ROLE_FLAGS = (
    ("login", "LOGIN", "NOLOGIN"),
    ("superuser", "SUPERUSER", "NOSUPERUSER"),
    ("createdb", "CREATEDB", "NOCREATEDB"),
    ("createrole", "CREATEROLE", "NOCREATEROLE"),
    ("replication", "REPLICATION", "NOREPLICATION"),
    ("bypassrls", "BYPASSRLS", "NOBYPASSRLS"),
    ("inherit", "INHERIT", "NOINHERIT"),
)
# Statements that carry a password verifier: keep them out of the server log.
QUIET_PRELUDE = sqlfiles.load("deploy/quiet_session").strip() + "\n"


@dataclass(frozen=True)
class RolePlan:
    statements: list[str]
    changed_roles: list[str]
    sets_password: bool


def _stored(current: Mapping[str, Any]) -> scram.StoredVerifier | None:
    stored = current.get("password")
    if not stored:
        return None
    return scram.StoredVerifier(
        iterations=int(stored["iterations"]), salt=str(stored["salt"]), digest=str(stored["digest"])
    )


def _render(statement: sql.Composable) -> str:
    return statement.as_string() + ";"


def _integer(value: int) -> sql.Composable:
    """An integer as SQL text: `sql.Literal` renders a negative one with a leading space."""
    return sql.SQL(str(int(value)))


def hold_lock(key: int, transaction: bool) -> str:
    """SQL taking an advisory lock: until COMMIT (`transaction`) or for the session."""
    function = sql.SQL("pg_advisory_xact_lock" if transaction else "pg_advisory_lock")
    statement = sql.SQL("DO $adx_lock$ BEGIN PERFORM {}({}); END $adx_lock$").format(
        function, sql.Literal(key)
    )
    return _render(statement) + "\n"


def plan_roles(
    wanted: Mapping[str, Role],
    passwords: Mapping[str, SecretStr],
    current: Mapping[str, Mapping[str, Any]],
    retired: Sequence[str] = (),
    digest_key: str = "",
    map_function: Callable[..., Iterable[bool]] = map,
    salt_key: SecretStr | None = None,
) -> RolePlan:
    """Statements that bring `current` (the roles fact) to `wanted`; empty when converged.
    A `retired` role loses login where it still exists, and is never created. `digest_key`
    is the key the roles fact hashed each stored verifier with. With the environment's
    `salt_key`, a verifier set here gets the role's keyed salt, and a stored verifier with that
    salt is taken as the same password without recomputing it. `map_function` runs the other
    password comparisons (PBKDF2, about 1 ms each): the deploy passes a pool of native
    threads, as a thousand tenant roles would take a second one after another."""
    key = salt_key.get_secret_value() if salt_key is not None else None

    def wanted_salt(name: str) -> bytes | None:
        if key is None:
            return None
        return scram.keyed_salt(key, name, passwords[name].get_secret_value())

    matching: dict[str, bool] = {}
    checked: list[str] = []
    for name, role in wanted.items():
        if not role.login or passwords.get(name) is None or current.get(name) is None:
            continue
        salt = wanted_salt(name)
        if salt is not None and scram.has_salt(_stored(current[name]), salt):
            matching[name] = True
        else:
            checked.append(name)

    def unchanged(name: str) -> bool:
        return scram.matches(passwords[name].get_secret_value(), _stored(current[name]), digest_key)

    matching.update(zip(checked, map_function(unchanged, checked), strict=True))
    statements: list[str] = []
    changed: list[str] = []
    sets_password = False
    for role_name in retired:
        if role_name not in wanted and (current.get(role_name) or {}).get("login"):
            statements.append(
                _render(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(role_name)))
            )
            changed.append(role_name)
    for role_name, role in wanted.items():
        have = current.get(role_name)
        ident = sql.Identifier(role_name)
        options: list[sql.Composable] = []
        for attribute, yes, no in ROLE_FLAGS:
            if have is None or have.get(attribute) != getattr(role, attribute):
                options.append(sql.SQL(yes if getattr(role, attribute) else no))
        if have is None or have.get("connection_limit") != role.connection_limit:
            options.append(sql.SQL("CONNECTION LIMIT {}").format(_integer(role.connection_limit)))
        password = passwords.get(role_name) if role.login else None
        if password is not None and not matching.get(role_name, False):
            verifier = scram.verifier(password.get_secret_value(), salt=wanted_salt(role_name))
            options.append(sql.SQL("PASSWORD {}").format(sql.Literal(verifier)))
            sets_password = True
        alter = sql.SQL("ALTER ROLE {} {}").format(ident, sql.SQL(" ").join(options))
        role_statements: list[str] = []
        if have is None:
            # Created bare if still missing (a concurrent deploy may have made it since the
            # fact was read; the script holds ROLES_LOCK_KEY), then given every attribute.
            role_statements.append(
                _render(
                    sql.SQL(
                        "DO $adx_role$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE "
                        "rolname = {}) THEN CREATE ROLE {}; END IF; END $adx_role$"
                    ).format(sql.Literal(role_name), ident)
                )
            )
            role_statements.append(_render(alter))
        elif options:
            role_statements.append(_render(alter))
        member_now = set(have.get("member_of", [])) if have else set()
        for parent in sorted(set(role.member_of) - member_now):
            role_statements.append(
                _render(sql.SQL("GRANT {} TO {}").format(sql.Identifier(parent), ident))
            )
        for parent in sorted(member_now - set(role.member_of)):
            role_statements.append(
                _render(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(parent), ident))
            )
        if role_statements:
            changed.append(role_name)
            statements += role_statements
    return RolePlan(statements, changed, sets_password)


def _connect_grantees(current: Mapping[str, Any]) -> dict[str, set[str]]:
    privileges: dict[str, set[str]] = {}
    for item in current.get("privileges", []):
        privileges.setdefault(str(item["grantee"]), set()).add(str(item["privilege"]))
    return privileges


def _role_settings(
    db_name: str,
    wanted: Mapping[str, Mapping[str, str]],
    current: Mapping[str, Sequence[str]],
) -> list[str]:
    """`ALTER ROLE ... IN DATABASE ... SET` for each wanted setting of a role in `db_name` that
    differs from what `current` (the fact's `name=value` items per role) holds."""
    statements: list[str] = []
    for role, settings in sorted(wanted.items()):
        have = dict(item.split("=", 1) for item in current.get(role, []))
        for name, value in settings.items():
            if have.get(name) != value:
                statements.append(
                    _render(
                        sql.SQL("ALTER ROLE {} IN DATABASE {} SET {} = {}").format(
                            sql.Identifier(role),
                            sql.Identifier(db_name),
                            sql.Identifier(name),
                            sql.Literal(value),
                        )
                    )
                )
    return statements


def plan_databases(
    wanted: Mapping[str, Database],
    current: Mapping[str, Mapping[str, Any]],
    role_settings: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
) -> tuple[list[str], list[str]]:
    """Statements (each runs on its own: CREATE DATABASE cannot run in a transaction).
    `role_settings`: database -> role -> the settings that role's sessions there start with."""
    statements: list[str] = []
    changed: list[str] = []
    for db_name, database in wanted.items():
        have = current.get(db_name)
        ident = sql.Identifier(db_name)
        owner = sql.Identifier(database.owner)
        db_statements: list[str] = []
        if have is None and db_name in SYSTEM_DATABASES:
            continue  # PostgreSQL makes these; the deploy never does
        if have is None:
            create = sql.SQL(
                "CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING {} LOCALE {} "
                "CONNECTION LIMIT {}"
            ).format(
                ident,
                owner,
                sql.Literal(database.encoding),
                sql.Literal(database.locale),
                sql.Literal(database.connection_limit),
            )
            # Only if still missing (psql runs the selected text): a concurrent deploy may
            # have created it since the fact was read; the script holds DATABASES_LOCK_KEY.
            db_statements.append(
                sql.SQL(
                    "SELECT {} WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = {}) "
                )
                .format(sql.Literal(create.as_string()), sql.Literal(db_name))
                .as_string()
                + "\\gexec"
            )
            have = {
                "owner": database.owner,
                "privileges": [
                    {"grantee": "PUBLIC", "privilege": "CONNECT"},
                    {"grantee": "PUBLIC", "privilege": "TEMPORARY"},
                ],
                "connection_limit": database.connection_limit,
            }
        else:
            if have.get("owner") != database.owner:
                db_statements.append(
                    _render(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident, owner))
                )
            if have.get("connection_limit") != database.connection_limit:
                db_statements.append(
                    _render(
                        sql.SQL("ALTER DATABASE {} CONNECTION LIMIT {}").format(
                            ident, sql.Literal(database.connection_limit)
                        )
                    )
                )
        privileges = _connect_grantees(have)
        if privileges.get("PUBLIC"):
            db_statements.append(
                _render(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident))
            )
        wanted_connect = set(database.connect)
        for grantee, granted in sorted(privileges.items()):
            if grantee in ("PUBLIC", database.owner, have.get("owner")):
                continue
            if grantee not in wanted_connect or granted != {"CONNECT"}:
                db_statements.append(
                    _render(
                        sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(
                            ident, sql.Identifier(grantee)
                        )
                    )
                )
                if grantee in wanted_connect:
                    privileges[grantee] = set()
        db_statements += _role_settings(
            db_name, (role_settings or {}).get(db_name, {}), have.get("role_settings") or {}
        )
        for grantee in sorted(wanted_connect):
            if "CONNECT" not in privileges.get(grantee, set()):
                db_statements.append(
                    _render(
                        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                            ident, sql.Identifier(grantee)
                        )
                    )
                )
        if db_statements:
            changed.append(db_name)
            statements += db_statements
    return statements, changed


_REGISTRY_UPDATE = sql.SQL(
    "DO $adx_registry$ BEGIN UPDATE public.tenants SET {} WHERE id = {}; "
    "EXCEPTION WHEN lock_not_available THEN RAISE EXCEPTION USING MESSAGE = {}; "
    "END $adx_registry$;"
)


def registry_update(row: RegistryRow, columns: Sequence[str]) -> str:
    """An UPDATE of `columns` of the tenant's registry row, and nothing else: it never changes
    a key column it does not have to, so foreign-key checks of ordinary writes (which
    share-lock the row's key) never wait for it. A lock wait past the transaction's
    `lock_timeout` stops it with a message that names the tenant."""
    values = row.as_fact()
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c), sql.Literal(values[c])) for c in columns
    )
    message = (
        f"tenant {row.slug}: its registry row stayed locked longer than lock_timeout (a "
        "transaction of the tenant holds it); nothing was changed: the next deploy tries again"
    )
    return _REGISTRY_UPDATE.format(
        assignments, sql.Literal(row.id), sql.Literal(message)
    ).as_string()


def plan_registry(wanted: list[RegistryRow], current: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Statements for the declared registry rows that differ: a new tenant's row is inserted
    (unless a concurrent deploy just did), an existing one gets the columns that differ; the
    tenants the inventory does not declare stay as they are."""
    statements: list[str] = []
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in ("id", *REGISTRY_COLUMNS))
    for row in wanted:
        have = current.get(row.id)
        fact = row.as_fact()
        if have is None:
            values = sql.SQL(", ").join(
                [sql.Literal(row.id), *(sql.Literal(fact[c]) for c in REGISTRY_COLUMNS)]
            )
            statements.append(
                _render(
                    sql.SQL(
                        "INSERT INTO public.tenants ({}) VALUES ({}) ON CONFLICT (id) DO NOTHING"
                    ).format(columns, values)
                )
            )
            if row.db_host is None:  # a tenant placed anew where a move once fenced it off
                statements.append(
                    _render(
                        sql.SQL(
                            "DELETE FROM adx_migrations.tenant_fences "
                            "WHERE tenant = {} AND target_schema = {}"
                        ).format(sql.Literal(row.id), sql.Literal(row.db_schema))
                    )
                )
            continue
        differ = [c for c in REGISTRY_COLUMNS if have.get(c) != fact[c]]
        if differ:
            statements.append(registry_update(row, differ))
    return statements


def plan_lock_timeout(lock_timeout: str) -> str:
    """`SET LOCAL lock_timeout` for the transaction that follows (a line)."""
    return _lock_timeout(lock_timeout, local=True) + "\n"


def _lock_timeout(lock_timeout: str, local: bool) -> str:
    scope = sql.SQL("SET LOCAL" if local else "SET")
    return _render(sql.SQL("{} lock_timeout = {}").format(scope, sql.Literal(lock_timeout)))


def plan_drop_schema(schema: str, lock_timeout: str = "10s") -> str:
    """Drop a tenant schema and forget its migrations (a later re-creation starts afresh), in
    one transaction (the caller's) that waits at most `lock_timeout` for its locks."""
    return (
        _lock_timeout(lock_timeout, local=True)
        + "\n"
        + _render(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        + "\n"
        + _render(
            sql.SQL("DELETE FROM {} WHERE target_schema = {}").format(
                sql.Identifier(LEDGER_SCHEMA, LEDGER_TABLE), sql.Literal(schema)
            )
        )
        + "\n"
    )


def plan_drop_database(database: str, lock_timeout: str = "10s") -> str:
    """Drop a tenant database (its sessions ended), waiting at most `lock_timeout`."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
    return _lock_timeout(lock_timeout, local=False) + "\n" + _render(drop) + "\n"
