"""The evidence drawn on a snapshot, one annotator per kind of overlay (as ``supervision`` does).

Each annotator draws onto the image it is given (in place) and returns it:
:class:`MotionAnnotator` (motion regions red at 30% opacity), :class:`BoxAnnotator` (boxes
colour-coded by class, labelled ``class confidence #track``), :class:`PlateAnnotator` (plates
in a thick green box, the text and its confidence at the top), :class:`TimestampAnnotator`
(the event time, on every snapshot), :class:`LineAnnotator` (a counting line in yellow, its
name at its first point and an arrow towards its ``b`` side), :class:`ZoneAnnotator` (a zone's
outline in magenta, its name inside). :func:`annotate` draws one event's evidence on a copy.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

import cv2
import numpy as np

from analytics_pipeline.analyzer.lines import CountingLine
from analytics_pipeline.analyzer.types import Detection, PlateRead
from analytics_pipeline.analyzer.zones import EventZone

Colour = tuple[int, int, int]  # BGR

MOTION_COLOUR: Colour = (0, 0, 255)  # red
MOTION_OPACITY = 0.3
PLATE_COLOUR: Colour = (0, 255, 0)  # green
PLATE_THICKNESS = 4
BOX_THICKNESS = 2
TIMESTAMP_COLOUR: Colour = (0, 0, 0)
LINE_COLOUR: Colour = (0, 255, 255)  # yellow
ZONE_COLOUR: Colour = (255, 0, 255)  # magenta
LINE_THICKNESS = 3
# Class colours: distinct hues that are neither the motion red nor the plate green.
CLASS_PALETTE: tuple[Colour, ...] = (
    (255, 128, 0),
    (0, 200, 255),
    (255, 0, 255),
    (255, 255, 0),
    (128, 0, 255),
    (0, 128, 255),
    (200, 200, 200),
    (255, 0, 128),
)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_colour(class_name: str) -> Colour:
    """The stable colour of an object class."""
    return CLASS_PALETTE[zlib.crc32(class_name.encode()) % len(CLASS_PALETTE)]


def box_label(detection: Detection) -> str:
    """``class confidence`` and, once tracked, ``#track``."""
    text = f"{detection.class_name} {detection.confidence:.2f}"
    return f"{text} #{detection.track_id}" if detection.track_id is not None else text


def draw_label(image: np.ndarray, text: str, x: int, y: int, colour: Colour) -> np.ndarray:
    """Text on a filled patch whose bottom-left corner is (x, y), moved to lie in the image.

    The patch leaves a margin around the text wider than the stroke (anti-aliased, it
    reaches past the size ``getTextSize`` reports), so no glyph touches or crosses the patch's
    edge, nor the image's where the patch sits at a border. Below the text the baseline's
    room for descenders is the margin.
    """
    scale = max(0.4, image.shape[1] / 1280)
    thickness = max(1, round(scale * 2))
    (width, height), baseline = cv2.getTextSize(text, _FONT, scale, thickness)
    pad = thickness + 2
    patch_width, patch_height = width + 2 * pad, pad + height + baseline + 1
    x = min(max(0, x), max(0, image.shape[1] - patch_width))
    y = min(max(patch_height - 1, y), image.shape[0] - 1)
    top = y - patch_height + 1
    cv2.rectangle(image, (x, top), (x + patch_width - 1, y), colour, cv2.FILLED)
    luminance = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
    ink = (0, 0, 0) if luminance > 128 else (255, 255, 255)
    origin = (x + pad, y - baseline - 1)
    cv2.putText(image, text, origin, _FONT, scale, ink, thickness, cv2.LINE_AA)
    return image


