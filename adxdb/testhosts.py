"""Test hosts: real Debian 12 machines as containers under a real Docker engine.

Each host of a local/test environment runs as one container of the base image
``adx/bookworm-sshd:1``: a bare Debian 12 with sshd (key-only root login) and nothing else; the
deploy installs PostgreSQL itself, as in production. Its port 22 (and 5432 when the inventory
names a ``container.pg_port``) is published on 127.0.0.1 only; the hosts of one environment share
a private Docker network with the static addresses of the inventory.

The base image is ``debian:bookworm`` plus sshd where a registry can be reached; otherwise it is
built once with debootstrap from this machine's own apt mirror (read from its apt sources at run
time, never written into the code) and ``docker import``, then reused.

Command line::

    python -m adxdb.testhosts image                  # ensure the base image
    python -m adxdb.testhosts up inventories/test.yml
    python -m adxdb.testhosts status [inventories/test.yml]
    python -m adxdb.testhosts down inventories/test.yml

This module talks to the Docker engine through the ``docker`` SDK; it does not import pyinfra.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

if TYPE_CHECKING:
    from adxdb.model import Environment, Host

BASE_IMAGE = "adx/bookworm-sshd:1"
UPSTREAM_IMAGE = "debian:bookworm"
BOOKWORM_SUITES = ("bookworm", "bookworm-updates", "bookworm-security")
BASE_PACKAGES = ("openssh-server", "ca-certificates", "iproute2", "procps")
LABEL_ENV = "adx.env"
LABEL_HOST = "adx.host"
LABEL_IMAGE = "adx.image"
KEY_NAME = "id_ed25519"
PULL_TIMEOUT_SECONDS = 30
SSH_WAIT_SECONDS = 60
CONTAINER_SHM_SIZE = "256m"  # PostgreSQL's dynamic shared memory lives in /dev/shm (default 64m)

# apt.conf settings copied from this machine into the hosts, so that `apt-get update` inside
# them behaves as it does here (a mirror serving a dated snapshot needs the Valid-Until ones).
APT_CONF_KEYS = (
    "Acquire::Check-Valid-Until",
    "Acquire::Check-Date",
    "Acquire::Max-FutureTime",
)
_APT_CONF_HEADER = "// copied from the machine that built this image (adxdb.testhosts)\n"

_DEB822_FIELDS = {"types": "Types", "uris": "URIs", "suites": "Suites", "components": "Components"}
# one-line `[option=value]` names and their deb822 field names (sources.list(5))
_ONE_LINE_OPTIONS = {
    "arch": "Architectures",
    "lang": "Languages",
    "target": "Targets",
    "pdiffs": "PDiffs",
    "by-hash": "By-Hash",
    "allow-insecure": "Allow-Insecure",
    "allow-weak": "Allow-Weak",
    "allow-downgrade-to-insecure": "Allow-Downgrade-To-Insecure",
    "trusted": "Trusted",
    "signed-by": "Signed-By",
    "check-valid-until": "Check-Valid-Until",
    "valid-until-min": "Valid-Until-Min",
    "valid-until-max": "Valid-Until-Max",
    "check-date": "Check-Date",
    "date-max-future": "Date-Max-Future",
    "inrelease-path": "InRelease-Path",
}

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

Log = Callable[[str], None]


def _print(message: str) -> None:
    print(message, flush=True)


class TestHostError(RuntimeError):
    """Test hosts cannot be built, started or reached."""

    __test__ = False  # not a pytest test class, despite the name


class EngineUnavailable(TestHostError):
    """The Docker engine does not answer."""


# --- apt sources (pure) -----------------------------------------------------------------------


@dataclass(frozen=True)
class AptSource:
    """One apt source entry, in deb822 terms (sources.list(5))."""

    types: tuple[str, ...]
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    # other fields (Signed-By, Architectures, ...) in their deb822 spelling, in input order
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str) -> str | None:
        for key, value in self.options:
            if key.lower() == name.lower():
                return value
        return None


def parse_one_line_sources(text: str) -> list[AptSource]:
    """Parse the one-line format of ``sources.list`` / ``*.list``."""
    sources: list[AptSource] = []
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        options: list[tuple[str, str]] = []
        rest = rest.strip()
        if rest.startswith("["):
            inside, closing, rest = rest[1:].partition("]")
            if not closing:
                continue  # malformed; apt would refuse it too
            for option in inside.split():
                name, equals, value = option.partition("=")
                if not equals:
                    continue
                name = name.rstrip("+-").lower()
                options.append((_ONE_LINE_OPTIONS.get(name, name), value.replace(",", " ")))
        words = rest.split()
        if kind not in ("deb", "deb-src") or len(words) < 2:
            continue
        sources.append(
            AptSource(
                types=(kind,),
                uris=(words[0],),
                suites=(words[1],),
                components=tuple(words[2:]),
                options=tuple(options),
            )
        )
    return sources


def parse_deb822_sources(text: str) -> list[AptSource]:
    """Parse the deb822 format of ``*.sources``; stanzas with ``Enabled: no`` are skipped."""
    sources: list[AptSource] = []
    for stanza in _deb822_stanzas(text):
        fields = {key.lower(): (key, value) for key, value in stanza}
        if fields.get("enabled", ("", "yes"))[1].strip().lower() == "no":
            continue
        wanted = {name: fields.get(name, ("", ""))[1].split() for name in _DEB822_FIELDS}
        if not (wanted["types"] and wanted["uris"] and wanted["suites"]):
            continue
        options = tuple(
            (key, value)
            for lowered, (key, value) in fields.items()
            if lowered not in _DEB822_FIELDS and lowered != "enabled"
        )
        sources.append(
            AptSource(
                types=tuple(wanted["types"]),
                uris=tuple(wanted["uris"]),
                suites=tuple(wanted["suites"]),
                components=tuple(wanted["components"]),
                options=options,
            )
        )
    return sources


def _deb822_stanzas(text: str) -> Iterator[list[tuple[str, str]]]:
    stanza: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza = []
        elif line[0] in " \t":
            if stanza:  # continuation: a lone "." stands for an empty line
                key, value = stanza[-1]
                more = line.strip()
                stanza[-1] = (key, f"{value}\n{'' if more == '.' else more}")
        else:
            key, _, value = line.partition(":")
            stanza.append((key.strip(), value.strip()))
    if stanza:
        yield stanza


def bookworm_sources(sources: Iterable[AptSource]) -> list[AptSource]:
    """The binary Debian 12 entries: suites bookworm, -updates, -security; nothing else."""
    kept: list[AptSource] = []
    for source in sources:
        suites = tuple(s for s in source.suites if s in BOOKWORM_SUITES)
        if "deb" not in source.types or not suites:
            continue
        uris = tuple(u for u in source.uris if u.split(":", 1)[0] in ("http", "https"))
        if uris:
            kept.append(replace(source, types=("deb",), uris=uris, suites=suites))
    return kept


def render_deb822(sources: Iterable[AptSource]) -> str:
    stanzas: list[str] = []
    for source in sources:
        lines = [
            f"Types: {' '.join(source.types)}",
            f"URIs: {' '.join(source.uris)}",
            f"Suites: {' '.join(source.suites)}",
        ]
        if source.components:
            lines.append(f"Components: {' '.join(source.components)}")
        for key, value in source.options:
            first, *more = value.split("\n")
            lines.append(f"{key}: {first}".rstrip())
            lines.extend(f" {line}" if line.strip() else " ." for line in more)
        stanzas.append("\n".join(lines) + "\n")
    return "\n".join(stanzas)


def debootstrap_mirror(sources: Iterable[AptSource]) -> str:
    """The mirror holding suite ``bookworm`` with ``main``: where debootstrap fetches from."""
    for source in sources:
        if "deb" in source.types and "bookworm" in source.suites and "main" in source.components:
            return source.uris[0]
    raise TestHostError(
        "no apt source of this machine serves 'bookworm main': cannot choose a mirror "
        "for debootstrap (see /etc/apt/sources.list and /etc/apt/sources.list.d/)"
    )


def read_apt_sources(root: Path = Path("/")) -> list[AptSource]:
    """This machine's Debian 12 apt sources, in the order apt reads them."""
    etc_apt = root / "etc" / "apt"
    sources: list[AptSource] = []
    main_list = etc_apt / "sources.list"
    if main_list.is_file():
        sources.extend(parse_one_line_sources(main_list.read_text()))
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.name.endswith(".list"):
                sources.extend(parse_one_line_sources(path.read_text()))
            elif path.name.endswith(".sources"):
                sources.extend(parse_deb822_sources(path.read_text()))
    return bookworm_sources(sources)


