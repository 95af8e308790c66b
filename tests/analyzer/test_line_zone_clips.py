"""Counting lines, zone events and event clips end to end through a camera's analysis (the
project's detector and tracker, the event sink into the real log and snapshot folder), on
rendered street videos: two cars crossing a line both ways (each counted once, with its direction),
one car wobbling on the line (counted once), zone entry and exit with dwell, and a clip of the
right length served with HTTP range requests."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import cv2
import pytest
from starlette.testclient import TestClient

from analytics_pipeline.analyzer.camera import CameraAnalyzer
from analytics_pipeline.analyzer.camera_settings import CameraSettings
from analytics_pipeline.analyzer.clips import read_clip
from analytics_pipeline.analyzer.detector import configure_ultralytics
from analytics_pipeline.analyzer.output import EventSink
from analytics_pipeline.analyzer.sources import VideoSource
from analytics_pipeline.analyzer.synthetic import Actor, StreetVideo
from analytics_pipeline.analyzer.tracker import build_tracker
from analytics_pipeline.api.app import create_app
from analytics_pipeline.config import Settings
from analytics_pipeline.eventlog import EventFilter, EventLog
from analytics_pipeline.events import StoredEvent
from analytics_pipeline.snapshots import SnapshotStore
from tests.conftest import API_KEY

MODEL = Path(__file__).resolve().parents[2] / "models" / "street-nano.pt"
# Drawn bottom to top in the middle of the frame: a_to_b is left to right.
GATE = {"name": "gate", "points": [[0.5, 1.0], [0.5, 0.45]]}
MIDDLE = [[0.35, 0.5], [0.65, 0.5], [0.65, 1.0], [0.35, 1.0]]
BLUE, ORANGE = (40, 40, 200), (200, 120, 30)


@dataclass(frozen=True)
class Wobbler(Actor):
    """A car whose left edge follows ``path`` (one x a frame, from ``first_frame``)."""

    path: tuple[int, ...] = ()

    def x_at(self, frame: int, width: int) -> int | None:
        index = frame - self.first_frame
        return self.path[index] if 0 <= index < len(self.path) else None


def both_ways() -> StreetVideo:
    """7.5 s at 10 fps: a car drives left to right, then another right to left."""
    return StreetVideo(
        frames=75,
        seed=11,
        actors=[
            Actor("car", 4, 40, 262, 190, BLUE, "AB12CDE", True),
            Actor("car", 36, 72, 352, 250, ORANGE, "KX65TRM", False),
        ],
    )


def wobbling() -> StreetVideo:
    """7 s at 10 fps: a car drives up to the line, rocks across it four times, drives on."""
    length, centre = 250, 320
    approach = list(range(-length + 2, centre - length // 2 - 40, 24))
    rock = [centre - length // 2 + dx for dx in (40, 40, -40, -40) * 4]
    leave = list(range(centre - length // 2 + 40, 640, 24))
    path = tuple(approach + rock + leave)
    return StreetVideo(
        frames=len(path) + 6,
        seed=11,
        actors=[Wobbler("car", 3, 3 + len(path), 352, length, ORANGE, "KX65TRM", path=path)],
    )


def analyse(
    settings: Settings, pool, video: StreetVideo, folder: Path, camera: dict
) -> tuple[list[StoredEvent], CameraAnalyzer]:
    """Analyse ``video`` as camera ``street`` with the project's street model (as the runner
    does a camera); the events as stored in the log."""
    source = video.write(folder / "street.avi")
    options = CameraSettings.model_validate({"fps": 5, "detect_only_with_motion": False, **camera})
    configure_ultralytics(None)  # its settings in the project, as the runner has them
    sink = EventSink(EventLog(pool), SnapshotStore.from_settings(settings), folder / "spill")
    tracker = build_tracker(
        str(MODEL), fps=options.fps, min_confidence=options.min_confidence, imgsz=320
    )
    frames = VideoSource(str(source), fps=options.fps).frames()
    first = next(frames)
    height, width = first.image.shape[:2]
    analyzer = CameraAnalyzer("street", options, sink, tracker, None, (width, height))
    for frame in chain([first], frames):
        analyzer.process(frame)
    analyzer.finish()
    assert sink.flush(force=True)
    return EventLog(pool).query(EventFilter(), limit=500, descending=False), analyzer


def of_type(events: list[StoredEvent], event_type: str) -> list[StoredEvent]:
    return [e for e in events if e.event_type == event_type]


def test_crossings_both_ways_counted_once_each(settings, pool, tmp_path) -> None:
    events, _ = analyse(settings, pool, both_ways(), tmp_path, {"lines": [GATE]})
    crossed = of_type(events, "line_crossed")
    assert [(e.event_data["line"], e.event_data["direction"]) for e in crossed] == [
        ("gate", "a_to_b"),
        ("gate", "b_to_a"),
    ]
    assert len({e.event_data["track_id"] for e in crossed}) == 2
    for event in crossed:
        assert event.event_data["class"] == "car" and event.event_data["confidence"] > 0.3
        x, _ = event.event_data["point"]
        assert abs(x - 320) < 80  # the bottom centre, near the line
        image = cv2.imread(str(tmp_path / "snapshots" / event.snapshot_path))
        assert image[300, 320].tolist() == [0, 255, 255]  # the line, drawn in yellow


def test_a_wobble_on_the_line_counts_once(settings, pool, tmp_path) -> None:
    events, analyzer = analyse(settings, pool, wobbling(), tmp_path, {"lines": [GATE]})
    crossed = of_type(events, "line_crossed")
    assert [e.event_data["direction"] for e in crossed] == ["a_to_b"]
    assert analyzer.lines.wobbles >= 3  # it did rock across the line, on one track
    assert {e.event_data["track_id"] for e in of_type(events, "tracking")} == {
        crossed[0].event_data["track_id"]
    }


def test_zone_enter_and_leave_with_dwell(settings, pool, tmp_path) -> None:
    zone = {"name": "middle", "points": MIDDLE, "events": True}
    events, _ = analyse(settings, pool, both_ways(), tmp_path, {"zones": [zone]})
    entered, left = of_type(events, "zone_entered"), of_type(events, "zone_left")
    assert len(entered) == len(left) == 2
    for came, went in zip(entered, left, strict=True):
        assert came.event_data["zone"] == went.event_data["zone"] == "middle"
        assert came.event_data["track_id"] == went.event_data["track_id"]
        assert came.timestamp < went.timestamp
        # 30% of 640 px at ~250 px/s: a bit over 0.7 s inside, seen at 5 fps.
        assert 0.4 <= went.event_data["dwell_seconds"] <= 1.4
    # Detection is not restricted to an event zone: motion and tracking saw the whole street.
    assert len(of_type(events, "tracking")) == 4


def test_a_clip_of_the_right_length_served_with_ranges(settings, pool, tmp_path) -> None:
    settings = settings.model_copy(update={"enable_clips": True})
    camera = {
        "lines": [GATE],
        "clip_events": ["line_crossed"],
        "clip_pre_seconds": 1.0,
        "clip_post_seconds": 1.0,
    }
    events, analyzer = analyse(settings, pool, both_ways(), tmp_path, camera)
    crossed, ready = of_type(events, "line_crossed"), of_type(events, "clip_ready")
    assert analyzer.counts.events["clip_ready"] == len(ready) == len(crossed) == 2
    by_source = {e.event_data["source_event_id"]: e for e in ready}
    for event in crossed:
        clip = by_source[str(event.event_id)]
        assert clip.snapshot_path == clip.event_data["path"]
        assert clip.timestamp == event.timestamp
        info = read_clip(tmp_path / "snapshots" / clip.snapshot_path)
        # 1 s before to 1 s after at 5 fps: 11 frames, 2.2 s.
        assert (info.codec, info.frames) == ("h264", 11)
        assert info.duration_seconds == pytest.approx(2.2, abs=0.05)
        assert (info.width, info.height) == (640, 360)
        assert clip.event_data["frames"] == 11

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.headers["X-API-Key"] = API_KEY
        source = crossed[0]
        whole = client.get(f"/clips/{source.id}")
        assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.content[4:8] == b"ftyp"
        part = client.get(f"/clips/{source.id}", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
        assert part.content == whole.content[100:200]
        clip_ready = by_source[str(source.event_id)]
        assert client.get(f"/clips/{clip_ready.id}").content == whole.content
        tracking = of_type(events, "tracking")[0]  # not a clip event here
        assert client.get(f"/clips/{tracking.id}").status_code == 404
        assert client.get("/clips/987654").status_code == 404
