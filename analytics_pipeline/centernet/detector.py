"""COCO CenterNet on onnxruntime: a BGR frame in, boxes with class names and scores out.

The model (``models/centernet.onnx``, made by :mod:`analytics_pipeline.centernet.convert`)
takes a plain resize of the frame (RGB, float 0..255, no letterbox): 512x512 as upstream, or,
with ``input_size``, that long side and the frame's own aspect (sides multiples of 32: on
4:3 CCTV, 384x288 costs 2.6 times less than 512x512 and finds as many people). It gives an
80-channel heatmap and four distances per cell at stride 4. Decoding is numpy: a peak is a
heatmap cell at or above the threshold that is the maximum of its 3x3 neighbourhood; its box
is ``(4x - left, 4y - top, 4x + right, 4y + bottom)`` in input pixels, scaled back to the frame;
overlapping boxes of one class are then thinned by non-maximum suppression.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import onnxruntime as ort

from analytics_pipeline.analyzer.types import Detection
from analytics_pipeline.centernet import (
    BOXES_OUTPUT,
    BUILD_COMMAND,
    COCO_CLASSES,
    HEATMAP_OUTPUT,
    INPUT_NAME,
    INPUT_SIZE,
    STRIDE,
)
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.onnx_sessions import quiet_session_options
from analytics_pipeline.paths import project_root

Device = Literal["cpu", "cuda", "auto"]
#: Input sides must be multiples of this (the backbone's largest stride).
STEP = 32
CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


class CenterNetUnavailable(PipelineError):
    """The CenterNet model cannot be run; the message says what to do."""


def default_model_path() -> Path:
    """``models/centernet.onnx`` under the project root (made at set-up, git-ignored)."""
    return project_root() / "models" / "centernet.onnx"


def providers_for(device: Device) -> list[str]:
    """onnxruntime execution providers for ``device`` (``cuda`` fails without the provider)."""
    available = ort.get_available_providers()
    if device == "cpu":
        return [CPU_PROVIDER]
    if device == "cuda":
        if CUDA_PROVIDER not in available:
            raise CenterNetUnavailable(
                "DETECTOR_DEVICE=cuda but this onnxruntime has no CUDA provider (available: "
                f"{', '.join(available)}); install onnxruntime-gpu or use cpu or auto"
            )
        return [CUDA_PROVIDER, CPU_PROVIDER]
    if device == "auto":
        return [CUDA_PROVIDER, CPU_PROVIDER] if CUDA_PROVIDER in available else [CPU_PROVIDER]
    raise ValueError(f"device must be cpu, cuda or auto, not {device!r}")


def find_peaks(heatmap: np.ndarray, threshold: float) -> tuple[np.ndarray, ...]:
    """(class, y, x) indices of cells >= ``threshold`` that are the max of their 3x3 window.

    ``heatmap`` is C x H x W. Ties count as peaks (as TF's ``heat == maxpool(heat)``); cells
    outside the map do not take part (the max pool's SAME padding).
    """
    # flatnonzero + unravel is ten times faster than a 3-D nonzero on 80 x 128 x 128.
    classes, ys, xs = np.unravel_index(np.flatnonzero(heatmap >= threshold), heatmap.shape)
    if classes.size == 0:
        return classes, ys, xs
    height, width = heatmap.shape[1:]
    values = heatmap[classes, ys, xs]
    is_peak = np.ones(classes.shape, dtype=bool)
    for dy in (-1, 0, 1):
        # Off the map, the index is clamped onto the cell itself, which never beats it.
        rows = np.clip(ys + dy, 0, height - 1)
        for dx in (-1, 0, 1):
            if dy == 0 and dx == 0:
                continue
            is_peak &= heatmap[classes, rows, np.clip(xs + dx, 0, width - 1)] <= values
    return classes[is_peak], ys[is_peak], xs[is_peak]


def nms_per_class(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou: float
) -> np.ndarray:
    """Indices kept by greedy NMS within each class, best score first (boxes: N x (x1,y1,x2,y2))."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(
        boxes[:, 3] - boxes[:, 1], 0, None
    )
    kept: list[int] = []
    suppressed = np.zeros(len(boxes), dtype=bool)
    for position, index in enumerate(order):
        if suppressed[index]:
            continue
        kept.append(int(index))
        rest = order[position + 1 :]
        rest = rest[(class_ids[rest] == class_ids[index]) & ~suppressed[rest]]
        if rest.size == 0:
            continue
        left = np.maximum(boxes[index, 0], boxes[rest, 0])
        top = np.maximum(boxes[index, 1], boxes[rest, 1])
        right = np.minimum(boxes[index, 2], boxes[rest, 2])
        bottom = np.minimum(boxes[index, 3], boxes[rest, 3])
        overlap = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
        union = areas[index] + areas[rest] - overlap
        ratio = np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)
        suppressed[rest[ratio > iou]] = True
    return np.array(kept, dtype=np.int64)


