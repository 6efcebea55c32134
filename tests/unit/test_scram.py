"""SCRAM-SHA-256 verifiers, checked against RFC 7677's exchange and an independent computation."""

from __future__ import annotations

import base64
import hashlib
import hmac
from unittest import mock

from adxdb.plan import scram

# RFC 7677, section 3: user "user", password "pencil".
RFC_SALT = "W22ZaJ0SNY7soEsUEjb6gQ=="
RFC_CLIENT_FIRST_BARE = "n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_FIRST = (
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
RFC_CLIENT_FINAL_WITHOUT_PROOF = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC_CLIENT_PROOF = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
RFC_SERVER_SIGNATURE = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

SALT = b"adx-unit-salt-16"


def _keys(verifier_text: str) -> tuple[str, bytes, bytes]:
    """Split `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`."""
    mechanism, params, keys = verifier_text.split("$")
    assert mechanism == "SCRAM-SHA-256"
    stored_key, server_key = (base64.b64decode(key) for key in keys.split(":"))
    return params, stored_key, server_key


def _stored(verifier_text: str) -> scram.StoredVerifier:
    """What the roles fact reports for a stored verifier."""
    params = verifier_text.split("$")[1]
    iterations, salt = params.split(":")
    return scram.StoredVerifier(
        iterations=int(iterations),
        salt=salt,
        digest=hashlib.sha256(verifier_text.encode()).hexdigest(),
    )


def test_verifier_authenticates_the_rfc_7677_exchange() -> None:
    """A server holding our verifier accepts the RFC's client proof and signs like the RFC."""
    params, stored_key, server_key = _keys(
        scram.verifier("pencil", salt=base64.b64decode(RFC_SALT))
    )
    assert params == f"4096:{RFC_SALT}"
    auth_message = ",".join(
        (RFC_CLIENT_FIRST_BARE, RFC_SERVER_FIRST, RFC_CLIENT_FINAL_WITHOUT_PROOF)
    ).encode()
    client_signature = hmac.new(stored_key, auth_message, "sha256").digest()
    proof = base64.b64decode(RFC_CLIENT_PROOF)
    client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
    assert hashlib.sha256(client_key).digest() == stored_key
    server_signature = hmac.new(server_key, auth_message, "sha256").digest()
    assert base64.b64encode(server_signature).decode() == RFC_SERVER_SIGNATURE


def test_verifier_is_the_rfc_5802_key_derivation() -> None:
    salted = hashlib.pbkdf2_hmac("sha256", b"correct horse", SALT, 4096)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    expected = "SCRAM-SHA-256$4096:{}${}:{}".format(
        base64.b64encode(SALT).decode(),
        base64.b64encode(hashlib.sha256(client_key).digest()).decode(),
        base64.b64encode(hmac.new(salted, b"Server Key", hashlib.sha256).digest()).decode(),
    )
    assert scram.verifier("correct horse", salt=SALT) == expected


def test_verifier_uses_a_fresh_16_byte_salt_by_default() -> None:
    first, second = scram.verifier("same"), scram.verifier("same")
    assert first != second
    salt = base64.b64decode(first.split("$")[1].split(":")[1])
    assert len(salt) == scram.SALT_BYTES == 16


def test_default_salt_comes_from_the_salt_function() -> None:
    with mock.patch("adxdb.plan.scram._salt", return_value=SALT):
        assert scram.verifier("pw") == scram.verifier("pw", salt=SALT)


def test_digest_is_sha256_hex_of_the_verifier_text() -> None:
    text = scram.verifier("pw", salt=SALT)
    assert scram.digest(text) == hashlib.sha256(text.encode("ascii")).hexdigest()


def test_matches_the_same_password() -> None:
    assert scram.matches("s3cret", _stored(scram.verifier("s3cret", salt=SALT)))


def test_matches_honours_the_stored_iteration_count() -> None:
    stored = _stored(scram.verifier("s3cret", salt=SALT, iterations=8192))
    assert stored.iterations == 8192
    assert scram.matches("s3cret", stored)


def test_does_not_match_another_password() -> None:
    assert not scram.matches("s3cret!", _stored(scram.verifier("s3cret", salt=SALT)))


def test_does_not_match_when_nothing_is_stored() -> None:
    assert not scram.matches("s3cret", None)


def test_does_not_match_a_salt_that_is_not_base64() -> None:
    stored = scram.StoredVerifier(iterations=4096, salt="not base64!", digest="0" * 64)
    assert not scram.matches("s3cret", stored)


def test_does_not_match_a_non_scram_stored_password() -> None:
    """The roles fact reports an md5 (or other non-SCRAM) password with this shape."""
    stored = scram.StoredVerifier(iterations=0, salt="", digest="not-scram")
    assert not scram.matches("s3cret", stored)


def test_a_keyed_digest_is_no_help_without_the_key() -> None:
    """The roles fact hashes each verifier with a key of the run, never printed: its digest
    matches the right password only with that key."""
    salt = b"0123456789abcdef"
    stored_text = scram.verifier("right-password", salt=salt)
    keyed = scram.StoredVerifier(
        4096, base64.b64encode(salt).decode(), scram.digest(stored_text, "k1")
    )
    assert scram.matches("right-password", keyed, "k1")
    assert not scram.matches("right-password", keyed, "k2")  # twin: another key fails
    assert not scram.matches("right-password", keyed)  # and so does no key
    assert not scram.matches("wrong-password", keyed, "k1")


def test_the_roles_fact_masks_its_key_in_what_pyinfra_prints() -> None:
    from operations.facts import PgRoles
    from operations.psql import hidden

    command = PgRoles().command(port=5432, digest_key=hidden("c0ffee42"))
    assert "c0ffee42" not in str(command)
    assert "*MASKED*" in str(command)
    assert "adx_digest_key=c0ffee42" in command.get_raw_value()


def test_a_keyed_salt_is_16_bytes_fixed_by_key_role_and_password() -> None:
    salt = scram.keyed_salt("k1", "adx_app", "pw")
    assert len(salt) == scram.SALT_BYTES
    assert scram.keyed_salt("k1", "adx_app", "pw") == salt
    # twins: each input changes it
    assert scram.keyed_salt("k2", "adx_app", "pw") != salt
    assert scram.keyed_salt("k1", "adx_readonly", "pw") != salt
    assert scram.keyed_salt("k1", "adx_app", "pw2") != salt
    # the separator keeps (role, password) pairs apart: "a\0b" + "c" is not "a" + "b\0c"
    assert scram.keyed_salt("k1", "ab", "c") != scram.keyed_salt("k1", "a", "bc")


def test_has_salt_wants_the_salt_and_the_deploy_iteration_count() -> None:
    salt = scram.keyed_salt("k1", "adx_app", "pw")
    assert scram.has_salt(_stored(scram.verifier("pw", salt=salt)), salt)
    assert not scram.has_salt(_stored(scram.verifier("pw", salt=SALT)), salt)
    assert not scram.has_salt(_stored(scram.verifier("pw", salt=salt, iterations=8192)), salt)
    assert not scram.has_salt(None, salt)
