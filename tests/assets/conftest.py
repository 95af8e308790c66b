"""Dagster resources on the test's own database and folders, and a seeded log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.snapshots import SnapshotStore
from assets.resources import (
    EventLogResource,
    RedisResource,
    ReportsResource,
    RetentionPolicyResource,
    SnapshotsResource,
)
from tests.conftest import REDIS_URL

DAY1 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def resources(database_url: str, stream_key: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "event_log": EventLogResource(database_url=database_url),
        "snapshots": SnapshotsResource(
            snapshots_dir=str(tmp_path / "snapshots"),
            thumbnails_dir=str(tmp_path / "thumbnails"),
            thumbnail_width=320,
        ),
        "reports": ReportsResource(reports_dir=str(tmp_path / "reports")),
        "stream": RedisResource(redis_url=REDIS_URL, stream=stream_key),
        "retention_policy": RetentionPolicyResource(
            default_days=30, camera_days={}, event_type_days={}, orphan_grace_minutes=60
        ),
    }


@pytest.fixture
def snapshots(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "snapshots")


@pytest.fixture
def add_events(event_log: EventLog, snapshots: SnapshotStore) -> Callable[..., list[int]]:
    """Append events (dicts of NewEvent fields); a real snapshot file unless snapshot=False."""

    def add(*specs: dict[str, Any], snapshot: bool = True) -> list[int]:
        events = []
        for i, spec in enumerate(specs):
            spec = {
                "camera_id": "gate",
                "event_type": "motion",
                "frame_number": i,
                "timestamp": DAY1 + timedelta(minutes=i),
            } | spec
            if snapshot:
                frame = np.full((240, 400, 3), 90, np.uint8)
                spec["snapshot_path"] = snapshots.write(
                    spec["camera_id"], spec["event_type"], spec["timestamp"], frame
                )
            events.append(NewEvent(**spec))
        return event_log.append(events)

    return add


def scene(day: datetime) -> list[dict[str, Any]]:
    """One day of varied events: detections, tracks entering and leaving, plates."""
    at = [
        day + timedelta(hours=h, minutes=m)
        for h, m in [(8, 0), (8, 5), (8, 6), (8, 9), (9, 30), (17, 0), (17, 1), (17, 2)]
    ]
    return [
        {"timestamp": at[0], "event_data": {"state": "started", "area_percent": 3.0}},
        {
            "timestamp": at[1],
            "event_type": "detection",
            "event_data": {
                "objects": [
                    {"class": "car", "confidence": 0.9},
                    {"class": "person", "confidence": 0.7},
                ]
            },
        },
        {
            "timestamp": at[2],
            "event_type": "tracking",
            "event_data": {"action": "entered", "track_id": 1, "class": "car"},
        },
        {
            "timestamp": at[3],
            "event_type": "tracking",
            "event_data": {"action": "left", "track_id": 1, "class": "car", "dwell_seconds": 180.0},
        },
        {"timestamp": at[4], "event_type": "anpr", "event_data": {"plate": "AB12CDE"}},
        {
            "timestamp": at[5],
            "event_type": "anpr",
            "camera_id": "door",
            "event_data": {"plate": "AB12CDE"},
        },
        {
            "timestamp": at[6],
            "event_type": "anpr",
            "camera_id": "door",
            "event_data": {"plate": "XY99ZZZ"},
        },
        {
            "timestamp": at[7],
            "event_type": "tracking",
            "camera_id": "door",
            "event_data": {
                "action": "left",
                "track_id": 2,
                "class": "person",
                "dwell_seconds": 60.0,
            },
        },
    ]
