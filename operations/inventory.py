"""Turn an environment YAML into pyinfra's inventory shape, or stop with its problems listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyinfra.api.exceptions import InventoryError as PyinfraInventoryError

from adxdb.inventory import InventoryError, load_inventory, pyinfra_groups


def groups(yml: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """pyinfra groups for the environment in `yml`; every inventory problem stops the run here."""
    try:
        return pyinfra_groups(load_inventory(yml))
    except InventoryError as error:
        raise PyinfraInventoryError(str(error)) from None
