"""Finding and reading plates in a region of a frame with PP-OCR.

A region (a vehicle box, a motion region, a detector's plate box) is cropped with a margin and
sized for text detection; the text boxes found are kept when their size and shape are those of
a plate line; pieces of one line (``AB12`` and ``CDE`` of ``AB12 CDE``) are joined; each
candidate is straightened (a perspective crop of its four corners) and recognised. A read
counts when its normalised text passes the camera's :class:`PlateRule`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from analytics_pipeline.analyzer.ocr import OcrEngine
from analytics_pipeline.analyzer.types import PlateRead

_NOT_PLATE = re.compile(r"[^A-Z0-9]")
MIN_TEXT_HEIGHT = 7  # pixels of the frame: smaller text is not read reliably
MIN_ASPECT, MAX_ASPECT = 1.2, 12.0  # width / height of a plate's line of text
REC_HEIGHT = 48  # recognition input height (both engines scale lines to 48 pixels)
DET_MAX_SIDE = 640  # a region is shrunk to this long side for detection
DET_MIN_SIDE = 96  # and enlarged (at most DET_MAX_UPSCALE times) to this short side
DET_MAX_UPSCALE = 2.5
SMALL_TEXT = 24  # pixels: a line this low (as detected) is detected again, enlarged


def normalise_plate(text: str) -> str:
    """Upper case, letters and digits only."""
    return _NOT_PLATE.sub("", text.upper())


CONFUSED = {"0": "O", "O": "0", "1": "I", "I": "1", "2": "Z", "Z": "2", "5": "S", "S": "5",
            "8": "B", "B": "8", "6": "G", "G": "6"}  # fmt: skip
"""Characters OCR mistakes for each other; a camera's pattern decides which one was meant."""


class PlateRule:
    """Which normalised texts are plates: the camera's ``plate_pattern`` (a full match) where
    set, else the plate-likeness rule: 4 to 10 letters and digits, at least one of each.

    With a pattern, a read that misses it only by letters and digits OCR confuses (``2J59URR``
    for ``[A-Z]{2}[0-9]{2}[A-Z]{3}``) is corrected to the one that fits (``ZJ59URR``).
    """

    def __init__(self, pattern: str | None = None) -> None:
        self.pattern = re.compile(pattern) if pattern else None

    def accepts(self, text: str) -> bool:
        """Whether ``text`` (normalised) is a plate."""
        return self.fit(text) == text

    def fit(self, text: str) -> str | None:
        """``text`` as a plate (corrected to the pattern where OCR confused characters), or
        None when it is not one."""
        if self.pattern is None:
            plate_like = 4 <= len(text) <= 10 and any(c.isdigit() for c in text)
            return text if plate_like and any(c.isalpha() for c in text) else None
        if self.pattern.fullmatch(text):
            return text
        doubtful = [i for i, c in enumerate(text) if c in CONFUSED][:10]
        for choice in range(1, 2 ** len(doubtful)):
            chars = list(text)
            for bit, i in enumerate(doubtful):
                if choice >> bit & 1:
                    chars[i] = CONFUSED[chars[i]]
            if self.pattern.fullmatch(candidate := "".join(chars)):
                return candidate
        return None


@dataclass(frozen=True)
class TextLine:
    """A candidate plate line: its four corners in frame pixels (clockwise from top left)."""

    corners: np.ndarray

    @property
    def width(self) -> float:
        c = self.corners
        return float((np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2)

    @property
    def height(self) -> float:
        c = self.corners
        return float((np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1])) / 2)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The axis-aligned box around the corners."""
        (x1, y1), (x2, y2) = self.corners.min(axis=0), self.corners.max(axis=0)
        return float(x1), float(y1), float(x2), float(y2)


def _order(points: np.ndarray) -> np.ndarray:
    """Four corners clockwise from the top left."""
    by_x = points[np.argsort(points[:, 0])]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1])]
    tr, br = right[np.argsort(right[:, 1])]
    return np.array([tl, tr, br, bl], np.float32)


def _same_line(left: TextLine, right: TextLine) -> bool:
    """``right`` continues ``left``'s line: beside it, about as tall, a small gap between."""
    _lx1, ly1, lx2, ly2 = left.box
    rx1, ry1, _rx2, ry2 = right.box
    shorter, taller = sorted((ly2 - ly1, ry2 - ry1))
    overlap = min(ly2, ry2) - max(ly1, ry1)
    gap = rx1 - lx2
    return taller <= 1.6 * shorter and overlap >= 0.6 * shorter and -0.5 * taller <= gap <= taller


