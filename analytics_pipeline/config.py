"""Typed settings read from the environment and an optional ``.env`` file.

Names follow the original service (``DATABASE_URL``, ``SNAPSHOTS_DIR``, ``ENABLE_SNAPSHOTS``)
plus the Redis ones. Everything is validated at start-up: a bad value or an unknown key in
``.env`` is an error that names the variable, never a crash an hour later.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from croniter import croniter
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from analytics_pipeline.errors import PipelineError
from analytics_pipeline.weights import valid_weights_setting


class ConfigError(PipelineError):
    """Raised when the configuration is invalid; the message names each bad variable."""


class Settings(BaseSettings):
    """Service configuration. Every field maps to the upper-case environment variable."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        case_sensitive=False,
        env_ignore_empty=True,
    )

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/analytics",
        description="PostgreSQL connection URL of the event log.",
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis URL.")
    redis_stream: str = Field(default="analytics:events", min_length=1)
    redis_stream_maxlen: int = Field(default=100_000, ge=1)
    snapshots_dir: Path = Field(default=Path("snapshots"))
    enable_snapshots: bool = True
    snapshot_format: Literal["png", "jpeg", "webp"] = "png"
    snapshot_quality: int = Field(default=90, ge=1, le=100)
    enable_clips: bool = Field(
        default=False,
        description="MP4 clips of events (per camera: clip_events, clip_pre_seconds, "
        "clip_post_seconds), beside the snapshots.",
    )
    detector_weights: str = Field(
        default="",
        description="Local YOLO weights (.pt/.onnx); empty: the COCO CenterNet made at set-up "
        "(models/centernet.onnx).",
    )
    detector_imgsz: int = Field(default=640, ge=64, le=4096, description="YOLO input size.")
    detector_centernet_size: int = Field(
        default=384,
        ge=128,
        le=2048,
        description="CenterNet input, long side (the short side keeps the frame's aspect).",
    )
    detector_device: Literal["cpu", "cuda", "auto"] = Field(
        default="auto", description="cpu, cuda (fails without it) or auto (cuda when present)."
    )
    ocr_engine: Literal["rapidocr", "paddleocr", "none"] = "rapidocr"
    paddleocr_rec_model_dir: Path | None = None
    analyzer_threads: int = Field(
        default=0,
        ge=0,
        description="Intra-op threads of each inference. 0: one per core for torch (.pt "
        "weights) and CenterNet's shared session, one for each camera's session of .onnx "
        "weights.",
    )
    analyzer_buffer_size: int = Field(default=10_000, ge=1)
    camera_lease_seconds: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="Camera lease of an analyzer, renewed every third of it; a dead "
        "analyzer's cameras are taken over within it.",
    )
    thumbnails_dir: Path = Field(default=Path("thumbnails"))
    thumbnail_width: int = Field(default=320, ge=32, le=2048)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="text for people; json: one object per line."
    )
    reports_dir: Path = Field(default=Path("reports"))
    stats_start_date: date | None = Field(
        default=None,
        description="First day of the statistics and report partitions (default "
        "2026-01-01; never read from the database).",
    )

    retention_days: int = Field(default=30, ge=1)
    retention_camera_days: dict[str, int] = Field(default_factory=dict)
    retention_event_type_days: dict[str, int] = Field(default_factory=dict)
    snapshot_quota_bytes: int | None = Field(default=None, ge=0)
    orphan_grace_minutes: int = Field(default=60, ge=0)
    retention_cron: str = "0 3 * * *"
    report_cron: str = "0 6 * * *"

    webhook_senders: int = Field(default=2, ge=1, le=64)
    webhook_max_attempts: int = Field(default=10, ge=1, le=1000)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0)
    consumer_claim_idle_seconds: float = Field(default=30.0, gt=0)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8069, ge=1, le=65535)
    api_keys: str = Field(default="", description="Comma-separated keys that may write.")
    api_reads_need_key: bool = False
    api_production: bool = Field(default=False, description="No GraphiQL, no introspection.")
    api_max_body_bytes: int = Field(default=1_000_000, ge=1024)
    api_max_page_size: int = Field(default=200, ge=1, le=10_000)
    graphql_max_depth: int = Field(default=10, ge=2)
    graphql_max_aliases: int = Field(default=20, ge=0)
    graphql_max_cost: int = Field(default=20_000, ge=1)
    graphql_max_subscribers: int = Field(
        default=1000, ge=1, le=100_000, description="GraphQL subscriptions open at once."
    )
    graphql_subscriber_queue: int = Field(
        default=256, ge=8, le=100_000, description="Messages queued for one slow subscriber."
    )

    @property
    def api_key_set(self) -> frozenset[str]:
        """The configured API keys (empty: writes are refused to everyone)."""
        return frozenset(key.strip() for key in self.api_keys.split(",") if key.strip())

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (e.g. postgresql://127.0.0.1:5432/db)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("detector_weights")
    @classmethod
    def _weights_file(cls, value: str) -> str:
        return valid_weights_setting(value)

    @field_validator("retention_camera_days", "retention_event_type_days")
    @classmethod
    def _positive_days(cls, value: dict[str, int]) -> dict[str, int]:
        if any(days < 1 for days in value.values()):
            raise ValueError("every retention period must be at least 1 day")
        return value

    @field_validator("retention_cron", "report_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError("must be a valid five-field cron expression, e.g. '0 3 * * *'")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def load_settings(env_file: Path | str | None = ".env") -> Settings:
    """Read and validate settings; raise :class:`ConfigError` naming each bad variable."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except SettingsError as exc:
        # A JSON-valued variable that is not JSON: pydantic-settings names the field.
        match = re.search(r'field "(\w+)"', str(exc))
        name = match.group(1).upper() if match else "a setting"
        raise ConfigError(f"invalid configuration:\n  {name}: not valid JSON ({exc})") from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            if error["type"] == "extra_forbidden":
                problems.append(
                    f"{name}: unknown setting (check the spelling against .env.example)"
                )
            else:
                problems.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
