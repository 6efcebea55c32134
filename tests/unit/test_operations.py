"""operations/postgres.py in pyinfra's own style: facts in, exact commands out.

One folder per operation under `operations/`, one JSON case per file. Operations whose
arguments are plain JSON run through `pyinfra_testing.make_operation_tests`. `roles` and
`databases` take pydantic models and `SecretStr` passwords, which its JSON arguments cannot
express, so `test_model_operation` reads the same case format and validates each keyword
argument against the operation's own annotation first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints
from unittest import mock

import pytest
from pydantic import TypeAdapter
from pyinfra.context import ctx_host, ctx_state
from pyinfra_testing.operations import assert_commands, make_operation_tests, parse_commands
from pyinfra_testing.util import FakeState, create_host

from operations import postgres

# pyinfra-testing 0.2.1 reads each case with `test_file.open().read()` and never closes it.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:unclosed file <_io.TextIOWrapper name='[^']*/tests/unit/operations/:ResourceWarning"
)

CASES = Path(__file__).parent / "operations"
# SCRAM salts are random; the frozen verifiers in the role cases were made with this one.
FIXED_SALT = b"adx-unit-salt-16"


def _cases(op_name: str) -> Path:
    return CASES / f"postgres.{op_name}"


TestPackages = make_operation_tests("operations", "postgres.packages", _cases("packages"))
TestCluster = make_operation_tests("operations", "postgres.cluster", _cases("cluster"))
TestServer = make_operation_tests("operations", "postgres.server", _cases("server"))
TestPendingRestart = make_operation_tests(
    "operations", "postgres.pending_restart", _cases("pending_restart")
)

MODEL_OPERATIONS = ("roles", "databases")


def _model_cases() -> Iterator[Any]:
    for op_name in MODEL_OPERATIONS:
        for case in sorted(_cases(op_name).glob("*.json")):
            yield pytest.param(op_name, case, id=f"{op_name}/{case.stem}")


def _run(op_name: str, test_data: dict[str, Any]) -> tuple[list[Any], Any]:
    """Run the operation on a fake host holding the case's facts; return (commands, host)."""
    op = getattr(postgres, op_name)
    hints = get_type_hints(op._inner)
    kwargs = {
        key: TypeAdapter(hints[key]).validate_python(value)
        for key, value in test_data["kwargs"].items()
    }
    state = FakeState()
    host = create_host(state, facts=test_data.get("facts", {}))
    with (
        ctx_state.use(state),
        ctx_host.use(host),
        mock.patch("adxdb.scram._salt", return_value=FIXED_SALT),
    ):
        return list(op._inner(**kwargs)), host


@pytest.mark.parametrize(("op_name", "case"), list(_model_cases()))
def test_model_operation(op_name: str, case: Path) -> None:
    test_data = json.loads(case.read_text(encoding="utf-8"))
    expected_exception = test_data.get("exception")
    if expected_exception is not None:
        with pytest.raises(Exception) as raised:
            _run(op_name, test_data)
        assert type(raised.value).__name__ == expected_exception["name"]
        assert raised.value.args[0] == expected_exception["message"]
        return
    output, host = _run(op_name, test_data)
    commands = parse_commands(output)
    assert_commands(commands, test_data["commands"])
    if not commands:
        assert host.noop_description == test_data["noop_description"]


def test_every_model_operation_has_cases() -> None:
    for op_name in MODEL_OPERATIONS:
        assert sorted(_cases(op_name).glob("*.json")), f"no cases for postgres.{op_name}"


def test_password_text_never_reaches_a_command() -> None:
    """A changed password travels as a SCRAM verifier inside an uploaded file, never as text."""
    test_data = json.loads(_cases("roles").joinpath("changed_password.json").read_text())
    output, _host = _run("roles", test_data)
    rendered = json.dumps(parse_commands(output))
    for password in test_data["kwargs"]["passwords"].values():
        assert password not in rendered
    assert "PASSWORD 'SCRAM-SHA-256$4096:" in rendered
