"""Application-side database settings, from `DATABASE_URL` and the `DB_*` variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from adxdb.contract import POOL_DEFAULTS

__all__ = ["POOL_DEFAULTS", "DatabaseSettings"]


class DatabaseSettings(BaseSettings):
    """Pool settings of an ADX service; each field reads the environment variable of its alias."""

    model_config = SettingsConfigDict(frozen=True, hide_input_in_errors=True, extra="ignore")

    database_url: str = Field(alias="DATABASE_URL", repr=False)  # it holds the password
    max_connections: int = Field(default=20, ge=1, alias="DB_MAX_CONNECTIONS")
    min_connections: int = Field(default=1, ge=0, alias="DB_MIN_CONNECTIONS")
    acquire_timeout_seconds: float = Field(default=30, gt=0, alias="DB_ACQUIRE_TIMEOUT_SECONDS")
    idle_timeout_seconds: float = Field(default=600, gt=0, alias="DB_IDLE_TIMEOUT_SECONDS")
    max_lifetime_seconds: float = Field(default=1800, gt=0, alias="DB_MAX_LIFETIME_SECONDS")
