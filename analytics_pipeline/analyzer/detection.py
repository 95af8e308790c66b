"""Object detection and tracking: ultralytics YOLO from a local weights file with ByteTrack,
or, with no weights, OpenCV's HOG people detector tracked by the same ByteTrack."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from analytics_pipeline.snapshots import Box

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[2]
VEHICLE_CLASSES = frozenset({"car", "truck", "bus", "motorcycle", "motorbike", "van"})
PLATE_CLASSES = frozenset({"licence_plate", "license_plate", "plate"})


class WeightsError(Exception):
    """The detector weights cannot be used; the message says where to put them."""


Detection = Box
"""One object in one frame: the snapshot module's box, which the overlays draw as it is."""


class Tracker(Protocol):
    """Detects and tracks objects frame by frame (one instance per camera)."""

    name: str
    class_names: tuple[str, ...]

    def track(self, frame: np.ndarray) -> list[Detection]: ...


def configure_ultralytics(threads: int | None = None) -> None:
    """No downloads, no pip installs at run time, settings under .local/, all the cores."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(REPO_ROOT / ".local" / "ultralytics"))
    import torch

    cv2.setNumThreads(threads or os.cpu_count() or 1)
    torch.set_num_threads(threads or os.cpu_count() or 1)


def check_weights(weights: str) -> Path:
    """A local weights file, or :class:`WeightsError` (a bare name would be downloaded)."""
    path = Path(weights).expanduser()
    if not path.is_file():
        hint = (
            f"{weights!r} is not a file. ultralytics would try to download a bare model name, "
            "and this service never downloads at run time: put the weights file on disk and "
            "set DETECTOR_WEIGHTS to its path (the project's own model is "
            f"{REPO_ROOT / 'models' / 'street-nano.pt'}), or leave DETECTOR_WEIGHTS empty for "
            "the HOG people detector"
        )
        raise WeightsError(hint)
    if path.suffix not in (".pt", ".onnx"):
        raise WeightsError(f"{path} is not a .pt or .onnx weights file")
    return path.resolve()


class _Boxes:
    """The slice of ultralytics' Boxes that BYTETracker reads, for HOG detections."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray) -> None:
        self.xyxy, self.conf, self.cls = xyxy, conf, cls
        xy = (xyxy[:, :2] + xyxy[:, 2:]) / 2 if len(xyxy) else np.zeros((0, 2))
        self.xywh = (
            np.concatenate([xy, xyxy[:, 2:] - xyxy[:, :2]], axis=1)
            if len(xyxy)
            else np.zeros((0, 4), np.float32)
        )

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: np.ndarray) -> _Boxes:
        return _Boxes(self.xyxy[index], self.conf[index], self.cls[index])


def _byte_tracker(fps: float):  # noqa: ANN202 - ultralytics' BYTETracker
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.utils import YAML, IterableSimpleNamespace
    from ultralytics.utils.checks import check_yaml

    settings = YAML.load(check_yaml("bytetrack.yaml"))
    settings["track_buffer"] = max(2, round(fps * 2))  # frames a lost track is kept: 2 s
    return BYTETracker(IterableSimpleNamespace(**settings))


class YoloTracker:
    """ultralytics YOLO detection with ByteTrack tracking (state kept per instance)."""

    def __init__(
        self,
        weights: str,
        *,
        fps: float,
        min_confidence: float,
        imgsz: int,
        classes: list[str] | None = None,
    ) -> None:
        from ultralytics import YOLO

        self.model = YOLO(str(check_weights(weights)), task="detect")
        names = self.model.names
        self.class_names = tuple(names[i] for i in sorted(names))
        self.name = f"yolo:{Path(weights).name}"
        self.min_confidence = min_confidence
        self.imgsz = imgsz
        self.class_ids = None
        if classes:
            unknown = set(classes) - set(self.class_names)
            if unknown:
                raise WeightsError(
                    f"the model has no classes {sorted(unknown)}; it knows {list(self.class_names)}"
                )
            self.class_ids = [self.class_names.index(c) for c in classes]
        self.tracker = _byte_tracker(fps)

    def track(self, frame: np.ndarray) -> list[Detection]:
        result = self.model.predict(
            frame,
            conf=self.min_confidence,
            imgsz=self.imgsz,
            classes=self.class_ids,
            verbose=False,
            device="cpu",
        )[0]
        boxes = result.boxes
        raw = _Boxes(boxes.xyxy.numpy(), boxes.conf.numpy(), boxes.cls.numpy())
        return _tracked(self.tracker, raw, frame, self.class_names)


class HogPeopleTracker:
    """OpenCV's HOG people detector (no weights), tracked with ByteTrack."""

    def __init__(self, *, fps: float, min_confidence: float) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.class_names = ("person",)
        self.name = "hog-people"
        self.min_confidence = min_confidence
        self.tracker = _byte_tracker(fps)

    def track(self, frame: np.ndarray) -> list[Detection]:
        scale = min(1.0, 640 / frame.shape[1])
        small = cv2.resize(frame, None, fx=scale, fy=scale) if scale < 1 else frame
        rects, weights = self.hog.detectMultiScale(
            small, winStride=(8, 8), padding=(8, 8), scale=1.05
        )
        # SVM margins, squashed into 0..1 so that one threshold serves both detectors.
        conf = 1 / (1 + np.exp(-np.asarray(weights, np.float32).reshape(-1)))
        xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in rects], np.float32) / scale
        keep = conf >= self.min_confidence
        raw = _Boxes(xyxy.reshape(-1, 4)[keep], conf[keep], np.zeros(int(keep.sum()), np.float32))
        return _tracked(self.tracker, raw, frame, self.class_names)


def _tracked(
    tracker: Any,
    raw: _Boxes,
    frame: np.ndarray,
    names: tuple[str, ...],
) -> list[Detection]:
    """Untracked detections as they are, tracked ones with their track id."""
    tracks = tracker.update(raw, frame)
    tracked: dict[int, Detection] = {}
    for x1, y1, x2, y2, track_id, score, cls, index in np.asarray(tracks).reshape(-1, 8):
        tracked[int(index)] = Detection(
            float(x1), float(y1), float(x2), float(y2), names[int(cls)], float(score), int(track_id)
        )
    return [
        tracked.get(
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
    """YOLO when weights are configured, else the HOG people detector."""
    if weights:
        return YoloTracker(
            weights, fps=fps, min_confidence=min_confidence, imgsz=imgsz, classes=classes
        )
    return HogPeopleTracker(fps=fps, min_confidence=min_confidence)
