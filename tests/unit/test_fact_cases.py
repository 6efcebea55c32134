"""Every fact in pyinfra's own style: arguments and raw output in, fact data out.

One folder per fact, `tests/unit/facts/facts.<Fact>/`, one JSON case per file, run by
`pyinfra_testing.facts.make_fact_tests`.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from pyinfra.api import FactBase
from pyinfra_testing.facts import make_fact_tests

from operations import facts

# pyinfra-testing 0.2.1 reads each case with `test_file.open().read()` and never closes it.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:unclosed file <_io.TextIOWrapper name='[^']*/tests/unit/facts/:ResourceWarning"
)

CASES = Path(__file__).parent / "facts"

for _folder in sorted(CASES.iterdir()):
    _fact_path = _folder.name.removeprefix("facts.")
    globals()[f"Test{_fact_path}"] = make_fact_tests("operations", f"facts.{_fact_path}", _folder)


def _facts() -> list[str]:
    return sorted(
        name
        for name, value in vars(facts).items()
        if inspect.isclass(value)
        and issubclass(value, FactBase)
        and value.__module__ == facts.__name__
        and not inspect.isabstract(value)
        and name != "JsonFact"
    )


def test_every_fact_has_cases() -> None:
    names = _facts()
    assert len(names) >= 9, names  # the probe finds the facts
    missing = [name for name in names if not sorted((CASES / f"facts.{name}").glob("*.json"))]
    assert missing == []
