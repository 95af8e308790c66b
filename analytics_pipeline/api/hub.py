"""One Redis reader per process for every live client: ``/api/events/live`` and the GraphQL
subscriptions (:mod:`analytics_pipeline.api.subscriptions`).

:class:`LiveHub` reads the stream and hands each message, as a ready SSE frame, to every
client's bounded queue: a thousand browser tabs cost one Redis connection, not a thousand. A
client too slow to keep up is dropped (its browser reconnects) rather than let its queue grow;
past ``max_clients`` no new client is taken. Listeners (the subscription feeds) get each
message as ``(stream_id, fields)``; sessions (WebSocket connections) are ended with the streams
when the server stops. The reader's block time is shorter than its
socket timeout, and after an error it resumes from the last message it saw, so a quiet stream
never looks like an outage and an outage loses nothing still in the stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis

from analytics_pipeline.api.bounded_queue import BoundedQueue
from analytics_pipeline.relay import decode_message

log = logging.getLogger(__name__)
BLOCK_MS = 5_000  # the reader's XREAD block time...
SOCKET_TIMEOUT_SECONDS = 15  # ...well inside its socket timeout
RETRY_SECONDS = (0.5, 1, 2, 5)
DEFAULT_MAX_CLIENTS = 1000
QUEUE_SIZE = 256
CLOSE = object()  # put in a client's queue to end its stream
RUNNING: weakref.WeakSet[LiveHub] = weakref.WeakSet()  # the started hubs of this process


def sse_frame(stream_id: str, fields: dict[str, str]) -> str:
    """One SSE ``event`` frame. Its id, ``STREAM_ID@CURSOR``, is what a browser sends back as
    ``Last-Event-ID``: the stream id to resume from, and the log cursor for when the stream
    has been trimmed past it."""
    data = dict(fields)
    cursor = data.pop("cursor", "")
    return f"id: {stream_id}@{cursor}\nevent: event\ndata: {json.dumps(data)}\n\n"


def frame_stream_id(frame: object) -> tuple[int, int] | None:
    """The stream id of an ``event`` frame as ``(ms, seq)``; ``None`` for other frames."""
    if not isinstance(frame, str) or not frame.startswith("id: "):
        return None
    return parse_stream_id(frame[4:].split("@", 1)[0].split("\n", 1)[0])


def parse_stream_id(text: str) -> tuple[int, int] | None:
    """``"1700000000000-3"`` as ``(1700000000000, 3)``; ``None`` when it is not one."""
    ms, _, seq = text.partition("-")
    if not (ms.isdigit() and seq.isdigit()):
        return None
    return int(ms), int(seq)


def end_live_streams() -> None:
    """End every live client's stream in this process (server shutdown)."""
    for hub in list(RUNNING):
        hub.end_streams()


class LiveClient(BoundedQueue[str]):
    """One live connection: a bounded queue of ready-to-send SSE frames. A client whose queue
    is full is dropped (its stream ends; it reconnects and resumes from its last event id)."""

    def __init__(self) -> None:
        super().__init__(QUEUE_SIZE, CLOSE)

    @property
    def dropped(self) -> bool:
        """Whether this client was too slow and its stream is ending."""
        return self.overflowed


Listener = Callable[[str, dict[str, str]], None]


class Session(Protocol):
    """A long-lived connection the hub ends when the server stops."""

    def end(self) -> None: ...


class TooManyLiveClients(Exception):
    """The hub has ``max_clients`` already."""


class LiveHub:
    """Reads one Redis stream and fans its messages out to every live client."""

    def __init__(self, redis_url: str, stream: str, *, max_clients: int) -> None:
        self.stream = stream
        self.max_clients = max_clients
        self.clients: set[LiveClient] = set()
        self.listeners: set[Listener] = set()
        self.sessions: set[Session] = set()
        self.redis = aioredis.Redis.from_url(
            redis_url,
            socket_connect_timeout=3,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            max_connections=2,
            client_name=f"live-hub:{stream}"[:100].replace(" ", "_"),
        )
        self.last_id: str | None = None
        self.available = True
        self._stopping = False
        self.closing = False  # the server is stopping: streams end, no new client
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the reader task (on the running loop)."""
        self._task = asyncio.create_task(self._run(), name="live-events-hub")
        RUNNING.add(self)

    def end_streams(self) -> None:
        """End every client's stream cleanly (the last chunk is sent) and take no new one."""
        self.closing = True
        for client in list(self.clients):
            client.end()
        for session in list(self.sessions):
            session.end()

    async def stop(self) -> None:
        """Stop the reader, end every client's stream, close the connection."""
        self._stopping = True
        RUNNING.discard(self)
        if self._task is not None:
            self._task.cancel()
            # Not `await self._task`: a cancellation caught inside the Redis client must not
            # hold the shutdown; the loop sees _stopping at its next turn.
            await asyncio.wait({self._task}, timeout=2)
        for client in list(self.clients):
            client.end()
        for session in list(self.sessions):
            session.end()
        await self.redis.aclose()

    def join(self) -> LiveClient:
        """A new client; :class:`TooManyLiveClients` at the cap."""
        if len(self.clients) >= self.max_clients:
            raise TooManyLiveClients
        client = LiveClient()
        self.clients.add(client)
        return client

    def leave(self, client: LiveClient) -> None:
        self.clients.discard(client)

    def listen(self, listener: Listener) -> None:
        """Call ``listener(stream_id, fields)`` for every new message (on the event loop)."""
        self.listeners.add(listener)

    def unlisten(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    def _broadcast(self, frame: str) -> None:
        for client in list(self.clients):
            client.offer(frame)

    async def _start_id(self) -> str:
        """The id of the stream's newest message: new clients see what comes after it."""
        newest = await self.redis.xrevrange(self.stream, count=1)
        if not newest:
            return "0-0"
        message_id = newest[0][0]
        return message_id.decode() if isinstance(message_id, bytes) else message_id

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                if self.last_id is None:
                    self.last_id = await self._start_id()
                reply = await self.redis.xread(
                    {self.stream: self.last_id}, block=BLOCK_MS, count=100
                )
            except (aioredis.RedisError, OSError) as exc:
                if self.available:
                    log.warning("live events: Redis unavailable: %s", exc)
                    self.available = False
                    self._broadcast("event: unavailable\ndata: {}\n\n")
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
                continue
            if not self.available:
                log.warning("live events: Redis available again")
                self.available = True
                self._broadcast("event: available\ndata: {}\n\n")
            failures = 0
            for _stream, messages in reply or ():
                for message_id, fields in messages:
                    self.last_id = (
                        message_id.decode() if isinstance(message_id, bytes) else message_id
                    )
                    decoded = decode_message(fields)
                    if self.clients:
                        self._broadcast(sse_frame(self.last_id, decoded))
                    for listener in list(self.listeners):
                        try:
                            listener(self.last_id, decoded)
                        except Exception:
                            log.exception("live events: a listener failed")
