"""GET /api/events/live: new stream messages as server-sent events, for the web page."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from starlette.requests import Request
from starlette.responses import StreamingResponse

from analytics_pipeline.api.auth import reader_state
from analytics_pipeline.api.state import AppState

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 15


async def _messages(request: Request, state: AppState) -> AsyncIterator[str]:
    stream, last_id = state.settings.redis_stream, "$"
    yield ": connected\n\n"
    while not await request.is_disconnected():
        try:
            reply = await state.redis.xread(
                {stream: last_id}, block=HEARTBEAT_SECONDS * 1000, count=100
            )
        except aioredis.RedisError as exc:
            log.warning("live events: Redis unavailable: %s", exc)
            yield "event: unavailable\ndata: {}\n\n"
            await asyncio.sleep(2)
            continue
        if not reply:
            yield ": heartbeat\n\n"
            continue
        for _stream, messages in reply:
            for message_id, fields in messages:
                last_id = message_id
                decoded = {k.decode(): v.decode() for k, v in fields.items()}
                decoded.pop("cursor", None)
                yield f"id: {message_id.decode()}\nevent: event\ndata: {json.dumps(decoded)}\n\n"


async def live_events(request: Request) -> StreamingResponse:
    """Server-sent events: one ``event`` per new message of the Redis stream."""
    state = reader_state(request)
    return StreamingResponse(
        _messages(request, state),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