class MotionAnnotator:
    """Blends a colour (red, 30%) where a motion mask is set."""

    def __init__(self, colour: Colour = MOTION_COLOUR, opacity: float = MOTION_OPACITY) -> None:
        self.colour = np.array(colour, dtype=np.float32)
        self.opacity = opacity

    def annotate(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Blend where ``mask`` is non-zero (a downscaled mask is resized to the image)."""
        if mask.shape[:2] != image.shape[:2]:
            size = (image.shape[1], image.shape[0])
            mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        region = mask > 0
        blended = image[region].astype(np.float32) * (1 - self.opacity) + self.colour * self.opacity
        image[region] = np.round(blended).astype(np.uint8)
        return image


class BoxAnnotator:
    """Class-coloured rectangles labelled ``class confidence #track`` just above them."""

    def __init__(self, thickness: int = BOX_THICKNESS) -> None:
        self.thickness = thickness

    def annotate(self, image: np.ndarray, detections: Sequence[Detection]) -> np.ndarray:
        for detection in detections:
            colour = class_colour(detection.class_name)
            p1 = (round(detection.x1), round(detection.y1))
            p2 = (round(detection.x2), round(detection.y2))
            cv2.rectangle(image, p1, p2, colour, self.thickness)
            draw_label(image, box_label(detection), p1[0], p1[1] - 1, colour)
        return image


class PlateAnnotator:
    """A thick green box on each plate; its text and confidence in a banner at the top."""

    def __init__(self, colour: Colour = PLATE_COLOUR, thickness: int = PLATE_THICKNESS) -> None:
        self.colour = colour
        self.thickness = thickness

    def annotate(self, image: np.ndarray, plates: Sequence[PlateRead]) -> np.ndarray:
        for plate in plates:
            p1, p2 = (round(plate.x1), round(plate.y1)), (round(plate.x2), round(plate.y2))
            cv2.rectangle(image, p1, p2, self.colour, self.thickness)
            # Top left of the image, whole: the banner's bottom edge is placed for it to fit.
            draw_label(image, f"{plate.text} {plate.confidence:.2f}", 0, 0, self.colour)
        return image


class TimestampAnnotator:
    """The event time (UTC, to the millisecond) at the bottom left."""

    def __init__(self, colour: Colour = TIMESTAMP_COLOUR) -> None:
        self.colour = colour

    def annotate(self, image: np.ndarray, moment: datetime) -> np.ndarray:
        text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
        return draw_label(image, text, 0, image.shape[0] - 1, self.colour)


def _pixel(point: tuple[float, float]) -> tuple[int, int]:
    return round(point[0]), round(point[1])


class LineAnnotator:
    """A counting line, its name at its first point (a) and an arrow from its middle towards
    its right-hand side (b): the way ``a_to_b`` crossings go."""

    def __init__(self, colour: Colour = LINE_COLOUR, thickness: int = LINE_THICKNESS) -> None:
        self.colour = colour
        self.thickness = thickness

    def annotate(self, image: np.ndarray, lines: Sequence[CountingLine]) -> np.ndarray:
        for line in lines:
            cv2.line(image, _pixel(line.a), _pixel(line.b), self.colour, self.thickness)
            (ax, ay), (bx, by) = line.a, line.b
            length = max(line.length, 1e-6)
            middle = ((ax + bx) / 2, (ay + by) / 2)
            arrow = min(40.0, max(12.0, length / 4))
            # Right-hand normal of a->b in image coordinates (y down): (-dy, dx).
            tip = (middle[0] - (by - ay) / length * arrow, middle[1] + (bx - ax) / length * arrow)
            cv2.arrowedLine(
                image, _pixel(middle), _pixel(tip), self.colour, max(1, self.thickness - 1)
            )
            draw_label(image, line.name, round(ax), round(ay), self.colour)
        return image


class ZoneAnnotator:
    """A zone's outline, its name at its first point."""

    def __init__(self, colour: Colour = ZONE_COLOUR, thickness: int = BOX_THICKNESS) -> None:
        self.colour = colour
        self.thickness = thickness

    def annotate(self, image: np.ndarray, zones: Sequence[EventZone]) -> np.ndarray:
        for zone in zones:
            points = np.array([_pixel(p) for p in zone.polygon], np.int32)
            cv2.polylines(image, [points], True, self.colour, self.thickness)
            x, y = _pixel(zone.polygon[0])
            draw_label(image, zone.name, x, y, self.colour)
        return image


MOTION = MotionAnnotator()
BOXES = BoxAnnotator()
PLATES = PlateAnnotator()
TIMESTAMP = TimestampAnnotator()
LINES = LineAnnotator()
ZONES = ZoneAnnotator()


def annotate(
    frame: np.ndarray,
    moment: datetime,
    *,
    motion_mask: np.ndarray | None = None,
    detections: Sequence[Detection] = (),
    plates: Sequence[PlateRead] = (),
    lines: Sequence[CountingLine] = (),
    zones: Sequence[EventZone] = (),
) -> np.ndarray:
    """A copy of ``frame`` (BGR) with the evidence of one event drawn on it."""
    image = frame.copy()
    if motion_mask is not None:
        MOTION.annotate(image, motion_mask)
    ZONES.annotate(image, zones)
    LINES.annotate(image, lines)
    BOXES.annotate(image, detections)
    PLATES.annotate(image, plates)
    return TIMESTAMP.annotate(image, moment)