def apt_conf_overrides(dump: str, keys: Sequence[str] = APT_CONF_KEYS) -> str:
    """The lines of ``apt-config dump`` output that set one of ``keys``."""
    wanted = {key.lower() for key in keys}
    lines = [
        line.strip()
        for line in dump.splitlines()
        if line.strip().split(" ", 1)[0].lower() in wanted
    ]
    return "".join(f"{line}\n" for line in lines)


def read_apt_conf_overrides() -> str:
    apt_config = shutil.which("apt-config")
    if apt_config is None:
        return ""
    result = subprocess.run([apt_config, "dump"], capture_output=True, text=True, check=False)
    return apt_conf_overrides(result.stdout) if result.returncode == 0 else ""


# --- SSH material (pure) --------------------------------------------------------------------


def generate_ssh_keypair(comment: str = "adx-testhosts") -> tuple[bytes, str]:
    """A new ed25519 key pair: (private key in OpenSSH format, public key line)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private, f"{public.decode()} {comment}\n"


def ensure_ssh_key(state_dir: Path) -> Path:
    """The key pair at ``state_dir/ssh/id_ed25519`` (+ .pub): generated once, then reused."""
    ssh_dir = state_dir / "ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path = ssh_dir / KEY_NAME
    public_path = ssh_dir / f"{KEY_NAME}.pub"
    if private_path.exists():
        if not public_path.exists():
            key = serialization.load_ssh_private_key(private_path.read_bytes(), password=None)
            public = key.public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
            )
            _write_file(public_path, public + b" adx-testhosts\n", 0o644)
        return private_path
    private, public_line = generate_ssh_keypair(f"adx-{state_dir.name}@testhosts")
    _write_file(private_path, private, 0o600)
    _write_file(public_path, public_line.encode(), 0o644)
    return private_path


def known_hosts_host(hostname: str, port: int) -> str:
    return hostname if port == 22 else f"[{hostname}]:{port}"


def known_hosts_line(hostname: str, port: int, public_key: str) -> str:
    """``[host]:port keytype key`` from a ``*.pub`` host key (its comment dropped)."""
    words = public_key.split()
    if len(words) < 2 or not words[0].startswith(("ssh-", "ecdsa-")):
        raise TestHostError(f"not an SSH public key: {public_key.strip()[:60]!r}")
    return f"{known_hosts_host(hostname, port)} {words[0]} {words[1]}\n"


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Write atomically (temp file + rename) with ``mode`` from the start."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


# --- the Docker engine --------------------------------------------------------------------


def engine_client(timeout: int = 120) -> Any:
    """A ``docker.DockerClient`` for an engine that answers; else `EngineUnavailable`."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as error:
        raise EngineUnavailable(
            f"Docker engine not reachable: run tools/host-setup.sh ({error})"
        ) from error
    except OSError as error:  # connection refused and the like, not wrapped by the SDK
        raise EngineUnavailable(
            f"Docker engine not reachable: run tools/host-setup.sh ({error})"
        ) from error
    return client


