"""pgBackRest files rendered from the model (DESIGN.md decision 7): the configuration of one
cluster's stanza and the backup schedule."""

from __future__ import annotations

from adxdb.inventory.model import Backups
from adxdb.plan.config import ClusterPaths

HEADER = "# Managed by adxdb from the environment inventory; local edits are overwritten.\n"
CONFIG_FILE = "/etc/pgbackrest/pgbackrest.conf"
SCHEDULE_FILE = "/etc/cron.d/adx-pgbackrest"
LOG_DIR = "/var/log/pgbackrest"


def render_config(backups: Backups, paths: ClusterPaths, port: int) -> str:
    """pgbackrest.conf: a local repository, full-backup retention, one stanza."""
    return (
        HEADER
        + "[global]\n"
        + f"repo1-path={backups.repo_path}\n"
        + f"repo1-retention-full={int(backups.retention_full)}\n"
        + "start-fast=y\n"
        + "compress-type=zst\n"
        + "log-level-console=warn\n"
        + "log-level-file=info\n"
        + f"log-path={LOG_DIR}\n"
        + "\n"
        + f"[{backups.stanza}]\n"
        + f"pg1-path=/var/lib/postgresql/{paths.version}/{paths.cluster}\n"
        + f"pg1-port={int(port)}\n"
        + "pg1-socket-path=/var/run/postgresql\n"
    )


def render_schedule(backups: Backups) -> str:
    """The cron file: full backups and differential ones in between, as postgres."""
    command = f"pgbackrest --stanza={backups.stanza}"
    return (
        HEADER
        + "SHELL=/bin/sh\n"
        + "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
        + f"{backups.full_schedule} postgres {command} --type=full backup\n"
        + f"{backups.diff_schedule} postgres {command} --type=diff backup\n"
    )
