"""Uploads of the deploy's own operations, staged privately on hosts reached through sudo.

SFTP writes as the SSH user, so on a host with `ssh.sudo: true` pyinfra uploads each file as
that user to a staging name, then root copies it into place and the staging copy is removed.
pyinfra's default staging name is in `/tmp` (world-readable, left there by a killed run); the
deploy stages in `STAGING_DIR` instead: a folder of the SSH user's own, mode 0700, under the
root-owned `/var/lib` (the host plan's first operation makes it; `operations.leftovers` removes
what a killed run left in it). pyinfra's own operations (`files.put`) find it in the host's
`_temp_dir`; the deploy's own uploads name their staging file here.
"""

from __future__ import annotations

import hashlib
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand

from adxdb.plan.host import STAGING_DIR, STAGING_PREFIX

__all__ = ["STAGING_DIR", "staging_name", "upload"]


def staging_name(temp_dir: str, dest: str) -> str:
    """Where the SSH user stages the upload for `dest` (one name per destination)."""
    return f"{temp_dir}/{STAGING_PREFIX}{hashlib.sha256(dest.encode()).hexdigest()[:24]}"


def upload(text: str, dest: str) -> FileUploadCommand:
    """Upload `text` to `dest`, staged in the host's private staging folder when it has one."""
    temp_dir = host.data.get("_temp_dir")
    staged = staging_name(str(temp_dir), dest) if temp_dir else None
    return FileUploadCommand(StringIO(text), dest, remote_temp_filename=staged)
