"""The one fake-host harness of the unit tests: run an operation against given facts, in
pyinfra's own style (facts in, commands out), with randomness pinned.

`run_operation(op, facts, **kwargs)` runs the operation's generator on a `pyinfra_testing` fake
host holding `facts` (keyed `"<module>.<Fact>"` -> `"<arg=value, ...>"` -> value, as in the
JSON cases) and returns the commands and the host (for `noop_description`). SCRAM salts and
the per-run tokens of uploaded file names are fixed, so cases can be frozen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from typing import Any
from unittest import mock

from pyinfra.api import FileUploadCommand
from pyinfra.context import ctx_host, ctx_state
from pyinfra_testing.util import FakeState, create_host

# SCRAM salts are random; the frozen verifiers in the cases were made with this one.
FIXED_SALT = b"adx-unit-salt-16"
# Per-run tokens (`secrets.token_hex`) name uploaded files; fixed so commands can be frozen.
FIXED_TOKEN = "0a1b2c3d"


@dataclass
class OperationRun:
    commands: list[Any]
    host: Any

    @property
    def noop_description(self) -> str | None:
        return getattr(self.host, "noop_description", None)

    def uploads(self) -> dict[str, str]:
        """Destination -> text of every file the operation uploads."""
        found: dict[str, str] = {}
        for command in self.commands:
            if isinstance(command, FileUploadCommand) and isinstance(command.src, StringIO):
                found[str(command.dest)] = command.src.getvalue()
        return found

    def upload(self) -> str:
        """The text of the only (or first) uploaded file."""
        uploads = self.uploads()
        assert uploads, "the operation uploaded nothing"
        return next(iter(uploads.values()))


@contextmanager
def fake_host(
    facts: dict[str, Any] | None = None, data: dict[str, Any] | None = None
) -> Iterator[Any]:
    """A fake pyinfra host holding `facts` (and host `data`), current for the block,
    randomness pinned."""
    state = FakeState()
    host = create_host(state, facts=facts or {}, data=data or {})
    with (
        ctx_state.use(state),
        ctx_host.use(host),
        mock.patch("adxdb.plan.scram._salt", return_value=FIXED_SALT),
        mock.patch("secrets.token_hex", return_value=FIXED_TOKEN),
    ):
        yield host


def run_operation(
    op: Any,
    facts: dict[str, Any] | None = None,
    host_data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> OperationRun:
    """Run `op` (a pyinfra `@operation`) with `kwargs` on a fake host holding `facts`."""
    with fake_host(facts, host_data) as host:
        commands = list(op._inner(**kwargs))
    return OperationRun(commands, host)
