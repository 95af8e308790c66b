"""``analytics-pipeline analyze``: every enabled camera, one thread each, in one or more
worker processes; cameras added or removed while it runs are picked up within seconds."""

from __future__ import annotations

import logging
import os
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
from tqdm import tqdm

from analytics_pipeline.analyzer.anpr import PlateReader, build_ocr
from analytics_pipeline.analyzer.camera import CameraAnalyzer
from analytics_pipeline.analyzer.camera_settings import CameraSettings
from analytics_pipeline.analyzer.detector import (
    check_detector,
    configure_ultralytics,
    describe_detector,
)
from analytics_pipeline.analyzer.output import EventSink
from analytics_pipeline.analyzer.sources import SourceError, VideoSource
from analytics_pipeline.analyzer.tracker import build_tracker
from analytics_pipeline.cameras import Camera, CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_pool
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.paths import local_dir
from analytics_pipeline.relay import Relay
from analytics_pipeline.snapshots import SnapshotStore
from analytics_pipeline.weights import WeightsError

log = logging.getLogger(__name__)
POLL_SECONDS = 3.0


def spill_dir() -> Path:
    """Where events wait on disk while PostgreSQL is down (``.local/spill``)."""
    return local_dir() / "spill"


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


class AnalyzerService:
    """Runs cameras, writes their events, and relays them to Redis."""

    def __init__(
        self,
        settings: Settings,
        *,
        realtime: bool = False,
        until_end: bool = False,
        progress: bool = True,
        relay: bool = True,
    ) -> None:
        self.settings = settings
        self.realtime = realtime
        self.until_end = until_end
        self.progress = progress
        self.stop = threading.Event()
        self.pool = create_pool(settings.database_url, max_size=4, timeout=3)
        self.event_log = EventLog(self.pool)
        self.registry = CameraRegistry(self.pool)
        self.sink = EventSink(
            self.event_log,
            SnapshotStore.from_settings(settings),
            spill_dir() / f"events-{os.getpid()}.jsonl",
            buffer_size=settings.analyzer_buffer_size,
        )
        configure_ultralytics(settings.analyzer_threads or None)
        # A missing model is an error now, not at the first camera's first frame.
        check_detector(settings.detector_weights or None, settings.detector_device)
        self.ocr = build_ocr(settings.ocr_engine, settings.paddleocr_rec_model_dir)
        self.runs: dict[str, CameraRun] = {}
        self.relay_thread: threading.Thread | None = None
        if relay:
            client = redis.Redis.from_url(
                settings.redis_url, socket_connect_timeout=3, socket_timeout=10
            )
            worker = Relay(
                self.event_log, client, settings.redis_stream, maxlen=settings.redis_stream_maxlen
            )
            self.relay = worker
            self.relay_stop = threading.Event()
            self.relay_thread = threading.Thread(
                target=worker.run,
                args=(settings.database_url, self.relay_stop),
                kwargs={"poll_interval": 0.2},
                name="relay",
                daemon=True,
            )
        log.info(
            "detector: %s; OCR: %s",
            describe_detector(settings.detector_weights or None, settings.detector_device),
            settings.ocr_engine,
        )

    def _run_camera(self, run: CameraRun, position: int) -> None:
        camera = run.camera
        settings = CameraSettings.model_validate(camera.settings)
        backoff = 1.0
        while not run.stop.is_set():
            try:
                source = run.source = VideoSource(
                    camera.source_url, fps=settings.fps, realtime=self.realtime, stop=run.stop
                )
                frames = source.frames()
                first = next(frames, None)
            except SourceError as exc:
                run.error = str(exc)
                log.error("camera %s: %s", camera.id, exc)
                if self.until_end:
                    break
                run.stop.wait(backoff)
                backoff = min(backoff * 2, 60)
                continue
            if first is None:
                break
            height, width = first.image.shape[:2]
            # The camera's own weights ("" for the default CenterNet) win over DETECTOR_WEIGHTS.
            weights = (
                self.settings.detector_weights
                if settings.detector_weights is None
                else settings.detector_weights
            )
            try:
                tracker = build_tracker(
                    weights or None,
                    fps=settings.fps,
                    min_confidence=settings.min_confidence,
                    imgsz=self.settings.detector_imgsz,
                    device=self.settings.detector_device,
                    threads=self.settings.analyzer_threads or None,
                    centernet_size=self.settings.detector_centernet_size,
                    classes=settings.classes,
                )
            except WeightsError as exc:  # this camera's weights, classes or device
                run.error = f"detector: {exc}"
                log.error("camera %s: %s", camera.id, run.error)
                break
            reader = PlateReader(self.ocr, pattern=settings.plate_pattern) if self.ocr else None
            analyzer = run.analyzer = CameraAnalyzer(
                camera.id, settings, self.sink, tracker, reader, (width, height)
            )
            total = None
            if source.total_frames and source.source_fps:
                total = int(source.total_frames / max(1.0, source.source_fps / settings.fps))
            bar = tqdm(
                total=total,
                desc=camera.id,
                unit="frame",
                position=position,
                disable=not self.progress,
                leave=True,
                dynamic_ncols=True,
            )
            try:
                analyzer.process(first)
                bar.update(1)
                for frame in frames:
                    analyzer.process(frame)
                    bar.update(1)
            finally:
                bar.close()
                analyzer.finish()
            if not source.live:
                log.info(
                    "camera %s: end of %s (%d frames analysed; OCR %.1f ms a frame)",
                    camera.id,
                    camera.redacted_source_url,
                    source.stats.frames_analysed,
                    1000 * analyzer.counts.ocr_seconds / max(1, analyzer.counts.frames),
                )
                break
        run.finished = True

    def _start(self, camera: Camera) -> None:
        stop = threading.Event()
        run = CameraRun(camera, threading.Thread(), stop)
        run.thread = threading.Thread(
            target=self._run_camera,
            args=(run, len(self.runs)),
            name=f"camera-{camera.id}",
            daemon=True,
        )
        self.runs[camera.id] = run
        run.thread.start()
        log.info("camera %s started (%s)", camera.id, camera.redacted_source_url)

    def _sync_cameras(self, wanted: Callable[[Camera], bool]) -> None:
        cameras = {c.id: c for c in self.registry.list(enabled_only=True) if wanted(c)}
        for camera_id, run in list(self.runs.items()):
            changed = (
                camera_id in cameras and cameras[camera_id].updated_at != run.camera.updated_at
            )
            if camera_id not in cameras or changed:
                log.info(
                    "camera %s %s: stopping it",
                    camera_id,
                    "changed" if changed else "removed or disabled",
                )
                run.stop.set()
                run.thread.join(30)
                del self.runs[camera_id]
        for camera_id, camera in cameras.items():
            if camera_id not in self.runs:
                self._start(camera)

    def run(self, wanted: Callable[[Camera], bool] = lambda camera: True) -> RunSummary:
        """Run until stopped (or, with ``until_end``, until every camera's file has ended)."""
        if self.relay_thread is not None:
            self.relay_thread.start()
        try:
            while not self.stop.is_set():
                try:
                    self._sync_cameras(wanted)
                except Exception as exc:
                    log.error("cannot read the camera list: %s", exc)
                self.sink.flush()
                if self.until_end and all(r.finished for r in self.runs.values()):
                    if not self.runs:
                        log.info("no enabled camera to analyse here")
                    break
                self.stop.wait(POLL_SECONDS if not self.until_end else 0.5)
        finally:
            for run in self.runs.values():
                run.stop.set()
            for run in self.runs.values():
                run.thread.join(60)
            self._drain()
        return self.summary()

    def _drain(self) -> None:
        """Store what waits (retrying while PostgreSQL is down, until stopped twice) and let
        the relay publish it."""
        deadline = time.monotonic() + 300
        while not self.sink.flush(force=True) and time.monotonic() < deadline:
            log.warning("waiting for PostgreSQL to store %d event(s)", self.sink.pending)
            time.sleep(2)
        if self.relay_thread is not None:
            try:
                self.relay.publish_pending()
            except Exception as exc:
                log.error("could not publish the last events to Redis now: %s", exc)
            self.relay_stop.set()
            self.relay_thread.join(10)

    def summary(self) -> RunSummary:
        result = RunSummary()
        for camera_id, run in self.runs.items():
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

    def close(self) -> None:
        self.pool.close()


def worker_filter(index: int, workers: int) -> Callable[[Camera], bool]:
    """The cameras of worker ``index`` of ``workers`` (a stable hash of the camera id)."""
    return lambda camera: zlib.crc32(camera.id.encode()) % workers == index
