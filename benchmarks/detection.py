"""Detection figures for ``benchmarks/analyzer.py`` on real footage (Debian's ``vtest.avi``).

1. Detector milliseconds per frame: the default CenterNet (onnxruntime, 512x512) and the YOLO
   path (ultralytics, the project's model) at imgsz 320 and 640; OpenCV's HOG people detector,
   the old default, for comparison.
2. People found ÷ people counted by eye on ten frames (``tests/analyzer/test_real_footage.py``).
3. ``entered`` events ÷ person passes counted by eye, for a default ``analyze`` run.
4. Cameras one machine carries: N cameras played in real time at 5 fps analysis each, half
   ``vtest.avi`` (busy), half a still scene; the largest N that drops no frame for lateness
   and whose lag from frame time to stored row stays under 1 s at p99 over 60 s (after a 10 s
   warm-up) (N tried: 8,
   then 12, 16, 20 or 4, 2, 1), with the default detector (default camera settings, and ANPR
   off) and, for ``benchmarks/analyzer.py``, the project's model at 320; with the p99 lag from
   frame time to the event's message on the Redis stream at that N.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import redis

from analytics_pipeline.analyzer.camera_run import RunSummary
from analytics_pipeline.analyzer.detector import build_detector
from analytics_pipeline.analyzer.media import opencv_sample
from analytics_pipeline.analyzer.runner import AnalyzerService
from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_pool, drop_database, migrate, with_database_name
from analytics_pipeline.relay import decode_message

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.analyzer.test_real_footage import (  # noqa: E402
    PASSES_BY_EYE,
    PEOPLE_BY_EYE,
    people_found,
)

MODEL = ROOT / "models" / "street-nano.pt"
CAMERA_COUNTS = (8, 12, 16, 20)
WARM_UP_SECONDS = 15.0  # the first events come ~7 s after the start, all at once


def vtest_frames(indices) -> dict[int, np.ndarray]:
    """Frames of vtest.avi by index."""
    capture = cv2.VideoCapture(str(opencv_sample("vtest.avi")))
    frames = {}
    for index in indices:
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
        assert ok, index
        frames[index] = frame
    capture.release()
    return frames


def timed(detect: Callable[[np.ndarray], object], frames: list[np.ndarray]) -> tuple[float, float]:
    """Milliseconds a frame, wall clock and CPU (this process, every thread), after a warm-up
    call: on a shared machine the CPU figure is the steadier one."""
    detect(frames[0])
    began, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        detect(frame)
    count = len(frames)
    return (
        round(1000 * (time.perf_counter() - began) / count, 1),
        round(1000 * (time.process_time() - cpu) / count, 1),
    )


def hog_people(frame: np.ndarray, hog: cv2.HOGDescriptor) -> list[tuple[float, ...]]:
    """The old fallback as it ran (640 px wide, SVM margin squashed, 0.4)."""
    scale = min(1.0, 640 / frame.shape[1])
    small = cv2.resize(frame, None, fx=scale, fy=scale) if scale < 1 else frame
    rects, weights = hog.detectMultiScale(small, winStride=(8, 8), padding=(8, 8), scale=1.05)
    conf = 1 / (1 + np.exp(-np.asarray(weights, np.float32).reshape(-1)))
    return [
        tuple(v / scale for v in (x, y, x + w, y + h))
        for (x, y, w, h), c in zip(rects, conf, strict=True)
        if c >= 0.4
    ]


def detector_figures() -> dict[str, float]:
    """Milliseconds a frame and people found on the ten frames counted by eye."""
    frames = vtest_frames(PEOPLE_BY_EYE)
    counted = sum(map(len, PEOPLE_BY_EYE.values()))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    size = Settings.model_fields["detector_centernet_size"].default
    figures: dict[str, float] = {}
    for key, centernet_size in (("centernet", size), ("centernet_512", None)):
        centernet = build_detector(
            None, min_confidence=0.4, imgsz=640, centernet_size=centernet_size
        )
        figures[f"{key}_ms"], figures[f"{key}_cpu_ms"] = timed(
            centernet.detect, list(frames.values()) * 3
        )
        boxes = {}
        for index, frame in frames.items():
            raw = centernet.detect(frame)
            keep = (raw.conf >= 0.4) & (raw.cls == 0)
            boxes[index] = [tuple(map(float, b)) for b in raw.xyxy[keep]]
        found, spare = people_found(boxes)
        recall_key = "vtest_people_recall" + ("" if centernet_size else "_512")
        figures[recall_key] = round(found / counted, 3)
        shape = centernet.model.input_shape(768, 576)
        print(
            f"CenterNet (onnxruntime, {shape[0]}x{shape[1]}): {figures[f'{key}_ms']} ms a frame "
            f"({figures[f'{key}_cpu_ms']} ms CPU); people found on ten vtest.avi frames: "
            f"{found}/{counted}, {spare} other boxes"
        )
    for imgsz in (320, 640):
        yolo = build_detector(str(MODEL), min_confidence=0.4, imgsz=imgsz)
        wall, cpu = timed(yolo.detect, list(frames.values()) * 3)
        figures[f"yolo_ms_{imgsz}"], figures[f"yolo_cpu_ms_{imgsz}"] = wall, cpu
        print(f"YOLO path (ultralytics, {MODEL.name}) at {imgsz}: {wall} ms a frame ({cpu} CPU)")
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    figures["hog_ms"], figures["hog_cpu_ms"] = timed(
        lambda f: hog_people(f, hog), list(frames.values())
    )
    found, spare = people_found({i: hog_people(f, hog) for i, f in frames.items()})
    figures["hog_people_recall"] = round(found / counted, 3)
    print(
        f"OpenCV HOG (the old default): {figures['hog_ms']} ms a frame "
        f"({figures['hog_cpu_ms']} CPU); people found "
        f"{found}/{counted}, {spare} other boxes"
    )
    return figures


def _analyze(
    settings: Settings,
    cameras: list[CameraInput],
    seconds: float | None,
    warm_up: float | None = None,
) -> tuple[RunSummary, RunSummary, datetime]:
    """Register ``cameras`` and run them: to their end, or in real time for ``seconds``;
    the run's summary, its summary ``warm_up`` seconds in (empty without one), and when the
    service started running them (after it was built: its OCR engines, the relay; each
    camera then builds its detector and opens its source)."""
    pool = create_pool(settings.database_url, max_size=2)
    try:
        for camera in cameras:
            CameraRegistry(pool).register(camera)
    finally:
        pool.close()
    service = AnalyzerService(
        settings, realtime=seconds is not None, until_end=seconds is None, progress=False
    )
    started = datetime.now(UTC)
    if seconds is not None:
        threading.Timer(seconds, service.stop.set).start()
    at_warm_up: list[RunSummary] = []
    if warm_up is not None:
        threading.Timer(warm_up, lambda: at_warm_up.append(service.summary())).start()
    try:
        summary = service.run()
    finally:
        service.close()
    return summary, (at_warm_up[0] if at_warm_up else RunSummary()), started


@contextmanager
def fresh_database(base: Settings) -> Iterator[Settings]:
    """``base`` on a migrated throwaway database, dropped afterwards."""
    url = with_database_name(base.database_url, f"analytics_bench_det_{uuid.uuid4().hex[:8]}")
    migrate(url)
    try:
        yield base.model_copy(update={"database_url": url})
    finally:
        drop_database(url)


def entered_per_pass(base: Settings) -> float:
    """Person ``entered`` events of a default run on vtest.avi ÷ the passes counted by eye."""
    video = str(opencv_sample("vtest.avi"))
    with fresh_database(base) as settings:
        _analyze(settings, [CameraInput(id="campus", source_url=video)], None)
        pool = create_pool(settings.database_url, max_size=1)
        with pool.connection() as conn:
            entered = conn.execute(
                "SELECT count(*) AS n FROM events WHERE event_type = 'tracking' "
                "AND event_data->>'action' = 'entered' AND event_data->>'class' = 'person'"
            ).fetchone()["n"]
        pool.close()
    print(
        f"default run on vtest.avi: {entered} person entered events for {PASSES_BY_EYE} "
        f"passes counted by eye ({entered / PASSES_BY_EYE:.2f} a pass)"
    )
    return round(entered / PASSES_BY_EYE, 2)


def still_video(path: Path) -> Path:
    """90 s of vtest.avi's empty square (its first frame with nobody drawn out) at 10 fps."""
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = vtest_frames(range(0, 795, 53))
    still = np.median(np.stack(list(frames.values())), axis=0).astype(np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, still.shape[1::-1])
    for _ in range(900):
        writer.write(still)
    writer.release()
    return path


