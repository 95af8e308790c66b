"""Where plates are looked for in one frame, and their reading: :class:`PlateReader`.

A detector's plate boxes are read as they are; vehicle boxes and motion regions are searched
with PP-OCR text detection (:mod:`.plate_finder`). The OCR time and the regions looked at are
counted for the run summary and the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

import cv2
import numpy as np

from analytics_pipeline.analyzer.ocr import OcrEngine
from analytics_pipeline.analyzer.plate_finder import (
    PlateRule,
    TextLine,
    clear_of_edges,
    find_lines,
    read_box,
    read_line,
)
from analytics_pipeline.analyzer.plate_tracker import centre, holds, iou
from analytics_pipeline.analyzer.types import PLATE_CLASSES, VEHICLE_CLASSES, Detection, PlateRead

Region = tuple[float, float, float, float]
READS_PER_VEHICLE = 3  # text lines recognised at most per vehicle and frame (best one kept)
MIN_BLOB_PIXELS = 24  # of the downscaled motion mask: smaller blobs are noise


def box_of(d: Detection) -> Region:
    """A detection's (x1, y1, x2, y2)."""
    return d.x1, d.y1, d.x2, d.y2


def owner(point: tuple[float, float], vehicles: Sequence[Detection]) -> Detection | None:
    """The vehicle a plate at ``point`` is on: of the boxes holding it, the nearest vehicle's
    (its bottom lowest in the frame: it hides the ones behind it)."""
    holding = [v for v in vehicles if holds((v.x1, v.y1, v.x2, v.y2), point)]
    return max(holding, key=lambda v: v.y2, default=None)


def coverage(region: Region, detections: Sequence[Detection]) -> float:
    """The share of ``region`` that the detections' boxes cover (overlaps counted twice)."""
    x1, y1, x2, y2 = region
    area = max(1.0, (x2 - x1) * (y2 - y1))
    covered = 0.0
    for d in detections:
        w, h = min(x2, d.x2) - max(x1, d.x1), min(y2, d.y2) - max(y1, d.y1)
        covered += max(0.0, w) * max(0.0, h)
    return min(1.0, covered / area)


def motion_regions(
    mask: np.ndarray, frame_shape: tuple[int, ...], limit: int
) -> list[tuple[float, float, float, float]]:
    """The moving areas of a (downscaled) motion mask as frame boxes, near blobs merged,
    largest first, at most ``limit``."""
    scale = frame_shape[1] / mask.shape[1]
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [
        [x, y, x + w, y + h]
        for x, y, w, h in (cv2.boundingRect(c) for c in contours)
        if w * h >= MIN_BLOB_PIXELS
    ]
    merged = True
    while merged:  # blobs of one vehicle (a uniform body moves only at its edges) joined
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                gap = 6
                if (
                    a[0] - gap <= b[2]
                    and b[0] - gap <= a[2]
                    and a[1] - gap <= b[3]
                    and (b[1] - gap <= a[3])
                ):
                    boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    boxes.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
    return [(x1 * scale, y1 * scale, x2 * scale, y2 * scale) for x1, y1, x2, y2 in boxes[:limit]]


class PlateReader:
    """Localises and reads plates in one frame; counts the time its OCR takes."""

    def __init__(
        self,
        ocr: OcrEngine,
        *,
        min_confidence: float = 0.5,
        pattern: str | None = None,
        max_regions: int = 4,
    ) -> None:
        self.ocr = ocr
        self.min_confidence = min_confidence
        self.rule = PlateRule(pattern)
        self.max_regions = max_regions
        self.seconds = 0.0  # spent in OCR (detection, recognition and their crops)
        self.regions = 0  # regions looked at (vehicle boxes, plate boxes, motion regions)

    def plates_for(
        self,
        frame: np.ndarray,
        detections: Sequence[Detection],
        skip: Collection[int] = (),
    ) -> list[tuple[Detection, PlateRead]]:
        """(vehicle, best read) for the tracked vehicles in this frame (but those in ``skip``),
        in the given order: by their plate boxes where the detector found any on them, else by
        text detection in the vehicle box; at most ``max_regions`` regions. A plate on two
        overlapping vehicle boxes belongs to the nearer vehicle (lower in the frame)."""
        began = time.perf_counter()
        height, width = frame.shape[:2]
        vehicles = [d for d in detections if d.class_name in VEHICLE_CLASSES and d.track_id]
        plates = [
            d
            for d in detections
            if d.class_name in PLATE_CLASSES and clear_of_edges(box_of(d), width, height)
        ]
        found = []
        budget = self.max_regions
        for vehicle in vehicles:
            if budget <= 0:
                break
            if vehicle.track_id in skip:
                continue
            inside = [p for p in plates if owner(p.centre, vehicles) is vehicle][:budget]
            if inside:
                budget -= len(inside)
                reads = [
                    read_box(self.ocr, frame, box_of(p), self.rule, self.min_confidence)
                    for p in inside
                ]
            else:
                budget -= 1
                lines = find_lines(
                    self.ocr, frame, box_of(vehicle), vehicle_width=vehicle.x2 - vehicle.x1
                )
                lines = [line for line in lines if owner(centre(line.box), vehicles) is vehicle]
                reads = [self.read(frame, line) for line in lines[:READS_PER_VEHICLE]]
            good = [r for r in reads if r is not None]
            if good:
                found.append((vehicle, max(good, key=lambda r: r.confidence)))
        self.regions += self.max_regions - budget
        self.seconds += time.perf_counter() - began
        return found

    def read(self, frame: np.ndarray, line: TextLine) -> PlateRead | None:
        """One candidate line read (None: not a plate)."""
        return read_line(self.ocr, frame, line, self.rule, self.min_confidence)

    def lines_in(
        self, frame: np.ndarray, regions: Sequence[tuple[float, float, float, float]]
    ) -> list[TextLine]:
        """Plate-shaped text lines in the regions (the same line found twice kept once)."""
        began = time.perf_counter()
        lines: list[TextLine] = []
        for region in regions[: self.max_regions]:
            self.regions += 1
            for line in find_lines(self.ocr, frame, region):
                if all(iou(line.box, kept.box) < 0.5 for kept in lines):
                    lines.append(line)
        self.seconds += time.perf_counter() - began
        return lines

    def read_timed(self, frame: np.ndarray, line: TextLine | Detection) -> PlateRead | None:
        """A line or a detector's plate box read, its time counted."""
        began = time.perf_counter()
        try:
            if isinstance(line, Detection):
                self.regions += 1
                return read_box(self.ocr, frame, box_of(line), self.rule, self.min_confidence)
            return self.read(frame, line)
        finally:
            self.seconds += time.perf_counter() - began
