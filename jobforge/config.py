"""Settings, read from the environment with the `JOBFORGE_` prefix (pydantic-settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobforge.domain.backoff import Backoff


class Settings(BaseSettings):
    """Every knob of jobforge; see the configuration table in the README."""

    model_config = SettingsConfigDict(env_prefix="JOBFORGE_", extra="ignore")

    database_url: str = "sqlite:///./jobforge.db"
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    concurrency: int = Field(default=10, ge=1, le=10_000)
    queues: str = "default,emails,reports,images"
    lease_seconds: float = Field(default=30.0, gt=0)
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    shutdown_grace_seconds: float = Field(default=30.0, ge=0)
    poll_interval_seconds: float = Field(default=0.05, gt=0)
    rescue_interval_seconds: float = Field(default=5.0, gt=0)
    default_max_attempts: int = Field(default=3, ge=1)
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    retention_seconds: float = Field(default=7 * 24 * 3600.0, gt=0)

    max_payload_bytes: int = Field(default=262_144, ge=1)
    rate_limit_tenant_per_second: float = Field(default=100.0, gt=0)
    rate_limit_tenant_burst: int = Field(default=200, ge=1)
    rate_limit_ip_per_minute: int = Field(default=1200, ge=1)
    rate_limit_fail_open: bool = True

    secret_key: str | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        scheme = url.split("://", 1)[0].split("+", 1)[0]
        if scheme not in {"sqlite", "postgres", "postgresql"}:
            raise ValueError(
                f"database_url must be sqlite:///PATH or postgresql://..., got scheme {scheme!r}"
            )
        return url

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        if self.heartbeat_seconds >= self.lease_seconds:
            raise ValueError(
                f"heartbeat_seconds ({self.heartbeat_seconds}) must be shorter than "
                f"lease_seconds ({self.lease_seconds}), or leases expire between heartbeats"
            )
        return self

    @property
    def queue_list(self) -> list[str]:
        return [q.strip() for q in self.queues.split(",") if q.strip()]

    @property
    def backoff(self) -> Backoff:
        return Backoff(base=self.backoff_base_seconds, cap=self.backoff_max_seconds)
