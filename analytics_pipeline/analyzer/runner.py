"""``analytics-pipeline analyze``: the enabled cameras this process holds a lease for
(``leases.py``), one thread each; cameras added or removed while it runs are picked up within
seconds, and cameras of a dead analyzer are taken over when their lease expires. Started
before PostgreSQL, it says it waits for it and starts when it answers."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime

import redis
from tqdm import tqdm

from analytics_pipeline.analyzer.anpr import PlateReader, build_ocr
from analytics_pipeline.analyzer.camera import CameraAnalyzer
from analytics_pipeline.analyzer.camera_run import CameraRun, RunSummary, open_source, summarise
from analytics_pipeline.analyzer.camera_settings import CameraSettings
from analytics_pipeline.analyzer.detector import (
    check_detector,
    configure_ultralytics,
    describe_detector,
)
from analytics_pipeline.analyzer.ocr import rapidocr_engines
from analytics_pipeline.analyzer.output import EventSink
from analytics_pipeline.analyzer.sources import SourceError
from analytics_pipeline.analyzer.tracker import build_tracker
from analytics_pipeline.cameras import Camera, CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_pool
from analytics_pipeline.dependencies import UNREACHABLE, OutageLog, postgres_answers, wait_until
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.leases import LeaseKeeper, LeaseLost, database_now
from analytics_pipeline.metrics import CAMERAS_OWNED, CameraMeter, TimedTracker
from analytics_pipeline.paths import local_dir
from analytics_pipeline.relay import Relay
from analytics_pipeline.snapshots import SnapshotStore
from analytics_pipeline.weights import WeightsError

log = logging.getLogger(__name__)
# psycopg_pool warns at every failed connection attempt; OutageLog says it once per change.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
POLL_SECONDS = 3.0


class AnalyzerService:
    """Runs cameras, writes their events, and relays them to Redis.

    With ``leases`` (the default) it runs only the cameras it holds a lease for, claiming up
    to ``max_cameras`` (``None``: no limit); with ``until_end`` each camera is analysed once
    by whichever process claims it first, and a finished camera's lease is released.
    ``processes``: the analyzer processes of one ``analyze --workers`` on this machine (they
    share its cores: each builds its share of OCR engines)."""

    def __init__(
        self,
        settings: Settings,
        *,
        realtime: bool = False,
        until_end: bool = False,
        progress: bool = True,
        relay: bool = True,
        max_cameras: int | None = None,
        leases: bool = True,
        claimed_since: datetime | None = None,
        processes: int = 1,
    ) -> None:
        self.settings = settings
        self.realtime = realtime
        self.until_end = until_end
        self.progress = progress
        self.stop = threading.Event()
        # wait=False: started before PostgreSQL, run() waits for it and says so once.
        self.pool = create_pool(settings.database_url, max_size=4, timeout=3, wait=False)
        self.event_log = EventLog(self.pool)
        self.registry = CameraRegistry(self.pool)
        self.leases = (
            LeaseKeeper(
                self.pool,
                lease_seconds=settings.camera_lease_seconds,
                capacity=max_cameras,
                fair_share=not until_end,
            )
            if leases
            else None
        )
        self.renew_stop = threading.Event()
        self.claimed_since = claimed_since
        self.sink = EventSink(
            self.event_log,
            SnapshotStore.from_settings(settings),
            local_dir() / "spill" / f"events-{os.getpid()}.jsonl",  # PostgreSQL down
            buffer_size=settings.analyzer_buffer_size,
            fence=self.leases,
        )
        configure_ultralytics(settings.analyzer_threads or None)
        # A missing model is an error now, not at the first camera's first frame.
        check_detector(settings.detector_weights or None, settings.detector_device)
        self.ocr = build_ocr(
            settings.ocr_engine,
            settings.paddleocr_rec_model_dir,
            engines=rapidocr_engines(processes),  # the camera threads call it at once
        )
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
                source = run.source = open_source(camera, settings, self.realtime, run.stop)
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
            if tracker is not None:
                tracker = TimedTracker(tracker)  # type: ignore[assignment]
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
            meter = CameraMeter(camera.id)
            lost = False
            try:
                analyzer.process(first)
                bar.update(1)
                for frame in frames:
                    if self.leases is not None:
                        self.leases.check(camera.id)  # stop before emitting without a lease
                    analyzer.process(frame)
                    meter.update(source.stats)
                    bar.update(1)
            except LeaseLost as exc:
                lost = True
                log.warning("%s: camera stopped", exc)
            finally:
                bar.close()
                meter.update(source.stats)
                if not lost:
                    try:
                        analyzer.finish()
                    except LeaseLost as exc:
                        lost = True
                        log.warning("%s: camera stopped", exc)
            if lost:
                break
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

    def _stop_run(self, camera_id: str, why: str) -> None:
        log.info("camera %s %s: stopping it", camera_id, why)
        run = self.runs.pop(camera_id)
        run.stop.set()
        run.thread.join(30)

    def _held(self, enabled: dict[str, Camera]) -> tuple[dict[str, Camera], list[str], bool]:
        """The enabled cameras this process holds a lease for (claiming free ones now), the
        held cameras to give back (past the fair share), and whether any was claimed now."""
        assert self.leases is not None
        self.leases.forget_lapsed()
        if self.until_end:  # a finished file is never analysed again by anyone in this run
            done = [c for c, r in self.runs.items() if r.finished]
            self.leases.release([c for c in done if self.leases.token(c) is not None])
        # Events made under a lease are stored before claiming (a claim raises the token).
        if self.sink.pending and not self.sink.flush(force=True):
            return {c: enabled[c] for c in self.leases.held() if c in enabled}, [], False
        candidates = [c for c in enabled if not (self.until_end and c in self.runs)]
        claimed, excess = self.leases.claim(candidates)
        held = self.leases.held()
        running = [c for c in reversed(list(self.runs)) if c in held and not self.runs[c].finished]
        give_back = running[:excess]
        CAMERAS_OWNED.set(len(held) - len(give_back))
        cameras = {c: enabled[c] for c in held if c in enabled and c not in give_back}
        return cameras, [c for c in held if c not in cameras], bool(claimed)

    def _sync_cameras(self, wanted: Callable[[Camera], bool]) -> bool:
        """Start and stop camera runs to match the enabled (and, with leases, held) cameras;
        whether a camera was claimed now."""
        enabled = {c.id: c for c in self.registry.list(enabled_only=True) if wanted(c)}
        cameras, give_back, claimed = (
            self._held(enabled) if self.leases is not None else (enabled, [], False)
        )
        for camera_id, run in list(self.runs.items()):
            if run.finished and self.until_end:
                continue  # kept for the summary
            changed = (
                camera_id in cameras and cameras[camera_id].updated_at != run.camera.updated_at
            )
            if camera_id not in enabled:
                self._stop_run(camera_id, "removed or disabled")
            elif camera_id in give_back:
                self._stop_run(camera_id, "given back to another analyzer (fair share)")
            elif camera_id not in cameras:
                self._stop_run(camera_id, "lease lost")
            elif changed:
                self._stop_run(camera_id, "changed")
        if self.leases is not None and give_back and self.sink.flush(force=True):
            self.leases.release(give_back)
        for camera_id, camera in cameras.items():
            if camera_id not in self.runs:
                self._start(camera)
        return claimed

    def run(self, wanted: Callable[[Camera], bool] = lambda camera: True) -> RunSummary:
        """Run until stopped (or, with ``until_end``, until every camera's file has ended)."""
        url = self.settings.database_url
        if not wait_until(
            lambda: postgres_answers(url), "PostgreSQL", self.stop, outages=OutageLog(log)
        ):
            return self.summary()  # stopped while waiting for PostgreSQL
        if self.leases is not None:
            if self.until_end:  # workers of one run share the parent's moment
                self.leases.not_claimed_since = self.claimed_since or database_now(self.pool)
            # A camera found taken over at a renewal stops at once.
            runs = self.runs
            self.leases.keep_renewing(
                self.renew_stop, lambda lost: [run.stop.set() for c in lost if (run := runs.get(c))]
            )
        if self.relay_thread is not None:
            self.relay_thread.start()
        interval = min(POLL_SECONDS, self.settings.camera_lease_seconds / 3)
        try:
            while not self.stop.is_set():
                try:
                    settled = not self._sync_cameras(wanted)  # nothing new claimed
                except UNREACHABLE as exc:
                    settled = False  # never "nothing to analyse" without a camera list
                    log.error("cannot read the camera list: %s", exc)
                except Exception:
                    if self.until_end:
                        raise  # e.g. a database not migrated: fail rather than spin
                    settled = False
                    log.exception("cannot read the camera list")
                self.sink.flush()
                if self.until_end and settled and all(r.finished for r in self.runs.values()):
                    if not self.runs:
                        log.info("no enabled camera to analyse here")
                    break
                self.stop.wait(interval if not self.until_end else 0.5)
        finally:
            for run in self.runs.values():
                run.stop.set()
            for run in self.runs.values():
                run.thread.join(60)
            self._drain()
            self.renew_stop.set()
            if self.leases is not None:
                self.leases.leave()
                CAMERAS_OWNED.set(0)
        return self.summary()

    def _drain(self) -> None:
        """Store what waits (retrying while PostgreSQL is down, until stopped twice) and let
        the relay publish it."""
        deadline = time.monotonic() + 300
        while not self.sink.flush(force=True) and time.monotonic() < deadline:
            log.warning("waiting for PostgreSQL to store %d event(s)", self.sink.pending)
            time.sleep(2)
        if self.relay_thread is not None and self.relay_thread.is_alive():
            try:
                self.relay.publish_pending()
            except Exception as exc:
                log.error("could not publish the last events to Redis now: %s", exc)
            self.relay_stop.set()
            self.relay_thread.join(10)

    def summary(self) -> RunSummary:
        return summarise(self.runs)

    def close(self) -> None:
        self.pool.close()
