"""Waiting for PostgreSQL and Redis: capped back-off, one log line per change of state.

Long-running services (``serve``, ``analyze``, ``relay``) start whatever the state of their
dependencies and get to work when they answer; one-shot commands fail fast instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
import psycopg_pool
import redis

log = logging.getLogger(__name__)

UNREACHABLE = (psycopg.OperationalError, psycopg_pool.PoolTimeout, redis.RedisError, OSError)
"""What an unreachable PostgreSQL or Redis raises."""


class OutageLog:
    """Logs a dependency going away and coming back once each, not once per retry."""

    def __init__(self, logger: logging.Logger = log) -> None:
        self._down: dict[str, str] = {}
        self._log = logger

    def down(self, what: str, error: BaseException) -> None:
        """``what`` failed; logged only when it was up before."""
        if what not in self._down:
            self._log.warning("waiting for %s: %s", what, str(error).strip() or type(error))
        self._down[what] = str(error)

    def up(self, what: str) -> None:
        """``what`` answered; logged only when it was down before."""
        if self._down.pop(what, None) is not None:
            self._log.info("%s answers again", what)

    @property
    def missing(self) -> list[str]:
        """The dependencies down right now."""
        return sorted(self._down)


def wait_until(
    check: Callable[[], object],
    what: str,
    stop: threading.Event,
    *,
    outages: OutageLog | None = None,
    first_delay: float = 0.5,
    max_delay: float = 10.0,
) -> bool:
    """Call ``check`` until it stops raising an unreachable-service error, backing off up to
    ``max_delay`` seconds; ``True`` once it answers, ``False`` when ``stop`` was set first."""
    outages = outages or OutageLog()
    delay = first_delay
    while not stop.is_set():
        try:
            check()
        except UNREACHABLE as exc:
            outages.down(what, exc)
        else:
            outages.up(what)
            return True
        stop.wait(delay)
        delay = min(delay * 2, max_delay)
    return False


def postgres_answers(url: str) -> None:
    """Raise unless PostgreSQL at ``url`` accepts a connection within 3 s."""
    psycopg.connect(url, connect_timeout=3).close()


def redis_answers(url: str) -> None:
    """Raise unless Redis at ``url`` answers a PING within 3 s."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    finally:
        client.close()
