"""GET /api/events/live: new stream messages as server-sent events, for the web page.

The messages come from the process's one Redis reader (:class:`~analytics_pipeline.api.hub.
LiveHub`); past its cap on live clients a new client gets a 503. A client that reconnects with
``Last-Event-ID`` first gets what it missed (:mod:`analytics_pipeline.api.resume`). When the
server stops, every stream ends cleanly (``end_live_streams``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from analytics_pipeline.api.auth import reader_state
from analytics_pipeline.api.hub import (
    CLOSE,
    LiveClient,
    LiveHub,
    TooManyLiveClients,
    frame_stream_id,
)
from analytics_pipeline.api.resume import backlog
from analytics_pipeline.dependencies import UNREACHABLE

HEARTBEAT_SECONDS = 15


async def _frames(
    hub: LiveHub, client: LiveClient, missed: list[str], seen: tuple[int, int] | None
) -> AsyncIterator[str]:
    yield ": connected\n\n"
    if not hub.available:
        yield "event: unavailable\ndata: {}\n\n"
    for frame in missed:
        yield frame
    while True:
        try:
            frame = await asyncio.wait_for(client.queue.get(), HEARTBEAT_SECONDS)
        except TimeoutError:
            yield ": heartbeat\n\n"
            continue
        if frame is CLOSE:
            return
        key = frame_stream_id(frame)
        if seen is not None and key is not None and key <= seen:
            continue  # already sent from the backlog
        yield str(frame)


class LiveResponse(StreamingResponse):
    """The event stream of one client, which leaves the hub however the stream ends."""

    def __init__(
        self,
        hub: LiveHub,
        client: LiveClient,
        missed: list[str] | None = None,
        seen: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(
            _frames(hub, client, missed or [], seen),
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
    """Server-sent events: one ``event`` per new message of the Redis stream; with
    ``Last-Event-ID``, the messages missed since that id first."""
    state = reader_state(request)
    hub = state.live
    if hub.closing:
        raise HTTPException(503, "the server is stopping", headers={"Retry-After": "5"})
    try:
        client = hub.join()
    except TooManyLiveClients:
        raise HTTPException(
            503,
            f"too many live clients ({hub.max_clients}); try again later",
            headers={"Retry-After": "10"},
        ) from None
    missed: list[str] = []
    seen = None
    last_event_id = request.headers.get("last-event-id")
    if last_event_id:
        try:
            missed, seen = await backlog(hub.redis, hub.stream, state.event_log, last_event_id)
        except UNREACHABLE:
            missed, seen = [], None  # the live stream still works; the gap is not filled
        except BaseException:
            hub.leave(client)
            raise
    return LiveResponse(hub, client, missed, seen)
