"""Rebuild a lost cluster (DESIGN.md decision 7), run by
`adxdb restore INVENTORY --cluster NAME [--at TIME]`, which limits pyinfra to the cluster's
host and passes what it asks for as `--data adx_restore={"stanza": ..., "at": ...}`: the
host's packages and pgBackRest files, the restore (refused onto a host that holds the
cluster), the cluster's configuration files, then its start and promotion. The deploy then
converges the host as any other (roles, databases, migrations find everything in place).
"""

from __future__ import annotations

from pyinfra import host, state

from adxdb.plan.host import RunInfo, host_plan
from adxdb.plan.restore import RestoreRequest, restore_plan
from operations import backups, config_files, postgres
from operations.inventory import loaded

state.print_output = True  # the restore's progress lines, as they come
inventory = loaded(host.data.adx_inventory)
request = RestoreRequest.from_data(host.data.get("adx_restore"))
restore = restore_plan(inventory.env, host.data.adx_host, request)
plan = host_plan(inventory, host.data.adx_host, RunInfo.now())

if restore is not None:
    paths = plan.managed_paths()
    if plan.staging is not None:
        config_files.converge(plan.staging, paths)  # before anything is uploaded
    config_files.converge(plan.createcluster, paths)
    postgres.packages(name=f"PostgreSQL {plan.version} packages", packages=list(plan.packages))
    for item in plan.backup_files:
        config_files.converge(item, paths)
    backups.restore_cluster(
        name=f"Restore stanza {restore.stanza} (target {restore.target})",
        stanza=restore.stanza,
        target=restore.target,
        target_epoch=restore.target_epoch,
        version=restore.version,
        cluster=restore.cluster,
        port=restore.port,
    )
    for item in plan.config:
        config_files.converge(item, paths)
    backups.restored_cluster_started(
        name=f"Cluster {restore.version}/{restore.cluster} recovered and promoted",
        stanza=restore.stanza,
        version=restore.version,
        cluster=restore.cluster,
        port=restore.port,
    )
