"""Converge one host of an ADX environment: `pyinfra inventories/<env>.py deploy.py`.

The host's plan (`adxdb.plan.host`) is computed once from the loaded inventory; this file only
calls the operations, in the order of DESIGN.md: packages -> cluster -> TLS -> config + pg_hba
(+ pgBackRest configuration and TLS server) -> service -> pgBackRest stanza, backups on the
backup host, schedule -> roles ->
databases -> tenant schemas -> migrations -> tenant moves -> dropped tenants -> tenants
registry -> seed data.
"""

from __future__ import annotations

from pyinfra import host

from adxdb.plan.host import RunInfo, host_plan
from operations import (
    backups,
    call_sites,
    config_files,
    fact_memo,
    ha,
    leftovers,
    migrations,
    moves,
    postgres,
    tenants,
)
from operations.first_reads import first_reads
from operations.inventory import loaded

call_sites.without_source_context()
plan = host_plan(loaded(host.data.adx_inventory), host.data.adx_host, RunInfo.now())
server = f"{plan.version}/{plan.cluster}"
paths = plan.managed_paths()  # their state: one read for the run
if plan.runs_postgres:  # the server's catalog: one read for the run, until something changes
    fact_memo.catalog_scope(plan.port, [*plan.migration_targets, *plan.schemas])
# What the operations below read first, in one command with the catalog: a no-op deploy
# asks each host once, whatever it holds.
fact_memo.prefetch(first_reads(plan, paths))

if plan.staging is not None:
    config_files.converge(plan.staging, paths)  # before anything is uploaded
leftovers.removed(
    name="Leftovers of killed deploys",
    staging_dir=plan.staging.path if plan.staging is not None else None,
)
config_files.converge(plan.createcluster, paths)
postgres.packages(name=f"PostgreSQL {plan.version} packages", packages=list(plan.packages))
if plan.runs_postgres:
    postgres.cluster(
        name=f"Cluster {server}", version=plan.version, cluster=plan.cluster, port=plan.port
    )
for item in plan.config:
    config_files.converge(item, paths)
config_files.removed(plan.removed_files, paths)
for item in plan.backup_files:
    config_files.converge(item, paths)
if plan.backup is not None and plan.backup.server:
    backups.tls_server(
        name="pgBackRest TLS server",
        port=plan.backup.tls_port,
        files=list(plan.backup.server_files),
    )
if plan.ha is not None:
    for item in plan.etcd_files:
        config_files.converge(item, paths)
    if plan.ha.etcd_member:
        ha.etcd_member(
            name="etcd member",
            endpoint=plan.ha.etcd_endpoint,
            files=[i.dest for i in plan.etcd_files if isinstance(i, config_files.ManagedFile)],
        )
    for item in plan.patroni_files:
        config_files.converge(item, paths)
    ha.patroni_member(
        name=f"Patroni runs {server}",
        version=plan.version,
        cluster=plan.cluster,
        port=plan.port,
        config_file=plan.ha.config_file,
        unit=plan.ha.unit,
        data_dir=plan.ha.data_dir,
        etcd_endpoints=list(plan.ha.etcd_endpoints),
        initialize_key=plan.ha.initialize_key,
        rest_url=plan.ha.rest_url,
        first_member=plan.ha.first_member,
        members=list(plan.ha.members),
        files=[i.dest for i in plan.patroni_files if isinstance(i, config_files.ManagedFile)],
    )
    ha.dynamic_config(
        name="Patroni dynamic configuration (settings, pg_hba)",
        rest_url=plan.ha.rest_url,
        ca_file=plan.ha.ca_file,
        config_file=plan.ha.config_file,
        wanted=plan.ha.dynamic_config,
        port=plan.port,
    )
elif plan.runs_postgres:
    postgres.server(
        name=f"Server {server} running", version=plan.version, cluster=plan.cluster, port=plan.port
    )
    postgres.pending_restart(
        name=f"Server {server} restart when needed",
        version=plan.version,
        cluster=plan.cluster,
        port=plan.port,
        policy=plan.restart_policy,
        settings=plan.settings,
        conf_file=plan.conf_file,
    )
if plan.backup is not None and plan.backup.stanza is not None:
    backups.stanza(
        name="pgBackRest stanza of the cluster (create, check)",
        stanza=plan.backup.stanza,
        port=plan.port,
        local_repository=plan.backup.local_repository,
        max_age=plan.backup.max_age,
        max_age_seconds=plan.backup.max_age_seconds,
        leader_only=plan.leader_only,
    )
