"""Tracking: ultralytics' ByteTrack over whichever detector, one tracker per camera (it keeps
state), its buffer set in seconds and scaled to the camera's analysis rate."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from analytics_pipeline.analyzer.detector import (
    Detector,
    RawDetections,
    YoloDetector,
    build_detector,
)
from analytics_pipeline.analyzer.types import Detection

LOST_TRACK_SECONDS = 2.0  # how long a lost track is kept before its id is given up


class Tracker(Protocol):
    """Detects and tracks objects frame by frame (one instance per camera)."""

    name: str
    class_names: tuple[str, ...]

    def track(self, frame: np.ndarray) -> list[Detection]: ...


def byte_tracker(fps: float) -> Any:
    """ultralytics' BYTETracker with its default settings, the buffer in frames at ``fps``."""
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.utils import YAML, IterableSimpleNamespace
    from ultralytics.utils.checks import check_yaml

    settings = YAML.load(check_yaml("bytetrack.yaml"))
    settings["track_buffer"] = max(2, round(fps * LOST_TRACK_SECONDS))
    return BYTETracker(IterableSimpleNamespace(**settings))


class DetectionTracker:
    """A detector's detections followed from frame to frame by ByteTrack."""

    def __init__(self, detector: Detector, *, fps: float) -> None:
        self.detector = detector
        self.name = detector.name
        self.class_names = detector.class_names
        self.tracker = byte_tracker(fps)

    def track(self, frame: np.ndarray) -> list[Detection]:
        """This frame's detections; those ByteTrack follows carry their track id."""
        return tracked(self.tracker, self.detector.detect(frame), frame, self.class_names)


class YoloTracker(DetectionTracker):
    """YOLO detection tracked by ByteTrack; ``model`` is the ultralytics model."""

    def __init__(
        self,
        weights: str,
        *,
        fps: float,
        min_confidence: float,
        imgsz: int,
        classes: list[str] | None = None,
    ) -> None:
        detector = YoloDetector(
            weights, min_confidence=min_confidence, imgsz=imgsz, classes=classes
        )
        super().__init__(detector, fps=fps)
        self.model = detector.model


def tracked(
    tracker: Any, raw: RawDetections, frame: np.ndarray, names: tuple[str, ...]
) -> list[Detection]:
    """Every detection of the frame: untracked ones as they are, tracked ones with their id."""
    tracks = tracker.update(raw, frame)
    found: dict[int, Detection] = {}
    for x1, y1, x2, y2, track_id, score, cls, index in np.asarray(tracks).reshape(-1, 8):
        found[int(index)] = Detection(
            float(x1), float(y1), float(x2), float(y2), names[int(cls)], float(score), int(track_id)
        )
    return [
        found.get(
            i, Detection(*map(float, raw.xyxy[i]), names[int(raw.cls[i])], float(raw.conf[i]))
        )
        for i in range(len(raw))
    ]


def build_tracker(
    weights: str | None,
    *,
    fps: float,
    min_confidence: float,
    imgsz: int,
    classes: list[str] | None = None,
) -> Tracker:
    """YOLO when weights are configured, else the HOG people detector; tracked by ByteTrack."""
    detector = build_detector(weights, min_confidence=min_confidence, imgsz=imgsz, classes=classes)
    return DetectionTracker(detector, fps=fps)
