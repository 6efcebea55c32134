"""An environment's test hosts: its private network and one container per host.

Each host runs as a container of the base image with the inventory's static address on the
environment's network; its port 22 (and 5432 when the inventory names a ``container.pg_port``)
is published on 127.0.0.1 only. `up` keeps a running container that matches the inventory and
recreates one that does not.
"""

from __future__ import annotations

import io
import ipaddress
import socket
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.testhosts.engine import Log, engine_client, get_or_none, not_found, print_log, tar_files
from tools.testhosts.errors import TestHostError
from tools.testhosts.image import ensure_base_image
from tools.testhosts.keys import ensure_ssh_key, known_hosts_line, write_file

if TYPE_CHECKING:
    from adxdb.inventory.model import Environment, Host

LABEL_ENV = "adx.env"
LABEL_HOST = "adx.host"
SSH_WAIT_SECONDS = 60
# A published port inside the kernel's ephemeral range (32768-60999) can be held for a while by
# some outgoing connection's local end: the start is tried again until it is free.
PORT_BUSY_TRIES = 15
PORT_BUSY_SLEEP = 2.0
CONTAINER_SHM_SIZE = "256m"  # PostgreSQL's dynamic shared memory lives in /dev/shm (default 64m)


def instance_name(env: Environment) -> str:
    """Which copy of the environment the containers are: its name (`test`), or, for a copy on a
    network of its own (`adx-test-w1`: a parallel test worker's), that network's name without
    `adx-` (`test-w1`). Containers, labels and `down` go by it, so copies never touch each
    other."""
    network = env.container_network
    if network is None or network.name == f"adx-{env.name}":
        return env.name
    return network.name.removeprefix("adx-")


def container_name(env: Environment, host_name: str) -> str:
    return f"adx-{instance_name(env)}-{host_name}"


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
        if host.container is not None and host.container.pg_port is not None:
            ports.append(("container.pg_port", host.container.pg_port))
        for what, port in ports:
            if port in seen_ports:
                problems.append(
                    f"hosts.{name}.{what}: {port} is already used by {seen_ports[port]}"
                )
            seen_ports[port] = name
    return problems


def start_when_ports_are_free(
    container: Any, log: Log, tries: int = PORT_BUSY_TRIES, sleep: float = PORT_BUSY_SLEEP
) -> None:
    """`container.start()`, tried again while the engine says a published port is in use
    (held by a passing connection); any other error, or a port still busy, is raised."""
    for attempt in range(1, tries + 1):
        try:
            container.start()
            return
        except Exception as error:  # docker.errors.APIError; the engine module is optional
            if "address already in use" not in str(error) or attempt == tries:
                raise
            log(f"up: {container.name}: a published port is in use; trying again ({attempt})")
            time.sleep(sleep)


def up(
    env: Environment, state_dir: Path, client: Any | None = None, log: Log = print_log
) -> UpResult:
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
            start_when_ports_are_free(container, log)
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
        for hostname in dict.fromkeys((host.ssh.hostname, "127.0.0.1")):
            lines.append(known_hosts_line(hostname, host.ssh.port, public))
    known_hosts = state_dir / "ssh" / "known_hosts"
    content = "".join(lines).encode()
    if not known_hosts.exists() or known_hosts.read_bytes() != content:
        write_file(known_hosts, content, 0o644)
    return UpResult(key_path=key_path, known_hosts_path=known_hosts, hosts=results)


def down(env: Environment, client: Any | None = None, log: Log = print_log) -> list[str]:
    """Remove the containers of ``env`` (forcefully) and its network; the names removed."""
    client = client or engine_client()
    names = {container_name(env, host) for host in env.hosts}
    label = f"{LABEL_ENV}={instance_name(env)}"
    labelled = client.containers.list(all=True, filters={"label": label})
    named = [c for n in sorted(names) if (c := get_or_none(client.containers, n))]
    removed: list[str] = []
    for container in labelled + named:
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
        log(f"down: nothing of environment {instance_name(env)} is running")
    return removed


def status(env: Environment | None = None, client: Any | None = None) -> list[dict[str, str]]:
    """One row per test-host container (of ``env``, or of every environment)."""
    client = client or engine_client()
    label = f"{LABEL_ENV}={instance_name(env)}" if env is not None else LABEL_ENV
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
        labels={LABEL_ENV: instance_name(env)},
        check_duplicate=True,
    )


def _expected_ports(host: Host) -> dict[str, list[dict[str, str]]]:
    ports = {"22/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(host.ssh.port)}]}
    if host.container is not None and host.container.pg_port is not None:
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
        (
            labels.get(LABEL_ENV) == instance_name(env) and labels.get(LABEL_HOST) == host_name,
            "labels",
        ),
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
    name = container_name(env, host_name)
    container = get_or_none(client.containers, name)
    action, reason = "created", ""
    if container is not None:
        reason = _mismatch(container, env, host_name, host, image_id, network)
        if not reason:
            return container, ("kept" if container.status == "running" else "started"), ""
        container.remove(force=True, v=True)
        action = "recreated"
    endpoint = client.api.create_endpoint_config(
        ipv4_address=host.address, aliases=[host_name, *host.dns_names]
    )
    container = client.containers.create(
        image_id,
        name=name,
        hostname=host_name,
        init=True,
        detach=True,
        labels={LABEL_ENV: instance_name(env), LABEL_HOST: host_name},
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
    except not_found():
        pass
    container.put_archive("/root/.ssh", tar_files({"authorized_keys": (public_key, 0o600)}))


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
