"""The health probe: whether PostgreSQL and Redis answer, on connections of its own.

The probe never borrows from the pools that requests and live clients use, so a server busy
with slow queries or a thousand live clients still reports its dependencies truthfully and at
once. ``/health`` is readiness (the dependencies answer, 503 when one does not); ``/livez``
is liveness (the process serves), which never touches a dependency.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from psycopg_pool import ConnectionPool

from analytics_pipeline.db import create_pool

TIMEOUT_SECONDS = 3


class HealthProbe:
    """A PostgreSQL pool of two and a Redis client of two connections, for checks only."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.pool: ConnectionPool = create_pool(
            database_url, min_size=1, max_size=2, timeout=TIMEOUT_SECONDS, wait=False
        )
        self.redis = aioredis.Redis.from_url(
            redis_url,
            socket_connect_timeout=TIMEOUT_SECONDS,
            socket_timeout=TIMEOUT_SECONDS,
            max_connections=2,
        )

    def _ping_postgres(self) -> None:
        with self.pool.connection(timeout=TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")

    async def check(self) -> dict[str, str]:
        """``{"postgres": "ok" | "error: …", "redis": …}``."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(asyncio.to_thread(self._ping_postgres), TIMEOUT_SECONDS + 1)
            checks["postgres"] = "ok"
        except Exception as exc:
            checks["postgres"] = f"error: {type(exc).__name__}"
        try:
            await asyncio.wait_for(self.redis.ping(), TIMEOUT_SECONDS)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        return checks

    async def close(self) -> None:
        await self.redis.aclose()
        await asyncio.to_thread(self.pool.close)
