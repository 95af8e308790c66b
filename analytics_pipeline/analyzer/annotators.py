"""The evidence drawn on a snapshot, one annotator per kind of overlay (as ``supervision`` does).

Each annotator draws onto the image it is given (in place) and returns it:
:class:`MotionAnnotator` (motion regions red at 30% opacity), :class:`BoxAnnotator` (boxes
colour-coded by class, labelled ``class confidence #track``), :class:`PlateAnnotator` (plates
in a thick green box, the text and its confidence at the top), :class:`TimestampAnnotator`
(the event time, on every snapshot). :func:`annotate` draws one event's evidence on a copy.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

import cv2
import numpy as np

from analytics_pipeline.analyzer.types import Detection, PlateRead

Colour = tuple[int, int, int]  # BGR

MOTION_COLOUR: Colour = (0, 0, 255)  # red
MOTION_OPACITY = 0.3
PLATE_COLOUR: Colour = (0, 255, 0)  # green
PLATE_THICKNESS = 4
BOX_THICKNESS = 2
TIMESTAMP_COLOUR: Colour = (0, 0, 0)
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


MOTION = MotionAnnotator()
BOXES = BoxAnnotator()
PLATES = PlateAnnotator()
TIMESTAMP = TimestampAnnotator()


def annotate(
    frame: np.ndarray,
    moment: datetime,
    *,
    motion_mask: np.ndarray | None = None,
    detections: Sequence[Detection] = (),
    plates: Sequence[PlateRead] = (),
) -> np.ndarray:
    """A copy of ``frame`` (BGR) with the evidence of one event drawn on it."""
    image = frame.copy()
    if motion_mask is not None:
        MOTION.annotate(image, motion_mask)
    BOXES.annotate(image, detections)
    PLATES.annotate(image, plates)
    return TIMESTAMP.annotate(image, moment)
