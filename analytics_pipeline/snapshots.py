"""Annotated snapshot images: overlays drawn on a frame, written atomically under the root.

Layout (a contract of the original service):
``<camera_id>/<YYYY-MM-DD>/<event_type>_<HHMMSS>_<microseconds>.png``, relative to
``SNAPSHOTS_DIR``. Overlays: motion regions red at 30% opacity; boxes colour-coded by class
labelled ``class confidence #track``; plates in a thick green box with the plate text and its
confidence at the top; a timestamp on every image.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

import cv2
import numpy as np

from analytics_pipeline.config import Settings
from analytics_pipeline.events import validate_camera_id

ImageFormat = Literal["png", "jpeg", "webp"]
EXTENSIONS: dict[str, str] = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}

MOTION_COLOUR = (0, 0, 255)  # BGR red
MOTION_OPACITY = 0.3
PLATE_COLOUR = (0, 255, 0)  # BGR green
PLATE_THICKNESS = 4
BOX_THICKNESS = 2
# Class colours (BGR): distinct hues that are neither the motion red nor the plate green.
CLASS_PALETTE = (
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


@dataclass(frozen=True)
class Box:
    """A detected object in pixel coordinates (x1, y1, x2, y2); ``track_id`` once tracked.

    The analyzer's detections are these boxes (``analyzer.detection.Detection``)."""

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

    @property
    def label(self) -> str:
        text = f"{self.class_name} {self.confidence:.2f}"
        return f"{text} #{self.track_id}" if self.track_id is not None else text


@dataclass(frozen=True)
class PlateRead:
    """A read licence plate: its box in pixels, normalised text and confidence."""

    x1: float
    y1: float
    x2: float
    y2: float
    text: str
    confidence: float


def class_colour(class_name: str) -> tuple[int, int, int]:
    """The stable BGR colour of an object class."""
    return CLASS_PALETTE[zlib.crc32(class_name.encode()) % len(CLASS_PALETTE)]


def _text_scale(image: np.ndarray) -> tuple[float, int]:
    scale = max(0.4, image.shape[1] / 1280)
    return scale, max(1, round(scale * 2))


def _label(image: np.ndarray, text: str, x: int, y: int, colour: tuple[int, int, int]) -> None:
    """Text on a filled background whose bottom-left corner is (x, y), kept inside the image."""
    scale, thickness = _text_scale(image)
    (width, height), baseline = cv2.getTextSize(text, _FONT, scale, thickness)
    x = min(max(0, x), max(0, image.shape[1] - width - 2))
    y = min(max(height + baseline + 2, y), image.shape[0] - 1)
    cv2.rectangle(image, (x, y - height - baseline - 2), (x + width + 2, y), colour, cv2.FILLED)
    luminance = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
    ink = (0, 0, 0) if luminance > 128 else (255, 255, 255)
    cv2.putText(image, text, (x + 1, y - baseline - 1), _FONT, scale, ink, thickness, cv2.LINE_AA)


