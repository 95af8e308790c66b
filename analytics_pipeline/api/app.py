"""The ASGI application: GraphQL, REST, images, health, the events page."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics_pipeline.api import rest
from analytics_pipeline.api.graphql_route import graphql_endpoint
from analytics_pipeline.api.images import serve_snapshot, serve_thumbnail
from analytics_pipeline.api.live import live_events
from analytics_pipeline.api.state import AppState
from analytics_pipeline.cameras import CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_pool
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.paths import GRAPHQL_DIR, STATIC_DIR
from analytics_pipeline.thumbnails import ThumbnailStore

log = logging.getLogger(__name__)
OPENAPI = SchemaGenerator(
    {
        "openapi": "3.0.0",
        "info": {"title": "Video analytics events API", "version": "1.0"},
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
        },
    }
)


class BodySizeLimit:
    """Refuses request bodies over ``limit`` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, f"request body over {self.limit} bytes")
            return message

        await self.app(scope, limited_receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": f"request body over {self.limit} bytes"}, 413)
        await response(scope, receive, send)


async def health(request: Request) -> Response:
    """GET /health: PostgreSQL and Redis status; 503 when either is down."""
    state: AppState = request.app.state.app
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(state.event_log.ping)
        checks["postgres"] = "ok"
    except Exception as exc:
        checks["postgres"] = f"error: {type(exc).__name__}"
    try:
        await asyncio.wait_for(state.redis.ping(), timeout=3)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503
    )


async def index(request: Request) -> Response:
    """The events page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


async def operation(request: Request) -> Response:
    """GET /operations/<Name>.graphql: the operations the page sends, which are the ones in
    graphql/ that the tests execute. The schema itself only outside production mode."""
    state: AppState = request.app.state.app
    name = request.path_params["name"]
    allowed = {p.name for p in GRAPHQL_DIR.glob("*.graphql")}
    if state.settings.api_production:
        allowed.discard("schema.graphql")
    if name not in allowed:
        raise HTTPException(404, "no such operation")
    return FileResponse(GRAPHQL_DIR / name, media_type="application/graphql")


async def openapi_schema(request: Request) -> Response:
    """GET /openapi.json: the REST routes, described from their docstrings."""
    return JSONResponse(OPENAPI.get_schema(routes=request.app.routes))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error (logged on the server)"}, status_code=500)


def create_app(settings: Settings) -> Starlette:
    """The application; PostgreSQL and Redis clients open with it and close with it."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncio.to_thread(create_pool, settings.database_url, max_size=10)
        client = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=3)
        app.state.app = AppState(
            settings=settings,
            event_log=EventLog(pool),
            cameras=CameraRegistry(pool),
            thumbnails=ThumbnailStore.from_settings(settings),
            redis=client,
        )
        try:
            yield
        finally:
            await client.aclose()
            await asyncio.to_thread(pool.close)

    routes = [
        Route("/", index, include_in_schema=False),
        Route("/health", health, include_in_schema=False),
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"], include_in_schema=False),
        Route("/snapshots/{event_id:int}", serve_snapshot, include_in_schema=False),
        Route("/thumbnails/{event_id:int}", serve_thumbnail, include_in_schema=False),
        Route("/api/events/live", live_events, include_in_schema=False),
        *rest.routes,
        Route("/openapi.json", openapi_schema, include_in_schema=False),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        Route("/operations/{name}", operation, include_in_schema=False),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.add_middleware(BodySizeLimit, limit=settings.api_max_body_bytes)
    return app
