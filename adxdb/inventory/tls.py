"""TLS material of an environment: a CA and per-host server certificates generated for local
and test, or the files staging and prod supply.

Made once under the environment's state folder and reused; a server certificate is made again
only when the names it must carry change or it nears expiry. Staging and prod supply files.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from adxdb.inventory.model import Environment

CA_DAYS = 3650
SERVER_DAYS = 397
RENEW_BEFORE = dt.timedelta(days=30)
# A host's certificate serves PostgreSQL and pgBackRest's TLS server, and is pgBackRest's client
# certificate towards the other hosts' servers (its common name is the host's name).
HOST_USAGES = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


@dataclass(frozen=True)
class ServerTLS:
    """The PEM texts one host needs. The key never shows in a repr or a log."""

    ca_pem: str
    cert_pem: str
    key_pem: str = field(repr=False)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ensure_ca(
    directory: Path, env_name: str
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = directory / "ca.crt", directory / "ca.key"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > _now():
            return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ADX {env_name} CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _san_entries(names: Iterable[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for name in sorted(set(names)):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
        else:
            # pgBackRest 2.45 matches a host against DNS names (and the common name) only: an
            # address the hosts reach each other by is a DNS name too.
            entries.append(x509.DNSName(name))
    return entries


def _current_names(cert: x509.Certificate) -> set[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in san.get_values_for_type(x509.DNSName)} | {
        str(v) for v in san.get_values_for_type(x509.IPAddress)
    }


def ensure_server_cert(
    directory: Path, env_name: str, host: str, names: Iterable[str]
) -> ServerTLS:
    """Return the CA and a server certificate for `host` valid for every name in `names`."""
    wanted = set(names) | {host}
    ca_cert, ca_key = ensure_ca(directory, env_name)
    cert_path, key_path = directory / f"{host}.crt", directory / f"{host}.key"
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM).decode()
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if (
            _issued_by(cert, ca_cert)
            and set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
            == set(_san_entries(wanted))
            and cert.not_valid_after_utc - RENEW_BEFORE > _now()
            and _usages(cert) >= set(HOST_USAGES)
        ):
            return ServerTLS(ca_pem, cert_path.read_text(), key_path.read_text())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(_san_entries(wanted)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(HOST_USAGES), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ServerTLS(ca_pem, cert_path.read_text(), key_path.read_text())


def _usages(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    """The extended key usages a certificate allows (every one when it names none)."""
    try:
        return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return set(HOST_USAGES)


def common_name(cert_pem: str) -> str:
    """The subject common name of a PEM certificate: who a TLS server's `tls-server-auth`
    knows a client by."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def server_names(env: Environment, host_name: str) -> list[str]:
    """The names a host's certificate carries: its name, address, DNS names; loopback for tests."""
    host = env.hosts[host_name]
    names = [host_name, host.address, *host.dns_names]
    if host.container is not None:
        names += ["localhost", "127.0.0.1"]
    return names


def generated_tls(env: Environment, state_dir: Path) -> dict[str, ServerTLS]:
    """Local and test: every host's certificate from the environment's own CA."""
    return {
        host_name: ensure_server_cert(
            state_dir / "tls", env.name, host_name, server_names(env, host_name)
        )
        for host_name in env.hosts
    }


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """True when `ca` signed `cert` (a CA made again with the same name did not)."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _normalized(name: str) -> str:
    return str(ipaddress.ip_address(name)) if _is_ip(name) else name.lower()


@dataclass(frozen=True)
class TLSCheck:
    problems: list[str]
    warnings: list[str]


def check_server_material(
    where: str,
    material: ServerTLS,
    names: Iterable[str],
    now: dt.datetime | None = None,
    client_auth: bool = False,
) -> TLSCheck:
    """A supplied certificate and key: PEM, matching, issued by the CA, naming every name the
    host is reached by, and not expired (a warning when under 30 days are left); with
    `client_auth` (pgBackRest's TLS between the hosts), usable as a client certificate with a
    common name."""
    now = now or _now()
    problems: list[str] = []
    warnings: list[str] = []
    try:
        ca = x509.load_pem_x509_certificate(material.ca_pem.encode())
    except ValueError:
        return TLSCheck(["tls.ca_file: is not a PEM certificate"], [])
    try:
        cert = x509.load_pem_x509_certificate(material.cert_pem.encode())
    except ValueError:
        return TLSCheck([f"{where}.tls_cert_file: is not a PEM certificate"], [])
    try:
        key = serialization.load_pem_private_key(material.key_pem.encode(), password=None)
    except (ValueError, TypeError):
        problems.append(f"{where}.tls_key_file: is not an unencrypted PEM private key")
    else:
        if key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) != cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ):
            problems.append(f"{where}.tls_key_file: does not match the certificate's public key")
    if not _issued_by(cert, ca):
        problems.append(f"{where}.tls_cert_file: is not issued by tls.ca_file")
    try:
        carried = {_normalized(n) for n in _current_names(cert)}
    except x509.ExtensionNotFound:
        carried = set()
    missing = [name for name in names if _normalized(name) not in carried]
    if missing:
        problems.append(
            f"{where}.tls_cert_file: does not name {', '.join(missing)} (subjectAltName)"
        )
    if client_auth:
        if ExtendedKeyUsageOID.CLIENT_AUTH not in _usages(cert):
            problems.append(
                f"{where}.tls_cert_file: its extended key usage lacks clientAuth (pgBackRest's "
                "TLS connections between the hosts and the backup host need it)"
            )
        if not common_name(material.cert_pem):
            problems.append(
                f"{where}.tls_cert_file: has no subject common name (pgBackRest's tls-server-auth "
                "knows a client by it)"
            )
    if cert.not_valid_after_utc <= now:
        problems.append(f"{where}.tls_cert_file: expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    elif cert.not_valid_after_utc - RENEW_BEFORE <= now:
        warnings.append(
            f"{where}.tls_cert_file: expires on {cert.not_valid_after_utc:%Y-%m-%d}, in less "
            "than 30 days"
        )
    if ca.not_valid_after_utc <= now:
        problems.append(f"tls.ca_file: expired on {ca.not_valid_after_utc:%Y-%m-%d}")
    return TLSCheck(problems, warnings)


def supplied_tls(
    env: Environment, base: Path, warnings: list[str] | None = None
) -> tuple[dict[str, ServerTLS], list[str]]:
    """Staging and prod: the CA and each host's certificate and key from the files named,
    each checked (`check_server_material`); warnings go to `warnings`."""
    problems: list[str] = []
    material: dict[str, ServerTLS] = {}

    def read(where: str, file: Path | None) -> str:
        assert file is not None
        full = file if file.is_absolute() else base / file
        try:
            return full.read_text(encoding="utf-8")
        except OSError as error:
            problems.append(f"{where}: cannot read {full}: {error.strerror}")
            return ""

    ca_pem = read("tls.ca_file", env.tls.ca_file)
    for host_name, host in env.hosts.items():
        cert = read(f"hosts.{host_name}.tls_cert_file", host.tls_cert_file)
        key = read(f"hosts.{host_name}.tls_key_file", host.tls_key_file)
        material[host_name] = ServerTLS(ca_pem, cert, key)
        if ca_pem and cert and key:
            names = [host.address, *host.dns_names]
            check = check_server_material(
                f"hosts.{host_name}",
                material[host_name],
                names,
                client_auth=env.backups.enabled and env.backup_host() is not None,
            )
            problems += [p for p in check.problems if p not in problems]
            if warnings is not None:
                warnings += check.warnings
    return material, problems
