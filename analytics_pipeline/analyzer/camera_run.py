"""One camera's run inside ``analyze``: its thread, source and analyzer, and what the run
summary says of it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from analytics_pipeline.analyzer.camera import CameraAnalyzer
from analytics_pipeline.analyzer.camera_settings import CameraSettings
from analytics_pipeline.analyzer.sources import VideoSource
from analytics_pipeline.cameras import Camera


@dataclass
class CameraRun:
    camera: Camera
    thread: threading.Thread
    stop: threading.Event
    analyzer: CameraAnalyzer | None = None
    source: VideoSource | None = None
    finished: bool = False
    error: str | None = None


@dataclass
class RunSummary:
    events: dict[str, dict[str, int]] = field(default_factory=dict)  # camera -> type -> n
    plates: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    frames: dict[str, dict[str, int]] = field(default_factory=dict)
    ocr_ms_per_frame: dict[str, float] = field(default_factory=dict)  # camera -> ANPR's OCR


def open_source(
    camera: Camera, settings: CameraSettings, realtime: bool, stop: threading.Event
) -> VideoSource:
    """The camera's source at its analysis rate, with its network timeouts and RTSP transport."""
    return VideoSource(
        camera.source_url,
        fps=settings.fps,
        realtime=realtime,
        stop=stop,
        open_timeout=settings.open_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        rtsp_transport=settings.rtsp_transport,
    )


def summarise(runs: dict[str, CameraRun]) -> RunSummary:
    """Events, plates, frame counts and errors of each camera run."""
    result = RunSummary()
    for camera_id, run in runs.items():
        if run.analyzer is not None:
            result.events[camera_id] = dict(run.analyzer.counts.events)
            result.plates[camera_id] = list(run.analyzer.counts.plates)
            counts = run.analyzer.counts
            result.ocr_ms_per_frame[camera_id] = round(
                1000 * counts.ocr_seconds / max(1, counts.frames), 1
            )
        if run.source is not None:
            stats = run.source.stats
            result.frames[camera_id] = {
                "analysed": stats.frames_analysed,
                "dropped": stats.frames_dropped,
                "corrupt": stats.corrupt_frames,
                "overload": stats.frames_overload,
                "reconnects": stats.reconnects,
            }
        if run.error and run.analyzer is None:
            result.errors[camera_id] = run.error
    return result
