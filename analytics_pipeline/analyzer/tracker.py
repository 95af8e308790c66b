"""Tracking: ultralytics' ByteTrack over whichever detector, one tracker per camera (it keeps
state), its timings set in seconds and scaled to the camera's analysis rate.

ByteTrack as its authors intend: boxes at or above the camera's ``min_confidence`` start and
continue tracks; boxes between :data:`~.detector.LOW_CONFIDENCE` and it only continue a track
that lost its strong box (a person half hidden behind a post). A track is reported with the
detector's own box for the frame (not the Kalman filter's, which lags a turning walker).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from analytics_pipeline.analyzer.detector import (
    LOW_CONFIDENCE,
    Detector,
    Device,
    RawDetections,
    YoloDetector,
    build_detector,
)
from analytics_pipeline.analyzer.track_events import LOST_TRACK_SECONDS
from analytics_pipeline.analyzer.types import Detection

#: How far an object may move, in its own heights a second, between two analysed frames; boxes
#: are matched on IoU after widening by that much (at 5 fps a walker moves half a body width
#: between frames, and plain IoU of two 30-pixel boxes 15 pixels apart is poor).
MOTION_HEIGHTS_PER_SECOND = 1.0


class Tracker(Protocol):
    """Detects and tracks objects frame by frame (one instance per camera)."""

    name: str
    class_names: tuple[str, ...]

    def track(self, frame: np.ndarray) -> list[Detection]: ...


def byte_tracker(fps: float, *, min_confidence: float = 0.25) -> Any:
    """ultralytics' BYTETracker: its lost-track buffer is :data:`LOST_TRACK_SECONDS` in frames
    at ``fps``; tracks start and match first at ``min_confidence``, and weaker boxes down to
    :data:`~.detector.LOW_CONFIDENCE` serve the second association."""
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.utils import YAML, IterableSimpleNamespace
    from ultralytics.utils.checks import check_yaml

    settings = YAML.load(check_yaml("bytetrack.yaml"))
    high = max(min_confidence, LOW_CONFIDENCE)
    settings.update(
        track_buffer=max(2, round(fps * LOST_TRACK_SECONDS)),
        track_high_thresh=high,
        new_track_thresh=high,
        track_low_thresh=min(LOW_CONFIDENCE, high),
    )
    return BYTETracker(IterableSimpleNamespace(**settings))


def widened(raw: RawDetections, fraction: float) -> RawDetections:
    """The boxes grown by ``fraction`` of their height on every side (what ByteTrack matches)."""
    if not len(raw) or fraction <= 0:
        return raw
    heights = raw.xyxy[:, 3:4] - raw.xyxy[:, 1:2]
    grow = np.concatenate([-heights, -heights, heights, heights], axis=1) * fraction
    return RawDetections(raw.xyxy + grow, raw.conf, raw.cls)


class Stitcher:
    """Gives a track ByteTrack starts afresh the id of a track it lost moments before, where
    that one would be now: a walker hidden for a second in a group keeps one id. Distances are
    in the lost object's heights, scaled by how long it was gone."""

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self.frame = 0
        self.alias: dict[int, int] = {}
        # output id -> (frame last seen, class, centre, height, velocity per frame)
        self.seen: dict[int, tuple[int, str, np.ndarray, float, np.ndarray]] = {}

    def ids(self, found: list[Detection]) -> list[Detection]:
        """``found`` with stitched track ids (untracked detections as they are)."""
        self.frame += 1
        horizon = self.fps * LOST_TRACK_SECONDS
        for key in [k for k, v in self.seen.items() if self.frame - v[0] > horizon]:
            del self.seen[key]
        for key in [k for k, v in self.alias.items() if v not in self.seen]:
            del self.alias[key]  # ByteTrack has given that track up too
        present = {self.alias[d.track_id] for d in found if d.track_id in self.alias}
        # A track under its own id first: when ByteTrack finds a lost track again while its
        # id was lent to a new one, the new one gives it back.
        order = sorted(
            range(len(found)), key=lambda i: self.alias.get(found[i].track_id) != found[i].track_id
        )
        out: list[Detection | None] = [None] * len(found)
        used: set[int] = set()
        for i in order:
            d = found[i]
            if d.track_id is None:
                out[i] = d
                continue
            if d.track_id not in self.alias:
                self.alias[d.track_id] = self._lost_match(d, present) or d.track_id
            track_id = self.alias[d.track_id]
            if track_id in used:
                track_id = self.alias[d.track_id] = d.track_id
            used.add(track_id)
            present.add(track_id)
            self._remember(track_id, d)
            out[i] = Detection(d.x1, d.y1, d.x2, d.y2, d.class_name, d.confidence, track_id)
        return [d for d in out if d is not None]

    def _remember(self, track_id: int, d: Detection) -> None:
        centre, height = np.array(d.centre), d.y2 - d.y1
        before = self.seen.get(track_id)
        velocity = np.zeros(2)
        if before is not None and self.frame > before[0]:
            velocity = (centre - before[2]) / (self.frame - before[0])
            velocity = 0.5 * velocity + 0.5 * before[4]
        self.seen[track_id] = (self.frame, d.class_name, centre, height, velocity)

    def _lost_match(self, d: Detection, present: set[int | None]) -> int | None:
        centre, best, best_distance = np.array(d.centre), None, float("inf")
        for track_id, (last, class_name, where, height, velocity) in self.seen.items():
            gap = self.frame - last
            if track_id in present or gap < 1 or class_name != d.class_name:
                continue
            reach = height * (0.5 + MOTION_HEIGHTS_PER_SECOND * gap / self.fps)
            distance = float(np.linalg.norm(centre - (where + velocity * gap)))
            size = (d.y2 - d.y1) / height
            if distance <= reach and 0.67 <= size <= 1.5 and distance < best_distance:
                best, best_distance = track_id, distance
        return best


