"""snapshot_thumbnails: every snapshot gets one, a second run makes nothing."""

from __future__ import annotations

import cv2
from dagster import materialize

from assets.thumbnails import snapshot_thumbnails


def metadata(result) -> dict:
    [event] = result.asset_materializations_for_node("snapshot_thumbnails")
    return {k: v.value for k, v in event.metadata.items()}


def test_thumbnails_for_every_snapshot_and_idempotent(resources, add_events, tmp_path) -> None:
    add_events({}, {}, {"event_type": "anpr"})
    add_events({}, snapshot=False)
    first = materialize([snapshot_thumbnails], resources=resources)
    made = metadata(first)
    assert made["made"] == 3 and made["bytes"] > 0 and made["already_there"] == 0
    thumbnails = sorted((tmp_path / "thumbnails").rglob("*.jpg"))
    assert len(thumbnails) == 3
    assert cv2.imread(str(thumbnails[0])).shape[1] == 320
    mtimes = [p.stat().st_mtime_ns for p in thumbnails]
    again = metadata(materialize([snapshot_thumbnails], resources=resources))
    assert (again["made"], again["already_there"]) == (0, 3)
    assert [p.stat().st_mtime_ns for p in thumbnails] == mtimes


def test_starts_after_the_given_position(resources, add_events, tmp_path) -> None:
    positions = add_events({}, {}, {})
    result = materialize(
        [snapshot_thumbnails],
        resources=resources,
        run_config={"ops": {"snapshot_thumbnails": {"config": {"after_position": positions[0]}}}},
    )
    assert metadata(result)["made"] == 2
