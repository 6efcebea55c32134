"""Load an environment inventory: YAML -> validated model + secrets + TLS material.

Every problem is found here, before any host is touched, and reported one line each with the
dotted path of the field and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from adxdb.migrations import MIGRATIONS_ROOT, MigrationError, discover
from adxdb.model import Environment, ModelProblems
from adxdb.secrets import role_passwords
from adxdb.tlsgen import ServerTLS, ensure_server_cert


class InventoryError(Exception):
    """An inventory that cannot be deployed; `problems` holds one line per problem."""

    def __init__(self, source: Path, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"invalid inventory {source}:\n{lines}")


@dataclass(frozen=True)
class Inventory:
    """Everything a deploy reads from the control machine, resolved once."""

    source: Path
    env: Environment
    state_dir: Path
    passwords: dict[str, SecretStr]
    tls: dict[str, ServerTLS]

    def password(self, role: str) -> SecretStr:
        return self.passwords[role]

    def migrations_dir(self) -> Path:
        """The inventory's migrations folder (relative to the YAML), or the repository's."""
        directory = self.env.migrations.directory
        if directory is None:
            return MIGRATIONS_ROOT
        return directory if directory.is_absolute() else self.source.resolve().parent / directory


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def format_validation_error(error: ValidationError) -> list[str]:
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


def _read_yaml(path: Path) -> dict[str, Any]:
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


def load_model(path: Path) -> Environment:
    """Read and validate the YAML at `path`; the environment name defaults to the file's stem."""
    data = _read_yaml(path)
    data.pop("state_dir", None)
    data.setdefault("name", path.stem)
    try:
        return Environment.model_validate(data)
    except ValidationError as error:
        raise InventoryError(path, format_validation_error(error)) from None


def state_dir_for(path: Path, env: Environment) -> Path:
    """`.adx/<env>/` at the project root (the folder holding `inventories/`), unless overridden."""
    override = _read_yaml(path).get("state_dir")
    if override:
        candidate = Path(str(override))
        return candidate if candidate.is_absolute() else (path.parent / candidate).resolve()
    return path.resolve().parent.parent / ".adx" / env.name


def _supplied_tls(env: Environment, base: Path) -> tuple[dict[str, ServerTLS], list[str]]:
    problems: list[str] = []
    material: dict[str, ServerTLS] = {}

    def read(where: str, file: Path | None) -> str:
        assert file is not None
        full = file if file.is_absolute() else base / file
        try:
            return full.read_text(encoding="utf-8")
        except OSError as error:
            problems.append(f"{where}: cannot read {full}: {error.strerror}")
            return ""

    ca_pem = read("tls.ca_file", env.tls.ca_file)
    for host_name, host in env.hosts.items():
        cert = read(f"hosts.{host_name}.tls_cert_file", host.tls_cert_file)
        key = read(f"hosts.{host_name}.tls_key_file", host.tls_key_file)
        material[host_name] = ServerTLS(ca_pem, cert, key)
    return material, problems


def server_names(env: Environment, host_name: str) -> list[str]:
    """The names a host's certificate carries: its name, address, DNS names; loopback for tests."""
    host = env.hosts[host_name]
    names = [host_name, host.address, *host.dns_names]
    if host.container is not None:
        names += ["localhost", "127.0.0.1"]
    return names


def load_inventory(path: Path) -> Inventory:
    """Load the model, its secrets and TLS material; raise InventoryError with all problems."""
    env = load_model(path)
    base = path.resolve().parent
    state_dir = state_dir_for(path, env)
    passwords, problems = role_passwords(env, base, state_dir)
    if env.tls.mode == "files":
        tls, tls_problems = _supplied_tls(env, base)
        problems += tls_problems
    else:
        tls = {
            host_name: ensure_server_cert(
                state_dir / "tls", env.name, host_name, server_names(env, host_name)
            )
            for host_name in env.hosts
        }
    inventory = Inventory(source=path, env=env, state_dir=state_dir, passwords=passwords, tls=tls)
    problems += _migration_problems(inventory.migrations_dir())
    if problems:
        raise InventoryError(path, problems)
    return inventory


def _migration_problems(directory: Path) -> list[str]:
    if not directory.is_dir():
        return [f"migrations.directory: {directory} is not a folder"]
    try:
        discover(directory)
    except MigrationError as error:
        return [f"migrations.directory: {problem}" for problem in error.problems]
    return []


def pyinfra_groups(inventory: Inventory) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """pyinfra's inventory shape: group name -> [(host name, host data)]."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for host_name, host in inventory.env.hosts.items():
        data: dict[str, Any] = {
            "ssh_hostname": host.ssh.hostname,
            "ssh_port": host.ssh.port,
            "ssh_user": host.ssh.user,
            "adx_inventory": inventory,
            "adx_host": host_name,
        }
        key, known_hosts = host.ssh.key, host.ssh.known_hosts
        if host.container is not None:
            # Test hosts: the key and host keys made by `adxdb.testhosts up` for this run.
            key = key or inventory.state_dir / "ssh" / "id_ed25519"
            known_hosts = known_hosts or inventory.state_dir / "ssh" / "known_hosts"
        if key is not None:
            data["ssh_key"] = str(_resolve(inventory, key))
        if known_hosts is not None:
            data["ssh_known_hosts_file"] = str(_resolve(inventory, known_hosts))
            data["ssh_strict_host_key_checking"] = "yes"
        if host.ssh.sudo:
            data["_sudo"] = True
        for group in host.groups:
            groups.setdefault(group, []).append((host_name, data))
    return groups


def _resolve(inventory: Inventory, path: Path) -> Path:
    """Relative paths in an inventory are relative to the project root (`.adx/...` lives there)."""
    if path.is_absolute():
        return path
    return inventory.source.resolve().parent.parent / path
