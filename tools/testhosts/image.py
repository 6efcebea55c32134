"""The base image ``adx/bookworm-sshd:2``: Debian 12 with sshd for key-only root login.

It is ``debian:bookworm`` plus sshd where a registry can be reached; otherwise it is built once
with debootstrap from this machine's own apt mirror and ``docker import``, then reused. A file
lock keeps two processes from building it at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools.testhosts.apt import (
    AptSource,
    apt_files,
    debootstrap_mirror,
    read_apt_conf_overrides,
    read_apt_sources,
    without_missing_keyrings,
)
from tools.testhosts.engine import Log, engine_client, get_or_none, print_log, tar_files
from tools.testhosts.errors import TestHostError

BASE_IMAGE = "adx/bookworm-sshd:2"
UPSTREAM_IMAGE = "debian:bookworm"
BASE_PACKAGES = ("openssh-server", "ca-certificates", "iproute2", "procps", "sudo")
LABEL_IMAGE = "adx.image"
PULL_TIMEOUT_SECONDS = 30

# Runs inside the new root file system (chroot) or the upstream-image container: sshd for
# key-only root login, host keys present, apt caches empty.
_CUSTOMIZE_SCRIPT = r"""
set -eu
mkdir -p /etc/ssh/sshd_config.d /usr/local/sbin /root/.ssh
chmod 0700 /root/.ssh
cat > /etc/ssh/sshd_config.d/adx.conf <<'EOF'
# ADX test host: root logs in with a key only.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
EOF
# SFTP logs every file it opens to /var/log/adx-sftp.log (tests read where uploads go).
cat > /usr/local/sbin/adx-sftp-server <<'EOF'
#!/bin/sh
exec /usr/lib/openssh/sftp-server -e -l INFO 2>>/var/log/adx-sftp.log
EOF
chmod 0755 /usr/local/sbin/adx-sftp-server
install -m 0666 /dev/null /var/log/adx-sftp.log
sed -i 's|^Subsystem\s.*|Subsystem sftp /usr/local/sbin/adx-sftp-server|' /etc/ssh/sshd_config
grep -qx 'Subsystem sftp /usr/local/sbin/adx-sftp-server' /etc/ssh/sshd_config
cat > /usr/local/sbin/start-sshd <<'EOF'
#!/bin/sh
# Entry point of the ADX test hosts: sshd in the foreground, logging to stderr.
set -e
mkdir -p /run/sshd
chmod 0755 /run/sshd
ssh-keygen -A >/dev/null
exec /usr/sbin/sshd -D -e "$@"
EOF
chmod 0755 /usr/local/sbin/start-sshd
# Containers have no audit login uid to set: a required pam_loginuid would refuse every login.
if [ -f /etc/pam.d/sshd ]; then
    sed -i 's/^session\s\+required\s\+pam_loginuid\.so/session optional pam_loginuid.so/' \
        /etc/pam.d/sshd
