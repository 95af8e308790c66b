"""plate_reread: anpr snapshots read again, anpr_reread appended once per event and engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from dagster import materialize

from analytics_pipeline.analyzer.annotators import annotate
from analytics_pipeline.analyzer.reread import reread_event_id
from analytics_pipeline.analyzer.synthetic import background, draw_car
from analytics_pipeline.analyzer.synthetic_plates import STYLES
from analytics_pipeline.analyzer.types import Detection, PlateRead
from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.eventlog import EventFilter, EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.payloads import AnprRereadData
from analytics_pipeline.snapshots import SnapshotStore
from assets.plate_reread import plate_reread
from assets.resources import EventLogResource, SnapshotsResource

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)


def anpr_event(
    store: SnapshotStore, camera: str, at: datetime, plate: str, stored_plate: str, style: str
) -> NewEvent:
    """An anpr event as the analyzer writes it: the annotated snapshot, the read it holds."""
    rng = np.random.default_rng(len(plate) + at.minute)
    image = background(640, 360, rng)
    car, box = draw_car(image, 180, 340, 250, (40, 40, 200), plate, STYLES[style])
    read = PlateRead(box.x1, box.y1, box.x2, box.y2, stored_plate, 0.9)
    vehicle = Detection(car.x1, car.y1, car.x2, car.y2, "car", 0.9, track_id=1)
    snapshot = store.write(
        camera, "anpr", at, annotate(image, at, detections=[vehicle], plates=[read])
    )
    return NewEvent(
        event_type="anpr",
        camera_id=camera,
        timestamp=at,
        frame_number=at.minute,
        snapshot_path=snapshot,
        event_data={
            "plate": stored_plate,
            "confidence": 0.9,
            "plate_box": read.box,
            "track_id": 1,
            "class": "car",
            "reads": [{"text": stored_plate, "confidence": 0.9}],
        },
    )


@pytest.fixture
def seeded(pool, tmp_path: Path) -> EventLog:
    store = SnapshotStore(tmp_path / "snapshots")
    log = EventLog(pool)
    CameraRegistry(pool).register(
        CameraInput(id="gate", source_url="rtsp://x/1", settings={"plate_pattern": "[A-Z0-9]+"})
    )
    log.append(
        [
            anpr_event(store, "gate", T0, "AB12CDE", "AB12CDE", "white"),
            anpr_event(
                store, "gate", T0 + timedelta(minutes=1), "KX65TRM", "KX6STRM", "yellow_ttf"
            ),
            anpr_event(store, "gate", T0 + timedelta(minutes=2), "GH21JKL", "GH21JKL", "skewed"),
            anpr_event(store, "gate", T0 + timedelta(days=1), "MN07PQR", "MN07PQR", "white"),
            anpr_event(store, "door", T0, "LD55FVG", "LD55FVG", "yellow"),
        ]
    )
    # one whose plate box holds no plate: unreadable
    unreadable = anpr_event(store, "gate", T0 + timedelta(minutes=3), "ZZ99ZZZ", "ZZ99ZZZ", "white")
    data = unreadable.event_data | {"plate_box": [5.0, 5.0, 60.0, 20.0]}
    log.append([unreadable.model_copy(update={"event_data": data})])
    return log


def run(database_url: str, tmp_path: Path, **config: object) -> dict:
    result = materialize(
        [plate_reread],
        resources={
            "event_log": EventLogResource(database_url=database_url),
            "snapshots": SnapshotsResource(snapshots_dir=str(tmp_path / "snapshots")),
        },
        run_config={"ops": {"plate_reread": {"config": {"camera": "gate", **config}}}},
    )
    [event] = result.asset_materializations_for_node("plate_reread")
    return {k: v.value for k, v in event.metadata.items()}


def rereads(log: EventLog) -> list:
    return log.query(EventFilter(event_types=["anpr_reread"]), limit=100, descending=False)


def test_rereads_once_per_event_and_engine(seeded: EventLog, database_url, tmp_path) -> None:
    day = {"start": "2026-06-01T00:00:00", "end": "2026-06-02T00:00:00Z", "plate_pattern": ""}
    first = run(database_url, tmp_path, **day)
    assert (first["read"], first["changed"], first["unreadable"]) == (3, 1, 1)
    assert first["appended"] == 4 and first["plate_pattern"] == "(plate-likeness rule)"
    events = rereads(seeded)
    data = [AnprRereadData.model_validate(e.event_data) for e in events]
    assert [d.read_plate for d in data] == ["AB12CDE", "KX65TRM", "GH21JKL", None]
    changed = data[1]
    assert changed.changed and changed.previous_plate == "KX6STRM"
    assert all(e.camera_id == "gate" and e.snapshot_path is None for e in events)
    sources = {e.id: e for e in seeded.query(EventFilter(event_types=["anpr"]), limit=100)}
    for event, reread in zip(events, data, strict=True):
        source = sources[reread.source_position]
        assert event.event_id == reread_event_id(source.event_id, "rapidocr")
        assert event.timestamp == source.timestamp
    again = run(database_url, tmp_path, **day)
    assert (again["appended"], again["already_reread"], again["read"]) == (0, 4, 0)
    assert len(rereads(seeded)) == 4


def test_another_engine_and_the_cameras_pattern(seeded: EventLog, database_url, tmp_path) -> None:
    result = run(
        database_url,
        tmp_path,
        engine="paddleocr",
        start="2026-06-01T08:00:00Z",
        end="2026-06-01T08:02:00Z",
    )
    assert result["plate_pattern"] == "[A-Z0-9]+"  # the camera's, unset in the run config
    assert (result["read"], result["appended"]) == (2, 2)
    assert {e.event_data["engine"] for e in rereads(seeded)} == {"paddleocr"}


def test_a_bad_engine_fails_the_run(seeded: EventLog, database_url, tmp_path) -> None:
    from dagster import Failure

    with pytest.raises(Failure, match="engine must be one of rapidocr, paddleocr"):
        run(database_url, tmp_path, engine="tesseract")
    assert rereads(seeded) == []
