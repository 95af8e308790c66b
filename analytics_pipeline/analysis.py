"""Running the analyzer for the command line and the demo: in this process or spread over
worker processes, and the run's summary as lines a person reads."""

from __future__ import annotations

import multiprocessing
from collections.abc import Collection

from analytics_pipeline.analyzer.runner import AnalyzerService, RunSummary, worker_filter
from analytics_pipeline.config import Settings
from analytics_pipeline.logs import configure_logging
from analytics_pipeline.shutdown import stop_on_signals


def run_analysis(
    settings: Settings,
    camera_ids: Collection[str] = (),
    *,
    realtime: bool = False,
    until_end: bool = False,
    progress: bool = True,
) -> RunSummary:
    """Analyse the enabled cameras (only ``camera_ids`` when given) in this process until
    stopped (SIGINT/SIGTERM) or, with ``until_end``, until every file has ended."""
    service = AnalyzerService(settings, realtime=realtime, until_end=until_end, progress=progress)
    stop_on_signals(service.stop.set)
    try:
        return service.run(lambda camera: not camera_ids or camera.id in camera_ids)
    finally:
        service.close()


def _worker(
    settings: Settings,
    index: int,
    workers: int,
    camera_ids: tuple[str, ...],
    realtime: bool,
    until_end: bool,
) -> None:
    """One worker process of ``analyze --workers N`` (module level, so that spawn can run it)."""
    configure_logging(settings.log_level, settings.log_format, worker=True)
    in_share = worker_filter(index, workers)
    service = AnalyzerService(
        settings, realtime=realtime, until_end=until_end, progress=False, relay=index == 0
    )
    stop_on_signals(service.stop.set)
    try:
        service.run(lambda c: in_share(c) and (not camera_ids or c.id in camera_ids))
    finally:
        service.close()


def run_workers(
    settings: Settings,
    workers: int,
    camera_ids: Collection[str] = (),
    *,
    realtime: bool = False,
    until_end: bool = False,
) -> None:
    """Spread the cameras over ``workers`` processes (a stable hash of the camera id) and
    wait for them; Ctrl-C reaches every worker, which stops cleanly."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=_worker,
            name=f"worker-{i}",
            args=(settings, i, workers, tuple(camera_ids), realtime, until_end),
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        for process in processes:
            process.join(60)


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
