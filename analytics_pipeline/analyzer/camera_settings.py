"""Per-camera analysis settings, stored as the ``settings`` JSON of a registered camera."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from analytics_pipeline.weights import valid_weights_setting

Polygon = list[tuple[float, float]]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
#: The analyzer's events a camera can have clips of.
CLIP_EVENT_TYPES = (
    "motion",
    "detection",
    "tracking",
    "anpr",
    "line_crossed",
    "zone_entered",
    "zone_left",
)


def _relative(points: Polygon) -> bool:
    return all(0 <= x <= 1 and 0 <= y <= 1 for x, y in points)


class LineSetting(BaseModel):
    """A counting line: two points in 0..1 frame coordinates; its direction ``a_to_b`` goes
    from the left side of the way from the first point to the second to its right side, on
    the image (analyzer/lines.py, docs/events.md)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    points: Polygon

    @field_validator("points")
    @classmethod
    def _two_points(cls, value: Polygon) -> Polygon:
        if len(value) != 2 or not _relative(value) or value[0] == value[1]:
            raise ValueError("a line needs 2 distinct points with coordinates between 0 and 1")
        return value


class ZoneSetting(BaseModel):
    """A named zone. ``events``: objects entering and leaving it are events; ``filter``: motion
    and objects count only inside the filtering zones (default: true for a zone without events,
    false for a zone with events)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    points: Polygon
    events: bool = False
    filter: bool | None = None

    @field_validator("points")
    @classmethod
    def _polygon(cls, value: Polygon) -> Polygon:
        if len(value) < 3 or not _relative(value):
            raise ValueError("a polygon needs 3+ points with coordinates between 0 and 1")
        return value

    @model_validator(mode="after")
    def _default_filter(self) -> ZoneSetting:
        if self.filter is None:
            self.filter = not self.events
        if not (self.filter or self.events):
            raise ValueError(f"zone {self.name!r} neither filters nor has events")
        return self


class CameraSettings(BaseModel):
    """Validated when a camera is registered and when the analyzer starts it.

    Zones and masks are polygons in coordinates relative to the frame (0..1), so they hold
    whatever the resolution: motion and objects count only inside the (filtering) zones
    (everywhere when there are none) and never inside a mask. A zone is a bare polygon or a
    named :class:`ZoneSetting`, which may have events (``zone_entered`` / ``zone_left``).
    ``lines`` are counting lines (``line_crossed``). With ``ENABLE_CLIPS``, events of the
    ``clip_events`` types get an MP4 clip from ``clip_pre_seconds`` before the event to
    ``clip_post_seconds`` after it.
    """

    model_config = ConfigDict(extra="forbid")

    fps: float = Field(default=5.0, gt=0, le=60, description="Frames analysed per second.")
    rtsp_transport: Literal["tcp", "udp"] = Field(
        default="tcp", description="How an rtsp:// camera sends its video (TCP: no lost packets)."
    )
    open_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="A network camera not open within this is down."
    )
    read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="A network camera that sends no frame for this long is reconnected.",
    )
    classes: list[str] | None = Field(
        default=None,
        description="Classes to report; unset: person, bicycle, car, motorcycle, bus, truck "
        "(those the model knows; all of a model's own classes when it knows none of them).",
    )
    min_confidence: float = Field(
        default=0.4, ge=0, le=1, description="Score a box needs to be reported or start a track."
    )
    motion_sensitivity: float = Field(
        default=16,
        ge=1,
        le=200,
        description="Grey-level difference (0..255) from the running background that counts "
        "as moving: lower is keener.",
    )
    motion_min_area_percent: float = Field(default=0.5, ge=0, le=100)
    detect_only_with_motion: bool = True
    zones: list[Polygon | ZoneSetting] = Field(default_factory=list)
    lines: list[LineSetting] = Field(default_factory=list)
    clip_events: list[str] = Field(
        default_factory=lambda: ["line_crossed", "zone_entered", "zone_left", "anpr"],
        description="Event types that get a clip (with ENABLE_CLIPS).",
    )
    clip_pre_seconds: float = Field(default=3.0, ge=0, le=30)
    clip_post_seconds: float = Field(default=3.0, ge=0, le=30)
    masks: list[Polygon] = Field(default_factory=list)
    plate_pattern: str | None = Field(default=None, description="Regex of valid plates.")
    anpr: Literal["auto", "plate_camera", "off"] = Field(
        default="auto",
        description="auto: plates on vehicle tracks, or in motion regions without a vehicle "
        "detector; plate_camera: plates in motion regions, grouped by a plate tracker; off.",
    )
    anpr_fps: float = Field(default=5.0, gt=0, le=60, description="OCR passes a second, at most.")
    anpr_max_regions: int = Field(
        default=4, ge=1, le=32, description="Regions (vehicle, plate, motion) OCR'd a frame."
    )
    detector_weights: str | None = Field(
        default=None,
        description="This camera's local YOLO weights file (.pt/.onnx); '' for the default "
        "COCO CenterNet; unset: DETECTOR_WEIGHTS.",
    )

    @field_validator("plate_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("detector_weights")
    @classmethod
    def _weights_file(cls, value: str | None) -> str | None:
        return valid_weights_setting(value)

    @field_validator("classes")
    @classmethod
    def _class_names(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not all(name.strip() for name in value):
            raise ValueError("class names must not be empty")
        return value

    @field_validator("zones", "masks")
    @classmethod
    def _polygons(cls, value: list) -> list:
        for polygon in value:
            if isinstance(polygon, list) and (len(polygon) < 3 or not _relative(polygon)):
                raise ValueError("a polygon needs 3+ points with coordinates between 0 and 1")
        return value

    @field_validator("zones", "lines")
    @classmethod
    def _unique_names(cls, value: list) -> list:
        names = [item.name for item in value if not isinstance(item, list)]
        if len(names) != len(set(names)):
            raise ValueError("names must be unique")
        return value

    @field_validator("clip_events")
    @classmethod
    def _clip_events(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(CLIP_EVENT_TYPES))
        if unknown:
            raise ValueError(f"no clips for {unknown}: choose among {list(CLIP_EVENT_TYPES)}")
        return value

    @property
    def filter_zones(self) -> list[Polygon]:
        """The polygons that restrict where motion and objects count."""
        return [z if isinstance(z, list) else z.points for z in self.zones if _filters(z)]

    @property
    def event_zones(self) -> list[ZoneSetting]:
        """The named zones with events."""
        return [z for z in self.zones if isinstance(z, ZoneSetting) and z.events]

    def region_mask(self, width: int, height: int) -> np.ndarray | None:
        """255 where motion and objects count, 0 elsewhere; None when the whole frame counts."""
        zones = self.filter_zones
        if not zones and not self.masks:
            return None
        mask = (
            np.zeros((height, width), np.uint8)
            if zones
            else np.full((height, width), 255, np.uint8)
        )
        scale = np.array([width, height], np.float32)

        def pixels(polygon: Polygon) -> np.ndarray:
            return (np.array(polygon, np.float32) * scale).astype(np.int32)

        for zone in zones:
            cv2.fillPoly(mask, [pixels(zone)], 255)
        for excluded in self.masks:
            cv2.fillPoly(mask, [pixels(excluded)], 0)
        return mask


def _filters(zone: Polygon | ZoneSetting) -> bool:
    return isinstance(zone, list) or bool(zone.filter)
