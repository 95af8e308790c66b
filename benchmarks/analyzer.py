"""Analyzer throughput and latency against the bare model, in one run.

    python benchmarks/analyzer.py [--frames 150]

1. Frames per second of the whole analyzer (motion, detection and tracking, drawing, snapshot
   encoding and writing, the log) on the synthetic street video, against the bare model
   inference loop over the same frames, at imgsz 320 and 640: the ratio is our overhead.
   Detection runs on every frame here (not only while there is motion), so both loops see the
   same work; ANPR is off here and measured on its own in 4.
2. Motion-only frames per second at 720p.
3. Latency from a frame entering the analyzer to its event's message on the Redis stream
   (through the relay, woken by NOTIFY): p50 and p99.
4. ANPR on the plate clips (``synthetic.plate_clips``: white and yellow plates, Hershey and
   TrueType fonts, a small plate, a skewed plate, a darker scene, two cars at once): plates
   read once ÷ plates present, and OCR milliseconds per analysed frame, with the default
   detector, with the project's model and as a plate camera.
5. Detection on real footage (``benchmarks/detection.py``): detector ms a frame (CenterNet,
   the YOLO path at 320 and 640, HOG), people found on ten ``vtest.avi`` frames counted by eye,
   ``entered`` events per pass counted by eye, cameras sustained at 5 fps with the default
   detector.
6. Cameras sustained at 5 fps with the project's model at 320 (half busy, half still, played in
   real time for 60 s, no frame dropped for lateness) and the p99 lag from frame time to the
   event's message on the Redis stream at that number.
The last line is ``RESULT {json}`` for scripts.
Uses the project's model (models/street-nano.pt), a throwaway database and stream key.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import redis

from analytics_pipeline.analyzer.anpr import PlateReader, RapidOcrEngine
from analytics_pipeline.analyzer.camera import CameraAnalyzer
from analytics_pipeline.analyzer.camera_settings import CameraSettings
from analytics_pipeline.analyzer.detector import configure_ultralytics
from analytics_pipeline.analyzer.motion import MotionDetector
from analytics_pipeline.analyzer.output import EventSink
from analytics_pipeline.analyzer.sources import Frame, VideoSource
from analytics_pipeline.analyzer.synthetic import (
    StreetVideo,
    background,
    demo_street,
    plate_clips,
)
from analytics_pipeline.analyzer.tracker import YoloTracker, build_tracker
from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_pool, drop_database, migrate, with_database_name
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.relay import Relay
from analytics_pipeline.snapshots import SnapshotStore

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "street-nano.pt"
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/analytics")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def render(video: StreetVideo, count: int) -> list[np.ndarray]:
    backdrop = background(video.width, video.height, np.random.default_rng(video.seed))
    step = max(1, video.frames // count)
    return [video.render(i, backdrop)[0] for i in range(0, video.frames, step)][:count]


def frames_of(images: list[np.ndarray]) -> list[Frame]:
    start = datetime.now(UTC)
    return [Frame(image, i, start + timedelta(seconds=i / 5)) for i, image in enumerate(images)]


class _Events:
    """A sink that keeps the events (ANPR figures need no database)."""

    snapshots = None  # no files, no clips

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def emit(self, camera_id: str, event_type: str, *args: object) -> None:
        """Keep ``(event_type, event_data)``."""
        self.events.append((event_type, args[2]))  # type: ignore[arg-type]


def anpr_figures(ocr: RapidOcrEngine) -> dict[str, dict[str, float]]:
    """Plates read once ÷ plates present and OCR ms per analysed frame, per detector setup."""
    folder = ROOT / ".local" / "bench-plates"
    clips = {
        name: (video, video.write(folder / f"{name}.avi")) for name, video in plate_clips().items()
    }
    setups = {
        "default detector": (None, {}),
        "project's model": (str(MODEL), {}),
        "plate camera": (None, {"anpr": "plate_camera"}),
    }
    figures = {}
    for setup, (weights, camera) in setups.items():
        present = read = extra = frames = 0
        seconds = 0.0
        for video, path in clips.values():
            settings = CameraSettings(fps=5, **camera)
            tracker = build_tracker(weights, fps=5, min_confidence=0.4, imgsz=320)
            sink = _Events()
            reader = PlateReader(ocr)
            analyzer = CameraAnalyzer(
                "bench-anpr",
                settings,
                sink,
                tracker,
                reader,
                (640, 360),  # type: ignore[arg-type]
            )
            source = VideoSource(str(path), fps=5, realtime=False, stop=threading.Event())
            for frame in source.frames():
                analyzer.process(frame)
            analyzer.finish()
            plates = [data["plate"] for kind, data in sink.events if kind == "anpr"]
            wanted = [actor.plate for actor in video.actors if actor.plate]
            present += len(wanted)
            read += sum(plates.count(plate) == 1 for plate in wanted)
            extra += (
                len(plates)
                - sum(plates.count(plate) for plate in wanted)
                + sum(max(0, plates.count(plate) - 1) for plate in wanted)
            )
            frames += analyzer.counts.frames
            seconds += analyzer.counts.ocr_seconds
        figures[setup] = {
            "plates_read_ratio": round(read / present, 3),
            "ocr_ms_per_frame": round(1000 * seconds / max(1, frames), 1),
            "extra_reads": extra,
        }
        print(
            f"ANPR, {setup}: plates read once {read}/{present}, other anpr events {extra}, "
            f"OCR {1000 * seconds / max(1, frames):.1f} ms per analysed frame"
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    args = parser.parse_args()
    configure_ultralytics()
    import torch

    print(
        f"{args.frames} frames of the synthetic street (640x360); torch threads "
        f"{torch.get_num_threads()}, {os.cpu_count()} cores"
    )
    images = render(demo_street(), args.frames)
    name = f"analytics_bench_analyzer_{uuid.uuid4().hex[:8]}"
    url = with_database_name(DATABASE_URL, name)
    migrate(url)
    pool = create_pool(url, max_size=4)
    stream = f"bench:analyzer:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(REDIS_URL)
    ocr = RapidOcrEngine()
    tmp = ROOT / ".local" / "bench-snapshots"
    result: dict[str, object] = {}
    try:
        for imgsz in (320, 640):
            bare = YoloTracker(str(MODEL), fps=5, min_confidence=0.4, imgsz=imgsz)
            bare.model.predict(images[0], imgsz=imgsz, verbose=False, device="cpu")  # warm-up
            began = time.perf_counter()
            for image in images:
                bare.model.predict(image, conf=0.4, imgsz=imgsz, verbose=False, device="cpu")
            bare_fps = len(images) / (time.perf_counter() - began)

            settings = CameraSettings(fps=5, detect_only_with_motion=False, anpr="off")
            sink = EventSink(EventLog(pool), SnapshotStore(tmp), tmp / "spill.jsonl")
            analyzer = CameraAnalyzer(
                f"bench-{imgsz}",
                settings,
                sink,
                YoloTracker(str(MODEL), fps=5, min_confidence=0.4, imgsz=imgsz),
                PlateReader(ocr),
                (640, 360),
            )
            began = time.perf_counter()
            for frame in frames_of(images):
                analyzer.process(frame)
            analyzer.finish()
            full_fps = len(images) / (time.perf_counter() - began)
            events = sum(analyzer.counts.events.values())
            result[f"analyzer_fps_{imgsz}"] = round(full_fps, 1)
            result[f"analyzer_vs_model_{imgsz}"] = round(full_fps / bare_fps, 2)
            result[f"model_fps_{imgsz}"] = round(bare_fps, 1)
            print(
                f"imgsz {imgsz}: bare model {bare_fps:6.1f} fps   whole analyzer "
                f"{full_fps:6.1f} fps ({events} events)   analyzer / model "
                f"{full_fps / bare_fps:.2f}"
            )

        hd = [
            np.ascontiguousarray(np.repeat(np.repeat(i, 2, axis=0), 2, axis=1)[:720, :1280])
            for i in images
        ]
        motion = MotionDetector(fps=5)
        began = time.perf_counter()
        for i, image in enumerate(hd):
            motion.update(image, datetime.now(UTC) + timedelta(seconds=i / 5))
        motion_fps = len(hd) / (time.perf_counter() - began)
        result["motion_fps_720p"] = round(motion_fps)
        print(f"motion only at 1280x720: {motion_fps:6.1f} fps")

        # Latency: frame in -> message on the stream, with the relay running as in `analyze`.
        event_log = EventLog(pool)
        relay = Relay(event_log, client, stream, maxlen=100_000)
        client.xadd(stream, {"cursor": "0:0", "position": "0"})
        relay.publish_pending()
        stop = threading.Event()
        relay_thread = threading.Thread(
            target=relay.run, args=(url, stop), kwargs={"poll_interval": 0.05}
        )
        relay_thread.start()
        frame_started: dict[str, float] = {}
        arrived: dict[str, float] = {}

        class TimedSink(EventSink):
            def emit(self, *args, **kwargs):
                event = super().emit(*args, **kwargs)
                frame_started[str(event.event_id)] = current_frame_start
                return event

        def consume() -> None:
            last = "$"
            while not stop.is_set():
                for _, messages in client.xread({stream: last}, block=200) or []:
                    for message_id, fields in messages:
                        last = message_id
                        arrived[fields[b"event_id"].decode()] = time.perf_counter()

        consumer = threading.Thread(target=consume)
        consumer.start()
        time.sleep(0.3)
        sink = TimedSink(event_log, SnapshotStore(tmp), tmp / "spill.jsonl")
        analyzer = CameraAnalyzer(
            "bench-latency",
            CameraSettings(fps=5),
            sink,
            YoloTracker(str(MODEL), fps=5, min_confidence=0.4, imgsz=320),
            PlateReader(ocr),
            (640, 360),
        )
        for frame in frames_of(images):
            current_frame_start = time.perf_counter()
            analyzer.process(frame)
        time.sleep(1.5)
        stop.set()
        relay_thread.join(10)
        consumer.join(10)
        latencies = sorted(
            (arrived[k] - frame_started[k]) * 1000 for k in frame_started if k in arrived
        )
        if latencies:
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(
                f"frame -> Redis message latency over {len(latencies)} events: "
                f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms"
            )
        anpr = anpr_figures(ocr)
        result["anpr"] = anpr
        result["ocr_ms_per_frame"] = anpr["default detector"]["ocr_ms_per_frame"]
        result["plates_read_ratio"] = round(
            sum(f["plates_read_ratio"] for f in anpr.values()) / len(anpr), 3
        )
        from detection import cameras_sustained, detection_figures  # benchmarks/detection.py

        base = Settings(
            _env_file=None,
            database_url=DATABASE_URL,
            redis_url=REDIS_URL,
            redis_stream=stream,
            snapshots_dir=tmp,
        )
        result.update(detection_figures(base))
        project = base.model_copy(update={"detector_weights": str(MODEL), "detector_imgsz": 320})
        sustained = cameras_sustained(project)
        result["cameras_sustained_5fps"] = sustained.count if sustained else 0
        result["frame_to_redis_p99_ms"] = round(sustained.redis_lag_p99_ms) if sustained else None
    finally:
        pool.close()
        client.delete(stream)
        drop_database(url)
    print("RESULT " + json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