@dataclass(frozen=True)
class Load:
    """What ``count`` real-time cameras did over a run."""

    count: int
    row_lag_p99_s: float  # frame time -> stored row
    redis_lag_p99_ms: float  # frame time -> message on the Redis stream
    rows: int
    late_frames: int  # dropped because the analysis was too late for them

    @property
    def holds(self) -> bool:
        return self.rows > 0 and self.late_frames == 0 and self.row_lag_p99_s < 1.0


def _p99(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))] if values else float("inf")


def run_load(settings: Settings, count: int, seconds: float, camera: dict | None = None) -> Load:
    """``count`` real-time cameras (``camera``: their settings, default ones unless given) for
    ``seconds``, on ``settings``' database and stream."""
    busy, still = str(opencv_sample("vtest.avi")), str(still_video(ROOT / ".local" / "still.avi"))
    cameras = [
        CameraInput(
            id=f"cam-{i:02d}", source_url=busy if i % 2 == 0 else still, settings=camera or {}
        )
        for i in range(count)
    ]
    # Measured over ``seconds`` after a warm-up counted from the cameras' start: their start
    # (a detector session and a whole-frame plate search each, all at once, then every
    # person in view entering at once) is not the load they sustain.
    summary, at_warm_up, started = _analyze(
        settings, cameras, WARM_UP_SECONDS + seconds, WARM_UP_SECONDS
    )
    warmed = started + timedelta(seconds=WARM_UP_SECONDS)
    stop = warmed + timedelta(seconds=seconds)

    def late_frames(run: RunSummary) -> int:
        return sum(frames.get("overload", 0) for frames in run.frames.values())

    late = late_frames(summary) - late_frames(at_warm_up)
    pool = create_pool(settings.database_url, max_size=1)
    with pool.connection() as conn:
        # Rows stored after the stop are the tracks closed at the end: not part of the run.
        rows = conn.execute(
            "SELECT extract(epoch FROM created_at - timestamp)::float8 AS lag FROM events "
            "WHERE created_at <= %s AND timestamp >= %s",
            (stop, warmed),
        )
        row_lags = [row["lag"] for row in rows]
    pool.close()
    client = redis.Redis.from_url(settings.redis_url)
    redis_lags = []
    for message_id, fields in client.xrange(settings.redis_stream):
        message = decode_message(fields)
        if "timestamp" not in message:
            continue
        added = datetime.fromtimestamp(int(message_id.split(b"-")[0]) / 1000, UTC)
        frame_time = datetime.fromisoformat(message["timestamp"])
        if added <= stop and frame_time >= warmed:
            redis_lags.append((added - frame_time).total_seconds() * 1000)
    client.delete(settings.redis_stream)
    return Load(count, _p99(row_lags), _p99(redis_lags), len(row_lags), late)


