"""A Redis consumer group over the event stream, with takeover and catch-up from the log.

Each message goes to one consumer of the group (XREADGROUP) and is acked only after the
handler returned; a handler that raises leaves it pending. Pending messages idle longer than
``claim_idle_seconds`` (their consumer died, or the handler failed) are taken over with
XAUTOCLAIM by whichever consumer of the group looks next, itself included. A group whose
position fell behind the stream's trim reads the missing range from the PostgreSQL log by
position (the log is the source of truth) and then continues on the stream; a pending message
trimmed away before anyone took it over is read from the log by position as well.

Delivery is at least once: give ``dedupe`` to a handler that is not idempotent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

import psycopg
import redis
from psycopg_pool import PoolTimeout

from analytics_pipeline.consumers import scripts
from analytics_pipeline.consumers.catchup import Gap, LogCatchUp, RetryLater
from analytics_pipeline.consumers.dedupe import Dedupe, RedisDedupe
from analytics_pipeline.consumers.message import StreamMessage
from analytics_pipeline.dependencies import OutageLog
from analytics_pipeline.eventlog import START, EventLog, format_cursor, parse_cursor

log = logging.getLogger(__name__)

Handler = Callable[[StreamMessage], object]
"""Called once per event; raising leaves the event to be retried (at least once)."""

_RETRYABLE = (redis.RedisError, psycopg.Error, PoolTimeout, OSError)
_STALE_CONSUMER_MS = 3600_000


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def default_consumer_name() -> str:
    """``<host>-<pid>-<random>``: unique per process, readable in XINFO CONSUMERS."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class ConsumerGroup:
    """One consumer of a consumer group on the event stream.

    ``start``: where a group created now begins, ``"latest"`` (after the stream's newest
    message) or ``"earliest"`` (the start of the log, when ``event_log`` is given, else of the
    stream). An existing group keeps its position. Without ``event_log`` nothing can be read
    from the log: a gap is logged as lost and skipped.
    """

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        group: str,
        handler: Handler,
        *,
        consumer: str | None = None,
        event_log: EventLog | None = None,
        dedupe: Dedupe | bool = False,
        start: Literal["latest", "earliest"] = "latest",
        count: int = 100,
        block_seconds: float = 1.0,
        claim_idle_seconds: float = 30.0,
        claim_interval_seconds: float | None = None,
    ) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.handler = handler
        self.consumer = consumer or default_consumer_name()
        self.event_log = event_log
        prefix = f"{stream}:consumers:{group}"
        self.state_key = f"{prefix}:state"
        self.pending_key = f"{prefix}:pending"
        if dedupe is True:
            dedupe = RedisDedupe(client, f"{prefix}:seen")
        self.dedupe: Dedupe | None = dedupe or None
        self.start = start
        self.count = count
        self.block_ms = max(1, int(block_seconds * 1000))
        self.claim_idle_ms = max(1, int(claim_idle_seconds * 1000))
        interval = claim_interval_seconds
        self.claim_interval = claim_idle_seconds / 2 if interval is None else interval
        self._next_claim = 0.0
        self._claim_start = "0-0"
        self._read = client.register_script(scripts.READ)
        self._sweep = client.register_script(scripts.SWEEP)
        self._create = client.register_script(scripts.CREATE)
        self.catch_up = LogCatchUp(
            client,
            stream,
            group,
            state_key=self.state_key,
            lock_key=f"{prefix}:catchup",
            event_log=event_log,
            handle=self.handle,
            batch_size=count,
            lock_seconds=claim_idle_seconds,
        )

    # -- set-up -----------------------------------------------------------------------------

    def ensure_group(self) -> str:
        """Create the group if missing: ``"created"``, ``"exists"`` or ``"resumed"`` (made
        again over the state a deleted group left, to resume from its recorded cursor)."""
        earliest = format_cursor(START) if self.event_log is not None else ""
        newest = ""
        if self.start == "latest" and self.event_log is not None:
            tail = self.event_log.read_tail(1)
            newest = format_cursor(tail[-1].cursor) if tail else ""
        outcome = self._create(
            keys=[self.stream, self.state_key], args=[self.group, self.start, earliest, newest]
        )
        result = _text(outcome)
        if result != "exists":
            log.info("consumer group %s on %s: %s", self.group, self.stream, result)
        return result

    def destroy(self) -> None:
        """Delete the group and everything kept for it (its position, pending, dedupe)."""
        self.client.xgroup_destroy(self.stream, self.group)
        prefix = f"{self.stream}:consumers:{self.group}:"
        keys = list(self.client.scan_iter(match=prefix.replace("*", r"\*") + "*", count=1000))
        if keys:
            self.client.delete(*keys)

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, max_backoff: float = 30.0) -> None:
        """Handle events until ``stop`` is set; outages of Redis or PostgreSQL are retried."""
        outages = OutageLog(log)
        backoff = 0.5
        created = False
        while not stop.is_set():
            try:
                if not created:
                    self.ensure_group()
                    created = True
                self.poll()
            except RetryLater:
                pass  # the handler's failure is logged already
            except _RETRYABLE as exc:
                what = "Redis" if isinstance(exc, redis.RedisError) else "PostgreSQL"
                outages.down(what, exc)
            except Exception:
                log.exception("consumer %s of group %s failed", self.consumer, self.group)
            else:
                outages.up("Redis")
                outages.up("PostgreSQL")
                backoff = 0.5
                continue
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)

    def poll(self, *, block: bool = True) -> int:
        """One round: take over idle pending messages when due, then read the gap from the log
        or the next messages from the stream (waiting up to ``block_seconds`` for one when
        ``block``). Returns how many events the handler took."""
        handled = 0
        if time.monotonic() >= self._next_claim:
            handled += self.claim()
            self._next_claim = time.monotonic() + self.claim_interval
        kind, payload = self.read()
        if kind == "gap":
            caught_up = self.catch_up.run(payload)
            if not caught_up and block:
                time.sleep(min(self.block_ms, 200) / 1000)  # another consumer reads the gap
            handled += caught_up
        elif kind == "messages":
            handled += self.handle_batch(payload)
        elif block:
            self.client.xread({self.stream: payload}, count=1, block=self.block_ms)
        return handled

    # -- reading ----------------------------------------------------------------------------

    def read(self) -> tuple[str, Any]:
        """Read new messages, or find the gap: ``("messages", [StreamMessage])``,
        ``("gap", Gap)`` or ``("idle", newest stream id)``. Read messages are pending until
        :meth:`ack`."""
        try:
            reply = self._read(
                keys=[self.stream, self.state_key, self.pending_key],
                args=[self.group, self.consumer, self.count],
            )
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self.ensure_group()
            return "idle", "$"
        kind = _text(reply[0])
        if kind == "gap":
            last_id, first_id, first_cursor, cursor = (_text(v) for v in reply[1:5])
            return kind, Gap(
                last_id,
                first_id,
                parse_cursor(first_cursor) if first_cursor else None,
                parse_cursor(cursor) if cursor else None,
            )
        if kind == "messages":
            return kind, [StreamMessage.from_stream(m[0], _pairs(m[1])) for m in reply[1]]
        return kind, _text(reply[1])

    def handle_batch(self, messages: Sequence[StreamMessage]) -> int:
        """Handle messages read from the stream; ack each one whose handler returned."""
        done: list[str] = []
        try:
            for message in messages:
                if self.handle(message):
                    done.append(message.message_id or "")
        finally:
            self.ack([m for m in done if m])
        return len(done)

    def handle(self, message: StreamMessage) -> bool:
        """Run the handler on one event (skipped when ``dedupe`` has seen it); ``False`` when
        the handler raised (logged; the event will come again)."""
        event_id = message.event_id
        if self.dedupe is not None and event_id and self.dedupe.seen(event_id):
            return True
        try:
            self.handler(message)
        except Exception:
            log.exception(
                "group %s: handler failed on event %s (position %s); it will be retried",
                self.group,
                event_id,
                message.position,
            )
            return False
        if self.dedupe is not None and event_id:
            self.dedupe.mark(event_id)
        return True

    def ack(self, message_ids: Sequence[str]) -> None:
        """Ack messages and forget their pending record, in one transaction."""
        if not message_ids:
            return
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self.stream, self.group, *message_ids)
        pipe.hdel(self.pending_key, *message_ids)
        pipe.execute()

    # -- takeover ---------------------------------------------------------------------------

    def claim(self) -> int:
        """Take over messages pending longer than the claim timeout (XAUTOCLAIM), those
        trimmed from the stream meanwhile (from the log), and forget long-gone consumers."""
        try:
            reply = self.client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=self.claim_idle_ms,
                start_id=self._claim_start,
                count=self.count,
            )
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            return 0
        self._claim_start = _text(reply[0])
        claimed = [StreamMessage.from_stream(i, f) for i, f in reply[1] if f is not None]
        if claimed:
            log.info("group %s: took over %d pending message(s)", self.group, len(claimed))
            self._touch_pending(claimed)
        handled = self.handle_batch(claimed)
        handled += self._recover_trimmed()
        self._forget_stale_consumers()
        return handled

    def _touch_pending(self, messages: Sequence[StreamMessage]) -> None:
        now = int(time.time() * 1000)
        self.client.hset(
            self.pending_key,
            mapping={m.message_id: f"{m.position or ''} {now}" for m in messages if m.message_id},
        )

    def _recover_trimmed(self) -> int:
        """Pending messages the stream lost to its trim: read their events from the log."""
        found = self._sweep(
            keys=[self.stream, self.pending_key], args=[self.claim_idle_ms, self.count]
        )
        entries = [(_text(found[i]), _text(found[i + 1])) for i in range(0, len(found), 2)]
        lost = [ident for ident, position in entries if not position]
        if lost:
            log.error("group %s: %d trimmed message(s) carried no position", self.group, len(lost))
        wanted = {ident: int(position) for ident, position in entries if position}
        if not wanted:
            return 0
        if self.event_log is None:
            log.error("group %s: %d pending message(s) trimmed and lost", self.group, len(wanted))
            self.ack(list(wanted))
            return 0
        log.info(
            "group %s: reading %d trimmed pending event(s) from the log", self.group, len(wanted)
        )
        events = self.event_log.get_many(list(wanted.values()))
        done = []
        for ident, position in wanted.items():
            event = events.get(position)
            if event is None or self.handle(StreamMessage.from_event(event)):
                done.append(ident)  # an event gone from the log (purged, deleted) is done
        self.ack(done)
        return len(done)

    def _forget_stale_consumers(self) -> None:
        """Remove consumers with nothing pending that have not read for an hour."""
        for consumer in self.client.xinfo_consumers(self.stream, self.group):
            name = _text(consumer["name"])
            if (
                name != self.consumer
                and int(consumer["pending"]) == 0
                and int(consumer["idle"]) > _STALE_CONSUMER_MS
            ):
                self.client.xgroup_delconsumer(self.stream, self.group, name)

    def pending_count(self) -> int:
        """How many messages the group holds unacked (XPENDING), all consumers together."""
        try:
            summary = self.client.xpending(self.stream, self.group)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            return 0
        return int(summary["pending"])


def _pairs(flat: Sequence[Any]) -> dict[bytes | str, bytes | str]:
    """A Lua reply's flat [field, value, ...] list as a dict."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
