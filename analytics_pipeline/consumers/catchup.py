"""Catch-up from the log: a group whose position fell behind the stream's trim reads the
missing range from PostgreSQL by position, then continues on the stream.

The range is every event after the group's recorded cursor and before the cursor of the
stream's first entry, in commit-safe order (:meth:`EventLog.read_after`), which is the order
the relay publishes in. One consumer of the group reads it at a time, under a Redis lock that
expires after the claim timeout, so a consumer that dies half-way is replaced; the cursor is
recorded after every batch, so its successor resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis
from redis.exceptions import LockError

from analytics_pipeline.consumers import scripts
from analytics_pipeline.consumers.message import StreamMessage, parse_stream_id
from analytics_pipeline.eventlog import Cursor, EventLog, format_cursor, parse_cursor

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The handler raised during a catch-up: it stopped there and resumes from that event."""


@dataclass(frozen=True)
class Gap:
    """The group's last message is older than the stream's first: the log fills the gap."""

    last_id: str
    first_id: str
    first_cursor: Cursor | None
    """Where the stream's first entry sits in the log: the end of the gap (exclusive)."""
    cursor: Cursor | None
    """The last event the group read or handled: the start of the gap (exclusive)."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class LogCatchUp:
    """Reads a group's gap from the log and hands each event to ``handle``."""

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        group: str,
        *,
        state_key: str,
        lock_key: str,
        event_log: EventLog | None,
        handle: Callable[[StreamMessage], bool],
        batch_size: int,
        lock_seconds: float,
    ) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.state_key = state_key
        self.lock_key = lock_key
        self.event_log = event_log
        self.handle = handle
        self.batch_size = batch_size
        self.lock_seconds = lock_seconds
        self._finish = client.register_script(scripts.FINISH_CATCH_UP)

    def current_gap(self) -> Gap | None:
        """The gap as the group's state shows it now, or ``None``."""
        last_id = self.client.hget(self.state_key, "last_id")
        first = self.client.xrange(self.stream, count=1)
        if last_id is None or not first:
            return None
        first_id, fields = first[0]
        message = StreamMessage.from_stream(first_id, fields)
        if parse_stream_id(last_id) >= parse_stream_id(first_id):
            return None
        caught_up_to = self.client.hget(self.state_key, "caught_up_to")
        if caught_up_to is not None and _text(caught_up_to) == _text(first_id):
            return None
        cursor = self.client.hget(self.state_key, "cursor")
        return Gap(
            _text(last_id),
            message.message_id or "",
            message.cursor,
            parse_cursor(cursor) if cursor else None,
        )

    def run(self, gap: Gap) -> int:
        """Handle the gap's events; return how many. Another consumer holding the lock: 0."""
        if self.event_log is None or gap.first_cursor is None or gap.cursor is None:
            log.error(
                "group %s fell behind the trim of %s (last read %s, first entry %s) and cannot"
                " read the gap from the log: those events are skipped",
                self.group,
                self.stream,
                gap.last_id,
                gap.first_id,
            )
            self._finish(keys=[self.state_key], args=[gap.first_id, ""])
            return 0
        lock = self.client.lock(self.lock_key, timeout=self.lock_seconds, blocking=False)
        if not lock.acquire():
            return 0
        try:
            return self._run_locked(gap, lock)
        finally:
            with contextlib.suppress(LockError):
                lock.release()

    def _run_locked(self, gap: Gap, lock: redis.lock.Lock) -> int:
        # Another consumer may have read part of the gap, or all of it, before this one.
        current = self.current_gap()
        if current is None or current.first_id != gap.first_id:
            return 0
        cursor = current.cursor or gap.cursor
        target = gap.first_cursor
        assert cursor is not None and target is not None and self.event_log is not None
        log.info(
            "group %s is behind the trim of %s: reading the log from %s up to %s",
            self.group,
            self.stream,
            format_cursor(cursor),
            format_cursor(target),
        )
        handled = 0
        while True:
            batch = self.event_log.read_after(cursor, self.batch_size)
            todo = [event for event in batch if event.cursor < target]
            try:
                for event in todo:
                    if not self.handle(StreamMessage.from_event(event)):
                        raise RetryLater(f"handler failed at position {event.id}")
                    cursor = event.cursor
                    handled += 1
            finally:
                self.client.hset(self.state_key, "cursor", format_cursor(cursor))
            if len(todo) < len(batch) or not batch:
                break
            lock.extend(self.lock_seconds, replace_ttl=True)
        self._finish(keys=[self.state_key], args=[gap.first_id, format_cursor(cursor)])
        log.info("group %s caught up from the log: %d event(s)", self.group, handled)
        return handled
