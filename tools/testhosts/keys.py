"""SSH material of the test hosts: the key pair root logs in with, and known_hosts lines."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tools.testhosts.errors import TestHostError

KEY_NAME = "id_ed25519"


def generate_ssh_keypair(comment: str = "adx-testhosts") -> tuple[bytes, str]:
    """A new ed25519 key pair: (private key in OpenSSH format, public key line)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return private, _public_line(key, comment).decode()


def ensure_ssh_key(state_dir: Path) -> Path:
    """The key pair at ``state_dir/ssh/id_ed25519`` (+ .pub): generated once, then reused."""
    ssh_dir = state_dir / "ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path = ssh_dir / KEY_NAME
    public_path = ssh_dir / f"{KEY_NAME}.pub"
    if private_path.exists():
        if not public_path.exists():
            key = serialization.load_ssh_private_key(private_path.read_bytes(), password=None)
            write_file(public_path, _public_line(key, "adx-testhosts"), 0o644)
        return private_path
    private, public_line = generate_ssh_keypair(f"adx-{state_dir.name}@testhosts")
    write_file(private_path, private, 0o600)
    write_file(public_path, public_line.encode(), 0o644)
    return private_path


def _public_line(key: serialization.SSHPrivateKeyTypes, comment: str) -> bytes:
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public + f" {comment}\n".encode()


def known_hosts_host(hostname: str, port: int) -> str:
    return hostname if port == 22 else f"[{hostname}]:{port}"


def known_hosts_line(hostname: str, port: int, public_key: str) -> str:
    """``[host]:port keytype key`` from a ``*.pub`` host key (its comment dropped)."""
    words = public_key.split()
    if len(words) < 2 or not words[0].startswith(("ssh-", "ecdsa-")):
        raise TestHostError(f"not an SSH public key: {public_key.strip()[:60]!r}")
    return f"{known_hosts_host(hostname, port)} {words[0]} {words[1]}\n"


def write_file(path: Path, data: bytes, mode: int) -> None:
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
