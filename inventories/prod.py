"""pyinfra inventory of the `prod` environment, read from `prod.yml` beside it."""

from pathlib import Path

from operations.inventory import groups

globals().update(groups(Path(__file__).with_suffix(".yml")))
