"""Per-camera analysis settings, stored as the ``settings`` JSON of a registered camera."""

from __future__ import annotations

import re
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from analytics_pipeline.weights import valid_weights_setting

Polygon = list[tuple[float, float]]


class CameraSettings(BaseModel):
    """Validated when a camera is registered and when the analyzer starts it.

    Zones and masks are polygons in coordinates relative to the frame (0..1), so they hold
    whatever the resolution: motion and objects count only inside the zones (everywhere when
    there are none) and never inside a mask.
    """

    model_config = ConfigDict(extra="forbid")

    fps: float = Field(default=5.0, gt=0, le=60, description="Frames analysed per second.")
    classes: list[str] | None = Field(
        default=None,
        description="Classes to report; unset: person, bicycle, car, motorcycle, bus, truck "
        "(those the model knows; all of a model's own classes when it knows none of them).",
    )
    min_confidence: float = Field(
        default=0.4, ge=0, le=1, description="Score a box needs to be reported or start a track."
    )
    motion_sensitivity: float = Field(
        default=16, ge=1, le=200, description="MOG2 variance threshold: lower is keener."
    )
    motion_min_area_percent: float = Field(default=0.5, ge=0, le=100)
    detect_only_with_motion: bool = True
    zones: list[Polygon] = Field(default_factory=list)
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
    def _polygons(cls, value: list[Polygon]) -> list[Polygon]:
        for polygon in value:
            if len(polygon) < 3 or not all(0 <= x <= 1 and 0 <= y <= 1 for x, y in polygon):
                raise ValueError("a polygon needs 3+ points with coordinates between 0 and 1")
        return value

    def region_mask(self, width: int, height: int) -> np.ndarray | None:
        """255 where motion and objects count, 0 elsewhere; None when the whole frame counts."""
        if not self.zones and not self.masks:
            return None
        mask = (
            np.zeros((height, width), np.uint8)
            if self.zones
            else np.full((height, width), 255, np.uint8)
        )
        scale = np.array([width, height], np.float32)

        def pixels(polygon: Polygon) -> np.ndarray:
            return (np.array(polygon, np.float32) * scale).astype(np.int32)

        for zone in self.zones:
            cv2.fillPoly(mask, [pixels(zone)], 255)
        for excluded in self.masks:
            cv2.fillPoly(mask, [pixels(excluded)], 0)
        return mask
