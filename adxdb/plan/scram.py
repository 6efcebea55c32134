"""SCRAM-SHA-256 verifiers (RFC 5802 / 7677), as PostgreSQL stores them in pg_authid.

The deploy never sends a plaintext password to the server: it computes the verifier here and
compares a wanted password with the stored one by recomputing with the stored salt (PBKDF2,
about a millisecond a role). With the environment's salt key, the salt of a verifier the deploy
sets is derived from the role and its password (`keyed_salt`): the next run recognises a
converged role by its salt alone, without PBKDF2. Without the key the salt tells nothing about
the password; a password set by hand (`ALTER ROLE ... PASSWORD`, a random salt) is checked by
recomputing, as before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

ITERATIONS = 4096
SALT_BYTES = 16


@dataclass(frozen=True)
class StoredVerifier:
    """What the roles fact reports: the salt, the iteration count and a digest of the verifier."""

    iterations: int
    salt: str  # base64, as in the verifier
    # sha256 hex of a per-run key followed by the verifier text: the verifier never travels,
    # and without the key (which is never printed) the digest is no help for guessing.
    digest: str


def _salt() -> bytes:
    return os.urandom(SALT_BYTES)


def verifier(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """Return `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>` for `password`."""
    salt = _salt() if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def keyed_salt(key: str, role: str, password: str) -> bytes:
    """The salt of `role`'s verifier for `password` under the environment's salt `key`."""
    message = b"\0".join((b"adx-scram-salt", role.encode("utf-8"), password.encode("utf-8")))
    return hmac.new(key.encode("utf-8"), message, "sha256").digest()[:SALT_BYTES]


def has_salt(stored: StoredVerifier | None, salt: bytes) -> bool:
    """True when the stored verifier was made with `salt` and the deploy's iteration count."""
    if stored is None or stored.iterations != ITERATIONS:
        return False
    return hmac.compare_digest(stored.salt, base64.b64encode(salt).decode("ascii"))


def digest(verifier_text: str, key: str = "") -> str:
    return hashlib.sha256((key + verifier_text).encode("ascii")).hexdigest()


def matches(password: str, stored: StoredVerifier | None, key: str = "") -> bool:
    """True when `password` hashes, with the stored salt and iterations, to the stored verifier."""
    if stored is None or stored.iterations < 1:
        return False
    try:
        salt = base64.b64decode(stored.salt, validate=True)
    except ValueError:
        return False
    candidate = verifier(password, salt=salt, iterations=stored.iterations)
    return hmac.compare_digest(digest(candidate, key), stored.digest)
