"""Where each migration stream goes (DESIGN.md decision 4), derived from the model."""

from __future__ import annotations

from adxdb.migrations import Target
from adxdb.model import MAIN_DATABASE, Environment


def migration_targets(env: Environment, host_name: str) -> dict[str, list[Target]]:
    """Database -> its targets on `host_name`. The primary's main database gets both streams in
    `public`; replicas get nothing (they follow their primary)."""
    host = env.hosts[host_name]
    if "replica" in host.groups:
        return {}
    targets: dict[str, list[Target]] = {}
    if "primary" in host.groups:
        targets[MAIN_DATABASE] = [Target(MAIN_DATABASE, "public", ("shared", "tenant"))]
    return targets
