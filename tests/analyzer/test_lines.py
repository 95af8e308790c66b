"""Counting-line geometry: sides, crossings and their direction, the dead band, the wobble."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from analytics_pipeline.analyzer.lines import (
    CountingLine,
    LineCounter,
    reference_point,
    segments_cross,
)
from analytics_pipeline.analyzer.types import Detection

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# Vertical line drawn bottom to top: its right-hand side (b) is the right of the image.
GATE = CountingLine.from_relative("gate", [[0.5, 1.0], [0.5, 0.0]], 200, 100)
# Horizontal line drawn left to right: its right-hand side (b) is the lower part of the image.
KERB = CountingLine.from_relative("kerb", [[0.0, 0.5], [1.0, 0.5]], 200, 100)


def at(x: float, y: float = 80, track_id: int = 1) -> Detection:
    """A 20x40 box whose bottom centre is (x, y)."""
    return Detection(x - 10, y - 40, x + 10, y, "person", 0.9, track_id)


def run(counter: LineCounter, xs: list[float], *, y: float = 80, step: float = 0.2) -> list:
    found = []
    for i, x in enumerate(xs):
        found += counter.update([at(x, y)], T0 + timedelta(seconds=i * step))
    return found


def test_the_reference_point_is_the_bottom_centre() -> None:
    assert reference_point(Detection(10, 20, 30, 60, "car", 0.5, 1)) == (20, 60)


def test_sides_follow_the_order_of_the_points_in_image_coordinates() -> None:
    assert GATE.side((50, 50)) == -1 and GATE.side((150, 50)) == 1  # a left, b right
    assert KERB.side((100, 10)) == -1 and KERB.side((100, 90)) == 1  # a above, b below
    assert GATE.side((101, 50), dead_band=2) == 0


def test_segments_cross() -> None:
    assert segments_cross((0, 0), (10, 10), (0, 10), (10, 0))
    assert not segments_cross((0, 0), (4, 4), (0, 10), (10, 0))
    assert segments_cross((0, 5), (5, 5), (5, 0), (5, 10))  # touching counts


def test_each_way_is_counted_once_with_its_direction() -> None:
    counter = LineCounter([GATE], dead_band=2, debounce_seconds=1)
    (right,) = run(counter, [40, 70, 95, 110, 140, 170])
    assert (right.line.name, right.direction) == ("gate", "a_to_b")
    assert right.point == (110, 80)
    later = LineCounter([GATE, KERB], dead_band=2, debounce_seconds=1)
    (left,) = run(later, [170, 130, 90, 60])
    assert left.direction == "b_to_a"


def test_moving_down_across_a_line_drawn_left_to_right_is_a_to_b() -> None:
    counter = LineCounter([KERB], dead_band=2, debounce_seconds=1)
    found = []
    for i, y in enumerate([20, 40, 60, 80]):
        found += counter.update([at(100, y)], T0 + timedelta(seconds=i * 0.2))
    assert [c.direction for c in found] == ["a_to_b"]


def test_a_wobble_on_the_line_counts_once() -> None:
    counter = LineCounter([GATE], dead_band=2, debounce_seconds=1)
    found = run(counter, [40, 80, 110, 90, 112, 88, 111, 90, 115, 140, 170, 190])
    assert [c.direction for c in found] == ["a_to_b"]
    assert counter.wobbles == 6


def test_jitter_within_the_dead_band_changes_no_side() -> None:
    counter = LineCounter([GATE], dead_band=5, debounce_seconds=0.1)
    assert run(counter, [80, 102, 98, 103, 97, 101, 99, 80], step=1) == []


def test_crossing_back_after_the_window_counts_again() -> None:
    counter = LineCounter([GATE], dead_band=2, debounce_seconds=1)
    found = run(counter, [80, 120, 130, 130, 130, 130, 130, 130, 80], step=0.5)
    assert [c.direction for c in found] == ["a_to_b", "b_to_a"]


def test_passing_beyond_the_end_of_a_line_does_not_count() -> None:
    short = CountingLine.from_relative("short", [[0.5, 1.0], [0.5, 0.9]], 200, 100)
    counter = LineCounter([short], dead_band=2, debounce_seconds=1)
    assert run(counter, [40, 80, 120, 160], y=50) == []


def test_each_track_counts_on_its_own_and_untracked_boxes_never() -> None:
    counter = LineCounter([GATE], dead_band=2, debounce_seconds=1)
    found = []
    for i, x in enumerate([60, 90, 130, 160]):
        moment = T0 + timedelta(seconds=i * 0.2)
        boxes = [at(x, track_id=1), at(220 - x, track_id=2), replace(at(x), track_id=None)]
        found += counter.update(boxes, moment)
    assert sorted((c.detection.track_id, c.direction) for c in found) == [
        (1, "a_to_b"),
        (2, "b_to_a"),
    ]


def test_the_rate_scales_the_window_and_lost_tracks_are_forgotten() -> None:
    slow = LineCounter.for_rate([GATE], 1.0, (200, 100))
    assert slow.debounce.total_seconds() == 3.0  # three frames at 1 fps
    fast = LineCounter.for_rate([GATE], 10.0, (200, 100))
    assert fast.debounce.total_seconds() == 2.0
    fast.update([at(40)], T0)
    fast.update([], T0 + timedelta(seconds=10))
    assert fast.passages == {}
