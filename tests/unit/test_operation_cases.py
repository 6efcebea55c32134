"""Every operation in pyinfra's own style: facts in, exact commands (or the no-op text, or the
error) out. One folder per operation, `tests/unit/operations/<module>.<operation>/`, one JSON
case per file. Each keyword argument is validated against the operation's own annotation
first, so a case can give pydantic models, dataclasses and `SecretStr` passwords as JSON.

Expected commands are made by running the operation once, reviewed, then frozen.
"""

from __future__ import annotations

import inspect
import json
import pkgutil
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any, get_type_hints

import pytest
from pydantic import TypeAdapter
from pyinfra_testing.operations import assert_commands, parse_commands

import operations
from tests.unit.conftest import OperationRun, run_operation

CASES = Path(__file__).parent / "operations"
# Every module of the package: a new one's operations need cases too.
OPERATION_MODULES = tuple(m.name for m in pkgutil.iter_modules(operations.__path__))


def _operation(path: str) -> Any:
    module_name, op_name = path.split(".")
    return getattr(import_module(f"operations.{module_name}"), op_name)


def _cases() -> Iterator[Any]:
    for folder in sorted(CASES.iterdir()):
        for case in sorted(folder.glob("*.json")):
            yield pytest.param(folder.name, case, id=f"{folder.name}/{case.stem}")


def run_case(
    path: str, test_data: dict[str, Any], host_data: dict[str, Any] | None = None
) -> OperationRun:
    op = _operation(path)
    hints = get_type_hints(op._inner)
    kwargs = {
        key: TypeAdapter(hints[key]).validate_python(value)
        for key, value in test_data["kwargs"].items()
    }
    return run_operation(op, test_data.get("facts", {}), host_data, **kwargs)


@pytest.mark.parametrize(("path", "case"), list(_cases()))
def test_operation_case(path: str, case: Path) -> None:
    test_data = json.loads(case.read_text(encoding="utf-8"))
    expected_exception = test_data.get("exception")
    if expected_exception is not None:
        with pytest.raises(Exception) as raised:
            run_case(path, test_data)
        assert type(raised.value).__name__ == expected_exception["name"]
        assert str(raised.value) == expected_exception["message"]
        return
    run = run_case(path, test_data)
    commands = parse_commands(run.commands)
    assert_commands(commands, test_data["commands"])
    if not commands:
        assert run.noop_description == test_data["noop_description"]


def _operations() -> list[str]:
    found = []
    for module_name in OPERATION_MODULES:
        module = import_module(f"operations.{module_name}")
        for name, value in vars(module).items():
            if callable(value) and hasattr(value, "_inner") and inspect.getmodule(value) is module:
                found.append(f"{module_name}.{name}")
    return sorted(found)


def test_every_operation_has_cases() -> None:
    operations = _operations()
    assert len(operations) >= 14, operations  # the probe finds operations
    missing = [op for op in operations if not sorted((CASES / op).glob("*.json"))]
    assert missing == []


def test_password_text_never_reaches_a_command() -> None:
    """A changed password travels as a SCRAM verifier inside an uploaded file, never as text."""
    test_data = json.loads((CASES / "postgres.roles" / "changed_password.json").read_text())
    run = run_case("postgres.roles", test_data)
    rendered = json.dumps(parse_commands(run.commands))
    for password in test_data["kwargs"]["passwords"].values():
        assert password not in rendered
    assert "PASSWORD 'SCRAM-SHA-256$4096:" in rendered
