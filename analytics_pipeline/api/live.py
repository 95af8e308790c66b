"""GET /api/events/live: new stream messages as server-sent events, for the web page.

The messages come from the process's one Redis reader (:class:`~analytics_pipeline.api.hub.
LiveHub`); past its cap on live clients a new client gets a 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from analytics_pipeline.api.auth import reader_state
from analytics_pipeline.api.hub import CLOSE, LiveClient, LiveHub, TooManyLiveClients

HEARTBEAT_SECONDS = 15


async def _frames(hub: LiveHub, client: LiveClient) -> AsyncIterator[str]:
    yield ": connected\n\n"
    if not hub.available:
        yield "event: unavailable\ndata: {}\n\n"
    while True:
        try:
            frame = await asyncio.wait_for(client.queue.get(), HEARTBEAT_SECONDS)
        except TimeoutError:
            yield ": heartbeat\n\n"
            continue
        if frame is CLOSE:
            return
        yield str(frame)


class LiveResponse(StreamingResponse):
    """The event stream of one client, which leaves the hub however the stream ends."""

    def __init__(self, hub: LiveHub, client: LiveClient) -> None:
        super().__init__(
            _frames(hub, client),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self.hub, self.client = hub, client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.hub.leave(self.client)


async def live_events(request: Request) -> StreamingResponse:
    """Server-sent events: one ``event`` per new message of the Redis stream."""
    state = reader_state(request)
    try:
        client = state.live.join()
    except TooManyLiveClients:
        raise HTTPException(
            503,
            f"too many live clients ({state.live.max_clients}); try again later",
            headers={"Retry-After": "10"},
        ) from None
    return LiveResponse(state.live, client)
