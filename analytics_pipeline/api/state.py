"""What every request handler shares: settings and the stores, opened once per app."""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from analytics_pipeline.api.gql.cache import DocumentCache
from analytics_pipeline.api.health import HealthProbe
from analytics_pipeline.api.hub import LiveHub
from analytics_pipeline.api.readiness import DependencyWatch
from analytics_pipeline.cameras import CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.snapshots import SnapshotStore
from analytics_pipeline.thumbnails import ThumbnailStore


@dataclass(frozen=True)
class AppState:
    """The service's stores, shared by GraphQL, REST and image routes.

    ``health`` has its own PostgreSQL and Redis connections, so a busy server still answers
    its health checks and ``dependencies`` says what it still waits for; ``live`` is the one
    Redis reader that feeds every live client;
    ``graphql_limiter`` bounds how many GraphQL requests run in worker threads at once.
    """

    settings: Settings
    event_log: EventLog
    cameras: CameraRegistry
    thumbnails: ThumbnailStore
    live: LiveHub
    health: HealthProbe
    documents: DocumentCache
    graphql_limiter: anyio.CapacityLimiter
    dependencies: DependencyWatch | None = None

    @property
    def snapshots(self) -> SnapshotStore:
        """The snapshot store (the thumbnail store's source)."""
        return self.thumbnails.snapshots
