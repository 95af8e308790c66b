"""What a reconnecting live client missed: ``Last-Event-ID`` (SSE) or ``eventAdded(after:)``
(GraphQL subscriptions) back to the present.

A browser's EventSource reconnects with the id of the last event it got, ``STREAM_ID@CURSOR``
(:func:`~analytics_pipeline.api.hub.sse_frame`). While the Redis stream still holds that id,
the missed messages come from the stream; once it has been trimmed past it, they come from the
PostgreSQL log (the source of truth) by cursor up to the stream's first message, then from the
stream. Events read from the log carry the id ``0-0@CURSOR``, so a client that drops again
resumes from the log again.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from analytics_pipeline.api.hub import parse_stream_id, sse_frame
from analytics_pipeline.eventlog import Cursor, EventLog, parse_cursor
from analytics_pipeline.relay import decode_message, message_fields

MAX_BACKLOG = 5_000  # messages replayed to one client at most (it resumes again for more)
BATCH = 500


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def parse_last_event_id(value: str | None) -> tuple[str, Cursor | None] | None:
    """``(stream_id, cursor or None)`` from a ``Last-Event-ID`` header; ``None`` for none or
    one this server did not send."""
    if not value:
        return None
    stream_id, _, cursor = value.strip().partition("@")
    if parse_stream_id(stream_id) is None:
        return None
    try:
        return stream_id, parse_cursor(cursor) if cursor else None
    except ValueError:
        return stream_id, None


Item = tuple[str, dict[str, str]]  # (stream id, message fields); "0-0" when from the log


async def backlog(
    redis: aioredis.Redis, stream: str, event_log: EventLog, last_event_id: str | None
) -> tuple[list[str], tuple[int, int] | None]:
    """The SSE frames a client that last saw ``last_event_id`` missed, and the newest stream
    id among them (live frames up to it are duplicates)."""
    parsed = parse_last_event_id(last_event_id)
    if parsed is None:
        return [], None
    items, newest = await backlog_items(redis, stream, event_log, *parsed)
    return [sse_frame(stream_id, fields) for stream_id, fields in items], newest


async def backlog_items(
    redis: aioredis.Redis,
    stream: str,
    event_log: EventLog,
    stream_id: str | None,
    cursor: Cursor | None,
) -> tuple[list[Item], tuple[int, int] | None]:
    """The messages after ``stream_id`` (or, with no stream id or one trimmed away, after
    ``cursor`` from the log and then the stream), and the newest stream id among them.
    Messages from the log carry the stream id ``"0-0"``; at most ``MAX_BACKLOG``."""
    first = await redis.xrange(stream, count=1)
    if not first:
        return [], None
    first_id = _text(first[0][0])
    items: list[Item] = []
    start = f"({stream_id}"
    first_key = parse_stream_id(first_id)
    client_key = parse_stream_id(stream_id or "0-0") or (0, 0)
    trimmed = client_key == (0, 0) or (first_key is not None and first_key > client_key)
    if trimmed:
        # Trimmed past the client's id: the log fills the gap up to the stream's first message.
        start = "-"
        if cursor is not None:
            until = parse_cursor(decode_message(first[0][1]).get("cursor"))
            items = await asyncio.to_thread(_from_log, event_log, cursor, until)
    while len(items) < MAX_BACKLOG:
        messages = await redis.xrange(stream, min=start, max="+", count=BATCH)
        for message_id, fields in messages:
            decoded = decode_message(fields)
            if trimmed and cursor is not None and _cursor_of(decoded) <= cursor:
                continue  # the client had it (it resumes by cursor)
            items.append((_text(message_id), decoded))
        if len(messages) < BATCH:
            break
        start = f"({_text(messages[-1][0])}"
    newest: tuple[int, int] | None = None
    for item_id, _fields in items:
        key = parse_stream_id(item_id)
        newest = key if key not in (None, (0, 0)) else newest
    return items[:MAX_BACKLOG], newest


def _cursor_of(fields: dict[str, str]) -> Cursor:
    try:
        return parse_cursor(fields.get("cursor"))
    except ValueError:
        return (0, 0)


def _from_log(event_log: EventLog, cursor: Cursor, until: Cursor) -> list[Item]:
    items: list[Item] = []
    while len(items) < MAX_BACKLOG:
        batch = event_log.read_after(cursor, BATCH)
        for event in batch:
            if event.cursor >= until:
                return items
            items.append(("0-0", message_fields(event)))
        if len(batch) < BATCH:
            break
        cursor = batch[-1].cursor
    return items
