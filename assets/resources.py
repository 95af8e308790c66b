"""Typed Dagster resources, configured from the service's own environment variables."""

from __future__ import annotations

from pathlib import Path

import redis
from dagster import ConfigurableResource, InitResourceContext
from psycopg_pool import ConnectionPool
from pydantic import PrivateAttr

from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_pool
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.retention import RetentionPolicy
from analytics_pipeline.snapshots import SnapshotStore
from analytics_pipeline.thumbnails import ThumbnailStore


class EventLogResource(ConfigurableResource):
    """The PostgreSQL event log (DATABASE_URL)."""

    database_url: str
    _pool: ConnectionPool | None = PrivateAttr(default=None)

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None:
            self._pool = create_pool(self.database_url, max_size=2)
        return self._pool

    @property
    def event_log(self) -> EventLog:
        return EventLog(self.pool)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class SnapshotsResource(ConfigurableResource):
    """The snapshot, thumbnail and report folders (SNAPSHOTS_DIR, THUMBNAILS_DIR, REPORTS_DIR)."""

    snapshots_dir: str
    thumbnails_dir: str
    reports_dir: str
    thumbnail_width: int = 320

    @property
    def thumbnails(self) -> ThumbnailStore:
        return ThumbnailStore(
            SnapshotStore(Path(self.snapshots_dir)),
            Path(self.thumbnails_dir).resolve(),
            self.thumbnail_width,
        )

    @property
    def reports(self) -> Path:
        return Path(self.reports_dir).resolve()


class RedisResource(ConfigurableResource):
    """The Redis stream the relay publishes to (REDIS_URL, REDIS_STREAM)."""

    redis_url: str
    stream: str

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=5, socket_timeout=10)


class RetentionPolicyResource(ConfigurableResource):
    """The retention policy (RETENTION_DAYS, RETENTION_CAMERA_DAYS, ...)."""

    default_days: int
    camera_days: dict[str, int]
    event_type_days: dict[str, int]
    max_snapshot_bytes: int | None = None
    orphan_grace_minutes: int = 60

    @property
    def policy(self) -> RetentionPolicy:
        from datetime import timedelta

        return RetentionPolicy(
            default_days=self.default_days,
            camera_days=dict(self.camera_days),
            event_type_days=dict(self.event_type_days),
            max_snapshot_bytes=self.max_snapshot_bytes,
            orphan_grace=timedelta(minutes=self.orphan_grace_minutes),
        )


def resources_from_settings(settings: Settings) -> dict[str, ConfigurableResource]:
    """Every resource, configured from the same settings as the service."""
    return {
        "event_log": EventLogResource(database_url=settings.database_url),
        "files": SnapshotsResource(
            snapshots_dir=str(settings.snapshots_dir),
            thumbnails_dir=str(settings.thumbnails_dir),
            reports_dir=str(settings.reports_dir),
            thumbnail_width=settings.thumbnail_width,
        ),
        "stream": RedisResource(redis_url=settings.redis_url, stream=settings.redis_stream),
        "retention_policy": RetentionPolicyResource(
            default_days=settings.retention_days,
            camera_days=settings.retention_camera_days,
            event_type_days=settings.retention_event_type_days,
            max_snapshot_bytes=settings.snapshot_quota_bytes,
            orphan_grace_minutes=settings.orphan_grace_minutes,
        ),
    }
