"""What the analyzer's stages pass to each other: detections and plate reads.

One definition each, used by the detectors and trackers, the entered/left book, ANPR and the
annotators that draw them on snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass

VEHICLE_CLASSES = frozenset({"car", "truck", "bus", "motorcycle", "motorbike", "van"})
PLATE_CLASSES = frozenset({"licence_plate", "license_plate", "plate"})


@dataclass(frozen=True)
class Detection:
    """One object in one frame, in pixels (x1, y1, x2, y2); ``track_id`` once tracked."""

    x1: float
    y1: float
    x2: float
    y2: float
    class_name: str
    confidence: float
    track_id: int | None = None

    @property
    def box(self) -> list[float]:
        """[x1, y1, x2, y2] rounded to a tenth of a pixel, as events carry it."""
        return [round(self.x1, 1), round(self.y1, 1), round(self.x2, 1), round(self.y2, 1)]

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2


@dataclass(frozen=True)
class PlateRead:
    """A read licence plate: its box in pixels, normalised text and OCR confidence."""

    x1: float
    y1: float
    x2: float
    y2: float
    text: str
    confidence: float

    @property
    def box(self) -> list[float]:
        """[x1, y1, x2, y2] as found (``plate_box`` of an anpr event)."""
        return [self.x1, self.y1, self.x2, self.y2]
