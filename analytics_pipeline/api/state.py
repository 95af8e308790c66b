"""What every request handler shares: settings and the stores, opened once per app."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from analytics_pipeline.cameras import CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.snapshots import SnapshotStore
from analytics_pipeline.thumbnails import ThumbnailStore


@dataclass(frozen=True)
class AppState:
    """The service's stores, shared by GraphQL, REST and image routes."""

    settings: Settings
    event_log: EventLog
    cameras: CameraRegistry
    thumbnails: ThumbnailStore
    redis: aioredis.Redis

    @property
    def snapshots(self) -> SnapshotStore:
        """The snapshot store (the thumbnail store's source)."""
        return self.thumbnails.snapshots
