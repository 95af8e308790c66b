"""Publishes committed events from the log to the Redis stream, in commit-safe log order.

Redis is a projection of the log. The stream itself remembers how far the relay got: every
message carries its place in commit-safe order (field ``cursor``), so after a Redis outage the
relay resumes right after the newest message that reached Redis, and after a wiped stream it
replays the newest ``maxlen`` events of the log. Messages carry ``event_id`` and ``position``
so that consumers can drop the duplicates a crash between XADD and its reply may cause.
Rows go straight into messages (``relay_after.sql``, ``relay_tail.sql``): no event model, and
``data`` is the JSON text PostgreSQL writes for ``event_data``, never decoded and encoded again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import psycopg
import redis
from psycopg.rows import tuple_row
from psycopg_pool import PoolTimeout

from analytics_pipeline.db import query
from analytics_pipeline.dependencies import OutageLog
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.eventlog import START, Cursor, EventLog, format_cursor, parse_cursor
from analytics_pipeline.events import StoredEvent, snapshot_url

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "events_appended"
_RELAY_LOCK = 0x72656C61  # advisory lock: one relay per database


class RelayError(PipelineError):
    """The stream holds something the relay cannot resume from."""


def message_fields(event: StoredEvent) -> dict[str, str]:
    """The flat string fields of one stream message (DESIGN.md, Publishing to Redis)."""
    return {
        "event_id": str(event.event_id),
        "position": str(event.id),
        "event_type": event.event_type,
        "camera_id": event.camera_id,
        "timestamp": event.timestamp.isoformat(),
        "frame_number": str(event.frame_number),
        "snapshot_url": snapshot_url(event) or "",
        "data": json.dumps(event.event_data, separators=(",", ":")),
        "cursor": format_cursor(event.cursor),
    }


Message = tuple[dict[str, str], Cursor]
"""A stream message's fields and its place in commit-safe order."""


def row_message(row: tuple[Any, ...]) -> Message:
    """The message of one row of ``relay_after.sql`` / ``relay_tail.sql``: the fields of
    :func:`message_fields`, built without decoding ``event_data`` (``data`` is the JSON text
    PostgreSQL writes, e.g. ``{"n": 1}``)."""
    position, event_id, event_type, camera_id, moment, frame, has_snapshot, data, txid = row
    fields = {
        "event_id": event_id,
        "position": str(position),
        "event_type": event_type,
        "camera_id": camera_id,
        "timestamp": moment.astimezone(UTC).isoformat(),
        "frame_number": str(frame),
        "snapshot_url": f"/snapshots/{position}" if has_snapshot else "",
        "data": data,
        "cursor": f"{txid}:{position}",
    }
    return fields, (txid, position)


def decode_message(fields: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """A stream message's fields as text (redis-py returns bytes unless told otherwise)."""
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in fields.items()
    }


class Relay:
    """Moves events from the log to one Redis stream."""

    def __init__(
        self,
        event_log: EventLog,
        client: redis.Redis,
        stream: str,
        *,
        maxlen: int,
        batch_size: int = 1000,
    ) -> None:
        self.event_log = event_log
        self.client = client
        self.stream = stream
        self.maxlen = maxlen
        self.batch_size = batch_size

    def stream_cursor(self) -> Cursor | None:
        """The cursor of the newest message in the stream, or ``None`` when it is empty."""
        newest = self.client.xrevrange(self.stream, count=1)
        if not newest:
            return None
        _message_id, fields = newest[0]
        raw = fields.get(b"cursor", fields.get("cursor"))
        if raw is None:
            raise RelayError(
                f"the newest message of stream {self.stream!r} has no cursor field:"
                " it was not written by this relay (choose another REDIS_STREAM)"
            )
        return parse_cursor(raw)

    def publish_pending(self) -> int:
        """Publish every committed event the stream lacks; return how many were sent."""
        cursor = self.stream_cursor()
        if cursor is None:
            batch = self._read("relay_tail", {"limit": self.maxlen})
            if batch:
                log.info(
                    "stream %s is empty: replaying the newest %d events", self.stream, len(batch)
                )
            cursor = START
        else:
            batch = self._read_after(cursor)
        sent = 0
        while batch:
            self._publish(batch)
            sent += len(batch)
            cursor = batch[-1][1]
            batch = self._read_after(cursor)
        return sent

    def _read_after(self, cursor: Cursor) -> list[Message]:
        params = {"txid": cursor[0], "id": cursor[1], "limit": self.batch_size}
        return self._read("relay_after", params)

    def _read(self, name: str, params: dict[str, Any]) -> list[Message]:
        """Rows straight into messages: no event model, no JSON decoding (binary results)."""
        with self.event_log.pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            rows = cur.execute(query(name), params, binary=True, prepare=False).fetchall()
        return [row_message(row) for row in rows]

    def _publish(self, messages: list[Message]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for fields, _cursor in messages:
            pipe.xadd(self.stream, fields, maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]
        pipe.execute()

    def run(
        self,
        database_url: str,
        stop: threading.Event,
        *,
        poll_interval: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        """Publish until ``stop`` is set, waking on new commits; outages are retried.

        A PostgreSQL or Redis outage is logged and retried with capped back-off; the relay
        resumes from the stream's newest message, so nothing is skipped.
        """
        backoff = 1.0
        outages = OutageLog(log)
        while not stop.is_set():
            try:
                self._run_listening(database_url, stop, poll_interval, outages)
            except RelayError as exc:
                log.error("relay: %s; retrying in %.0f s", exc, backoff)
            except (redis.RedisError, psycopg.Error, PoolTimeout) as exc:
                outages.down("Redis" if isinstance(exc, redis.RedisError) else "PostgreSQL", exc)
            else:
                backoff = 1.0
                continue
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)

    def _run_listening(
        self, database_url: str, stop: threading.Event, poll: float, outages: OutageLog
    ) -> None:
        with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (_RELAY_LOCK,)).fetchone()[0]:  # type: ignore[index]
                log.info("another relay holds the lock for this database; waiting")
                if stop.wait(5):
                    return
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            log.info("relay publishing to stream %s (maxlen ~%d)", self.stream, self.maxlen)
            while not stop.is_set():
                sent = self.publish_pending()
                outages.up("PostgreSQL")
                outages.up("Redis")
                if sent:
                    log.info("published %d events", sent)
                # Wake on the next commit, or poll: rows behind a still-running
                # transaction become readable without a notification of their own.
                for _ in conn.notifies(timeout=poll, stop_after=1):
                    pass
