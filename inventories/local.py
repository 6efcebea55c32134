"""pyinfra inventory of the `local` environment, read from `local.yml` beside it."""

from pathlib import Path

from operations.inventory import groups

globals().update(groups(Path(__file__).with_suffix(".yml")))
