"""Snapshot layout, atomic writes and the overlay pixels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from analytics_pipeline.snapshots import (
    MOTION_OPACITY,
    PLATE_COLOUR,
    Box,
    PlateRead,
    SnapshotStore,
    annotate,
    class_colour,
    snapshot_relative_path,
)

MOMENT = datetime(2026, 3, 15, 10, 30, 45, 123456, tzinfo=UTC)
GREY = 100


def grey_frame(height: int = 480, width: int = 640) -> np.ndarray:
    return np.full((height, width, 3), GREY, np.uint8)


def test_path_layout_matches_the_original_service() -> None:
    path = snapshot_relative_path("camera-1", "motion", MOMENT)
    assert path.as_posix() == "camera-1/2026-03-15/motion_103045_123456.png"
    assert snapshot_relative_path("c", "anpr", MOMENT, "jpeg").name == "anpr_103045_123456.jpg"


def test_path_uses_utc_day() -> None:
    from datetime import timedelta, timezone

    local = MOMENT.astimezone(timezone(timedelta(hours=-12)))
    assert snapshot_relative_path("c", "motion", local).parent.name == "2026-03-15"


def test_unsafe_camera_ids_are_refused() -> None:
    for bad in ("../etc", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            snapshot_relative_path(bad, "motion", MOMENT)


def test_write_is_atomic_and_never_overwrites(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    first = store.write("cam", "motion", MOMENT, grey_frame())
    second = store.write("cam", "motion", MOMENT, grey_frame())
    assert first == "cam/2026-03-15/motion_103045_123456.png"
    assert second == "cam/2026-03-15/motion_103045_123456_1.png"
    files = sorted(p.name for p in (tmp_path / "cam" / "2026-03-15").iterdir())
    assert files == ["motion_103045_123456.png", "motion_103045_123456_1.png"]  # no temp files
    assert cv2.imread(str(tmp_path / first)).shape == (480, 640, 3)


@pytest.mark.parametrize(("image_format", "suffix"), [("jpeg", ".jpg"), ("webp", ".webp")])
def test_other_formats(tmp_path: Path, image_format: str, suffix: str) -> None:
    store = SnapshotStore(tmp_path, image_format=image_format, quality=80)
    relative = store.write("cam", "anpr", MOMENT, grey_frame())
    assert relative.endswith(suffix)
    assert cv2.imread(str(tmp_path / relative)) is not None


def test_disabled_snapshots_write_nothing(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, enabled=False)
    assert store.write("cam", "motion", MOMENT, grey_frame()) is None
    assert list(tmp_path.iterdir()) == []


def test_resolve_refuses_paths_outside_the_root(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    assert store.resolve("cam/x.png") == tmp_path.resolve() / "cam" / "x.png"
    for bad in ("../secret", "/etc/passwd", "cam/../../x", ""):
        with pytest.raises(ValueError):
            store.resolve(bad)


def test_motion_region_is_red_at_thirty_percent() -> None:
    mask = np.zeros((120, 160), np.uint8)  # a downscaled mask, as motion detection gives
    mask[30:60, 40:80] = 255
    image = annotate(grey_frame(), MOMENT, motion_mask=mask)
    expected = np.round(
        np.array([GREY, GREY, GREY]) * (1 - MOTION_OPACITY) + np.array([0, 0, 255]) * MOTION_OPACITY
    )
    assert image[180, 240].tolist() == expected.tolist()  # inside (scaled x4)
    assert image[100, 100].tolist() == [GREY, GREY, GREY]  # outside


def test_boxes_are_drawn_in_their_class_colour_with_a_label() -> None:
    car = Box(100, 150, 300, 300, "car", 0.87, track_id=4)
    person = Box(400, 100, 450, 300, "person", 0.6)
    image = annotate(grey_frame(), MOMENT, boxes=[car, person])
    assert image[225, 100].tolist() == list(class_colour("car"))  # left edge
    assert image[300, 200].tolist() == list(class_colour("car"))  # bottom edge
    assert image[200, 450].tolist() == list(class_colour("person"))
    assert image[225, 200].tolist() == [GREY, GREY, GREY]  # inside the box untouched
    assert class_colour("car") != class_colour("person")
    # The label sits on a filled patch of the class colour just above the box.
    label_patch = image[130:148, 100:160]
    assert (label_patch == class_colour("car")).all(axis=2).mean() > 0.3
    assert car.label == "car 0.87 #4"
    assert person.label == "person 0.60"


def test_plate_is_a_thick_green_box_with_text_at_the_top() -> None:
    plate = PlateRead(200, 300, 320, 340, "AB12CDE", 0.93)
    image = annotate(grey_frame(), MOMENT, plates=[plate])
    for offset in range(-1, 2):  # thick: several pixels across the edge
        assert image[320, 200 + offset].tolist() == list(PLATE_COLOUR)
    banner = image[0:20, 0:120]
    assert (banner == PLATE_COLOUR).all(axis=2).mean() > 0.3
    assert (banner == 0).all(axis=2).any()  # dark text on the green banner


def test_every_snapshot_has_a_timestamp_at_the_bottom() -> None:
    image = annotate(grey_frame(), MOMENT)
    bottom = image[455:480, 0:300]
    assert (bottom == 0).all(axis=2).mean() > 0.3  # black patch
    assert (bottom > 200).all(axis=2).any()  # white (anti-aliased) text
    assert (image[0:400] == GREY).all()  # nothing else drawn
