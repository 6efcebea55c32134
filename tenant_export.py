"""A tenant's export, run by `adxdb tenant-export INVENTORY SLUG [--at TIME] --out DIR`, which
limits pyinfra to the host the export reads from and passes what it asks for as
`--data adx_export={"slug": ..., "at": ..., "local_tar": ...}`: the export on that host (the
tenant's own, or for a point in time the repository's host, from a scratch restore), the
archive fetched to the control machine, the host's copy removed.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.operations import files

from adxdb.plan.tenant_export import EXPORT_DIR, export_source, export_sql, tenant_location
from operations import tenant_data
from operations.inventory import loaded

inventory = loaded(host.data.adx_inventory)
request = host.data.get("adx_export") or {}
location = tenant_location(inventory.env, str(request.get("slug")))
source = export_source(inventory.env, location, request.get("at"))

if source.host == host.data.adx_host:
    outdir = f"{EXPORT_DIR}/{location.slug}"
    tenant_data.export_tenant(
        name=f"Export tenant {location.slug} ({location.isolation}: {location.database}."
        f"{location.schema}, {source.point_in_time or 'now'})",
        slug=location.slug,
        tenant_id=location.tenant_id,
        isolation=location.isolation,
        database=location.database,
        schema=location.schema,
        outdir=outdir,
        socket_dir=source.socket_dir,
        port=source.port,
        export_sql=export_sql(),
        scratch=source.scratch,
    )
    files.get(
        name=f"Fetch the export of {location.slug}",
        src=f"{outdir}.tar",
        dest=str(request["local_tar"]),
        force=True,
    )
    files.file(
        name=f"Remove the host's copy of the export of {location.slug}",
        path=f"{outdir}.tar",
        present=False,
    )
