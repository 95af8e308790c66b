"""Zone events: entering and leaving named zones, with dwell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics_pipeline.analyzer.types import Detection
from analytics_pipeline.analyzer.zones import EventZone, ZoneWatcher, point_in_polygon

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# The middle of a 200x100 frame, x from 60 to 140.
MIDDLE = EventZone.from_relative("middle", [[0.3, 0], [0.7, 0], [0.7, 1], [0.3, 1]], 200, 100)


def at(x: float, track_id: int = 1) -> Detection:
    """A 20x40 box whose bottom centre is (x, 80)."""
    return Detection(x - 10, 40, x + 10, 80, "person", 0.9, track_id)


def walk(watcher: ZoneWatcher, xs: list[float | None], step: float = 0.2) -> list[tuple]:
    found = []
    for i, x in enumerate(xs):
        boxes = [] if x is None else [at(x)]
        for change in watcher.update(boxes, T0 + timedelta(seconds=i * step)):
            found.append((change.action, round((i * step), 1), change.visit.dwell_seconds))
    return found


def test_point_in_polygon() -> None:
    triangle = [(0, 0), (10, 0), (0, 10)]
    assert point_in_polygon((2, 2), triangle)
    assert not point_in_polygon((8, 8), triangle)
    assert MIDDLE.contains((100, 80)) and not MIDDLE.contains((20, 80))


def test_enter_and_leave_with_the_dwell_inside() -> None:
    watcher = ZoneWatcher([MIDDLE], leave_after_seconds=0.4)
    found = walk(watcher, [20, 40, 70, 90, 110, 130, 150, 170, 190])
    # Inside from 0.4 s (x=70) to 1.0 s (x=130); entered on its 2nd frame inside; left once
    # outside for 0.4 s.
    assert found == [("entered", 0.6, 0.2), ("left", 1.6, 0.6)]


def test_jitter_on_the_edge_enters_and_leaves_once() -> None:
    watcher = ZoneWatcher([MIDDLE], leave_after_seconds=0.5)
    found = walk(watcher, [50, 70, 58, 65, 57, 66, 80, 100, 150, 170, 180, 190])
    assert [f[0] for f in found] == ["entered", "left"]


def test_a_flicker_never_enters_and_a_lost_track_leaves() -> None:
    watcher = ZoneWatcher([MIDDLE], forget_after_seconds=1.0)
    assert walk(watcher, [100, None, None, None, None, None, None, None]) == []
    watcher = ZoneWatcher([MIDDLE], forget_after_seconds=1.0)
    found = walk(watcher, [100, 100, 100, None, None, None, None, None, None, None])
    assert found == [("entered", 0.2, 0.2), ("left", 1.6, 0.4)]


def test_the_stream_end_closes_visits() -> None:
    watcher = ZoneWatcher([MIDDLE])
    walk(watcher, [100, 100, 100])
    (change,) = watcher.close()
    assert change.action == "left" and change.visit.dwell_seconds == 0.4
    assert watcher.close() == []


def test_the_rate_scales_the_leave_delay() -> None:
    assert ZoneWatcher.for_rate([MIDDLE], 1.0).leave_after.total_seconds() == 2.0
    assert ZoneWatcher.for_rate([MIDDLE], 10.0).leave_after.total_seconds() == 1.0