def _not_found() -> type[Exception]:
    from docker.errors import NotFound

    return NotFound  # type: ignore[no-any-return]


# --- the base image -------------------------------------------------------------------------


def ensure_base_image(client: Any | None = None, log: Log = _print) -> str:
    """The id of ``adx/bookworm-sshd:1``, built first when it is missing."""
    client = client or engine_client()
    image = _image_or_none(client, BASE_IMAGE)
    if image is not None:
        return str(image.id)
    with _lock(Path(tempfile.gettempdir()) / "adx-testhosts-image.lock"):
        image = _image_or_none(client, BASE_IMAGE)  # built meanwhile by another process?
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


def _image_or_none(client: Any, name: str) -> Any | None:
    try:
        return client.images.get(name)
    except _not_found():
        return None


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

    if _image_or_none(client, UPSTREAM_IMAGE) is not None:
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


def _build_from_upstream(client: Any, sources: list[AptSource], apt_conf: str) -> None:
    container = client.containers.create(
        UPSTREAM_IMAGE, command=["sleep", "infinity"], labels={LABEL_IMAGE: "build"}
    )
    try:
        container.start()
        files = {"etc/apt/sources.list.d/debian.sources": render_deb822(sources)}
        if apt_conf:
            files["etc/apt/apt.conf.d/99adx-host"] = _APT_CONF_HEADER + apt_conf
        container.put_archive("/", _tar_files({k: (v.encode(), 0o644) for k, v in files.items()}))
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
        repository, tag = BASE_IMAGE.split(":")
        container.commit(repository=repository, tag=tag, changes=list(_IMAGE_CHANGES))
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
    # A Signed-By keyring must exist in the new system; without one apt falls back to
    # /etc/apt/trusted.gpg.d, which debian-archive-keyring fills.
    usable = [
        replace(
            source,
            options=tuple(
                (key, value)
                for key, value in source.options
                if not (
                    key.lower() == "signed-by"
                    and value.startswith("/")
                    and not (rootfs / value.lstrip("/")).exists()
                )
            ),
        )
        for source in sources
    ]
    with contextlib.suppress(FileNotFoundError):
        (rootfs / "etc/apt/sources.list").unlink()
    (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(render_deb822(usable))
    if apt_conf:
        (rootfs / "etc/apt/apt.conf.d/99adx-host").write_text(_APT_CONF_HEADER + apt_conf)


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
    repository, tag = BASE_IMAGE.split(":")
    try:
        response = client.api.import_image_from_stream(
            tar.stdout, repository=repository, tag=tag, changes=list(_IMAGE_CHANGES)
        )
    finally:
        tar.stdout.close()
        _, tar_errors = tar.communicate()
    if tar.returncode != 0:
        raise TestHostError(f"tar of the root file system failed: {tar_errors.decode()[-1000:]}")
    if '"error"' in str(response):
        raise TestHostError(f"docker import failed: {response}")


def _tar_files(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A tar archive of ``{path: (content, mode)}``, owned by root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, (content, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = mode
            info.mtime = int(time.time())
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


# --- environments ---------------------------------------------------------------------------


def container_name(env_name: str, host_name: str) -> str:
    return f"adx-{env_name}-{host_name}"


@dataclass(frozen=True)
class HostResult:
    name: str
    container: str
    action: str  # created, recreated, started, kept
    address: str
    ssh_port: int
    pg_port: int | None
    reason: str = ""


@dataclass(frozen=True)
class UpResult:
    key_path: Path
    known_hosts_path: Path
    hosts: list[HostResult] = field(default_factory=list)


def check_environment(env: Environment) -> list[str]:
    """What keeps ``env`` from running as containers; empty when it can."""
    network = env.container_network
    if network is None:
        return ["the inventory has no container_network: it does not describe test hosts"]
    problems: list[str] = []
    gateway = next(network.subnet.hosts())
    seen_addresses: dict[str, str] = {}
    seen_ports: dict[int, str] = {}
    for name, host in env.hosts.items():
        address = ipaddress.ip_address(host.address)
        if address == gateway:
            problems.append(f"hosts.{name}.address: {address} is the network's gateway")
        if address in (network.subnet.network_address, network.subnet.broadcast_address):
            problems.append(f"hosts.{name}.address: {address} is not a host address")
        if str(address) in seen_addresses:
            problems.append(
                f"hosts.{name}.address: {address} repeats hosts.{seen_addresses[str(address)]}"
            )
        seen_addresses[str(address)] = name
        ports = [("ssh.port", host.ssh.port)]
        if host.container is not None:
            ports.append(("container.pg_port", host.container.pg_port))
        for what, port in ports:
            if port in seen_ports:
                problems.append(
                    f"hosts.{name}.{what}: {port} is already used by {seen_ports[port]}"
                )
            seen_ports[port] = name
    return problems


def up(env: Environment, state_dir: Path, client: Any | None = None, log: Log = _print) -> UpResult:
    """Run every host of ``env`` as a container; idempotent: a running, matching one is kept."""
    problems = check_environment(env)
    if problems:
        raise TestHostError("; ".join(problems))
    assert env.container_network is not None
    client = client or engine_client()
    image_id = ensure_base_image(client, log)
    key_path = ensure_ssh_key(state_dir)
    public_key = Path(f"{key_path}.pub").read_bytes()
    network = _ensure_network(client, env)
    results: list[HostResult] = []
    containers: dict[str, Any] = {}
    for host_name, host in env.hosts.items():
        container, action, reason = _ensure_container(
            client, env, host_name, host, image_id, network
        )
        _ensure_authorized_key(container, public_key)
        if action != "kept":
            container.start()
        containers[host_name] = container
        results.append(
            HostResult(
                name=host_name,
                container=container.name,
                action=action,
                address=host.address,
                ssh_port=host.ssh.port,
                pg_port=host.container.pg_port if host.container else None,
                reason=reason,
            )
        )
        log(f"up: {container.name}: {action}{f' ({reason})' if reason else ''}")
    lines: list[str] = []
    for host_name, host in env.hosts.items():
        _wait_for_sshd(host.ssh.port, containers[host_name])
        public = _exec(containers[host_name], ["cat", "/etc/ssh/ssh_host_ed25519_key.pub"])
        lines.append(known_hosts_line(host.ssh.hostname, host.ssh.port, public))
        if host.ssh.hostname != "127.0.0.1":
            lines.append(known_hosts_line("127.0.0.1", host.ssh.port, public))
    known_hosts = state_dir / "ssh" / "known_hosts"
    content = "".join(lines).encode()
    if not known_hosts.exists() or known_hosts.read_bytes() != content:
        _write_file(known_hosts, content, 0o644)
    return UpResult(key_path=key_path, known_hosts_path=known_hosts, hosts=results)


def down(env: Environment, client: Any | None = None, log: Log = _print) -> list[str]:
    """Remove the containers of ``env`` (forcefully) and its network; the names removed."""
    client = client or engine_client()
    names = {container_name(env.name, host) for host in env.hosts}
    labelled = client.containers.list(all=True, filters={"label": f"{LABEL_ENV}={env.name}"})
    removed: list[str] = []
    for container in labelled + [c for n in sorted(names) if (c := _container_or_none(client, n))]:
        if container.name in removed:
            continue
        container.remove(force=True, v=True)
        removed.append(container.name)
        log(f"down: removed container {container.name}")
    if env.container_network is not None:
        network = _network_or_none(client, env.container_network.name)
        if network is not None:
            network.remove()
            removed.append(network.name)
            log(f"down: removed network {network.name}")
    if not removed:
        log(f"down: nothing of environment {env.name} is running")
    return removed


def status(env: Environment | None = None, client: Any | None = None) -> list[dict[str, str]]:
    """One row per test-host container (of ``env``, or of every environment)."""
    client = client or engine_client()
    label = f"{LABEL_ENV}={env.name}" if env is not None else LABEL_ENV
    rows: list[dict[str, str]] = []
    for container in client.containers.list(all=True, filters={"label": label}):
        networks = container.attrs["NetworkSettings"]["Networks"] or {}
        ports = container.attrs["HostConfig"].get("PortBindings") or {}
        rows.append(
            {
                "container": container.name,
                "env": container.labels.get(LABEL_ENV, ""),
                "host": container.labels.get(LABEL_HOST, ""),
                "state": container.status,
                "address": ",".join(
                    f"{n}/{s.get('IPAddress') or '-'}" for n, s in sorted(networks.items())
                ),
                "ports": ",".join(
                    f"{b['HostIp']}:{b['HostPort']}->{p.split('/')[0]}"
                    for p, bindings in sorted(ports.items())
                    for b in bindings or []
                ),
            }
        )
    if env is not None:
        order = list(env.hosts)
        rows.sort(key=lambda r: order.index(r["host"]) if r["host"] in order else len(order))
    return rows


def _container_or_none(client: Any, name: str) -> Any | None:
    try:
        return client.containers.get(name)
    except _not_found():
        return None


def _network_or_none(client: Any, name: str) -> Any | None:
    for network in client.networks.list(names=[name]):
        if network.name == name:
            return network
    return None


def _ensure_network(client: Any, env: Environment) -> Any:
    from docker.types import IPAMConfig, IPAMPool

    assert env.container_network is not None
    name = env.container_network.name
    subnet = env.container_network.subnet
    gateway = str(next(subnet.hosts()))
    network = _network_or_none(client, name)
    if network is not None:
        network.reload()
        configs = (network.attrs.get("IPAM") or {}).get("Config") or []
        subnets = {c.get("Subnet") for c in configs}
        if network.attrs.get("Driver") == "bridge" and subnets == {str(subnet)}:
            return network
        if network.attrs.get("Containers"):
            raise TestHostError(
                f"network {name} exists with subnets {sorted(map(str, subnets))}, not {subnet}, "
                "and containers use it: run `down` first"
            )
        network.remove()
    return client.networks.create(
        name,
        driver="bridge",
        ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet), gateway=gateway)]),
        labels={LABEL_ENV: env.name},
        check_duplicate=True,
    )


