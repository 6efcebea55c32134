"""pyinfra inventory for the `staging` environment: the hosts and model of `staging.yml` beside it."""

from pathlib import Path

from operations.inventory import groups

globals().update(groups(Path(__file__).with_suffix(".yml")))
