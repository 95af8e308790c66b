"""Running the analyzer for the command line and the demo: in this process or spread over
worker processes, and the run's summary as lines a person reads."""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
from collections.abc import Collection
from datetime import datetime
from types import FrameType

from prometheus_client import multiprocess

from analytics_pipeline.analyzer.camera_run import RunSummary
from analytics_pipeline.analyzer.runner import AnalyzerService
from analytics_pipeline.config import Settings
from analytics_pipeline.logs import configure_logging
from analytics_pipeline.metrics import multiprocess_dir, multiprocess_registry, serve_metrics
from analytics_pipeline.shutdown import stop_on_signals

log = logging.getLogger(__name__)


def run_analysis(
    settings: Settings,
    camera_ids: Collection[str] = (),
    *,
    realtime: bool = False,
    until_end: bool = False,
    progress: bool = True,
    max_cameras: int | None = None,
    metrics_port: int | None = None,
    relay: bool = True,
) -> RunSummary:
    """Analyse the enabled cameras (only ``camera_ids`` when given) that this process gets a
    lease for, at most ``max_cameras``, until stopped (SIGINT/SIGTERM) or, with
    ``until_end``, until every file has ended; ``metrics_port``: serve /metrics, /livez and
    /readyz there."""
    service = AnalyzerService(
        settings,
        realtime=realtime,
        until_end=until_end,
        progress=progress,
        max_cameras=max_cameras,
        relay=relay,
    )
    stop_on_signals(service.stop.set)
    server = serve_metrics(metrics_port, settings.database_url, settings.redis_url)
    try:
        return service.run(lambda camera: not camera_ids or camera.id in camera_ids)
    finally:
        service.close()
        if server is not None:
            server.stop()


def _worker(
    settings: Settings,
    capacity: int | None,
    camera_ids: tuple[str, ...],
    realtime: bool,
    until_end: bool,
    relay: bool,
    since: datetime | None,
    workers: int,
) -> None:
    """One worker process of ``analyze --workers N`` (module level, so that spawn can run it)."""
    os.setpgrp()  # Ctrl-C reaches the parent only, which passes one SIGTERM to each worker
    configure_logging(settings.log_level, settings.log_format, worker=True)
    service = AnalyzerService(
        settings,
        realtime=realtime,
        until_end=until_end,
        progress=False,
        relay=relay,
        max_cameras=capacity,
        claimed_since=since,
        processes=workers,
    )
    stop_on_signals(service.stop.set)
    try:
        service.run(lambda c: not camera_ids or c.id in camera_ids)
    finally:
        service.close()


def run_workers(
    settings: Settings,
    workers: int,
    camera_ids: Collection[str] = (),
    *,
    realtime: bool = False,
    until_end: bool = False,
    max_cameras: int | None = None,
    metrics_port: int | None = None,
    since: datetime | None = None,
    relay: bool = True,
) -> None:
    """Run ``workers`` processes that share the cameras through the same leases as
    analyzers on other machines (``max_cameras`` split between them), and wait for them.
    SIGINT or SIGTERM here passes SIGTERM to every worker, which stops cleanly (a second one
    stops them at once). With ``metrics_port`` the workers write their metrics to a
    temporary multiprocess folder and this process serves their sum. With ``until_end``,
    ``since`` (the database's clock at the run's start) keeps a worker from analysing again
    a file that another worker finished."""
    capacity = math.ceil(max_cameras / workers) if max_cameras else None
    context = multiprocessing.get_context("spawn")
    with multiprocess_dir() as directory:
        processes = [
            context.Process(
                target=_worker,
                name=f"worker-{i}",
                args=(
                    settings,
                    capacity,
                    tuple(camera_ids),
                    realtime,
                    until_end,
                    relay and i == 0,
                    since,
                    workers,
                ),
            )
            for i in range(workers)
        ]

        def forward(signum: int, _frame: FrameType | None) -> None:
            log.info("%s: stopping the workers", signal.Signals(signum).name)
            for process in processes:
                if process.is_alive():
                    process.terminate()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, forward)
        for process in processes:
            process.start()
        server = None
        if metrics_port is not None:
            registry = multiprocess_registry(directory)
            server = serve_metrics(
                metrics_port, settings.database_url, settings.redis_url, registry=registry
            )
        try:
            for process in processes:
                process.join()
        finally:
            for process in processes:
                if process.pid is not None:
                    multiprocess.mark_process_dead(process.pid, directory)
            if server is not None:
                server.stop()


def summary_lines(summary: RunSummary, *, frames: bool = True) -> list[str]:
    """One line per camera (events by type, and frame counts when ``frames``), plus the
    plates read; errors are in ``summary.errors``."""
    lines = []
    for camera, counts in summary.events.items():
        listed = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no events"
        line = f"{camera}: {listed}"
        if frames:
            seen = summary.frames.get(camera, {})
            line += (
                f"; frames analysed {seen.get('analysed', 0)}, "
                f"skipped to the analysis rate {seen.get('dropped', 0)}, dropped behind a live "
                f"stream {seen.get('overload', 0)}, corrupt {seen.get('corrupt', 0)}"
            )
            if summary.ocr_ms_per_frame.get(camera):
                line += f", OCR {summary.ocr_ms_per_frame[camera]:.1f} ms a frame"
        lines.append(line)
        if summary.plates.get(camera):
            lines.append(f"  plates read: {', '.join(summary.plates[camera])}")
    return lines
