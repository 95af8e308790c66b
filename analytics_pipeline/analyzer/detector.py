"""Object detectors behind one interface: the COCO CenterNet on onnxruntime (the default, made
at set-up) or ultralytics YOLO from a local weights file. A detector finds objects in one
frame; :mod:`.tracker` follows them with ByteTrack.

Both return every box down to :data:`LOW_CONFIDENCE`: boxes under the camera's
``min_confidence`` only serve ByteTrack's second association (keeping a track through a
weak frame), as ByteTrack intends; the tracker reports them only as part of a track.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np

from analytics_pipeline.analyzer.types import PLATE_CLASSES
from analytics_pipeline.centernet import BUILD_COMMAND, COCO_CLASSES
from analytics_pipeline.centernet.detector import (
    CenterNetDetector,
    CenterNetUnavailable,
    default_model_path,
    providers_for,
)
from analytics_pipeline.onnx_sessions import quiet_copy
from analytics_pipeline.paths import local_dir
from analytics_pipeline.weights import WeightsError, check_weights

log = logging.getLogger(__name__)

Device = Literal["cpu", "cuda", "auto"]
#: What a camera reports when its settings name no classes (those the model knows).
DEFAULT_CLASSES = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
#: Boxes down to this score go to ByteTrack's second association (its ``track_low_thresh``).
LOW_CONFIDENCE = 0.1


class DetectorUnavailable(WeightsError):
    """The detector cannot be built (missing model, no CUDA); the message says what to do."""


def configure_ultralytics(threads: int | None = None) -> None:
    """No downloads, no pip installs at run time, settings under .local/, all the cores."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(local_dir() / "ultralytics"))
    import torch

    cv2.setNumThreads(threads or os.cpu_count() or 1)
    torch.set_num_threads(threads or os.cpu_count() or 1)


def torch_device(device: Device) -> str:
    """The torch device for ``DETECTOR_DEVICE``: ``cuda`` fails plainly without a GPU."""
    import torch

    if device == "cpu":
        return "cpu"
    available = torch.cuda.is_available()
    if device == "cuda" and not available:
        raise DetectorUnavailable(
            "DETECTOR_DEVICE=cuda but torch sees no CUDA GPU (a CPU-only torch, or no driver); "
            "use cpu or auto"
        )
    return "cuda:0" if available else "cpu"


