"""The API's Prometheus metrics: ``GET /metrics``.

:class:`RequestMetrics` is the outermost ASGI middleware: it counts every HTTP request by the
*route template* it matched (``/api/events/{event_id:int}``, never the raw path, so that the
number of series stays bounded; ``unmatched`` for a 404 outside every route) and its status,
times it, and answers ``/metrics`` itself, before any other middleware, so that a scrape works
while the API still waits for PostgreSQL. ``analytics_relay_lag_events`` is measured at each
scrape: the log's newest position minus the newest one published on the Redis stream.

The metrics live in a registry of the API's own, so an API process that also imports the
analyzer's metrics (the demo) shows only its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics_pipeline.api.auth import may_read
from analytics_pipeline.db import query

log = logging.getLogger(__name__)
API_REGISTRY = CollectorRegistry()
ProcessCollector(registry=API_REGISTRY)
PlatformCollector(registry=API_REGISTRY)

HTTP_REQUESTS = Counter(
    "analytics_http_requests",
    "HTTP requests by matched route template and status.",
    ["route", "status"],
    registry=API_REGISTRY,
)
HTTP_SECONDS = Histogram(
    "analytics_http_request_duration_seconds",
    "Seconds from the request to the end of its response, by matched route template (live "
    "streams count their whole life).",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=API_REGISTRY,
)
RELAY_LAG = Gauge(
    "analytics_relay_lag_events",
    "Events in the log not yet on the Redis stream: the log's newest position minus the "
    "newest published one (NaN when PostgreSQL or Redis does not answer).",
    registry=API_REGISTRY,
)
METRICS_PATH = "/metrics"
LAG_SECONDS = 5.0
UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The template of the route that handled the request (set by Starlette's router)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


def _log_head(pool: Any) -> int:
    with pool.connection(timeout=3) as conn:
        row = conn.execute(query("log_head")).fetchone()
    return int(row["head"])  # type: ignore[index]


async def relay_lag(state: Any) -> float:
    """The log head minus the newest position on the stream; NaN when either is unknown."""
    try:
        head = await asyncio.wait_for(asyncio.to_thread(_log_head, state.event_log.pool), 4)
        newest = await asyncio.wait_for(
            state.health.redis.xrevrange(state.settings.redis_stream, count=1), 3
        )
    except Exception as exc:  # a scrape never fails for a missing dependency
        log.debug("relay lag unknown: %s", exc)
        return float("nan")
    if not newest:
        return float(head)
    fields = newest[0][1]
    position = fields.get(b"position", fields.get("position", 0))
    return float(max(0, head - int(position)))


class LagCache:
    """The relay lag, measured at most every ``seconds`` and by one scrape at a time: a
    flood of scrapes costs PostgreSQL and Redis one query each per period, not one each."""

    def __init__(self, seconds: float = LAG_SECONDS) -> None:
        self.seconds = seconds
        self.measured_at = float("-inf")
        self.lock = asyncio.Lock()

    async def refresh(self, state: Any) -> None:
        async with self.lock:
            if time.monotonic() - self.measured_at >= self.seconds:
                RELAY_LAG.set(await relay_lag(state))
                self.measured_at = time.monotonic()


async def metrics_response(scope: Scope, send: Send, lag: LagCache) -> int:
    """Send the API's metrics in Prometheus' text format (401 when reads need a key and the
    scrape brought none); returns the status sent."""
    app = scope.get("app")
    state = getattr(getattr(app, "state", None), "app", None)
    if state is not None and not may_read(state.settings, Request(scope)):
        body = b'{"detail": "this server needs an API key for reads"}'
        headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return 401
    if state is not None:
        await lag.refresh(state)
    body = generate_latest(API_REGISTRY)
    headers = [
        (b"content-type", CONTENT_TYPE_LATEST.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return 200


class RequestMetrics:
    """Counts and times every HTTP request by route template and status; serves
    ``GET /metrics``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.lag = LagCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if scope["path"] == METRICS_PATH and scope["method"] in ("GET", "HEAD"):
            status = await metrics_response(scope, send, self.lag)
            HTTP_REQUESTS.labels(route=METRICS_PATH, status=str(status)).inc()
            return
        status = [500]

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            route = route_template(scope)
            HTTP_REQUESTS.labels(route=route, status=str(status[0])).inc()
            HTTP_SECONDS.labels(route=route).observe(time.perf_counter() - started)
