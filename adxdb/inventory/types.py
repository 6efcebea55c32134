"""Domain types of the inventory: each carries its rule and the message that says what is
allowed (a `PydanticCustomError`, inputs hidden), so every field fails one line, one path."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from adxdb.contract import TENANT_SLUG_PATTERN

_PG_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_TENANT_SLUG = re.compile(TENANT_SLUG_PATTERN)
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
_ENV_VAR = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _check_pg_identifier(value: str) -> str:
    if not _PG_IDENTIFIER.fullmatch(value):
        raise PydanticCustomError(
            "pg_identifier",
            "'{value}' is not a valid PostgreSQL name (lowercase letters, digits, _; "
            "starts with a letter or _; at most 63 chars)",
            {"value": value},
        )
    return value


def _check_tenant_slug(value: str) -> str:
    if not _TENANT_SLUG.fullmatch(value):
        raise PydanticCustomError(
            "tenant_slug",
            "'{value}' is not a valid tenant slug (lowercase letters, digits, _; "
            "starts with a letter; 2-40 chars)",
            {"value": value},
        )
    return value


def _check_host_name(value: str) -> str:
    if not _HOST_NAME.fullmatch(value):
        raise PydanticCustomError(
            "host_name",
            "'{value}' is not a valid host name (lowercase letters, digits, -; 1-63 chars)",
            {"value": value},
        )
    return value


def _check_address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        # A name whose last label is all digits is no DNS name (RFC 3696): `300.1.2.3` is a
        # mistyped IP address, not a host name.
        if not _DNS_NAME.fullmatch(value) or value.rsplit(".", 1)[-1].isdigit():
            raise PydanticCustomError(
                "address",
                "'{value}' is not an IP address or a DNS name",
                {"value": value},
            ) from None
    return value


def _check_network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A network in CIDR form; a wrong one says what is wrong, never pydantic's internals."""
    if not isinstance(value, str):
        raise PydanticCustomError(
            "network", "must be a network in CIDR form (e.g. 10.1.0.0/16), as text", {}
        )
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise PydanticCustomError(
            "network",
            "'{value}' is not a network in CIDR form (e.g. 10.1.0.0/16)",
            {"value": value},
        ) from None
    raise PydanticCustomError(
        "network",
        "'{value}' has host bits set; did you mean {loose}?",
        {"value": value, "loose": str(loose)},
    )


def _check_ipv4_network(value: object) -> ipaddress.IPv4Network:
    network = _check_network(value)
    if not isinstance(network, ipaddress.IPv4Network):
        raise PydanticCustomError("network", "must be an IPv4 network (e.g. 172.30.10.0/24)", {})
    return network


def _check_setting_name(value: str) -> str:
    if not _SETTING_NAME.fullmatch(value):
        raise PydanticCustomError(
            "setting_name",
            "'{value}' is not a valid PostgreSQL setting name",
            {"value": value},
        )
    return value


# Names PostgreSQL keeps for itself: roles `pg_*` and `postgres`, the template databases.
RESERVED_ROLE_NAMES = frozenset({"postgres", "public", "none", "current_user", "session_user"})
RESERVED_DATABASE_NAMES = frozenset({"postgres", "template0", "template1"})


def _check_role_name(value: str) -> str:
    value = _check_pg_identifier(value)
    if value.startswith("pg_") or value in RESERVED_ROLE_NAMES:
        raise PydanticCustomError(
            "reserved_role",
            "'{value}' is a name PostgreSQL reserves (pg_*, postgres, public): choose another",
            {"value": value},
        )
    return value


def _check_database_name(value: str) -> str:
    value = _check_pg_identifier(value)
    if value in RESERVED_DATABASE_NAMES:
        raise PydanticCustomError(
            "reserved_database",
            "'{value}' is a database PostgreSQL keeps (postgres, template0, template1): "
            "choose another",
            {"value": value},
        )
    return value


# PostgreSQL's integer settings and limits are 32-bit.
INT32_MAX = 2_147_483_647
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|min|h|d)?\s*$")
_DURATION_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000, None: 1}


def duration_milliseconds(value: str) -> int:
    """A checked duration (see `Duration`) in milliseconds."""
    match = _DURATION.fullmatch(value)
    assert match is not None, value
    return int(match[1]) * _DURATION_MS[match[2]]


