"""Converge one host of an ADX environment: `pyinfra inventories/<env>.py deploy.py`.

Order (DESIGN.md): packages -> cluster -> TLS -> config + pg_hba (+ pgBackRest configuration)
-> service -> pgBackRest stanza and schedule -> roles -> databases
-> tenant schemas -> migrations -> tenant moves -> tenants registry -> seed data.
The model comes from the inventory (host.data.adx_inventory); this file holds no logic.
"""

from __future__ import annotations

import getpass
import socket
import time
from io import StringIO

from pyinfra import host
from pyinfra.operations import files

from adxdb import backups as pgbackrest
from adxdb import migrations as engine
from adxdb.inventory import Inventory
from adxdb.model import MAIN_DATABASE
from adxdb.moves import tenant_stream_tables
from adxdb.pgconf import ClusterPaths, render_conf, render_hba
from adxdb.seeds import seed_text
from adxdb.targets import migration_targets
from adxdb.tenants import (
    databases_for_host,
    dropped_tenants,
    registry_rows,
    roles_for_host,
    schemas_for_host,
    tenant_database,
    tenant_schema,
)
from operations import backups as backup_ops
from operations import migrations, postgres, tenants

BACKUP_PACKAGES = ["pgbackrest", "cron"]

inventory: Inventory = host.data.adx_inventory
host_name: str = host.data.adx_host
env = inventory.env
version, cluster_name, port = env.postgres.version, env.postgres.cluster, env.postgres.port
paths = ClusterPaths(version, cluster_name)
tls = inventory.tls[host_name]
is_primary = "primary" in env.hosts[host_name].groups

files.put(
    name="Debian packages create no default cluster",
    src=StringIO(
        "# Managed by adxdb: the deploy creates its clusters itself.\ncreate_main_cluster = false\n"
    ),
    dest=postgres.CREATECLUSTER_CONF,
    create_remote_dir=True,
)
backups = env.backups
postgres.packages(
    name=f"PostgreSQL {version} packages",
    packages=postgres.server_packages(version) + (BACKUP_PACKAGES if backups.enabled else []),
)
postgres.cluster(
    name=f"Cluster {version}/{cluster_name}", version=version, cluster=cluster_name, port=port
)

files.directory(
    name="TLS directory", path=paths.tls_dir, user="postgres", group="postgres", mode="700"
)
for file_name, content, mode in (
    ("ca.crt", tls.ca_pem, "644"),
    ("server.crt", tls.cert_pem, "644"),
    ("server.key", tls.key_pem, "600"),
):
    files.put(
        name=f"TLS {file_name}",
        src=StringIO(content),
        dest=f"{paths.tls_dir}/{file_name}",
        user="postgres",
        group="postgres",
        mode=mode,
    )

files.put(
    name="Managed settings (conf.d)",
    src=StringIO(render_conf(env, paths)),
    dest=paths.conf_d_file,
    user="postgres",
    group="postgres",
    mode="644",
)
files.put(
    name="pg_hba.conf",
    src=StringIO(render_hba(env)),
    dest=paths.hba_file,
    user="postgres",
    group="postgres",
    mode="640",
)

if backups.enabled:
    for directory, mode in ((backups.repo_path, "750"), (pgbackrest.LOG_DIR, "770")):
        files.directory(
            name=f"pgBackRest {directory}",
            path=directory,
            user="postgres",
            group="postgres",
            mode=mode,
        )
    files.put(
        name="pgBackRest configuration",
        src=StringIO(pgbackrest.render_config(backups, paths, port)),
        dest=pgbackrest.CONFIG_FILE,
        user="root",
        group="postgres",
        mode="640",
        create_remote_dir=True,
    )

postgres.server(
    name=f"Server {version}/{cluster_name} running",
    version=version,
    cluster=cluster_name,
    port=port,
)
postgres.pending_restart(
    name=f"Server {version}/{cluster_name} restart when needed",
    version=version,
    cluster=cluster_name,
    port=port,
    policy=env.restart_policy(host_name),
)

if backups.enabled:
    backup_ops.stanza(name=f"pgBackRest stanza {backups.stanza}", stanza=backups.stanza, port=port)
    files.put(
        name="pgBackRest schedule",
        src=StringIO(pgbackrest.render_schedule(backups)),
        dest=pgbackrest.SCHEDULE_FILE,
        user="root",
        group="root",
        mode="644",
    )

if "replica" not in env.hosts[host_name].groups:
    postgres.roles(
        name="ADX roles",
        roles=roles_for_host(env, host_name),
        passwords=inventory.passwords,
        port=port,
    )
host_databases = databases_for_host(env, host_name)
if host_databases:
    postgres.databases(name="ADX databases", databases=host_databases, port=port)
host_schemas = schemas_for_host(env, host_name)
if host_schemas:
    tenants.schemas(name="Tenant schemas", schemas=host_schemas, port=port)

applied_by = f"{getpass.getuser()}@{socket.gethostname()}"
migration_files = engine.discover(inventory.migrations_dir())
timeouts = engine.Timeouts(env.migrations.lock_timeout, env.migrations.statement_timeout)
host_targets = migration_targets(env, host_name)
if host_targets:
    migrations.migrations(
        name="Migrations",
        targets=host_targets,
        files=migration_files,
        owner="adx_owner",
        readers=["adx_migrator", "adx_monitor"],
        timeouts=timeouts,
        applied_by=applied_by,
        port=port,
    )
if is_primary and env.tenants:
    tenants.tenant_moves(
        name="Tenant moves (copy, verify, switch the registry)",
        rows=registry_rows(env),
        tenant_tables=sorted(tenant_stream_tables(migration_files)),
        stream_versions=[(m.stream, m.version) for m in migration_files],
        primary_address=env.hosts[host_name].address,
        port=port,
        ca_file=f"{paths.tls_dir}/ca.crt",
        mover="adx_migrator",
        mover_password=inventory.passwords["adx_migrator"],
        lock_timeout=env.migrations.lock_timeout,
    )
dropped = dropped_tenants(env, host_name)
if dropped:
    tenants.dropped_tenant_data(
        name="Dropped tenants (final dump, then drop)",
        schemas=[tenant_schema(t.slug) for t in dropped if t.isolation == "schema"],
        databases=[tenant_database(t.slug) for t in dropped if t.isolation == "database"],
        stamp=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        port=port,
    )
if is_primary:
    tenants.tenant_registry(name="Tenants registry", rows=registry_rows(env), port=port)
if is_primary and env.seed is not None:
    migrations.seed(
        name=f"Seed data ({env.seed})",
        database=MAIN_DATABASE,
        seed_name=env.seed,
        text=seed_text(env.seed),
        applied_by=applied_by,
        port=port,
    )
