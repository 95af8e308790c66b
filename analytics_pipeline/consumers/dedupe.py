"""Dropping events a handler has already handled, for handlers that are not idempotent.

Delivery is at least once: a consumer that dies after its handler succeeded but before the ack,
a message taken over from a slow consumer, the relay's rare duplicate and the overlap of a
catch-up from the log all hand an event to a handler again. A :class:`Dedupe` remembers the
``event_id`` of every event handled successfully; the group skips (and acks) an event it has
seen. The event is marked only after the handler returns, so a handler that fails is called
again; a crash between the handler's return and the mark can still repeat one event.
"""

from __future__ import annotations

from typing import Protocol

import redis

DEFAULT_TTL_SECONDS = 7 * 24 * 3600


class Dedupe(Protocol):
    """Remembers handled event ids."""

    def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` was handled successfully before."""
        ...

    def mark(self, event_id: str) -> None:
        """Remember that ``event_id`` was handled successfully."""
        ...


class RedisDedupe:
    """One Redis key per handled event, ``<prefix>:<event_id>``, expiring after ``ttl``.

    The TTL bounds the memory; it should exceed how long a duplicate can arrive after the
    original (the claim timeout, and how far behind a catch-up from the log can start).
    """

    def __init__(
        self, client: redis.Redis, prefix: str, *, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds

    def _key(self, event_id: str) -> str:
        return f"{self.prefix}:{event_id}"

    def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` was marked within the TTL."""
        return bool(self.client.exists(self._key(event_id)))

    def mark(self, event_id: str) -> None:
        """Mark ``event_id`` as handled for the TTL."""
        self.client.set(self._key(event_id), b"1", ex=self.ttl_seconds)


class MemoryDedupe:
    """An in-process set of handled ids, for tests and single short-lived consumers."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` was marked in this process."""
        return event_id in self._seen

    def mark(self, event_id: str) -> None:
        """Mark ``event_id`` as handled."""
        self._seen.add(event_id)
