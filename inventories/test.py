"""pyinfra inventory of the `test` environment, read from `test.yml` beside it."""

from pathlib import Path

from operations.inventory import groups

globals().update(groups(Path(__file__).with_suffix(".yml")))