if plan.backup is not None and plan.backup.server:
    # On every host (a no-op on the database hosts): pyinfra orders the operations by each
    # host's sequence, so the backup host's backups come after every stanza is made.
    backups.repository(
        name="Backups of every stanza (first full backup, freshness)",
        stanzas=list(plan.backup.repository_stanzas),
        max_age=plan.backup.max_age,
        max_age_seconds=plan.backup.max_age_seconds,
        drill_max_age=plan.backup.drill_max_age,
        repo_path=plan.backup.repo_path,
    )
if plan.backup_schedule is not None:
    config_files.converge(plan.backup_schedule, paths)
if plan.roles:
    postgres.roles(
        name="ADX roles",
        roles=plan.roles,
        passwords=plan.passwords,
        salt_key=plan.salt_key,
        port=plan.port,
        retired=list(plan.retired_roles),
        registry_bound=plan.registry_bound_roles,
        leader_only=plan.leader_only,
    )
if plan.ha is not None:
    ha.rewind_grants(name="pg_rewind grants of adx_replication", port=plan.port)
if plan.databases:
    postgres.databases(
        name="ADX databases",
        databases=plan.databases,
        port=plan.port,
        registry_bound=plan.registry_bound_roles,
        role_settings=plan.database_role_settings,
        leader_only=plan.leader_only,
    )
if plan.schemas:
    tenants.schemas(
        name="Tenant schemas",
        schemas=plan.schemas,
        port=plan.port,
        leader_only=plan.leader_only,
    )
if plan.migration_targets:
    migrations.migrations(
        name="Migrations",
        targets=plan.migration_targets,
        files=plan.migration_files,
        owner=plan.owner,
        readers=list(plan.ledger_readers),
        timeouts=plan.timeouts,
        applied_by=plan.applied_by,
        port=plan.port,
        leader_only=plan.leader_only,
    )
if plan.moves is not None:
    moves.tenant_moves(
        name="Tenant moves (copy, verify, switch the registry)",
        rows=plan.moves.rows,
        stream_versions=plan.moves.stream_versions,
        primary_address=plan.moves.primary_address,
        port=plan.port,
        ca_file=plan.moves.ca_file,
        mover=plan.moves.mover,
        mover_password=plan.moves.mover_password,
        lock_timeout=plan.moves.lock_timeout,
        settings=plan.moves.settings,
        hosts=plan.moves.hosts,
        leader_only=plan.leader_only,
    )
if plan.dropped_schemas or plan.dropped_databases:
    tenants.dropped_tenant_data(
        name="Dropped tenants (final dump, then drop)",
        schemas=plan.dropped_schemas,
        databases=plan.dropped_databases,
        stamp=plan.dump_stamp,
        port=plan.port,
        lock_timeout=plan.timeouts.lock_timeout,
        leader_only=plan.leader_only,
    )
if plan.registry is not None:
    tenants.tenant_registry(
        name="Tenants registry",
        rows=plan.registry,
        port=plan.port,
        lock_timeout=plan.timeouts.lock_timeout,
        leader_only=plan.leader_only,
    )
if plan.seed is not None:
    migrations.seed(
        name=f"Seed data ({plan.seed.name})",
        database=plan.seed.database,
        seed_name=plan.seed.name,
        text=plan.seed.text,
        applied_by=plan.applied_by,
        port=plan.port,
        leader_only=plan.leader_only,
    )
if plan.ha is not None:
    ha.member_ready(
        name="HA member serving (a new replica copied)",
        rest_url=plan.ha.rest_url,
        port=plan.port,
    )
    ha.no_local_overrides(
        name="No local override of the dynamic configuration (postgresql.auto.conf)",
        port=plan.port,
        names=sorted(plan.ha.dynamic_config["postgresql"]["parameters"]),
        member=plan.ha.member,
        rest_url=plan.ha.rest_url,
        config_file=plan.ha.config_file,
        scope=plan.ha.scope,
        policy=plan.restart_policy,
    )
    for title, role, after_leader in (
        ("the replicas", "replica", False),
        ("the leader", "leader", False),
        ("the replicas still waiting", "replica", True),
    ):
        ha.rolling_restart(
            name=f"Rolling restart: {title}",
            role=role,
            after_leader=after_leader,
            member=plan.ha.member,
            rest_url=plan.ha.rest_url,
            port=plan.port,
            config_file=plan.ha.config_file,
            scope=plan.ha.scope,
            policy=plan.restart_policy,
            synchronous_mode=bool(plan.ha.dynamic_config["synchronous_mode"]),
            _serial=role != "leader",
        )
    ha.member_ready(
        name="HA member serving (leader writable, replicas streaming)",
        rest_url=plan.ha.rest_url,
        port=plan.port,
    )
