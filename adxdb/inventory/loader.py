"""Load an environment inventory: YAML -> validated model + secrets + TLS + migration files.

Every problem is found here, before any host is touched, and reported one line each with the
dotted path of the field and what is allowed. The YAML is parsed once and the migration files
are read once; the deploy and the jobs use what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from adxdb.errors import InventoryError, MigrationError, ModelProblems
from adxdb.inventory.migration_files import MIGRATIONS_ROOT, MigrationFile, discover
from adxdb.inventory.model import Environment
from adxdb.inventory.secrets import role_passwords
from adxdb.inventory.state import state_dir_for
from adxdb.inventory.tls import ServerTLS, generated_tls, supplied_tls


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

    def password(self, role: str) -> SecretStr:
        return self.passwords[role]


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def format_validation_error(error: ValidationError) -> list[str]:
    """pydantic's errors as `dotted.path: message` lines, the model's own cross-checks
    included; never the input values."""
    problems: list[str] = []
    for item in error.errors():
        context = item.get("ctx") or {}
        inner = context.get("error")
        if isinstance(inner, ModelProblems):
            problems.extend(f"{path}: {message}" for path, message in inner.problems)
            continue
        where = _location(
            tuple(p for p in item["loc"] if not str(p).startswith("function-") and p != "[key]")
        )
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (not part of the inventory format)"
        problems.append(f"{where or '(top level)'}: {message}")
    return problems


# libyaml's safe loader where PyYAML was built with it (its wheels are): the same safe subset
# of YAML, an order of magnitude faster on an inventory of a thousand tenants.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict[str, Any]:
    """The inventory file's mapping, or an InventoryError saying where it cannot be read."""
    if not path.is_file():
        raise InventoryError(path, [f"{path}: inventory file not found"])
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506
    except yaml.YAMLError as error:
        where, problem = "", "cannot be parsed"
        if isinstance(error, yaml.MarkedYAMLError):
            if error.problem_mark is not None:
                mark = error.problem_mark
                where = f" at line {mark.line + 1}, column {mark.column + 1}"
            problem = error.problem or problem
        raise InventoryError(path, [f"{path}: not valid YAML{where}: {problem}"]) from None
    if not isinstance(data, dict):
        raise InventoryError(path, [f"{path}: must hold a mapping of inventory keys"])
    return data


def validate_model(path: Path, data: dict[str, Any]) -> Environment:
    """The model of the parsed YAML; the environment name defaults to the file's stem."""
    data = {key: value for key, value in data.items() if key != "state_dir"}
    data.setdefault("name", path.stem)
    try:
        return Environment.model_validate(data)
    except ValidationError as error:
        raise InventoryError(path, format_validation_error(error)) from None


def load_model(path: Path) -> Environment:
    """Read and validate the YAML at `path` (no secrets, no TLS, no files)."""
    return validate_model(path, read_yaml(path))


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
        return tuple(discover(directory)), []
    except MigrationError as error:
        return (), [f"migrations.directory: {problem}" for problem in error.problems]


def load_inventory(path: Path) -> Inventory:
    """Load the model, its secrets, TLS material and migration files; raise InventoryError
    with all problems."""
    data = read_yaml(path)
    env = validate_model(path, data)
    base = path.resolve().parent
    state_dir = state_dir_for(path, env.name, data.get("state_dir"))
    passwords, problems = role_passwords(env, base, state_dir)
    if env.tls.mode == "files":
        tls, tls_problems = supplied_tls(env, base)
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
    )
