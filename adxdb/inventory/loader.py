"""Load an environment inventory: YAML -> validated model + secrets + TLS + migration files.

Every problem is found here, before any host is touched, and reported one line each with the
dotted path of the field and what is allowed. The YAML is parsed once and the migration files
are read once; the deploy and the jobs use what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from adxdb.errors import InventoryError, MigrationError
from adxdb.inventory.messages import format_validation_error
from adxdb.inventory.migration_files import MIGRATIONS_ROOT, STREAMS, MigrationFile, discover
from adxdb.inventory.model import Environment
from adxdb.inventory.secrets import password_salt_key, role_passwords
from adxdb.inventory.state import state_dir_for, state_dir_problems
from adxdb.inventory.tls import ServerTLS, generated_tls, supplied_tls
from adxdb.inventory.yaml_reader import read_yaml


@dataclass(frozen=True)
class Inventory:
    """Everything a deploy reads from the control machine, resolved once. Its repr shows no
    secret (passwords are `SecretStr`, TLS keys are left out of `ServerTLS`'s repr)."""

    source: Path
    env: Environment
    state_dir: Path
    passwords: dict[str, SecretStr] = field(repr=False)
    tls: dict[str, ServerTLS] = field(repr=False)
    migration_files: tuple[MigrationFile, ...] = field(default=(), repr=False)
    warnings: tuple[str, ...] = ()
    salt_key: SecretStr | None = field(default=None, repr=False)

    def password(self, role: str) -> SecretStr:
        return self.passwords[role]


def validate_model(path: Path, data: dict[str, Any]) -> Environment:
    """The model of the parsed YAML; the environment's name is the file's stem."""
    problems = state_dir_problems(path, data.get("state_dir"))
    if "name" in data:
        problems.append(
            f"name: unknown key (the environment's name is the file's name, {path.stem!r})"
        )
    data = {key: value for key, value in data.items() if key not in ("state_dir", "name")}
    data["name"] = path.stem
    try:
        env = Environment.model_validate(data)
    except ValidationError as error:
        raise InventoryError(path, problems + format_validation_error(error)) from None
    if problems:
        raise InventoryError(path, problems)
    return env


def load_model(path: Path) -> Environment:
    """Read and validate the YAML at `path` (no secrets, no TLS, no files)."""
    return validate_model(path, read_yaml(path))


def load_model_and_state_dir(path: Path) -> tuple[Environment, Path]:
    """The model and the environment's state folder, from one reading of the YAML (the test
    hosts need both: the model for the containers, the folder for their SSH keys)."""
    data = read_yaml(path)
    env = validate_model(path, data)
    return env, state_dir_for(path, env.name, data.get("state_dir"))


def migrations_dir(path: Path, env: Environment) -> Path:
    """The inventory's migrations folder (relative to the YAML), or the packaged one."""
    directory = env.migrations.directory
    if directory is None:
        return MIGRATIONS_ROOT
    return directory if directory.is_absolute() else path.resolve().parent / directory


def _migration_files(directory: Path) -> tuple[tuple[MigrationFile, ...], list[str]]:
    if not directory.is_dir():
        return (), [f"migrations.directory: {directory} is not a folder"]
    try:
        files = tuple(discover(directory))
    except MigrationError as error:
        return (), [f"migrations.directory: {problem}" for problem in error.problems]
    missing = [stream for stream in STREAMS if not any(f.stream == stream for f in files)]
    if missing:
        folders = " and ".join(f"{stream}/" for stream in missing)
        return (), [f"migrations.directory: {directory} has no migration files in {folders}"]
    return files, []


def load_inventory(path: Path) -> Inventory:
    """Load the model, its secrets, TLS material and migration files; raise InventoryError
    with all problems."""
    data = read_yaml(path)
    env = validate_model(path, data)
    base = path.resolve().parent
    state_dir = state_dir_for(path, env.name, data.get("state_dir"))
    passwords, problems = role_passwords(env, base, state_dir)
    salt_key = password_salt_key(env, base, state_dir, problems)
    warnings: list[str] = []
    if env.tls.mode == "files":
        tls, tls_problems = supplied_tls(env, base, warnings)
        problems += tls_problems
    else:
        tls = generated_tls(env, state_dir)
    files, file_problems = _migration_files(migrations_dir(path, env))
    problems += file_problems
    if problems:
        raise InventoryError(path, problems)
    return Inventory(
        source=path,
        env=env,
        state_dir=state_dir,
        passwords=passwords,
        tls=tls,
        migration_files=files,
        warnings=tuple(warnings),
        salt_key=salt_key,
    )
