"""What every command shares: exit codes, the settings and lazily opened clients."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
import psycopg_pool
import redis

from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_pool
from analytics_pipeline.eventlog import EventLog

EXIT_REJECTED = 1
EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3


def fail(message: str, code: int) -> NoReturn:
    """Print an error and exit with ``code``."""
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


class Context:
    """Settings plus lazily opened clients shared by a command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: psycopg_pool.ConnectionPool | None = None

    @property
    def pool(self) -> psycopg_pool.ConnectionPool:
        """The PostgreSQL pool; exit 3 when PostgreSQL does not answer."""
        if self._pool is None:
            try:
                self._pool = create_pool(self.settings.database_url)
            except psycopg_pool.PoolTimeout:
                fail(
                    f"PostgreSQL at DATABASE_URL={self.settings.database_url} does not answer",
                    EXIT_UNREACHABLE,
                )
        return self._pool

    @property
    def event_log(self) -> EventLog:
        """The event log on :attr:`pool`."""
        return EventLog(self.pool)

    def redis(self) -> redis.Redis:
        """A Redis client that answered a PING; exit 3 when Redis does not answer."""
        client = redis.Redis.from_url(
            self.settings.redis_url, socket_connect_timeout=5, socket_timeout=10
        )
        try:
            client.ping()
        except redis.RedisError as exc:
            fail(
                f"Redis at REDIS_URL={self.settings.redis_url} does not answer: {exc}",
                EXIT_UNREACHABLE,
            )
        return client

    def close(self) -> None:
        """Close what was opened."""
        if self._pool is not None:
            self._pool.close()


pass_context = click.make_pass_decorator(Context)
