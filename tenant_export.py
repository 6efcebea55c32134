"""A tenant's export, run by `adxdb tenant-export INVENTORY SLUG --out DIR`, which limits
pyinfra to the host holding the tenant's data and passes what it asks for as
`--data adx_export={"slug": ..., "local_tar": ...}`: the export on the host, the archive
fetched to the control machine, the host's copy removed.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.operations import files

from adxdb.plan.backups import SOCKET_DIR
from adxdb.plan.host import RunInfo, host_plan
from adxdb.plan.tenant_export import EXPORT_DIR, export_sql, tenant_location
from operations import tenant_data
from operations.inventory import loaded

inventory = loaded(host.data.adx_inventory)
request = host.data.get("adx_export") or {}
location = tenant_location(inventory.env, str(request.get("slug")))
plan = host_plan(inventory, host.data.adx_host, RunInfo.now())

if location.host == host.data.adx_host:
    outdir = f"{EXPORT_DIR}/{location.slug}"
    tenant_data.export_tenant(
        name=f"Export tenant {location.slug} ({location.isolation}: {location.database}."
        f"{location.schema})",
        slug=location.slug,
        tenant_id=location.tenant_id,
        isolation=location.isolation,
        database=location.database,
        schema=location.schema,
        outdir=outdir,
        socket_dir=SOCKET_DIR,
        port=plan.port,
        export_sql=export_sql(),
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
