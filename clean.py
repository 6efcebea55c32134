"""The `clean` job: remove test data from an environment's main database (`adxdb clean`).

`pyinfra inventories/<env>.py clean.py` runs on the primary only; the next deploy of an
environment with `seed: test` loads the test fixtures again.
"""

from __future__ import annotations

from pyinfra import host

from adxdb.plan.host import RunInfo, host_plan
from adxdb.plan.seeds import clean_test_text
from operations import migrations
from operations.inventory import loaded

plan = host_plan(loaded(host.data.adx_inventory), host.data.adx_host, RunInfo.now())
if plan.registry is not None:  # the primary, where adx_core and its test data live
    migrations.test_data(
        name=f"Test data removed from {plan.main_database}",
        database=plan.main_database,
        clean_text=clean_test_text(),
        port=plan.port,
    )
