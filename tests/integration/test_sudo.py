"""A host reached as an SSH user with sudo (`ssh.sudo: true`), as in staging and prod: every
upload (SQL scripts, configuration files) is staged in that user's private folder, never in a
shared /tmp, and what a killed run left staged there is removed by the next run. The test
hosts' SFTP server logs every file it opens (tools/testhosts/image.py): that log is the probe."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adxdb.plan.host import STAGING_DIR
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import REPO, STATE_DIR, VENV_BIN, converge, variant_inventory
from tools.testhosts.engine import engine_client
from tools.testhosts.hosts import container_name

DEPLOY_USER = "adxdeploy"
SFTP_LOG = "/var/log/adx-sftp.log"
SFTP_OPEN = re.compile(r'open "([^"]+)" flags \S*WRITE')


def _container(test_env: HostsUnderTest, host: str) -> Any:
    return engine_client().containers.get(container_name(test_env.env, host))


def _log_lines(test_env: HostsUnderTest, host: str) -> list[str]:
    """sshd's log (the container's)."""
    return str(_container(test_env, host).logs().decode(errors="replace")).splitlines()


def _sftp_lines(test_env: HostsUnderTest, host: str) -> list[str]:
    """The SFTP server's log: a line for each file it opened, whoever logged in."""
    return test_env.run_as_root(host, "cat", SFTP_LOG).splitlines()


def _written(lines: list[str]) -> list[str]:
    """The paths SFTP opened for writing, from sshd's log lines."""
    return [m.group(1) for line in lines if (m := SFTP_OPEN.search(line))]


def _outside_staging(paths: list[str]) -> list[str]:
    return [p for p in paths if not p.startswith(f"{STAGING_DIR}/")]


@pytest.fixture
def sudo_user(test_env: HostsUnderTest) -> Iterator[str]:
    """An SSH user on pg1 that logs in with the test key and may run anything through sudo."""
    script = f"""
        set -e
        useradd --create-home --shell /bin/bash {DEPLOY_USER}
        install -d -m 0700 -o {DEPLOY_USER} -g {DEPLOY_USER} /home/{DEPLOY_USER}/.ssh
        install -m 0600 -o {DEPLOY_USER} -g {DEPLOY_USER} /root/.ssh/authorized_keys \\
            /home/{DEPLOY_USER}/.ssh/authorized_keys
        echo '{DEPLOY_USER} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/{DEPLOY_USER}
        chmod 0440 /etc/sudoers.d/{DEPLOY_USER}
    """
    test_env.run_as_root("pg1", "sh", "-c", script)
    try:
        yield DEPLOY_USER
    finally:
        test_env.run_as_root(
            "pg1",
            "sh",
            "-c",
            f"rm -f /etc/sudoers.d/{DEPLOY_USER}; userdel --remove {DEPLOY_USER}; "
            f"rm -rf {STAGING_DIR} /root/adx-twin-upload",
        )


def test_a_sudo_deploy_stages_every_upload_in_its_users_private_folder(
    test_env: HostsUnderTest, sudo_user: str, tmp_path: Path, restore: None
) -> None:
    port = test_env.env.hosts["pg1"].ssh.port
    ssh = {"hostname": "127.0.0.1", "port": port, "user": sudo_user, "sudo": True}
    inventory = variant_inventory(
        tmp_path,
        {
            "hosts": {"pg1": {"ssh": ssh}},
            # A conf.d file (pyinfra's files.put) and a roles script (the deploy's own upload).
            "postgres": {"settings": {"work_mem": "5MB"}},
            "roles": {"adx_app": {"connection_limit": 77}},
        },
    )
    logins, before = len(_log_lines(test_env, "pg1")), len(_sftp_lines(test_env, "pg1"))
    first = converge(inventory)
    assert f"Accepted publickey for {sudo_user}" in "\n".join(_log_lines(test_env, "pg1")[logins:])
    lines = _sftp_lines(test_env, "pg1")[before:]
    written = _written(lines)
    assert len(written) >= 2, lines[-40:]
    assert _outside_staging(written) == []
    assert test_env.psql("pg1", "SHOW work_mem") == "5MB"
    assert (
        test_env.psql("pg1", "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'adx_app'") == "77"
    )
    assert first.changed_ops.get(f"Private staging folder of {sudo_user}") == 1
    folder = test_env.run_as_root("pg1", "stat", "-c", "%U %a %F", STAGING_DIR)
    assert folder == f"{sudo_user} 700 directory"
    assert test_env.run_as_root("pg1", "find", STAGING_DIR, "-mindepth", "1") == ""
    assert test_env.files_left("pg1") == []  # nothing in the deploy's folders, nothing in /tmp

    second = converge(inventory)
    assert second.changed_ops == {}, second.output[-3000:]

    # A run killed between upload and copy leaves its staged file: the next run removes it.
    stale = f"{STAGING_DIR}/adx-upload-killed-run"
    test_env.run_as_root(
        "pg1",
        "sh",
        "-c",
        f"echo 'SELECT 1;' > {stale}; chown {sudo_user} {stale}; touch -d '5 minutes ago' {stale}",
    )
    third = converge(inventory)
    assert third.changed_ops == {"Leftovers of killed deploys": 1}, third.output[-3000:]
    assert test_env.run_as_root("pg1", "find", STAGING_DIR, "-mindepth", "1") == ""


def test_the_staging_probe_sees_pyinfras_default_staging_in_tmp(
    test_env: HostsUnderTest, sudo_user: str, tmp_path: Path
) -> None:
    """The twin: the same sudo user uploading with pyinfra's defaults stages in /tmp, and the
    probe reports it."""
    source = tmp_path / "twin.txt"
    source.write_text("twin\n", encoding="utf-8")
    before = len(_sftp_lines(test_env, "pg1"))
    completed = subprocess.run(
        [
            str(VENV_BIN / "pyinfra"),
            "-y",
            "--ssh-user",
            sudo_user,
            "--ssh-port",
            str(test_env.env.hosts["pg1"].ssh.port),
            "--ssh-key",
            str(STATE_DIR / "ssh" / "id_ed25519"),
            "--data",
            f"ssh_known_hosts_file={STATE_DIR / 'ssh' / 'known_hosts'}",
            "--data",
            "ssh_strict_host_key_checking=yes",
            "--sudo",
            "127.0.0.1",
            "files.put",
            f"src={source}",
            "dest=/root/adx-twin-upload",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    written = _written(_sftp_lines(test_env, "pg1")[before:])
    outside = _outside_staging(written)
    assert outside and all(path.startswith("/tmp/pyinfra-") for path in outside), written
