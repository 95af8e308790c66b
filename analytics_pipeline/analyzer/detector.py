"""Object detectors: ultralytics YOLO from a local weights file, or, with no weights, OpenCV's
HOG people detector. A detector finds objects in one frame; :mod:`.tracker` follows them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from analytics_pipeline.paths import local_dir
from analytics_pipeline.weights import WeightsError, check_weights


def configure_ultralytics(threads: int | None = None) -> None:
    """No downloads, no pip installs at run time, settings under .local/, all the cores."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(local_dir() / "ultralytics"))
    import torch

    cv2.setNumThreads(threads or os.cpu_count() or 1)
    torch.set_num_threads(threads or os.cpu_count() or 1)


class RawDetections:
    """One frame's detections as arrays: the slice of ultralytics' ``Boxes`` that ByteTrack
    reads (``xyxy``, ``xywh``, ``conf``, ``cls``, length and indexing)."""

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

    def __getitem__(self, index: np.ndarray) -> RawDetections:
        return RawDetections(self.xyxy[index], self.conf[index], self.cls[index])


class Detector(Protocol):
    """Finds objects in one frame (no state kept between frames)."""

    name: str
    class_names: tuple[str, ...]

    def detect(self, frame: np.ndarray) -> RawDetections: ...


class YoloDetector:
    """ultralytics YOLO from a local ``.pt`` or ``.onnx`` file (never a download)."""

    def __init__(
        self,
        weights: str,
        *,
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

    def detect(self, frame: np.ndarray) -> RawDetections:
        result = self.model.predict(
            frame,
            conf=self.min_confidence,
            imgsz=self.imgsz,
            classes=self.class_ids,
            verbose=False,
            device="cpu",
        )[0]
        boxes = result.boxes
        return RawDetections(boxes.xyxy.numpy(), boxes.conf.numpy(), boxes.cls.numpy())


class HogPeopleDetector:
    """OpenCV's HOG people detector (no weights); SVM margins squashed into 0..1."""

    def __init__(self, *, min_confidence: float) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.class_names = ("person",)
        self.name = "hog-people"
        self.min_confidence = min_confidence

    def detect(self, frame: np.ndarray) -> RawDetections:
        scale = min(1.0, 640 / frame.shape[1])
        small = cv2.resize(frame, None, fx=scale, fy=scale) if scale < 1 else frame
        rects, weights = self.hog.detectMultiScale(
            small, winStride=(8, 8), padding=(8, 8), scale=1.05
        )
        # SVM margins, squashed into 0..1 so that one threshold serves both detectors.
        conf = 1 / (1 + np.exp(-np.asarray(weights, np.float32).reshape(-1)))
        xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in rects], np.float32) / scale
        keep = conf >= self.min_confidence
        return RawDetections(
            xyxy.reshape(-1, 4)[keep], conf[keep], np.zeros(int(keep.sum()), np.float32)
        )


def build_detector(
    weights: str | None, *, min_confidence: float, imgsz: int, classes: list[str] | None = None
) -> Detector:
    """YOLO when weights are configured, else the HOG people detector."""
    if weights:
        return YoloDetector(weights, min_confidence=min_confidence, imgsz=imgsz, classes=classes)
    return HogPeopleDetector(min_confidence=min_confidence)
