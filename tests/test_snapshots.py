"""Snapshot layout, atomic writes and the refusal of paths outside the root.

The overlay pixels are tested with the annotators (tests/analyzer/test_annotators.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from analytics_pipeline.atomic import write_atomically
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.snapshots import (
    EncodedFile,
    SnapshotPathError,
    SnapshotStore,
    clip_relative_path,
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


def test_a_symlink_out_of_the_root_is_refused_with_the_projects_error(tmp_path: Path) -> None:
    root, outside = tmp_path / "snapshots", tmp_path / "secret.png"
    outside.write_bytes(b"x")
    (root / "cam").mkdir(parents=True)
    (root / "cam" / "link.png").symlink_to(outside)
    with pytest.raises(SnapshotPathError) as raised:
        SnapshotStore(root).resolve("cam/link.png")
    assert isinstance(raised.value, PipelineError) and isinstance(raised.value, ValueError)


def test_write_atomically_replaces_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "report.html"
    assert write_atomically(target, b"one") == target
    assert write_atomically(target, b"two") == tmp_path / "deep" / "report_1.html"
    assert write_atomically(target, b"three", replace=True) == target
    assert target.read_bytes() == b"three"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html", "report_1.html"]


def test_a_clip_lives_beside_the_snapshots_named_after_its_event(tmp_path: Path) -> None:
    event_id = uuid.UUID(int=42)
    moment = datetime(2026, 3, 15, 23, 59, 59, 5, tzinfo=UTC)
    relative = clip_relative_path("gate", "line_crossed", moment, event_id)
    assert relative.as_posix() == f"gate/2026-03-15/clips/line_crossed_235959_000005_{event_id}.mp4"
    store = SnapshotStore(tmp_path, enabled=False)  # clips are written whatever the snapshots
    stored = store.write("gate", "clip_ready", moment, EncodedFile(relative, b"mp4 bytes"))
    assert stored == relative.as_posix()
    assert (tmp_path / stored).read_bytes() == b"mp4 bytes"
    assert [p.name for p in (tmp_path / "gate/2026-03-15/clips").iterdir()] == [relative.name]
