"""The event_data models against their contract, docs/events.md, and what the analyzer emits."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from analytics_pipeline.payloads import (
    PAYLOADS,
    DetectedObject,
    DetectionData,
    EventDeletedData,
    MotionData,
    TrackingData,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "events.md"
T0 = datetime(2026, 3, 15, 10, 30, 45, 123456, tzinfo=UTC)


def documented_fields() -> dict[str, set[str]]:
    """``## `type` `` sections of docs/events.md and the field names of their tables."""
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in DOC.read_text().splitlines():
        heading = re.fullmatch(r"## `(\w+)`", line.strip())
        if heading:
            current = sections.setdefault(heading.group(1), set())
        elif line.startswith("## "):
            current = None
        elif current is not None:
            row = re.match(r"\|\s*`([\w\[\].]+)`\s*\|", line)
            if row:
                current.add(row.group(1))
    return sections


def model_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Field names as stored (aliases), ``list[].field`` for lists of models."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        names.add(key)
        annotation = field.annotation
        if get_origin(annotation) is list:
            (item,) = get_args(annotation)
            if isinstance(item, type) and issubclass(item, BaseModel):
                names |= model_fields(item, f"{key}[].")
    return names


def test_every_event_type_with_a_model_is_documented_and_vice_versa() -> None:
    assert set(documented_fields()) == set(PAYLOADS)


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_the_documented_fields_are_the_models_fields(event_type: str) -> None:
    assert documented_fields()[event_type] == model_fields(PAYLOADS[event_type])


def test_the_summary_table_lists_every_type() -> None:
    summary = re.findall(r"^\| `(\w+)` \|", DOC.read_text().split("\n## ")[0], re.MULTILINE)
    assert set(summary) == set(PAYLOADS)


def test_motion_leaves_out_the_duration_until_it_ends() -> None:
    started = MotionData(state="started", area_percent=1.5, regions=[[1, 2, 3, 4]])
    assert started.event_data() == {
        "state": "started",
        "area_percent": 1.5,
        "regions": [[1, 2, 3, 4]],
    }
    ended = MotionData(state="ended", area_percent=0.1, regions=[], duration_seconds=2.4)
    assert ended.event_data()["duration_seconds"] == 2.4


def test_class_is_spelt_class_and_an_untracked_object_has_a_null_track() -> None:
    data = DetectionData(
        objects=[DetectedObject(class_name="car", confidence=0.9, box=[1, 2, 3, 4])],
        counts={"car": 1},
    ).event_data()
    assert data["objects"] == [
        {"class": "car", "confidence": 0.9, "box": [1, 2, 3, 4], "track_id": None}
    ]
    assert DetectionData.model_validate(data).objects[0].class_name == "car"


def test_times_keep_the_isoformat_the_log_has_always_held() -> None:
    data = TrackingData(
        action="left",
        track_id=3,
        class_name="person",
        confidence=0.8,
        box=[0, 0, 1, 1],
        first_seen=T0,
        last_seen=T0,
        dwell_seconds=0.0,
    ).event_data()
    assert data["first_seen"] == T0.isoformat() == "2026-03-15T10:30:45.123456+00:00"
    assert TrackingData.model_validate(data).first_seen == T0
    tombstone = EventDeletedData(
        deleted_id=7,
        deleted_event_id=uuid.UUID(int=7),
        deleted_event_type="motion",
        deleted_timestamp=T0,
        snapshot_deleted=False,
    ).event_data()
    assert tombstone["deleted_event_id"] == str(uuid.UUID(int=7))
    assert tombstone["deleted_timestamp"] == T0.isoformat()


def test_a_wrong_field_is_refused() -> None:
    with pytest.raises(ValidationError):
        MotionData(state="paused", area_percent=1, regions=[])
    with pytest.raises(ValidationError):
        MotionData(state="started", area_percent=1, regions=[], colour="red")
