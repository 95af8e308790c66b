"""The ``event_data`` of each event type, as typed models (the contract in docs/events.md).

The analyzer builds its events' data through these models, the log's tombstone through
:class:`EventDeletedData`; readers may validate stored data with :data:`PAYLOADS`. A test
checks that docs/events.md documents exactly these fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

IsoTime = Annotated[datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str)]
"""A time stored as ``datetime.isoformat()`` (``+00:00``, as the log has always held it)."""

Box = list[float]
"""``[x1, y1, x2, y2]`` in pixels of the analysed frame."""


class Payload(BaseModel):
    """Base of every ``event_data`` model: ``class`` is spelt ``class_name`` in Python."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )
    OMIT_NONE: ClassVar[bool] = False  # leave out optional fields that have no value

    def event_data(self) -> dict[str, Any]:
        """The JSON-ready ``event_data`` of an event."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=self.OMIT_NONE)


class MotionData(Payload):
    """``motion``: motion started or ended (one event each, never one per frame)."""

    OMIT_NONE: ClassVar[bool] = True

    state: Literal["started", "ended"]
    area_percent: float = Field(description="Moving share of the frame, in %.")
    regions: list[list[int]] = Field(description="Boxes of the moving areas; empty on ended.")
    duration_seconds: float | None = Field(default=None, description="Only on ended.")


class DetectedObject(Payload):
    """One object of a ``detection`` event."""

    class_name: str = Field(alias="class")
    confidence: float
    box: Box
    track_id: int | None = Field(default=None, description="null while not tracked.")


class DetectionData(Payload):
    """``detection``: the objects seen at the start of a burst of detections."""

    objects: list[DetectedObject]
    counts: dict[str, int] = Field(description="Objects per class.")


class TrackingData(Payload):
    """``tracking``: a tracked object entered or left."""

    action: Literal["entered", "left"]
    track_id: int
    class_name: str = Field(alias="class")
    confidence: float = Field(description="The best confidence over the track.")
    box: Box = Field(description="Where the object was last seen.")
    first_seen: IsoTime
    last_seen: IsoTime
    dwell_seconds: float


class LineCrossedData(Payload):
    """``line_crossed``: a tracked object crossed a counting line (once per crossing)."""

    line: str = Field(description="The line's name.")
    direction: Literal["a_to_b", "b_to_a"] = Field(
        description="a_to_b: from the left of the way from the line's first point to its "
        "second to its right, on the image."
    )
    track_id: int
    class_name: str = Field(alias="class")
    confidence: float = Field(description="The detection's, on the frame of the crossing.")
    box: Box = Field(description="The object on the frame of the crossing.")
    point: list[float] = Field(description="Its reference point (bottom centre), [x, y].")


class ZoneEnteredData(Payload):
    """``zone_entered``: a tracked object entered a zone with events."""

    zone: str = Field(description="The zone's name.")
    track_id: int
    class_name: str = Field(alias="class")
    confidence: float
    box: Box
    entered_at: IsoTime = Field(description="First seen inside.")


class ZoneLeftData(ZoneEnteredData):
    """``zone_left``: a tracked object left a zone with events (or was lost in it)."""

    left_at: IsoTime = Field(description="Last seen inside.")
    dwell_seconds: float = Field(description="left_at - entered_at.")


class ClipReadyData(Payload):
    """``clip_ready``: the MP4 clip of an event is whole (``snapshot_path`` is the clip)."""

    source_event_id: uuid.UUID
    source_event_type: str
    path: str = Field(description="The clip, relative to the snapshot root.")
    start: IsoTime = Field(description="Time of the first frame.")
    end: IsoTime = Field(description="Time of the last frame.")
    duration_seconds: float
    frames: int
    width: int
    height: int


class PlateReadData(Payload):
    """One OCR read of a plate."""

    text: str
    confidence: float


class AnprData(Payload):
    """``anpr``: the plate of one vehicle track (its most frequent read)."""

    plate: str = Field(description="Upper case, letters and digits only.")
    confidence: float
    plate_box: Box
    track_id: int = Field(description="The vehicle's track.")
    class_name: str = Field(alias="class", description="The vehicle's class.")
    reads: list[PlateReadData]


class EventDeletedData(Payload):
    """``event_deleted``: the tombstone of an event deleted through the API."""

    deleted_id: int = Field(description="The deleted event's position (id).")
    deleted_event_id: uuid.UUID
    deleted_event_type: str
    deleted_timestamp: IsoTime
    snapshot_deleted: bool


class PlateMatchData(Payload):
    """``plate_match``: an ``anpr`` read matched a watched plate (the watchlist worker)."""

    watched_plate: str
    label: str = Field(description="The watchlist entry's label.")
    read_plate: str = Field(description="The plate as read by the source anpr event.")
    distance: int = Field(description="Edit distance after mapping OCR confusions (0 or 1).")
    edits: int = Field(description="Plain edit distance between the normalised plates.")
    match: Literal["exact", "near"]
    source_event_id: uuid.UUID
    source_position: int
    camera_id: str
    confidence: float | None = None
    track_id: int | None = None


class AnprRereadData(Payload):
    """``anpr_reread``: an ``anpr`` event's plate read again from its snapshot (the Dagster
    ``plate_reread`` backfill), with another engine or plate pattern."""

    source_event_id: uuid.UUID
    source_position: int = Field(description="The anpr event's position (id).")
    engine: str = Field(description="The OCR engine of the re-read.")
    plate_pattern: str | None = Field(description="The pattern applied; null: plate-likeness.")
    previous_plate: str = Field(description="The plate the anpr event holds.")
    read_plate: str | None = Field(description="The plate read again; null: unreadable.")
    confidence: float | None
    plate_box: Box | None = Field(description="Where the re-read found the plate.")
    changed: bool = Field(description="Read, and not the previous plate.")


PAYLOADS: dict[str, type[Payload]] = {
    "motion": MotionData,
    "detection": DetectionData,
    "tracking": TrackingData,
    "anpr": AnprData,
    "anpr_reread": AnprRereadData,
    "event_deleted": EventDeletedData,
    "plate_match": PlateMatchData,
    "line_crossed": LineCrossedData,
    "zone_entered": ZoneEnteredData,
    "zone_left": ZoneLeftData,
    "clip_ready": ClipReadyData,
}
"""The ``event_data`` model of each event type."""
