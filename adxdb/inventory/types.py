"""Domain types of the inventory: each carries its rule and the message that says what is
allowed (a `PydanticCustomError`, inputs hidden), so every field fails one line, one path."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
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

# Settings the deploy owns: an inventory may not override them (they carry the security
# defaults of DESIGN.md decision 6 or are derived from other fields).
MANAGED_SETTINGS = frozenset(
    {
        "ssl",
        "ssl_cert_file",
        "ssl_key_file",
        "ssl_ca_file",
        "ssl_min_protocol_version",
        "password_encryption",
        "hba_file",
        "port",
        "data_directory",
        "archive_mode",
        "archive_command",
    }
)


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
        if not _DNS_NAME.fullmatch(value):
            raise PydanticCustomError(
                "address",
                "'{value}' is not an IP address or a DNS name",
                {"value": value},
            ) from None
    return value


def _check_setting_name(value: str) -> str:
    if not _SETTING_NAME.fullmatch(value):
        raise PydanticCustomError(
            "setting_name",
            "'{value}' is not a valid PostgreSQL setting name",
            {"value": value},
        )
    if value in MANAGED_SETTINGS:
        raise PydanticCustomError(
            "managed_setting",
            "'{value}' is managed by the deploy and cannot be set in the inventory",
            {"value": value},
        )
    return value


def _check_env_var(value: str) -> str:
    if not _ENV_VAR.fullmatch(value):
        raise PydanticCustomError(
            "env_var",
            "is not a valid environment variable name (A-Z, 0-9, _)",
            {},
        )
    return value


PgIdentifier = Annotated[str, AfterValidator(_check_pg_identifier)]
TenantSlug = Annotated[str, AfterValidator(_check_tenant_slug)]
HostName = Annotated[str, AfterValidator(_check_host_name)]
Address = Annotated[str, AfterValidator(_check_address)]
SettingName = Annotated[str, AfterValidator(_check_setting_name)]
EnvVarName = Annotated[str, AfterValidator(_check_env_var)]
Port = Annotated[int, Field(ge=1, le=65535)]
SettingValue = str | int | float | bool
IsolationLevel = Literal["rls", "schema", "database"]
RestartPolicy = Literal["auto", "never"]
HostGroup = Literal["primary", "replica", "backup", "tenant_hosts"]


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


_CRON_FIELD = r"[0-9*/,-]+"
CronSchedule = Annotated[str, Field(pattern=rf"^{_CRON_FIELD}( {_CRON_FIELD}){{4}}$")]
