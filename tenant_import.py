"""A tenant's import, run by `adxdb tenant-import INVENTORY SLUG --from DIR`, which limits
pyinfra to the host of the tenant's declared location and passes
`--data adx_import={"slug": ..., "local_tar": ..., "local_script": ...}`: the export's data and
the psql script rendered from its manifest uploaded, then loaded and checked in one
transaction.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.operations import files

from adxdb.plan.host import RunInfo, host_plan
from adxdb.plan.tenant_export import IMPORT_DIR, tenant_location
from operations import tenant_data
from operations.inventory import loaded

inventory = loaded(host.data.adx_inventory)
request = host.data.get("adx_import") or {}
location = tenant_location(inventory.env, str(request.get("slug")))
plan = host_plan(inventory, host.data.adx_host, RunInfo.now())

if location.host == host.data.adx_host:
    workdir = f"{IMPORT_DIR}/{location.slug}"
    for local, remote in (
        (request["local_tar"], "export.tar"),
        (request["local_script"], "import.psql"),
    ):
        files.put(
            name=f"Upload {remote} of {location.slug}",
            src=str(local),
            dest=f"{workdir}/{remote}",
            mode="0600",
            create_remote_dir=True,
        )
    tenant_data.import_tenant(
        name=f"Import tenant {location.slug} into {location.database}.{location.schema}",
        slug=location.slug,
        workdir=workdir,
        database=location.database,
        port=plan.port,
    )