class DetectionTracker:
    """A detector's detections followed from frame to frame by ByteTrack."""

    def __init__(self, detector: Detector, *, fps: float) -> None:
        self.detector = detector
        self.name = detector.name
        self.class_names = detector.class_names
        self.min_confidence = detector.min_confidence
        self.tracker = byte_tracker(fps, min_confidence=detector.min_confidence)
        self.widen = MOTION_HEIGHTS_PER_SECOND / fps / 2
        self.stitcher = Stitcher(fps)

    def track(self, frame: np.ndarray) -> list[Detection]:
        """This frame's detections; those ByteTrack follows carry their track id."""
        raw = self.detector.detect(frame)
        found = tracked(self.tracker, raw, frame, self.class_names, self.min_confidence, self.widen)
        return self.stitcher.ids(found)


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
        device: Device = "cpu",
    ) -> None:
        detector = YoloDetector(
            weights, min_confidence=min_confidence, imgsz=imgsz, classes=classes, device=device
        )
        super().__init__(detector, fps=fps)
        self.model = detector.model


def tracked(
    tracker: Any,
    raw: RawDetections,
    frame: np.ndarray,
    names: tuple[str, ...],
    min_confidence: float = 0.0,
    widen: float = 0.0,
) -> list[Detection]:
    """The frame's detections: those on a track with its id (weak ones included, they carry
    the track through), the others only when they reach ``min_confidence``. ByteTrack matches
    the boxes grown by ``widen`` (see :func:`widened`); the detector's own boxes are reported."""
    tracks = tracker.update(widened(raw, widen), frame)
    track_of: dict[int, int] = {}
    for row in np.asarray(tracks).reshape(-1, 8):
        track_of[int(row[7])] = int(row[4])
    found = []
    for i in range(len(raw)):
        track_id = track_of.get(i)
        confidence = float(raw.conf[i])
        if track_id is None and confidence < min_confidence:
            continue
        x1, y1, x2, y2 = (float(v) for v in raw.xyxy[i])
        found.append(Detection(x1, y1, x2, y2, names[int(raw.cls[i])], confidence, track_id))
    return found


def build_tracker(
    weights: str | None,
    *,
    fps: float,
    min_confidence: float,
    imgsz: int,
    classes: list[str] | None = None,
    device: Device = "cpu",
    threads: int | None = None,
    centernet_size: int | None = None,
) -> Tracker:
    """YOLO when weights are given, else the default CenterNet; tracked by ByteTrack."""
    detector = build_detector(
        weights,
        min_confidence=min_confidence,
        imgsz=imgsz,
        classes=classes,
        device=device,
        threads=threads,
        centernet_size=centernet_size,
    )
    return DetectionTracker(detector, fps=fps)
