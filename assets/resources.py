"""Typed Dagster resources, each named after what it owns.

Dagster builds them for a run or a sensor tick; a field left unset is read then from the
service's own settings (DATABASE_URL, SNAPSHOTS_DIR, ...), never when the code location is
imported, so the definitions hold no configuration value and no secret.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource, InitResourceContext
from psycopg_pool import ConnectionPool
from pydantic import PrivateAttr

from analytics_pipeline.config import Settings, get_settings
from analytics_pipeline.db import create_pool
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.retention import RetentionPolicy
from analytics_pipeline.snapshots import SnapshotStore
from analytics_pipeline.thumbnails import ThumbnailStore

if TYPE_CHECKING:
    import redis


def _or_setting(value: object, name: str) -> Any:
    """``value``, or the service's setting ``name`` when unset (read at run time)."""
    return value if value is not None else getattr(get_settings(), name)


class EventLogResource(ConfigurableResource):
    """The PostgreSQL event log (default: DATABASE_URL)."""

    database_url: str | None = None
    _pool: ConnectionPool | None = PrivateAttr(default=None)

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None:
            self._pool = create_pool(_or_setting(self.database_url, "database_url"), max_size=2)
        return self._pool

    @property
    def event_log(self) -> EventLog:
        return EventLog(self.pool)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class SnapshotsResource(ConfigurableResource):
    """The snapshot folder and the thumbnails made from it (default: SNAPSHOTS_DIR,
    THUMBNAILS_DIR, THUMBNAIL_WIDTH)."""

    snapshots_dir: str | None = None
    thumbnails_dir: str | None = None
    thumbnail_width: int | None = None

    @property
    def thumbnails(self) -> ThumbnailStore:
        return ThumbnailStore(
            SnapshotStore(Path(_or_setting(self.snapshots_dir, "snapshots_dir"))),
            Path(_or_setting(self.thumbnails_dir, "thumbnails_dir")).resolve(),
            _or_setting(self.thumbnail_width, "thumbnail_width"),
        )


class ReportsResource(ConfigurableResource):
    """The folder of the daily reports (default: REPORTS_DIR)."""

    reports_dir: str | None = None

    @property
    def folder(self) -> Path:
        return Path(_or_setting(self.reports_dir, "reports_dir")).resolve()


class RedisResource(ConfigurableResource):
    """The Redis stream the relay publishes to (default: REDIS_URL, REDIS_STREAM)."""

    redis_url: str | None = None
    stream: str | None = None

    @property
    def stream_key(self) -> str:
        return _or_setting(self.stream, "redis_stream")

    def client(self) -> redis.Redis:
        import redis  # when a run needs it: the code location loads faster

        url = _or_setting(self.redis_url, "redis_url")
        return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)


class RetentionPolicyResource(ConfigurableResource):
    """The retention policy (default: RETENTION_DAYS, RETENTION_CAMERA_DAYS,
    RETENTION_EVENT_TYPE_DAYS, SNAPSHOT_QUOTA_BYTES, ORPHAN_GRACE_MINUTES)."""

    default_days: int | None = None
    camera_days: dict[str, int] | None = None
    event_type_days: dict[str, int] | None = None
    max_snapshot_bytes: int | None = None
    """No quota when unset here and in SNAPSHOT_QUOTA_BYTES."""
    orphan_grace_minutes: int | None = None

    @property
    def policy(self) -> RetentionPolicy:
        quota = self.max_snapshot_bytes
        return RetentionPolicy(
            default_days=_or_setting(self.default_days, "retention_days"),
            camera_days=dict(_or_setting(self.camera_days, "retention_camera_days")),
            event_type_days=dict(_or_setting(self.event_type_days, "retention_event_type_days")),
            max_snapshot_bytes=_or_setting(quota, "snapshot_quota_bytes"),
            orphan_grace=timedelta(
                minutes=_or_setting(self.orphan_grace_minutes, "orphan_grace_minutes")
            ),
        )


def default_resources() -> dict[str, ConfigurableResource]:
    """The code location's resources: every value read from the settings at run time."""
    return {
        "event_log": EventLogResource(),
        "snapshots": SnapshotsResource(),
        "reports": ReportsResource(),
        "stream": RedisResource(),
        "retention_policy": RetentionPolicyResource(),
    }


def resources_from_settings(settings: Settings) -> dict[str, ConfigurableResource]:
    """Every resource with the values of ``settings`` (tests, scripts)."""
    return {
        "event_log": EventLogResource(database_url=settings.database_url),
        "snapshots": SnapshotsResource(
            snapshots_dir=str(settings.snapshots_dir),
            thumbnails_dir=str(settings.thumbnails_dir),
            thumbnail_width=settings.thumbnail_width,
        ),
        "reports": ReportsResource(reports_dir=str(settings.reports_dir)),
        "stream": RedisResource(redis_url=settings.redis_url, stream=settings.redis_stream),
        "retention_policy": RetentionPolicyResource(
            default_days=settings.retention_days,
            camera_days=settings.retention_camera_days,
            event_type_days=settings.retention_event_type_days,
            max_snapshot_bytes=settings.snapshot_quota_bytes,
            orphan_grace_minutes=settings.orphan_grace_minutes,
        ),
    }