class RawDetections:
    """One frame's detections as arrays: the slice of ultralytics' ``Boxes`` that ByteTrack
    reads (``xyxy``, ``xywh``, ``conf``, ``cls``, length and indexing)."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray) -> None:
        self.xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
        self.conf = np.asarray(conf, np.float32).reshape(-1)
        self.cls = np.asarray(cls, np.float32).reshape(-1)
        self.xywh = np.concatenate(
            [(self.xyxy[:, :2] + self.xyxy[:, 2:]) / 2, self.xyxy[:, 2:] - self.xyxy[:, :2]],
            axis=1,
        )

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: np.ndarray) -> RawDetections:
        return RawDetections(self.xyxy[index], self.conf[index], self.cls[index])


class Detector(Protocol):
    """Finds objects in one frame (no state kept between frames).

    ``detect`` returns boxes down to :data:`LOW_CONFIDENCE`; those under ``min_confidence``
    are for tracking only. ``cls`` indexes ``class_names``.
    """

    name: str
    class_names: tuple[str, ...]
    min_confidence: float

    def detect(self, frame: np.ndarray) -> RawDetections: ...


def wanted_classes(known: Iterable[str], classes: Iterable[str] | None) -> list[str]:
    """The classes a camera reports: its own list, else :data:`DEFAULT_CLASSES` the model
    knows (all of the model's classes when it knows none of them). An unknown name is an
    error; a plate class the model has is always kept (ANPR reads it)."""
    known = list(known)
    if classes is not None:
        unknown = sorted(set(classes) - set(known))
        if unknown:
            raise WeightsError(f"the model has no classes {unknown}; it knows {known}")
        chosen = list(dict.fromkeys(classes))
    else:
        chosen = [name for name in DEFAULT_CLASSES if name in known] or known
    return chosen + [name for name in known if name in PLATE_CLASSES and name not in chosen]


_SHARED: dict[tuple[str, str, int, int | None], CenterNetDetector] = {}
_SHARED_LOCK = threading.Lock()


def shared_centernet(
    model_path: Path | None, device: Device, threads: int, input_size: int | None = None
) -> CenterNetDetector:
    """One CenterNet session per process for (file, device, threads, input size), shared by
    every camera (runs are serialised; a session per camera would only split the cores)."""
    key = (str(model_path or ""), device, threads, input_size)
    with _SHARED_LOCK:
        if key not in _SHARED:
            try:
                _SHARED[key] = CenterNetDetector(
                    model_path, threads=threads, device=device, input_size=input_size
                )
            except CenterNetUnavailable as exc:
                raise DetectorUnavailable(str(exc)) from None
        return _SHARED[key]


class CenterNetObjectDetector:
    """The default detector: COCO CenterNet (80 classes) on onnxruntime."""

    def __init__(
        self,
        *,
        min_confidence: float,
        classes: list[str] | None = None,
        device: Device = "cpu",
        threads: int | None = None,
        model_path: Path | None = None,
        input_size: int | None = None,
    ) -> None:
        self.model = shared_centernet(
            model_path, device, threads or os.cpu_count() or 1, input_size
        )
        self.class_names = COCO_CLASSES
        self.classes = wanted_classes(COCO_CLASSES, classes)
        self.name = "centernet"
        self.min_confidence = min_confidence
        self._class_index = {name: i for i, name in enumerate(self.class_names)}

    def detect(self, frame: np.ndarray) -> RawDetections:
        """Boxes of the wanted classes down to :data:`LOW_CONFIDENCE`, in frame pixels."""
        found = self.model.detect(
            frame,
            score_threshold=self.min_confidence,
            classes=self.classes,
            low_threshold=LOW_CONFIDENCE,
        )
        return RawDetections(
            np.array([[d.x1, d.y1, d.x2, d.y2] for d in found], np.float32),
            np.array([d.confidence for d in found], np.float32),
            np.array([self._class_index[d.class_name] for d in found], np.float32),
        )


class YoloDetector:
    """ultralytics YOLO from a local ``.pt`` or ``.onnx`` file (never a download).

    ``.onnx`` weights run in an onnxruntime session that ultralytics builds with the defaults
    (spinning pool threads: 13.3 ms CPU for 6.7 ms of wall time a frame at 320 px here); it is
    rebuilt with :func:`~analytics_pipeline.onnx_sessions.quiet_session_options` and
    ``threads`` intra-op threads (default 1: each camera has a session of its own, so the
    cameras spread over the cores): 9.4 ms CPU a frame.
    """

    def __init__(
        self,
        weights: str,
        *,
        min_confidence: float,
        imgsz: int,
        classes: list[str] | None = None,
        device: Device = "cpu",
        threads: int | None = None,
    ) -> None:
        from ultralytics import YOLO

        self.model = YOLO(str(check_weights(weights)), task="detect")
        names = self.model.names
        self.class_names = tuple(names[i] for i in sorted(names))
        self.name = f"yolo:{Path(weights).name}"
        self.min_confidence = min_confidence
        self.imgsz = imgsz
        self.device = torch_device(device)
        self.class_ids = [
            self.class_names.index(c) for c in wanted_classes(self.class_names, classes)
        ]
        if Path(weights).suffix == ".onnx":
            self._quiet_onnx_session(threads or 1)

    def _quiet_onnx_session(self, threads: int) -> None:
        # ultralytics builds the session with its predictor, at the first prediction.
        self.detect(np.zeros((self.imgsz, self.imgsz, 3), np.uint8))
        backend = getattr(self.model.predictor.model, "backend", None)
        session = getattr(backend, "session", None)
        if session is not None and not getattr(backend, "use_io_binding", False):
            backend.session = quiet_copy(session, threads)  # type: ignore[union-attr]

    def detect(self, frame: np.ndarray) -> RawDetections:
        """Boxes of the wanted classes down to :data:`LOW_CONFIDENCE` (as ultralytics' own
        ``track`` asks of the model), in frame pixels."""
        result = self.model.predict(
            frame,
            conf=min(LOW_CONFIDENCE, self.min_confidence),
            imgsz=self.imgsz,
            classes=self.class_ids,
            verbose=False,
            device=self.device,
        )[0]
        boxes = result.boxes.cpu()
        return RawDetections(boxes.xyxy.numpy(), boxes.conf.numpy(), boxes.cls.numpy())


def describe_detector(weights: str | None, device: Device) -> str:
    """What a camera with these weights runs on, for the start-up log line."""
    if weights:
        return f"YOLO {weights} (ultralytics) on {device}"
    return f"COCO CenterNet {default_model_path()} (onnxruntime) on {device}"


def check_detector(weights: str | None, device: Device) -> None:
    """Fail at start, not at the first camera: the default model file must exist, YOLO
    weights must be a local file, and ``cuda`` must be there for the backend that runs."""
    if weights:
        check_weights(weights)
        if device == "cuda":
            torch_device(device)
        return
    path = default_model_path()
    if not path.is_file():
        raise DetectorUnavailable(
            f"the default detector's model {path} is missing: make it once with "
            f"`{BUILD_COMMAND}` (scripts/setup.sh does; it fetches @vladmandic/human from the "
            "npm registry), or set DETECTOR_WEIGHTS to a local YOLO weights file"
        )
    try:
        providers_for(device)
    except CenterNetUnavailable as exc:  # no CUDA provider
        raise DetectorUnavailable(str(exc)) from None


def build_detector(
    weights: str | None,
    *,
    min_confidence: float,
    imgsz: int,
    classes: list[str] | None = None,
    device: Device = "cpu",
    threads: int | None = None,
    centernet_size: int | None = None,
) -> Detector:
    """YOLO when weights are given (at ``imgsz``), else the default CenterNet (one session
    shared by the process; ``centernet_size``: its input's long side, None for 512x512)."""
    if weights:
        return YoloDetector(
            weights,
            min_confidence=min_confidence,
            imgsz=imgsz,
            classes=classes,
            device=device,
            threads=threads,
        )
    return CenterNetObjectDetector(
        min_confidence=min_confidence,
        classes=classes,
        device=device,
        threads=threads,
        input_size=centernet_size,
    )
