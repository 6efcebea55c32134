"""TLS material: supplied files (staging, prod) are checked before any host is touched, and a
regenerated CA (local, test) reissues the server certificates it no longer signs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from adxdb.inventory.tls import (
    ServerTLS,
    check_server_material,
    common_name,
    ensure_ca,
    ensure_server_cert,
)
from tests.unit.test_inventory import base, problems_of

NAMES = ["10.0.0.10", "db1.example.internal"]


def _material(directory: Path, names: list[str] = NAMES) -> ServerTLS:
    return ensure_server_cert(directory, "prod", "db1", names)


def test_good_material_passes(tmp_path: Path) -> None:
    check = check_server_material("hosts.db1", _material(tmp_path), NAMES)
    assert check.problems == [] and check.warnings == []


def test_a_file_that_is_not_pem_is_refused(tmp_path: Path) -> None:
    good = _material(tmp_path)
    bad = ServerTLS(good.ca_pem, "-----BEGIN NOTHING-----\n", good.key_pem)
    assert check_server_material("hosts.db1", bad, NAMES).problems == [
        "hosts.db1.tls_cert_file: is not a PEM certificate"
    ]
    bad_key = ServerTLS(good.ca_pem, good.cert_pem, "not a key")
    assert check_server_material("hosts.db1", bad_key, NAMES).problems == [
        "hosts.db1.tls_key_file: is not an unencrypted PEM private key"
    ]


def test_a_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    good = _material(tmp_path / "a")
    other = ensure_server_cert(tmp_path / "a", "prod", "db2", NAMES)
    mixed = ServerTLS(good.ca_pem, good.cert_pem, other.key_pem)
    assert check_server_material("hosts.db1", mixed, NAMES).problems == [
        "hosts.db1.tls_key_file: does not match the certificate's public key"
    ]


def test_a_certificate_of_another_ca_is_refused(tmp_path: Path) -> None:
    good = _material(tmp_path / "a")
    foreign = _material(tmp_path / "b")  # a CA of its own
    mixed = ServerTLS(good.ca_pem, foreign.cert_pem, foreign.key_pem)
    assert check_server_material("hosts.db1", mixed, NAMES).problems == [
        "hosts.db1.tls_cert_file: is not issued by tls.ca_file"
    ]


def test_a_certificate_that_does_not_name_the_host_is_refused(tmp_path: Path) -> None:
    material = _material(tmp_path, ["10.0.0.10"])
    assert check_server_material("hosts.db1", material, NAMES).problems == [
        "hosts.db1.tls_cert_file: does not name db1.example.internal (subjectAltName)"
    ]


def test_an_expired_certificate_is_refused_and_a_near_one_warned(tmp_path: Path) -> None:
    material = _material(tmp_path)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=500)
    expired = check_server_material("hosts.db1", material, NAMES, now=later)
    assert expired.problems[0].startswith("hosts.db1.tls_cert_file: expired on ")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=380)
    near = check_server_material("hosts.db1", material, NAMES, now=soon)
    assert near.problems == []
    assert len(near.warnings) == 1 and "in less than 30 days" in near.warnings[0]


def test_the_loader_refuses_bad_supplied_files_one_line_each(tmp_path: Path) -> None:
    good = _material(tmp_path / "tls", ["10.0.0.10"])
    assert good.cert_pem
    data = base(tls={"mode": "files", "ca_file": str(tmp_path / "tls" / "ca.crt")})
    data["hosts"]["pg1"].update(
        {
            "dns_names": ["pg1.example.internal"],
            "tls_cert_file": str(tmp_path / "tls" / "db1.crt"),
            "tls_key_file": str(tmp_path / "tls" / "db1.key"),
        }
    )
    path = tmp_path / "test.yml"
    path.write_text(yaml.safe_dump({**data, "state_dir": str(tmp_path / "state")}))
    assert problems_of(path) == [
        "hosts.pg1.tls_cert_file: does not name pg1.example.internal (subjectAltName)"
    ]


def test_a_regenerated_ca_reissues_the_server_certificates(tmp_path: Path) -> None:
    first = _material(tmp_path)
    for name in ("ca.crt", "ca.key"):
        (tmp_path / name).unlink()
    ensure_ca(tmp_path, "prod")  # a new CA with the same name
    again = _material(tmp_path)
    assert again.ca_pem != first.ca_pem
    assert again.cert_pem != first.cert_pem
    assert check_server_material("hosts.db1", again, NAMES).problems == []


def test_an_unchanged_ca_keeps_the_server_certificate(tmp_path: Path) -> None:
    """Negative twin: without a new CA nothing is reissued."""
    first = _material(tmp_path)
    assert _material(tmp_path).cert_pem == first.cert_pem


def _server_only_certificate(directory: Path) -> ServerTLS:
    """A supplied certificate for serverAuth only (no clientAuth): fine for PostgreSQL alone."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert, ca_key = ensure_ca(directory, "prod")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "db1")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in NAMES]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return ServerTLS(ca_cert.public_bytes(pem).decode(), cert.public_bytes(pem).decode(), key_pem)


def test_with_a_backup_host_a_certificate_must_allow_client_auth(tmp_path: Path) -> None:
    server_only = _server_only_certificate(tmp_path)
    assert check_server_material("hosts.db1", server_only, NAMES).problems == []
    assert check_server_material("hosts.db1", server_only, NAMES, client_auth=True).problems == [
        "hosts.db1.tls_cert_file: its extended key usage lacks clientAuth (pgBackRest's TLS "
        "connections between the hosts and the backup host need it)"
    ]
    # The generated certificates allow both, and carry the host's name as common name.
    generated = _material(tmp_path / "generated")
    assert check_server_material("hosts.db1", generated, NAMES, client_auth=True).problems == []
    assert common_name(generated.cert_pem) == "db1"


def test_a_generated_certificate_names_an_address_as_a_dns_name_too(tmp_path: Path) -> None:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(_material(tmp_path).cert_pem.encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    # libpq matches the IP entry; pgBackRest 2.45 only DNS names and the common name.
    assert "10.0.0.10" in [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    assert "10.0.0.10" in san.get_values_for_type(x509.DNSName)


def test_a_certificate_without_client_auth_is_issued_again(tmp_path: Path) -> None:
    first = _material(tmp_path)
    assert _material(tmp_path).cert_pem == first.cert_pem  # kept while it is right
    old = _server_only_certificate(tmp_path)
    (tmp_path / "db1.crt").write_text(old.cert_pem)
    (tmp_path / "db1.key").write_text(old.key_pem)
    assert _material(tmp_path).cert_pem != old.cert_pem
