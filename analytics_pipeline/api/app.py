"""The ASGI application: GraphQL, REST, images, health, live events, the events page."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from analytics_pipeline.api import rest
from analytics_pipeline.api.clips import serve_clip
from analytics_pipeline.api.gql.cache import DocumentCache
from analytics_pipeline.api.graphql_route import graphiql_file, graphql_endpoint
from analytics_pipeline.api.graphql_ws import graphql_websocket
from analytics_pipeline.api.health import HealthProbe
from analytics_pipeline.api.hub import DEFAULT_MAX_CLIENTS, LiveHub
from analytics_pipeline.api.images import serve_snapshot, serve_thumbnail
from analytics_pipeline.api.live import live_events
from analytics_pipeline.api.middleware import (
    PAGE_CSP,
    BodyDeadline,
    RequestChecks,
    SecurityHeaders,
)
from analytics_pipeline.api.openapi import openapi_document
from analytics_pipeline.api.readiness import NAMES, DependencyWatch, WaitForDatabase
from analytics_pipeline.api.state import AppState
from analytics_pipeline.api.subscriptions import SubscriptionRegistry
from analytics_pipeline.cameras import CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_pool
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.paths import GRAPHQL_DIR, STATIC_DIR
from analytics_pipeline.thumbnails import ThumbnailStore

log = logging.getLogger(__name__)
GRAPHQL_WORKERS = 8  # GraphQL requests running in worker threads at once


async def health(request: Request) -> Response:
    """GET /readyz (and its alias /health): readiness, 503 naming what does not answer."""
    state: AppState = request.app.state.app
    if state.dependencies is None:
        checks = await state.health.check()
        missing = [n for k, n in NAMES.items() if checks.get(k) != "ok"]
    else:
        checks, missing = await state.dependencies.check()
    body: dict[str, object] = {"status": "degraded" if missing else "ok", **checks}
    if missing:
        body["detail"] = "waiting for " + " and ".join(missing)
        body["missing"] = missing
    return JSONResponse(body, status_code=503 if missing else 200)


async def livez(request: Request) -> Response:
    """GET /livez: the process serves (no dependency is asked)."""
    return JSONResponse({"status": "ok"})


async def index(request: Request) -> Response:
    """The events page."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html",
        headers={"Content-Security-Policy": PAGE_CSP},
    )


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
    """GET /openapi.json: the REST routes with their request and response schemas."""
    return JSONResponse(openapi_document())


async def docs(request: Request) -> Response:
    """GET /docs: the OpenAPI document as a page, from the project's own files (offline)."""
    return FileResponse(
        STATIC_DIR / "docs.html",
        media_type="text/html",
        headers={"Content-Security-Policy": PAGE_CSP},
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def pipeline_error(request: Request, exc: Exception) -> Response:
    """The project's own errors: their message is meant for the client. Bad input is a 400;
    an error class may name another status (``http_status``)."""
    status = getattr(exc, "http_status", 400)
    if status >= 500:
        log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error (logged on the server)"}, status_code=500)


def max_live_clients(settings: Settings) -> int:
    """``API_MAX_LIVE_CLIENTS`` when the settings have it, else ``DEFAULT_MAX_CLIENTS``."""
    return int(getattr(settings, "api_max_live_clients", DEFAULT_MAX_CLIENTS))


def create_app(settings: Settings) -> Starlette:
    """The application; PostgreSQL and Redis clients open with it and close with it."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # wait=False: the app starts before PostgreSQL; WaitForDatabase answers 503 till then.
        pool = await asyncio.to_thread(create_pool, settings.database_url, max_size=10, wait=False)
        probe = await asyncio.to_thread(HealthProbe, settings.database_url, settings.redis_url)
        watch = DependencyWatch(probe)
        hub = LiveHub(
            settings.redis_url, settings.redis_stream, max_clients=max_live_clients(settings)
        )
        app.state.app = AppState(
            settings=settings,
            event_log=EventLog(pool),
            cameras=CameraRegistry(pool),
            thumbnails=ThumbnailStore.from_settings(settings),
            live=hub,
            health=probe,
            documents=DocumentCache(),
            graphql_limiter=anyio.CapacityLimiter(GRAPHQL_WORKERS),
            dependencies=watch,
        )
        app.state.subscriptions = SubscriptionRegistry(app.state.app)
        await watch.first_look(settings.database_url)
        watch.start()
        hub.start()
        try:
            yield
        finally:
            await watch.stop()
            app.state.subscriptions.close()
            await hub.stop()
            await probe.close()
            await asyncio.to_thread(pool.close)

    routes = [
        Route("/", index, include_in_schema=False),
        Route("/readyz", health, include_in_schema=False),
        Route("/health", health, include_in_schema=False),
        Route("/livez", livez, include_in_schema=False),
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"], include_in_schema=False),
        WebSocketRoute("/graphql", graphql_websocket),
        Route("/graphiql/{name}", graphiql_file, include_in_schema=False),
        Route("/snapshots/{event_id:int}", serve_snapshot, include_in_schema=False),
        Route("/thumbnails/{event_id:int}", serve_thumbnail, include_in_schema=False),
        Route("/clips/{event_id:int}", serve_clip, include_in_schema=False),
        Route("/api/events/live", live_events, include_in_schema=False),
        *rest.routes,
        Route("/openapi.json", openapi_schema, include_in_schema=False),
        Route("/docs", docs, include_in_schema=False),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        Route("/operations/{name}", operation, include_in_schema=False),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        max_body_size=settings.api_max_body_bytes,
        exception_handlers={
            HTTPException: http_error,
            PipelineError: pipeline_error,
            Exception: server_error,
        },
    )
    app.add_middleware(WaitForDatabase)
    app.add_middleware(RequestChecks)
    app.add_middleware(BodyDeadline)
    app.add_middleware(SecurityHeaders)
    from analytics_pipeline.api.metrics import RequestMetrics

    # Outermost: counts every answer (503s included) by route template; serves GET /metrics.
    app.add_middleware(RequestMetrics)
    return app