def _expected_ports(host: Host) -> dict[str, list[dict[str, str]]]:
    ports = {"22/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(host.ssh.port)}]}
    if host.container is not None:
        ports["5432/tcp"] = [{"HostIp": "127.0.0.1", "HostPort": str(host.container.pg_port)}]
    return ports


def _mismatch(
    container: Any, env: Environment, host_name: str, host: Host, image_id: str, network: Any
) -> str:
    """Why an existing container does not match the inventory; empty when it does."""
    attrs = container.attrs
    config = attrs.get("Config") or {}
    host_config = attrs.get("HostConfig") or {}
    labels = config.get("Labels") or {}
    endpoint = ((attrs.get("NetworkSettings") or {}).get("Networks") or {}).get(network.name)
    ipam = (endpoint or {}).get("IPAMConfig") or {}
    bindings = {
        port: [{"HostIp": b.get("HostIp", ""), "HostPort": b.get("HostPort", "")} for b in bs or []]
        for port, bs in (host_config.get("PortBindings") or {}).items()
    }
    checks = [
        (attrs.get("Image") == image_id, "image changed"),
        (config.get("Hostname") == host_name, "hostname"),
        (labels.get(LABEL_ENV) == env.name and labels.get(LABEL_HOST) == host_name, "labels"),
        (bool(host_config.get("Init")), "init"),
        (bindings == _expected_ports(host), "published ports"),
        (endpoint is not None and endpoint.get("NetworkID") == network.id, "network"),
        (ipam.get("IPv4Address") == host.address, "address"),
    ]
    return ", ".join(reason for ok, reason in checks if not ok)


def _ensure_container(
    client: Any,
    env: Environment,
    host_name: str,
    host: Host,
    image_id: str,
    network: Any,
) -> tuple[Any, str, str]:
    """The host's container, created when missing or unlike the inventory; and what was done."""
    name = container_name(env.name, host_name)
    container = _container_or_none(client, name)
    action, reason = "created", ""
    if container is not None:
        reason = _mismatch(container, env, host_name, host, image_id, network)
        if not reason:
            return container, ("kept" if container.status == "running" else "started"), ""
        container.remove(force=True, v=True)
        action = "recreated"
    assert env.container_network is not None
    endpoint = client.api.create_endpoint_config(
        ipv4_address=host.address, aliases=[host_name, *host.dns_names]
    )
    container = client.containers.create(
        image_id,
        name=name,
        hostname=host_name,
        init=True,
        detach=True,
        labels={LABEL_ENV: env.name, LABEL_HOST: host_name},
        ports={
            port: (bindings[0]["HostIp"], int(bindings[0]["HostPort"]))
            for port, bindings in _expected_ports(host).items()
        },
        network=network.name,
        networking_config={network.name: endpoint},
        restart_policy={"Name": "unless-stopped"},
        shm_size=CONTAINER_SHM_SIZE,
    )
    return container, action, reason


def _ensure_authorized_key(container: Any, public_key: bytes) -> None:
    path = "/root/.ssh/authorized_keys"
    try:
        chunks, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as archive:
            member = archive.getmembers()[0]
            handle = archive.extractfile(member)
            current = handle.read() if handle else b""
        if current == public_key and member.mode & 0o777 == 0o600 and member.uid == 0:
            return
    except _not_found():
        pass
    container.put_archive("/root/.ssh", _tar_files({"authorized_keys": (public_key, 0o600)}))


def _exec(container: Any, command: list[str]) -> str:
    code, output = container.exec_run(command)
    text = output.decode(errors="replace")
    if code != 0:
        raise TestHostError(f"{container.name}: {' '.join(command)} failed ({code}): {text}")
    return str(text)


def _wait_for_sshd(port: int, container: Any, seconds: float = SSH_WAIT_SECONDS) -> None:
    """Until sshd's banner comes through 127.0.0.1:port (docker-proxy accepts before sshd)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
                connection.settimeout(2)
                if connection.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            container.reload()
            logs = container.logs(tail=20).decode(errors="replace")
            raise TestHostError(
                f"{container.name}: sshd does not answer on 127.0.0.1:{port} after "
                f"{seconds:.0f}s (state {container.status}); last log lines:\n{logs}"
            )
        time.sleep(0.2)


# --- command line ---------------------------------------------------------------------------


def state_dir_for(inventory: Path, env_name: str) -> Path:
    """The environment's state folder, as the inventory loader resolves it."""
    from adxdb import inventory as loader

    return loader.state_dir_for(inventory, loader.load_model(inventory))


def _load(inventory: Path) -> Environment:
    from adxdb.inventory import load_model

    return load_model(inventory)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adxdb.testhosts",
        description="Debian 12 test hosts as containers (sshd on 127.0.0.1).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("image", help=f"ensure the base image {BASE_IMAGE}")
    for name, text in (("up", "start the hosts of an inventory"), ("down", "remove them")):
        command = commands.add_parser(name, help=text)
        command.add_argument("inventory", type=Path)
        if name == "up":
            command.add_argument(
                "--state-dir", type=Path, help="default: <repo>/.adx/<env> next to inventories/"
            )
    command = commands.add_parser("status", help="list test-host containers")
    command.add_argument("inventory", type=Path, nargs="?")
    args = parser.parse_args(argv)
    try:
        if args.command == "image":
            print(ensure_base_image())
        elif args.command == "up":
            env = _load(args.inventory)
            state_dir = args.state_dir or state_dir_for(args.inventory, env.name)
            started = time.monotonic()
            result = up(env, state_dir)
            print(f"key:         {result.key_path}")
            print(f"known_hosts: {result.known_hosts_path}")
            print(f"up: {len(result.hosts)} host(s) ready in {time.monotonic() - started:.1f}s")
        elif args.command == "down":
            down(_load(args.inventory))
        else:
            rows = status(_load(args.inventory) if args.inventory else None)
            columns = ("container", "env", "host", "state", "address", "ports")
            widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}
            for row in [{c: c.upper() for c in columns}, *rows]:
                print("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())
    except TestHostError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
