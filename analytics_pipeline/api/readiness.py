"""Readiness: the API starts whatever the state of PostgreSQL and Redis, and says what it waits for.

:class:`DependencyWatch` asks the health probe in the background (capped back-off) until both
answer, and logs one line per change of state (:class:`~analytics_pipeline.dependencies.
OutageLog`); every readiness request records its answer the same way. Until PostgreSQL has
answered once, :class:`WaitForDatabase` answers every route that needs it with a 503 ("waiting
for PostgreSQL"); afterwards a PostgreSQL outage is the pool's business (checked connections),
so a restart costs no request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from analytics_pipeline.api.health import HealthProbe
from analytics_pipeline.dependencies import UNREACHABLE, OutageLog, postgres_answers

log = logging.getLogger("analytics_pipeline.api")
# psycopg_pool warns at every failed connection attempt; the watch says it once per change.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
NAMES = {"postgres": "PostgreSQL", "redis": "Redis"}
RETRY_SECONDS = (0.5, 1, 2, 5)
# Routes that answer without PostgreSQL: probes, the page and its files, the API description.
OPEN_PREFIXES = (
    "/health",
    "/readyz",
    "/livez",
    "/static/",
    "/operations/",
    "/openapi.json",
    "/docs",
)


class DependencyWatch:
    """Whether PostgreSQL and Redis answer; PostgreSQL's first answer opens the API."""

    def __init__(self, probe: HealthProbe) -> None:
        self.probe = probe
        self.outages = OutageLog(log)
        self.database_ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def record(self, checks: dict[str, str]) -> list[str]:
        """Log the changes in ``checks`` (the probe's answer); the names of what is missing."""
        missing = []
        for key, name in NAMES.items():
            answer = checks.get(key, "ok")
            if answer == "ok":
                self.outages.up(name)
            else:
                self.outages.down(name, ConnectionError(answer.removeprefix("error: ")))
                missing.append(name)
        if checks.get("postgres") == "ok":
            self.database_ready.set()
        return missing

    async def check(self) -> tuple[dict[str, str], list[str]]:
        """Ask the probe now: its answer and the names of what is missing."""
        checks = await self.probe.check()
        return checks, self.record(checks)

    async def first_look(self, database_url: str) -> None:
        """One quick look at PostgreSQL before the server takes requests (a refused connection
        fails at once), so a server started with its database up never answers 503."""
        try:
            await asyncio.wait_for(asyncio.to_thread(postgres_answers, database_url), 4)
        except (TimeoutError, *UNREACHABLE):
            return
        self.database_ready.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dependency-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 2)

    async def _look(self) -> tuple[dict[str, str], list[str]]:
        """Like :meth:`check`, but once PostgreSQL has answered only Redis is asked."""
        if not self.database_ready.is_set() or "PostgreSQL" in self.outages.missing:
            return await self.check()
        checks = {"postgres": "ok", "redis": "ok"}
        try:
            await asyncio.wait_for(self.probe.redis.ping(), 3)
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        return checks, self.record(checks)

    async def _run(self) -> None:
        failures = 0
        while True:
            _checks, missing = await self._look()
            if not missing:
                return
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
            failures += 1


class WaitForDatabase:
    """503 ``{"detail": "waiting for PostgreSQL"}`` for every route that needs the database,
    until PostgreSQL has answered once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/":
            state = getattr(scope["app"].state, "app", None)
            watch: DependencyWatch | None = getattr(state, "dependencies", None)
            path = scope["path"]
            if (
                watch is not None
                and not watch.database_ready.is_set()
                and not path.startswith(OPEN_PREFIXES)
            ):
                response = JSONResponse(
                    {"detail": "waiting for PostgreSQL", "missing": ["PostgreSQL"]},
                    status_code=503,
                    headers={"Retry-After": "5"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