def decode(
    heatmap: np.ndarray,
    distances: np.ndarray,
    frame_size: tuple[int, int],
    threshold: float,
    class_ids: np.ndarray | None = None,
    nms_iou: float = 0.5,
    input_size: tuple[int, int] = (INPUT_SIZE, INPUT_SIZE),
) -> list[Detection]:
    """Detections from one image's outputs (``heatmap`` C x H x W, ``distances`` 4 x H x W).

    ``frame_size`` is (width, height) of the frame the ``input_size`` (width, height) input
    was resized from; ``class_ids`` limits the classes (None: all). Best score first.
    """
    if class_ids is not None:
        heatmap = heatmap[class_ids]
    channels, ys, xs = find_peaks(heatmap, threshold)
    if channels.size == 0:
        return []
    classes = class_ids[channels] if class_ids is not None else channels
    scores = heatmap[channels, ys, xs].astype(np.float64)
    left, top, right, bottom = distances[:, ys, xs].astype(np.float64)
    centre_x, centre_y = xs * float(STRIDE), ys * float(STRIDE)
    width, height = frame_size
    scale_x, scale_y = width / input_size[0], height / input_size[1]
    boxes = np.stack(
        [
            np.clip((centre_x - left) * scale_x, 0, width),
            np.clip((centre_y - top) * scale_y, 0, height),
            np.clip((centre_x + right) * scale_x, 0, width),
            np.clip((centre_y + bottom) * scale_y, 0, height),
        ],
        axis=1,
    )
    keep = nms_per_class(boxes, scores, classes, nms_iou)
    return [
        Detection(
            x1=float(boxes[i, 0]),
            y1=float(boxes[i, 1]),
            x2=float(boxes[i, 2]),
            y2=float(boxes[i, 3]),
            class_name=COCO_CLASSES[int(classes[i])],
            confidence=float(scores[i]),
        )
        for i in keep
        if boxes[i, 2] > boxes[i, 0] and boxes[i, 3] > boxes[i, 1]
    ]


def class_indices(classes: Iterable[str] | None) -> np.ndarray | None:
    """COCO channel indices of ``classes`` (None: all); an unknown name is a ValueError."""
    if classes is None:
        return None
    names = list(dict.fromkeys(classes))
    unknown = [name for name in names if name not in COCO_CLASSES]
    if unknown:
        raise ValueError(f"not COCO classes: {', '.join(unknown)}")
    return np.array(sorted(COCO_CLASSES.index(name) for name in names), dtype=np.int64)


class CenterNetDetector:
    """The converted CenterNet on onnxruntime (``threads`` intra-op threads, ``device``)."""

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        threads: int = 2,
        device: Device = "cpu",
        nms_iou: float = 0.5,
        input_size: int | None = None,
    ) -> None:
        path = Path(model_path) if model_path is not None else default_model_path()
        if not path.is_file():
            raise CenterNetUnavailable(
                f"the CenterNet model {path} is missing: make it once with `{BUILD_COMMAND}` "
                "(fetches @vladmandic/human from the npm registry and converts it; "
                "nothing is downloaded at run time)"
            )
        if threads < 1:
            raise ValueError("threads must be at least 1")
        options = quiet_session_options(threads)
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=providers_for(device)
            )
        except Exception as exc:  # onnxruntime's Fail / InvalidProtobuf derive from Exception
            raise CenterNetUnavailable(
                f"{path} cannot be loaded ({exc}); rebuild it with `{BUILD_COMMAND} --force`"
            ) from exc
        if device == "cuda" and CUDA_PROVIDER not in self.session.get_providers():
            raise CenterNetUnavailable("DETECTOR_DEVICE=cuda but onnxruntime fell back to CPU")
        names = [output.name for output in self.session.get_outputs()]
        if names != [HEATMAP_OUTPUT, BOXES_OUTPUT]:
            raise CenterNetUnavailable(
                f"{path} is not the converted CenterNet (outputs {names}); rebuild it with "
                f"`{BUILD_COMMAND} --force`"
            )
        self.model_path = path
        self.device = "cuda" if CUDA_PROVIDER in self.session.get_providers() else "cpu"
        self.nms_iou = nms_iou
        if input_size is not None and input_size < STEP:
            raise ValueError(f"input_size must be at least {STEP}")
        self.input_size = input_size
        self._lock = threading.Lock()

    def input_shape(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the network input for a frame: 512x512 without ``input_size``,
        else ``input_size`` on the long side and the frame's aspect, multiples of 32."""
        if self.input_size is None:
            return INPUT_SIZE, INPUT_SIZE
        scale = self.input_size / max(width, height)
        return (
            max(STEP, round(width * scale / STEP) * STEP),
            max(STEP, round(height * scale / STEP) * STEP),
        )

    @staticmethod
    def preprocess(
        frame_bgr: np.ndarray, size: tuple[int, int] = (INPUT_SIZE, INPUT_SIZE)
    ) -> np.ndarray:
        """The network input: 1 x height x width x 3 RGB float32 0..255 (plain resize)."""
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 BGR frame, got shape {frame_bgr.shape}")
        resized = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_LINEAR)
        rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
        return rgb.astype(np.float32)[None]

    def infer(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The raw outputs for one frame: heatmap 80 x h x w and distances 4 x h x w, a
        quarter of the input's sides (128 x 128 at 512x512)."""
        height, width = frame_bgr.shape[:2]
        batch = self.preprocess(frame_bgr, self.input_shape(width, height))
        with self._lock:  # one run at a time: the thread pool is sized for one
            heatmap, distances = self.session.run(None, {INPUT_NAME: batch})
        return heatmap[0], distances[0]

    def detect(
        self,
        frame_bgr: np.ndarray,
        score_threshold: float = 0.4,
        classes: Iterable[str] | None = None,
        low_threshold: float | None = None,
    ) -> list[Detection]:
        """Boxes scoring at least ``score_threshold``, best first, in frame pixels.

        ``classes``: COCO names to keep (None: all 80). ``low_threshold`` (below
        ``score_threshold``, e.g. 0.1): also return the peaks between the two, as ByteTrack's
        second association round wants; callers split them by ``confidence``.
        """
        floor = score_threshold if low_threshold is None else min(low_threshold, score_threshold)
        heatmap, distances = self.infer(frame_bgr)
        height, width = frame_bgr.shape[:2]
        return decode(
            heatmap,
            distances,
            (width, height),
            floor,
            class_indices(classes),
            self.nms_iou,
            self.input_shape(width, height),
        )