def draw_motion(image: np.ndarray, mask: np.ndarray) -> None:
    """Blend red at 30% opacity where ``mask`` is non-zero (resized to the image if needed)."""
    if mask.shape[:2] != image.shape[:2]:
        mask = cv2.resize(mask, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
    region = mask > 0
    red = np.array(MOTION_COLOUR, dtype=np.float32)
    blended = image[region].astype(np.float32) * (1 - MOTION_OPACITY) + red * MOTION_OPACITY
    image[region] = np.round(blended).astype(np.uint8)


def draw_box(image: np.ndarray, box: Box) -> None:
    """A class-coloured rectangle labelled ``class confidence #track``."""
    colour = class_colour(box.class_name)
    p1, p2 = (round(box.x1), round(box.y1)), (round(box.x2), round(box.y2))
    cv2.rectangle(image, p1, p2, colour, BOX_THICKNESS)
    _label(image, box.label, p1[0], p1[1] - 1, colour)


def draw_plate(image: np.ndarray, plate: PlateRead) -> None:
    """A thick green box on the plate and a banner at the top with the text and confidence."""
    p1, p2 = (round(plate.x1), round(plate.y1)), (round(plate.x2), round(plate.y2))
    cv2.rectangle(image, p1, p2, PLATE_COLOUR, PLATE_THICKNESS)
    _label(image, f"{plate.text} {plate.confidence:.2f}", 0, 0, PLATE_COLOUR)


def draw_timestamp(image: np.ndarray, moment: datetime) -> None:
    """The event time (UTC, to the millisecond) at the bottom left."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
    _label(image, text, 0, image.shape[0] - 1, (0, 0, 0))


def annotate(
    frame: np.ndarray,
    moment: datetime,
    *,
    motion_mask: np.ndarray | None = None,
    boxes: Sequence[Box] = (),
    plates: Sequence[PlateRead] = (),
) -> np.ndarray:
    """A copy of ``frame`` (BGR) with the evidence of one event drawn on it."""
    image = frame.copy()
    if motion_mask is not None:
        draw_motion(image, motion_mask)
    for box in boxes:
        draw_box(image, box)
    for plate in plates:
        draw_plate(image, plate)
    draw_timestamp(image, moment)
    return image


def snapshot_relative_path(
    camera_id: str, event_type: str, moment: datetime, image_format: ImageFormat = "png"
) -> PurePosixPath:
    """``<camera_id>/<YYYY-MM-DD>/<event_type>_<HHMMSS>_<microseconds><ext>`` (UTC)."""
    validate_camera_id(camera_id)
    utc = moment.astimezone(UTC)
    name = f"{event_type}_{utc:%H%M%S}_{utc:%f}{EXTENSIONS[image_format]}"
    return PurePosixPath(camera_id, f"{utc:%Y-%m-%d}", name)


def encode_image(image: np.ndarray, image_format: ImageFormat, quality: int = 90) -> bytes:
    """``image`` (BGR) encoded as PNG, JPEG or WebP."""
    params = {
        "png": [cv2.IMWRITE_PNG_COMPRESSION, 3],
        "jpeg": [cv2.IMWRITE_JPEG_QUALITY, quality],
        "webp": [cv2.IMWRITE_WEBP_QUALITY, quality],
    }[image_format]
    ok, encoded = cv2.imencode(EXTENSIONS[image_format], image, params)
    if not ok:
        raise ValueError(f"could not encode a {image.shape} image as {image_format}")
    return encoded.tobytes()


def write_atomically(path: Path, data: bytes, *, replace: bool = False) -> Path:
    """Write ``data`` so that ``path`` appears whole or not at all; return where it went.

    Temp file in the same folder, fsync, then either a rename over ``path`` (``replace``) or a
    hard link that never replaces an existing file: a taken name gets ``_1``, ``_2``...
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temp_name, path)
            return path
        candidate, attempt = path, 0
        while True:
            try:
                os.link(temp_name, candidate)
                return candidate
            except FileExistsError:
                attempt += 1
                candidate = path.with_name(f"{path.stem}_{attempt}{path.suffix}")
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


class SnapshotStore:
    """Writes and finds snapshot files under one root directory."""

    def __init__(
        self,
        root: Path,
        *,
        image_format: ImageFormat = "png",
        quality: int = 90,
        enabled: bool = True,
    ) -> None:
        self.root = root.resolve()
        self.image_format = image_format
        self.quality = quality
        self.enabled = enabled

    @classmethod
    def from_settings(cls, settings: Settings) -> SnapshotStore:
        """The store configured by ``SNAPSHOTS_DIR``, ``SNAPSHOT_FORMAT`` and friends."""
        return cls(
            settings.snapshots_dir,
            image_format=settings.snapshot_format,
            quality=settings.snapshot_quality,
            enabled=settings.enable_snapshots,
        )

    def write(
        self, camera_id: str, event_type: str, moment: datetime, image: np.ndarray
    ) -> str | None:
        """Write ``image`` atomically and return its path relative to the root.

        Returns ``None`` when snapshots are disabled. The file appears whole or not at all
        (temp file, fsync, then a hard link that never replaces an existing file: two events
        in the same microsecond get ``_1``, ``_2`` suffixes).
        """
        if not self.enabled:
            return None
        relative = snapshot_relative_path(camera_id, event_type, moment, self.image_format)
        stored = write_atomically(
            self.root / relative, encode_image(image, self.image_format, self.quality)
        )
        return stored.relative_to(self.root).as_posix()

    def resolve(self, relative: str) -> Path:
        """The absolute path of a stored snapshot; refuses anything outside the root."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"snapshot path {relative!r} is outside the snapshot root")
        return path