def duration_seconds(value: str) -> int:
    """A checked duration (see `Duration`) in whole seconds, at least 1."""
    return max(1, duration_milliseconds(value) // 1000)


def duration_between(low: str, high: str) -> AfterValidator:
    """A `Duration` refused outside [low, high] (both durations, as the message shows them)."""
    low_ms, high_ms = duration_milliseconds(low), duration_milliseconds(high)

    def check(value: str) -> str:
        if not low_ms <= duration_milliseconds(value) <= high_ms:
            raise PydanticCustomError(
                "duration_range",
                "must be between {low} and {high}; got {value}",
                {"low": low, "high": high, "value": value},
            )
        return value

    return AfterValidator(check)


def _check_duration(value: object) -> str:
    """A PostgreSQL interval for a timeout setting: a whole number with an optional unit (ms,
    s, min, h, d; none means ms), at most PostgreSQL's limit (2147483647 ms, about 24.8 days)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise PydanticCustomError(
            "duration",
            "must be a whole number with an optional unit ms, s, min, h or d (e.g. 10s, 30min)",
            {},
        )
    milliseconds = int(match[1]) * _DURATION_MS[match[2]]
    if milliseconds > INT32_MAX:
        raise PydanticCustomError(
            "duration",
            "'{value}' is more than PostgreSQL allows (2147483647 ms, about 24 days)",
            {"value": text},
        )
    return str(text).strip()


_CRON_RANGES: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_CRON_ITEM = re.compile(r"^(\*|\d+(?:-\d+)?)(?:/(\d+))?$")


def _check_cron(value: object) -> str:
    """Five cron fields (minute hour day-of-month month day-of-week), each `*`, a number, a
    range `a-b`, a step `/n` or a comma list of those, every number inside its field's range."""
    fields = value.split() if isinstance(value, str) else []
    if len(fields) != 5 or any(ord(c) < 32 and c != " " for c in str(value)):
        raise PydanticCustomError(
            "cron", "must be five cron fields: minute hour day-of-month month day-of-week", {}
        )
    for text, (what, low, high) in zip(fields, _CRON_RANGES, strict=True):
        for item in text.split(","):
            match = _CRON_ITEM.fullmatch(item)
            if match is None or match[2] == "0":
                raise PydanticCustomError(
                    "cron",
                    "{what} field '{text}' is not *, a number, a range a-b or a step /n",
                    {"what": what, "text": text},
                )
            numbers = [int(n) for n in match[1].split("-")] if match[1] != "*" else []
            if any(not low <= n <= high for n in numbers) or numbers != sorted(numbers):
                raise PydanticCustomError(
                    "cron",
                    "{what} field '{text}' is outside {low}-{high}",
                    {"what": what, "text": text, "low": low, "high": high},
                )
    return " ".join(fields)


# Folders a repository must never be put in (or be): the system's own.
SYSTEM_FOLDERS = frozenset(
    "/ /bin /boot /dev /etc /home /lib /lib64 /opt /proc /root /run /sbin /srv /sys /tmp /usr "
    "/var /var/lib /var/log /var/lib/postgresql /var/run /var/tmp".split()
)


def _check_repo_path(value: str) -> str:
    parts = value.split("/")
    if not value.startswith("/") or ".." in parts or "." in parts or "//" in value:
        raise PydanticCustomError(
            "repo_path",
            "'{value}' must be an absolute folder path without '.' or '..' parts",
            {"value": value},
        )
    normalized = value.rstrip("/") or "/"
    if normalized in SYSTEM_FOLDERS or any(
        normalized.startswith(prefix + "/")
        for prefix in ("/etc", "/usr", "/bin", "/sbin", "/proc", "/sys", "/dev", "/boot")
    ):
        raise PydanticCustomError(
            "repo_path",
            "'{value}' is a system folder: give a folder of its own (e.g. /var/lib/pgbackrest)",
            {"value": value},
        )
    if not re.fullmatch(r"[A-Za-z0-9_./-]+", value):
        raise PydanticCustomError(
            "repo_path", "'{value}' may hold only letters, digits, _ . / -", {"value": value}
        )
    return normalized


def _check_env_var(value: str) -> str:
    if not _ENV_VAR.fullmatch(value):
        raise PydanticCustomError(
            "env_var",
            "is not a valid environment variable name (A-Z, 0-9, _)",
            {},
        )
    return value


PgIdentifier = Annotated[str, AfterValidator(_check_pg_identifier)]
RoleName = Annotated[str, AfterValidator(_check_role_name)]
DatabaseName = Annotated[str, AfterValidator(_check_database_name)]
ConnectionLimit = Annotated[int, Field(ge=-1, le=INT32_MAX)]
Duration = Annotated[str, BeforeValidator(_check_duration)]
Network = Annotated[ipaddress.IPv4Network | ipaddress.IPv6Network, PlainValidator(_check_network)]
IPv4Network = Annotated[ipaddress.IPv4Network, PlainValidator(_check_ipv4_network)]
RepoPath = Annotated[str, AfterValidator(_check_repo_path)]
TenantSlug = Annotated[str, AfterValidator(_check_tenant_slug)]
HostName = Annotated[str, AfterValidator(_check_host_name)]
Address = Annotated[str, AfterValidator(_check_address)]
SettingName = Annotated[str, AfterValidator(_check_setting_name)]
EnvVarName = Annotated[str, AfterValidator(_check_env_var)]
Port = Annotated[int, Field(ge=1, le=65535)]
SettingValue = str | int | float | bool
IsolationLevel = Literal["rls", "schema", "database"]
RestartPolicy = Literal["auto", "never"]
HostGroup = Literal["primary", "main", "replica", "backup", "tenant_hosts"]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class SecretSource(Frozen):
    """Where one secret comes from: an environment variable or a file (never the YAML itself)."""

    env: EnvVarName | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        if (self.env is None) == (self.file is None):
            raise PydanticCustomError("secret_source", "give exactly one of 'env' or 'file'", {})
        return self


CronSchedule = Annotated[str, PlainValidator(_check_cron)]