fi
ssh-keygen -A
mkdir -p /run/sshd
/usr/sbin/sshd -t
rm -rf /run/sshd
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/partial/* \
    /var/cache/debconf/*-old /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log \
    /var/log/bootstrap.log /tmp/* /var/tmp/*
mkdir -p /var/lib/apt/lists/partial
"""

_IMAGE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "EXPOSE 22/tcp",
    f"LABEL {LABEL_IMAGE}={BASE_IMAGE}",
    "ENTRYPOINT []",
    'CMD ["/usr/local/sbin/start-sshd"]',
)


def ensure_base_image(client: Any | None = None, log: Log = print_log) -> str:
    """The id of ``adx/bookworm-sshd:2``, built first when it is missing."""
    client = client or engine_client()
    image = get_or_none(client.images, BASE_IMAGE)
    if image is not None:
        return str(image.id)
    with _lock(Path(tempfile.gettempdir()) / "adx-testhosts-image.lock"):
        image = get_or_none(client.images, BASE_IMAGE)  # built meanwhile by another process?
        if image is not None:
            return str(image.id)
        started = time.monotonic()
        sources = read_apt_sources()
        apt_conf = read_apt_conf_overrides()
        if _pull_upstream(client, log):
            log(f"image: building {BASE_IMAGE} from {UPSTREAM_IMAGE}")
            _build_from_upstream(client, sources, apt_conf)
        else:
            log(f"image: building {BASE_IMAGE} with debootstrap (no registry reachable)")
            _build_with_debootstrap(client, sources, apt_conf, log)
        image = client.images.get(BASE_IMAGE)
        log(f"image: built {BASE_IMAGE} in {time.monotonic() - started:.0f}s ({image.short_id})")
        return str(image.id)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pull_upstream(client: Any, log: Log) -> bool:
    from docker.errors import DockerException

    if get_or_none(client.images, UPSTREAM_IMAGE) is not None:
        return True
    log(f"image: trying to pull {UPSTREAM_IMAGE}")
    try:
        puller = engine_client(timeout=PULL_TIMEOUT_SECONDS)
        repository, tag = UPSTREAM_IMAGE.split(":")
        puller.images.pull(repository, tag=tag)
    except (DockerException, OSError, TestHostError) as error:
        log(f"image: cannot pull {UPSTREAM_IMAGE}: {_short(error)}")
        return False
    return True


def _short(error: BaseException) -> str:
    text = str(getattr(error, "explanation", None) or error).strip().splitlines()
    return text[-1][:200] if text else type(error).__name__


def _as_base_image() -> dict[str, Any]:
    """The arguments of ``commit`` and ``import_image_from_stream`` that make `BASE_IMAGE`."""
    repository, tag = BASE_IMAGE.split(":")
    return {"repository": repository, "tag": tag, "changes": list(_IMAGE_CHANGES)}


def _build_from_upstream(client: Any, sources: list[AptSource], apt_conf: str) -> None:
    container = client.containers.create(
        UPSTREAM_IMAGE, command=["sleep", "infinity"], labels={LABEL_IMAGE: "build"}
    )
    try:
        container.start()
        files = apt_files(sources, apt_conf)
        container.put_archive("/", tar_files({k: (v.encode(), 0o644) for k, v in files.items()}))
        script = (
            "set -eu; rm -f /etc/apt/sources.list; export DEBIAN_FRONTEND=noninteractive; "
            "apt-get update -q; apt-get install -y -q --no-install-recommends "
            f"{' '.join(BASE_PACKAGES)}\n{_CUSTOMIZE_SCRIPT}"
        )
        code, output = container.exec_run(["/bin/sh", "-c", script])
        if code != 0:
            tail = output.decode(errors="replace")[-2000:]
            raise TestHostError(f"customizing {UPSTREAM_IMAGE} failed:\n{tail}")
        container.stop(timeout=1)
        container.commit(**_as_base_image())
    finally:
        container.remove(force=True)


def _build_with_debootstrap(client: Any, sources: list[AptSource], apt_conf: str, log: Log) -> None:
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise TestHostError("debootstrap is not installed: run tools/host-setup.sh")
    if os.geteuid() != 0:
        raise TestHostError("building the base image with debootstrap needs root")
    mirror = debootstrap_mirror(sources)
    work = Path(tempfile.mkdtemp(prefix="adx-rootfs-"))
    rootfs = work / "rootfs"
    try:
        log(f"image: debootstrap bookworm into {rootfs}")
        with (work / "debootstrap.log").open("wb") as debootstrap_log:
            result = subprocess.run(
                [
                    debootstrap,
                    "--variant=minbase",
                    f"--include={','.join(BASE_PACKAGES)}",
                    "bookworm",
                    str(rootfs),
                    mirror,
                ],
                stdout=debootstrap_log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            tail = (work / "debootstrap.log").read_text(errors="replace")[-3000:]
            raise TestHostError(f"debootstrap failed ({result.returncode}):\n{tail}")
        _unmount_below(rootfs)
        _write_apt_config(rootfs, sources, apt_conf)
        customize = subprocess.run(
            ["chroot", str(rootfs), "/bin/sh", "-c", _CUSTOMIZE_SCRIPT],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
        )
        if customize.returncode != 0:
            raise TestHostError(f"customizing the root file system failed:\n{customize.stderr}")
        log(f"image: docker import {BASE_IMAGE}")
        _import_rootfs(client, rootfs)
    finally:
        _unmount_below(work)
        shutil.rmtree(work)


def _write_apt_config(rootfs: Path, sources: list[AptSource], apt_conf: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        (rootfs / "etc/apt/sources.list").unlink()
    for path, text in apt_files(without_missing_keyrings(sources, rootfs), apt_conf).items():
        (rootfs / path).write_text(text)


def _mounts_below(path: Path) -> list[str]:
    prefix = str(path.resolve()).rstrip("/") + "/"
    mounts: list[str] = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = line.split()[1].replace("\\040", " ")
        if point.startswith(prefix):
            mounts.append(point)
    return mounts


def _unmount_below(path: Path) -> None:
    """Unmount what debootstrap may have left mounted (proc, sys, dev) below ``path``."""
    for point in sorted(_mounts_below(path), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)
    left = _mounts_below(path)
    if left:  # never remove files through a mount of the host's own /dev or /proc
        raise TestHostError(f"still mounted, not removing {path}: {', '.join(left)}")


def _import_rootfs(client: Any, rootfs: Path) -> None:
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "--xattrs", "-C", str(rootfs), "-c", "."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert tar.stdout is not None
    try:
        response = client.api.import_image_from_stream(tar.stdout, **_as_base_image())
    finally:
        tar.stdout.close()
        _, tar_errors = tar.communicate()
    if tar.returncode != 0:
        raise TestHostError(f"tar of the root file system failed: {tar_errors.decode()[-1000:]}")
    if '"error"' in str(response):
        raise TestHostError(f"docker import failed: {response}")
