"""The `clean` job: remove test data from an environment's main database (`adxdb clean`).

`pyinfra inventories/<env>.py clean.py` runs on the primary only; the next deploy of an
environment with `seed: test` loads the test fixtures again.
"""

from __future__ import annotations

from pyinfra import host

from adxdb import sqlfiles
from adxdb.inventory import Inventory
from adxdb.model import MAIN_DATABASE
from operations import migrations

inventory: Inventory = host.data.adx_inventory
env = inventory.env
if "primary" in env.hosts[host.data.adx_host].groups:
    migrations.test_data(
        name=f"Test data removed from {MAIN_DATABASE}",
        database=MAIN_DATABASE,
        clean_text=sqlfiles.load("seeds/clean_test"),
        port=env.postgres.port,
    )
