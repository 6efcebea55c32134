"""operations/pgfacts.py in pyinfra's own style: command and raw output in, fact data out.

One folder per fact under `facts/`, one JSON case per file, run by
`pyinfra_testing.facts.make_fact_tests`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyinfra_testing.facts import make_fact_tests

# pyinfra-testing 0.2.1 reads each case with `test_file.open().read()` and never closes it.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:unclosed file <_io.TextIOWrapper name='[^']*/tests/unit/facts/:ResourceWarning"
)

CASES = Path(__file__).parent / "facts"


def _cases(fact_name: str) -> Path:
    return CASES / f"pgfacts.{fact_name}"


TestPgClusters = make_fact_tests("operations", "pgfacts.PgClusters", _cases("PgClusters"))
TestPgRoles = make_fact_tests("operations", "pgfacts.PgRoles", _cases("PgRoles"))
TestPgDatabases = make_fact_tests("operations", "pgfacts.PgDatabases", _cases("PgDatabases"))
TestPgServerState = make_fact_tests("operations", "pgfacts.PgServerState", _cases("PgServerState"))
