"""pyinfra inventory for the `prod` environment: the hosts and model of `prod.yml` beside it."""

from pathlib import Path

from operations.inventory import groups

globals().update(groups(Path(__file__).with_suffix(".yml")))
