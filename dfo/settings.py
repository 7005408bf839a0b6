"""Settings: `DFO_*` environment variables, then an optional `dfo.toml`, then defaults.

The TOML file is `$DFO_CONFIG` when set, else `./dfo.toml` when it exists. Keys are the field
names below (`database_url = "..."`). Passwords in URLs are masked in every repr.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from dfo.redact import mask_url, url_password


def default_home() -> Path:
    """`$XDG_DATA_HOME/dfo`, i.e. `~/.local/share/dfo` on most systems."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dfo"


def config_file() -> Path | None:
    explicit = os.environ.get("DFO_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("dfo.toml")
    return local if local.is_file() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DFO_", extra="ignore", env_ignore_empty=True)

    home: Path = Field(default_factory=default_home, description="Data directory.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file `dfo.db` in home."
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL; default: embedded redis-server on a unix socket."
    )
    connect_retries: int = Field(default=10, ge=1, description="Tries for the first connect.")
    connect_retry_delay: float = Field(default=5.0, ge=0, description="Seconds between tries.")
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    log_level: str = "INFO"
    log_format: str = Field(
        default="auto",
        pattern="^(auto|json|text)$",
        description="Worker logs: json, text, or auto (text on a terminal).",
    )

    # Worker and queue (DESIGN.md section 2).
    queue: str = Field(default="dfo:queue", description="arq queue name.")
    concurrency: int = Field(default=5, ge=1, description="Jobs one worker runs at once.")
    job_timeout: float = Field(default=3600, gt=0, description="Seconds before a job fails.")
    max_tries: int = Field(default=3, ge=1, description="Attempts for transient failures.")
    retry_backoff: float = Field(default=1.0, ge=0, description="First retry delay (s).")
    retry_backoff_max: float = Field(default=60.0, ge=0, description="Longest retry delay (s).")
    shutdown_grace: float = Field(default=30.0, ge=0, description="SIGTERM grace for jobs (s).")
    heartbeat_interval: float = Field(default=2.0, gt=0, description="Job heartbeat (s).")
    stall_timeout: float = Field(default=8.0, gt=0, description="No heartbeat this long = dead.")
    reconcile_interval: float = Field(default=5.0, gt=0, description="Reaper/reconciler period.")
    event_retention: int = Field(default=86400, ge=60, description="Replay log kept after end (s).")
    poll_delay: float = Field(default=0.2, gt=0, description="Worker queue poll period (s).")

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'dfo.db'}"

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def secrets(self) -> list[str | None]:
        """Values that must never be printed."""
        return [url_password(self.database_url), url_password(self.redis_url)]

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name in ("database_url", "redis_url") and isinstance(value, str):
                yield name, mask_url(value)
            else:
                yield name, value

    def describe(self) -> dict[str, object]:
        """Settings as shown to users (passwords masked)."""
        return {
            "home": str(self.home),
            "database_url": mask_url(self.effective_database_url),
            "redis_url": mask_url(self.redis_url) if self.redis_url else "embedded",
            "connect_retries": self.connect_retries,
            "connect_retry_delay": self.connect_retry_delay,
        }
