"""Validation of incoming events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from analytics_pipeline.events import NewEvent


def event(**fields: object) -> NewEvent:
    base = {
        "event_type": "motion",
        "camera_id": "cam-1",
        "timestamp": "2026-01-01T10:00:00",
        "frame_number": 1,
    }
    return NewEvent.model_validate(base | fields)


def test_naive_timestamps_are_utc() -> None:
    assert event().timestamp == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert event(timestamp="2026-01-01T12:00:00+02:00").timestamp.hour == 10


@pytest.mark.parametrize(
    "fields",
    [
        {"camera_id": "../x"},
        {"camera_id": ""},
        {"event_type": "Motion Event"},
        {"frame_number": -1},
        {"snapshot_path": "/etc/passwd"},
        {"snapshot_path": "cam/../../x.png"},
        {"snapshot_path": "a\x00b"},
        {"colour": "red"},
        {"timestamp": "yesterday"},
    ],
)
def test_bad_events_are_refused(fields: dict) -> None:
    with pytest.raises(ValidationError):
        event(**fields)


def test_empty_snapshot_path_means_none() -> None:
    assert event(snapshot_path="").snapshot_path is None
