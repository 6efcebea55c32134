"""A switchover of a cluster Patroni runs (DESIGN.md decision 8), run by
`adxdb switchover INVENTORY --cluster NAME [--to HOST]`, which limits pyinfra to one member
that answers and passes `--data adx_switchover={"to": HOST or null}`.
"""

from __future__ import annotations

from pyinfra import host

from adxdb.plan.host import RunInfo, host_plan
from operations import ha
from operations.inventory import loaded

plan = host_plan(loaded(host.data.adx_inventory), host.data.adx_host, RunInfo.now())
request = host.data.get("adx_switchover") or {}
if plan.ha is not None:
    ha.switchover(
        name=f"Switchover of cluster {plan.ha.cluster}",
        config_file=plan.ha.config_file,
        port=plan.port,
        to=request.get("to"),
        synchronous_mode=bool(plan.ha.dynamic_config["synchronous_mode"]),
    )
