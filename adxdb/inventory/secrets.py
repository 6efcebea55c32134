"""Secret values: read from the environment variables or files an inventory names.

Local and test environments generate a secret once into their git-ignored state folder; staging
and prod refuse to run without every secret supplied. Values stay `SecretStr` end to end.
"""

from __future__ import annotations

import os
import secrets as token_source
from pathlib import Path

from pydantic import SecretStr

from adxdb.contract import GENERATED_SECRET_ENVIRONMENTS, PATRONI_REST_USER, tenant_role
from adxdb.inventory.model import Environment
from adxdb.inventory.types import SecretSource


def _read_source(
    source: SecretSource, base: Path, where: str, problems: list[str]
) -> SecretStr | None:
    if source.env is not None:
        value = os.environ.get(source.env, "")
        if not value:
            problems.append(f"{where}.env: environment variable {source.env} is not set or empty")
            return None
        return SecretStr(value)
    assert source.file is not None
    path = source.file if source.file.is_absolute() else base / source.file
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        problems.append(f"{where}.file: cannot read {path}: {error.strerror}")
        return None
    if not value:
        problems.append(f"{where}.file: {path} is empty")
        return None
    return SecretStr(value)


def _generated(path: Path) -> SecretStr:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token_source.token_urlsafe(32))
    return SecretStr(path.read_text(encoding="utf-8").strip())


def role_passwords(
    env: Environment, base: Path, state_dir: Path
) -> tuple[dict[str, SecretStr], list[str]]:
    """Return every login role's password (tenant roles included) and the problems found."""
    wanted: list[tuple[str, SecretSource | None, str]] = [
        (role_name, role.password, f"roles.{role_name}.password")
        for role_name, role in env.roles.items()
        if role.login
    ]
    wanted += [
        (tenant_role(tenant.slug), tenant.password, f"tenants[{index}].password")
        for index, tenant in enumerate(env.tenants)
        if tenant.isolation != "rls" and tenant.state == "present"
    ]
    if env.any_ha():
        wanted.append((PATRONI_REST_USER, env.ha_settings().rest_password, "ha.rest_password"))
    passwords: dict[str, SecretStr] = {}
    problems: list[str] = []
    for role_name, source, where in wanted:
        if source is not None:
            value = _read_source(source, base, where, problems)
            if value is not None:
                passwords[role_name] = value
        elif env.name in GENERATED_SECRET_ENVIRONMENTS:
            passwords[role_name] = _generated(state_dir / "secrets" / f"{role_name}.password")
        else:
            problems.append(
                f"{where}: no secret source; {env.name} needs {{env: VAR}} or {{file: PATH}}"
            )
    return passwords, problems


SALT_KEY_FILE = "password-salt.key"


def password_salt_key(
    env: Environment, base: Path, state_dir: Path, problems: list[str]
) -> SecretStr | None:
    """The environment's SCRAM salt key: supplied, generated (local and test), or none."""
    source = env.postgres.password_salt_key
    if source is not None:
        return _read_source(source, base, "postgres.password_salt_key", problems)
    if env.name in GENERATED_SECRET_ENVIRONMENTS:
        return _generated(state_dir / "secrets" / SALT_KEY_FILE)
    return None