def _joined(lines: list[TextLine]) -> list[TextLine]:
    """Pieces of one line of text joined (``AB12`` and ``CDE`` of ``AB12 CDE``)."""
    joined: list[TextLine] = []
    for piece in sorted(lines, key=lambda line: line.box[0]):
        for i, line in enumerate(joined):
            if _same_line(line, piece):
                points = np.concatenate([line.corners, piece.corners])
                rect = cv2.boxPoints(cv2.minAreaRect(points))
                joined[i] = TextLine(_order(np.asarray(rect, np.float32)))
                break
        else:
            joined.append(piece)
    return joined


def plate_shaped(line: TextLine, region_width: float | None = None) -> bool:
    """A line of plate text: tall enough, plate-like proportions, not wider than its vehicle."""
    if line.height < MIN_TEXT_HEIGHT or not MIN_ASPECT <= line.width / line.height <= MAX_ASPECT:
        return False
    return region_width is None or line.width <= 0.95 * region_width


def clear_of_edges(box: tuple[float, float, float, float], width: int, height: int) -> bool:
    """Not at the frame's edge (half a box height away): a plate cut by it reads as a shorter,
    wrong plate, and a detector's box of a cut plate stops short of the edge."""
    x1, y1, x2, y2 = box
    margin = max(2.0, (y2 - y1) / 2)
    return x1 > margin and y1 > margin and x2 < width - margin and y2 < height - margin


def _scale_for(width: int, height: int) -> float:
    scale = min(1.0, DET_MAX_SIDE / max(width, height))
    if min(width, height) * scale < DET_MIN_SIDE:
        longest_allowed = DET_MAX_SIDE / max(width, height)
        scale = min(DET_MAX_UPSCALE, DET_MIN_SIDE / min(width, height), longest_allowed)
    return scale


def _detect(
    ocr: OcrEngine,
    frame: np.ndarray,
    region: tuple[float, float, float, float],
    margin: float,
    scale: float | None = None,
) -> tuple[list[TextLine], float]:
    """Text lines (pieces joined) in ``region`` with a margin, in frame pixels, and the scale
    the region was detected at (by default: sized by :func:`_scale_for`)."""
    x1, y1, x2, y2 = region
    pad_x, pad_y = (x2 - x1) * margin + 4, (y2 - y1) * margin + 4
    left, top = max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y))
    right = min(frame.shape[1], int(x2 + pad_x + 1))
    bottom = min(frame.shape[0], int(y2 + pad_y + 1))
    if right - left < 8 or bottom - top < 8:
        return [], 1.0
    crop = frame[top:bottom, left:right]
    scale = scale or _scale_for(right - left, bottom - top)
    if scale != 1.0:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interpolation)
    lines = [
        TextLine(_order(corners / scale + np.float32([left, top]))) for corners in ocr.detect(crop)
    ]
    return _joined(lines), scale


def _refined(ocr: OcrEngine, frame: np.ndarray, line: TextLine) -> TextLine:
    """A small line detected again, enlarged, with room around it: at a few pixels high the
    detector drops or splits characters (``33HMB`` of ``NJ33HMB``)."""
    found, _ = _detect(ocr, frame, line.box, 0.4, min(4.0, SMALL_TEXT / max(line.height, 1.0)))
    x1, y1, x2, y2 = line.box
    around = [
        f for f in found if f.box[0] < x2 and f.box[2] > x1 and f.box[1] < y2 and f.box[3] > y1
    ]
    return max(around, key=lambda f: f.width, default=line)


