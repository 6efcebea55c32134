"""The errors of the test-host tooling."""

from __future__ import annotations


class TestHostError(RuntimeError):
    """Test hosts cannot be built, started or reached."""

    __test__ = False  # not a pytest test class, despite the name


class EngineUnavailable(TestHostError):
    """The Docker engine does not answer."""