def cameras_sustained(
    base: Settings, seconds: float = 60, camera: dict | None = None
) -> Load | None:
    """The largest load that holds (see :class:`Load`): 8 cameras first, then 12, 16, 20
    while it holds, or 4, 2, 1 when 8 does not (each in a database of its own)."""

    def attempt(count: int) -> Load:
        stream = f"bench:sustained:{uuid.uuid4().hex[:8]}"
        with fresh_database(base.model_copy(update={"redis_stream": stream})) as settings:
            load = run_load(settings, count, seconds, camera)
        print(
            f"{count} cameras at 5 fps ({(count + 1) // 2} busy, settings {camera or 'default'}, "
            f"detector {base.detector_weights or 'CenterNet'}): lag to row p99 "
            f"{load.row_lag_p99_s:.2f} s over {load.rows} rows, to Redis p99 "
            f"{load.redis_lag_p99_ms:.0f} ms, {load.late_frames} frames dropped late"
            + ("" if load.holds else "  (falls behind)")
        )
        return load

    first = attempt(CAMERA_COUNTS[0])
    if not first.holds:
        return next((load for n in (4, 2, 1) if (load := attempt(n)).holds), None)
    sustained = first
    for count in CAMERA_COUNTS[1:]:
        load = attempt(count)
        if not load.holds:
            break
        sustained = load
    return sustained


def detection_figures(settings: Settings) -> dict[str, float]:
    """Every figure above, keyed as in the RESULT line; ``settings`` name the PostgreSQL
    server (each run gets a database of its own), the Redis stream and the snapshot folder."""
    figures = detector_figures()
    figures["vtest_entered_per_pass"] = entered_per_pass(settings)
    default = cameras_sustained(settings)
    figures["cameras_sustained_5fps_default"] = default.count if default else 0
    # The same with ANPR off: what the detector alone allows.
    anpr_off = cameras_sustained(settings, camera={"anpr": "off"})
    figures["cameras_sustained_5fps_anpr_off"] = anpr_off.count if anpr_off else 0
    return figures