def find_lines(
    ocr: OcrEngine,
    frame: np.ndarray,
    region: tuple[float, float, float, float],
    *,
    margin: float = 0.1,
    vehicle_width: float | None = None,
) -> list[TextLine]:
    """Plate-shaped lines of text inside ``region`` (x1, y1, x2, y2; ``margin`` of its size
    added around it), in frame pixels, largest first."""
    lines, scale = _detect(ocr, frame, region, margin)
    lines = [
        _refined(ocr, frame, line) if line.height * scale < SMALL_TEXT else line
        for line in lines
        if plate_shaped(line, vehicle_width)
    ]
    height, width = frame.shape[:2]
    lines = [
        line
        for line in lines
        if plate_shaped(line, vehicle_width) and clear_of_edges(line.box, width, height)
    ]
    return sorted(lines, key=lambda line: line.width * line.height, reverse=True)


def straightened(frame: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The quadrilateral ``corners`` of ``frame`` warped to an upright rectangle, scaled to the
    recogniser's input height."""
    width = max(np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[2] - corners[3]))
    height = max(np.linalg.norm(corners[3] - corners[0]), np.linalg.norm(corners[2] - corners[1]))
    factor = max(1.0, REC_HEIGHT / max(height, 1.0))
    w, h = max(8, round(width * factor)), max(8, round(height * factor))
    target = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    warp = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(
        frame, warp, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )


def read_line(
    ocr: OcrEngine, frame: np.ndarray, line: TextLine, rule: PlateRule, min_confidence: float
) -> PlateRead | None:
    """The plate on ``line`` when its text passes ``rule`` with ``min_confidence``."""
    text, confidence = ocr.read(straightened(frame, line.corners))
    text = normalise_plate(text)
    plate = rule.fit(text) if confidence >= min_confidence else None
    if plate is None:
        return None
    text = plate
    x1, y1, x2, y2 = (round(v, 1) for v in line.box)
    return PlateRead(x1, y1, x2, y2, text, round(confidence, 4))


def read_box(
    ocr: OcrEngine,
    frame: np.ndarray,
    box: tuple[float, float, float, float],
    rule: PlateRule,
    min_confidence: float,
) -> PlateRead | None:
    """A plate box (a detector's, or a stored ``plate_box``) read by text detection in and
    around it (a detector's box often cuts a character off), else read as it is. The box of
    the read is the plate box and the text line together."""
    x1, y1, x2, y2 = box
    reads = [
        read_line(ocr, frame, line, rule, min_confidence)
        for line in find_lines(ocr, frame, box, margin=0.3)[:2]
    ]
    found = [r for r in reads if r is not None]
    if found:
        best = max(found, key=lambda r: r.confidence)
        return PlateRead(
            round(min(x1, best.x1), 1),
            round(min(y1, best.y1), 1),
            round(max(x2, best.x2), 1),
            round(max(y2, best.y2), 1),
            best.text,
            best.confidence,
        )
    pad = max(2.0, (y2 - y1) / 8)
    corners = np.float32(
        [[x1 - pad, y1 - pad], [x2 + pad, y1 - pad], [x2 + pad, y2 + pad], [x1 - pad, y2 + pad]]
    )
    corners[:, 0] = corners[:, 0].clip(0, frame.shape[1] - 1)
    corners[:, 1] = corners[:, 1].clip(0, frame.shape[0] - 1)
    read = read_line(ocr, frame, TextLine(corners), rule, min_confidence)
    if read is None:
        return None
    return PlateRead(x1, y1, x2, y2, read.text, read.confidence)
