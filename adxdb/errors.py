"""One error family: everything the tool refuses is an `AdxError` holding one line per problem.

Each line names where the problem is (a dotted inventory path, a migration file and target, a
tenant) and what to do about it. Callers print `problems` one per line; `str()` gives them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class AdxError(Exception):
    """A refusal with one line per problem."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class InventoryError(AdxError):
    """An inventory that cannot be deployed, found before any host is touched."""

    def __init__(self, source: Path, problems: str | Iterable[str]) -> None:
        super().__init__(problems)
        self.source = source
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        self.args = (f"invalid inventory {source}:\n{lines}",)


class MigrationError(AdxError):
    """Migrations that cannot be planned: drift, a missing file, a badly named file."""


class MoveRefused(AdxError):
    """A tenant move the deploy does not do on its own (each line says what to do instead)."""

    def __str__(self) -> str:
        return "; ".join(self.problems)


class ModelProblems(ValueError):
    """Cross-object problems found by the model's validators, each a (dotted path, message)
    pair; a ValueError so that pydantic reports it as a validation error."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems
