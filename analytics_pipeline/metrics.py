"""Prometheus metrics of the analyzer and the workers, and the small HTTP server that serves
them with the probes: ``/metrics``, ``/livez`` (the process serves) and ``/readyz``
(PostgreSQL and Redis answer; 503 naming what does not).

``analyze --workers N`` runs prometheus-client's multiprocess mode: the parent points
``PROMETHEUS_MULTIPROC_DIR`` at a temporary folder of its own before it starts the workers
(the variable is read when prometheus-client is imported), serves the sum of the workers'
files, and removes the folder when it stops (:func:`multiprocess_dir`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from analytics_pipeline.dependencies import UNREACHABLE, postgres_answers, redis_answers

log = logging.getLogger(__name__)
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

FRAMES_ANALYZED = Counter("analytics_frames_analyzed", "Frames analysed, per camera.", ["camera"])
FRAMES_DROPPED = Counter(
    "analytics_frames_dropped",
    "Frames dropped: behind a live stream (the analysis was slower than the camera) or "
    "corrupt; frames skipped on purpose to keep to the analysis rate are not counted.",
    ["camera"],
)
EVENTS_EMITTED = Counter(
    "analytics_events_emitted", "Events emitted, per camera and type.", ["camera", "event_type"]
)
EVENTS_FENCED = Counter(
    "analytics_events_fenced",
    "Events refused because this process no longer held the camera's lease.",
    ["camera"],
)
SOURCE_RECONNECTS = Counter(
    "analytics_source_reconnects", "Reconnections to a camera's stream.", ["camera"]
)
BUFFERED_EVENTS = Gauge(
    "analytics_buffered_events",
    "Events waiting to be stored (PostgreSQL unreachable), in memory and spilled.",
    multiprocess_mode="livesum",
)
DETECT_SECONDS = Histogram(
    "analytics_detect_seconds",
    "Seconds of detection and tracking per analysed frame.",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)
CAMERAS_OWNED = Gauge(
    "analytics_cameras_owned",
    "Cameras whose lease this analyzer holds.",
    multiprocess_mode="livesum",
)


class CameraMeter:
    """Turns a video source's running totals into counter increments for one camera."""

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self.seen = {"analysed": 0, "dropped": 0, "reconnects": 0}

    def update(self, stats: Any) -> None:
        """Count what ``stats`` (a :class:`~analytics_pipeline.analyzer.sources.SourceStats`)
        added since the last call."""
        now = {
            "analysed": stats.frames_analysed,
            "dropped": stats.frames_overload + stats.corrupt_frames,
            "reconnects": stats.reconnects,
        }
        counters = {
            "analysed": FRAMES_ANALYZED,
            "dropped": FRAMES_DROPPED,
            "reconnects": SOURCE_RECONNECTS,
        }
        for key, counter in counters.items():
            added = now[key] - self.seen[key]
            if added > 0:
                counter.labels(camera=self.camera_id).inc(added)
        self.seen = now


class TimedTracker:
    """A tracker whose ``track`` calls are timed into ``analytics_detect_seconds``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def track(self, image: Any) -> Any:
        """The inner tracker's ``track``, timed."""
        with DETECT_SECONDS.time():
            return self._inner.track(image)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextlib.contextmanager
def multiprocess_dir() -> Iterator[str]:
    """A temporary ``PROMETHEUS_MULTIPROC_DIR`` for worker processes started inside the
    block (set in this process's environment, which they inherit); removed afterwards."""
    directory = tempfile.mkdtemp(prefix="analytics-metrics-")
    saved = os.environ.get(MULTIPROC_VARIABLE)
    os.environ[MULTIPROC_VARIABLE] = directory
    try:
        yield directory
    finally:
        if saved is None:
            os.environ.pop(MULTIPROC_VARIABLE, None)
        else:
            os.environ[MULTIPROC_VARIABLE] = saved
        shutil.rmtree(directory, ignore_errors=True)


def multiprocess_registry(directory: str) -> CollectorRegistry:
    """A registry that sums the metrics the worker processes write under ``directory``."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return registry


def readiness(database_url: str, redis_url: str) -> dict[str, Any]:
    """``{"status": "ok"|"degraded", "postgres": "ok"|"error: …", "redis": …}`` plus
    ``missing`` (what does not answer)."""
    checks: dict[str, Any] = {}
    for key, name, check, url in (
        ("postgres", "PostgreSQL", postgres_answers, database_url),
        ("redis", "Redis", redis_answers, redis_url),
    ):
        try:
            check(url)
            checks[key] = "ok"
        except UNREACHABLE as exc:
            checks[key] = f"error: {type(exc).__name__}"
            checks.setdefault("missing", []).append(name)
    checks["status"] = "degraded" if checks.get("missing") else "ok"
    if checks.get("missing"):
        checks["detail"] = "waiting for " + " and ".join(checks["missing"])
    return checks


class MetricsServer:
    """``/metrics``, ``/livez`` and ``/readyz`` on ``host:port``, in a daemon thread."""

    def __init__(
        self,
        port: int,
        ready: Callable[[], dict[str, Any]],
        *,
        host: str = "0.0.0.0",
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        handler = _handler(ready, registry)
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="metrics", daemon=True
        )

    def start(self) -> MetricsServer:
        """Serve in the background; returns itself."""
        self.thread.start()
        log.info("metrics and probes on port %d: /metrics /livez /readyz", self.port)
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def serve_metrics(
    port: int | None,
    database_url: str,
    redis_url: str,
    *,
    registry: CollectorRegistry = REGISTRY,
) -> MetricsServer | None:
    """Start a :class:`MetricsServer` on ``port`` (``None``: none) whose readiness asks
    PostgreSQL and Redis."""
    if port is None:
        return None
    return MetricsServer(
        port, lambda: readiness(database_url, redis_url), registry=registry
    ).start()


def _handler(
    ready: Callable[[], dict[str, Any]], registry: CollectorRegistry
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/livez":
                self._json(200, {"status": "ok"})
            elif path in ("/readyz", "/health"):
                body = ready()
                self._json(503 if body.get("missing") else 200, body)
            else:
                self._json(404, {"detail": "not found: /metrics, /livez, /readyz"})

        def _json(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("metrics: " + format, *args)

    return Handler
