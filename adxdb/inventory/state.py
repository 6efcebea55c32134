"""The environment's state folder on the control machine (`.adx/<env>/`): generated secrets,
TLS material, the test hosts' SSH keys. Git-ignored; `state_dir:` in the YAML moves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def project_root(inventory_yml: Path) -> Path:
    """The folder holding `inventories/`: relative paths of the control machine start here."""
    return inventory_yml.resolve().parent.parent


def state_dir_for(inventory_yml: Path, env_name: str, override: Any = None) -> Path:
    """`.adx/<env>/` at the project root, or the YAML's `state_dir` (relative to the YAML)."""
    if override:
        candidate = Path(str(override))
        return (
            candidate if candidate.is_absolute() else (inventory_yml.parent / candidate).resolve()
        )
    return project_root(inventory_yml) / ".adx" / env_name


def state_dir_problems(inventory_yml: Path, override: Any) -> list[str]:
    """`state_dir` is checked like any field: a path (text), and a folder if it exists."""
    if override is None:
        return []
    if not isinstance(override, str) or not override.strip():
        kind = type(override).__name__
        return [f"state_dir: must be a folder path (text), not {kind} {override!r:.60}"]
    if any(ord(char) < 32 for char in override):
        return ["state_dir: contains a control character"]
    resolved = state_dir_for(inventory_yml, "", override)
    if resolved.exists() and not resolved.is_dir():
        return [f"state_dir: {resolved} exists and is not a folder"]
    return []


def resolve_control_path(inventory_yml: Path, path: Path) -> Path:
    """A control-machine path of the inventory (SSH key, known hosts): relative to the project
    root, where `.adx/` lives."""
    return path if path.is_absolute() else project_root(inventory_yml) / path
