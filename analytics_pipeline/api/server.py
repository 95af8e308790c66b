"""How uvicorn serves the API: timeouts, header and concurrency caps.

uvicorn on its own keeps a connection that trickles its headers open for ever, and with
httptools accepts megabytes of headers. :func:`uvicorn_config` gives ``uvicorn.run`` (or
``uvicorn.Config``) the settings that close both: the h11 protocol with a cap on incomplete heads
(complete ones are capped by :class:`~analytics_pipeline.api.middleware.RequestChecks`) and a
deadline for the head of every request, a short keep-alive, a cap on concurrent
connections (503 past it), and a graceful-shutdown limit so live clients never hold a restart.
Slow bodies are the application's (:class:`analytics_pipeline.api.middleware.BodyDeadline`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from analytics_pipeline.api.app import max_live_clients
from analytics_pipeline.api.hub import end_live_streams
from analytics_pipeline.api.middleware import MAX_HEAD_BYTES
from analytics_pipeline.config import Settings

HEADER_SECONDS = 10.0  # the request line and headers must arrive within this
KEEP_ALIVE_SECONDS = 5
SHUTDOWN_SECONDS = 5
WS_PING_SECONDS = 20.0  # a WebSocket peer that answers no ping within this is closed
SPARE_CONNECTIONS = 256  # beyond the live clients, for everything else


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's headers: a connection that
    has not sent a whole request head within ``header_seconds`` of its first byte (or of
    opening) is closed."""

    header_seconds = HEADER_SECONDS

    _header_timer: asyncio.TimerHandle | None = None
    _header_cycle: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        waiting_for_head = self.cycle is None or self.cycle.response_complete
        stale = self._header_timer is None or self._header_cycle is not self.cycle
        if waiting_for_head and stale:
            self._arm_header_timer()
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: Any) -> None:
        """The connection becomes a WebSocket (GraphQL subscriptions): the head deadline is
        over (the WebSocket protocol has its own pings and timeouts)."""
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().handle_websocket_upgrade(event)

    def shutdown(self) -> None:
        """The server is stopping: live streams end cleanly now (their last chunk is sent and
        the connection closes), so they never hold the stop for the whole grace period."""
        end_live_streams()
        super().shutdown()

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_cycle = self.cycle
        self._header_timer = self.loop.call_later(self.header_seconds, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._header_timer = None
        if self.cycle is self._header_cycle and not self.transport.is_closing():
            self.logger.info("closing a connection whose request head took too long")
            self.transport.close()


def guarded_protocol(header_seconds: float) -> type[GuardedH11Protocol]:
    """:class:`GuardedH11Protocol` with another header deadline (tests use a short one)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"header_seconds": header_seconds})


def uvicorn_config(
    settings: Settings, host: str | None = None, port: int | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run(app, **uvicorn_config(settings))``."""
    return {
        "host": host or settings.api_host,
        "port": port or settings.api_port,
        "log_level": settings.log_level.lower(),
        "http": GuardedH11Protocol,
        "ws": "websockets-sansio",  # GraphQL subscriptions (graphql-transport-ws)
        "ws_max_size": settings.api_max_body_bytes,
        "ws_per_message_deflate": False,  # CPU per message per subscriber is the cost here
        "ws_ping_interval": WS_PING_SECONDS,
        "ws_ping_timeout": WS_PING_SECONDS,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": SHUTDOWN_SECONDS,
        "limit_concurrency": max_live_clients(settings) + SPARE_CONNECTIONS,
        "server_header": False,
    }
