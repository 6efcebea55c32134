"""A restore drill on the repository's host (DESIGN.md decision 7), run by
`adxdb restore-drill INVENTORY [--cluster NAME] [--at TIME]`, which limits pyinfra to that host
and passes what it asks for as `--data adx_drill={"stanzas": [...], "at": ...}` (every
stanza, to the end of the archive, when run alone): the verification SQL of each database,
then one drill per stanza, its progress shown as it runs.
"""

from __future__ import annotations

from pyinfra import host, state

from adxdb.plan.drill import DRILL_DIR, DrillRequest, drill_plan
from adxdb.plan.host import managed_paths
from operations import backups, config_files
from operations.inventory import loaded

state.print_output = True  # the drill's progress lines, as they come
inventory = loaded(host.data.adx_inventory)
plan = drill_plan(inventory, host.data.adx_host, DrillRequest.from_data(host.data.get("adx_drill")))

paths = managed_paths(plan.files)
for item in plan.files:
    config_files.converge(item, paths)
for drill in plan.drills:
    backups.restore_drill(
        name=f"Restore drill of stanza {drill.stanza} (target {drill.target})",
        stanza=drill.stanza,
        target=drill.target,
        target_epoch=drill.target_epoch,
        databases=list(drill.databases),
        repo_path=drill.repo_path,
        version=drill.version,
        drill_dir=DRILL_DIR,
    )
