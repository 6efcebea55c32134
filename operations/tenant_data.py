"""A tenant's data carried off a host and back (DESIGN.md decision 7): the export of one
tenant's rows at its location, and the import of an export into its declared location.
Rendering, the manifest and the checks: `adxdb.plan.tenant_export`."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pyinfra.api import StringCommand, operation

from operations.backups import check_restorable, scratch_restore
from operations.scripts import inline_script


@operation(is_idempotent=False)
def export_tenant(
    slug: str,
    tenant_id: str,
    isolation: str,
    database: str,
    schema: str,
    outdir: str,
    socket_dir: str,
    port: int,
    export_sql: str,
    scratch: dict[str, Any] | None = None,
) -> Generator[Any, None, None]:
    """
    Export one tenant's rows from its database on this host into `outdir`.tar
    (`operations/files/tenant_export.sh`), in one snapshot.

    + slug, tenant_id, isolation: the tenant
    + database, schema: where its tables are
    + outdir: the folder the export is made in (packed as `outdir`.tar, the folder removed)
    + socket_dir, port: the server to read (the cluster's, or a scratch restore's)
    + export_sql: `sql/export/tenant.sql`
    + scratch: for a point in time, on the repository's host: the restore of the tenant's
      stanza to read from (stanza, target, target_epoch, repo_path, version, drill_dir),
      kept for the export, then removed

    **Example:**

    .. code:: python

        export_tenant(name="Export acme", slug="acme", tenant_id="3f1c...", isolation="rls",
                      database="adx_core", schema="public", outdir="/var/lib/adx-export/acme",
                      socket_dir="/var/run/postgresql", port=5432, export_sql="...")
    """
    if scratch is not None:
        check_restorable(scratch["stanza"], scratch["target"], scratch["target_epoch"])
        restore = (
            scratch["stanza"], scratch["target"], scratch["repo_path"], scratch["version"],
            scratch["drill_dir"],
        )  # fmt: skip
        yield scratch_restore(True, *restore)
    export = inline_script(
        "tenant_export.sh", export_sql, outdir, socket_dir, str(int(port)), database,
        isolation, schema, tenant_id, slug,
    )  # fmt: skip
    if scratch is None:
        yield export
        return
    # The scratch instance goes whether the export worked or not; the export's status stays.
    yield StringCommand(
        export, ";", "status=$?", ";", scratch_restore(False, *restore), "||", "status=1", ";",
        "exit", "$status",
    )  # fmt: skip


@operation(is_idempotent=False)
def import_tenant(slug: str, workdir: str, database: str, port: int) -> Generator[Any, None, None]:
    """
    Load an uploaded export (`workdir`/export.tar) with its rendered psql script
    (`workdir`/import.psql) into the tenant's database on this host; the folder is removed.

    + slug: the tenant
    + workdir: the folder holding export.tar and import.psql
    + database, port: the tenant's database and the cluster's port

    **Example:**

    .. code:: python

        import_tenant(name="Import acme", slug="acme", workdir="/var/lib/adx-import/acme",
                      database="adx_core", port=5432)
    """
    yield inline_script("tenant_import.sh", workdir, str(int(port)), database, slug)
