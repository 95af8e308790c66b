"""Counting lines: a tracked object whose reference point crosses a line is counted once, with
its direction.

Geometry in pixels of the analysed frame (y grows downwards, as images do). A line goes from
its first point ``a`` to its second point ``b``. Its *left* and *right* sides are those of
someone walking on the image from ``a`` to ``b``: for a line drawn left to right across the
frame, the upper part of the image is its left side and the lower part its right side.

- ``a_to_b``: the object went from the line's left side to its right side;
- ``b_to_a``: from its right side to its left side.

An object's reference point is the bottom centre of its box (where it touches the ground). A
point closer to the line than a dead band (:data:`DEAD_BAND` of the frame's diagonal) is on
neither side, so a box that jitters on the line changes no side. A crossing counts when the
point settles on the other side and the way from its last settled place passes between the
line's two ends. Once a track's crossing of a line is counted, any crossing of that line by
that track within the debounce window (:data:`DEBOUNCE_SECONDS`, at least
:data:`DEBOUNCE_FRAMES` analysed frames) is a wobble and is not counted, whichever its
direction, and each one starts the window again: an object that wobbles on the line counts
once. A track crosses a line again, in either direction, once it has kept off it for longer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from analytics_pipeline.analyzer.track_events import LOST_TRACK_SECONDS
from analytics_pipeline.analyzer.types import Detection

Point = tuple[float, float]
Direction = Literal["a_to_b", "b_to_a"]

#: A track's crossings of one line closer than this (after a counted one) are a wobble.
DEBOUNCE_SECONDS = 2.0
#: ... and never fewer analysed frames than this, whatever the camera's rate.
DEBOUNCE_FRAMES = 3
#: Points closer to the line than this share of the frame's diagonal are on neither side.
DEAD_BAND = 0.01


def reference_point(detection: Detection) -> Point:
    """The bottom centre of the detection's box (pixels)."""
    return (detection.x1 + detection.x2) / 2, detection.y2


def cross(origin: Point, towards: Point, point: Point) -> float:
    """The z of (towards - origin) x (point - origin): > 0 when ``point`` is on the right of
    the way from ``origin`` to ``towards`` in image coordinates (y down), < 0 on its left."""
    return (towards[0] - origin[0]) * (point[1] - origin[1]) - (towards[1] - origin[1]) * (
        point[0] - origin[0]
    )


def segments_cross(p: Point, q: Point, a: Point, b: Point) -> bool:
    """Whether segment ``p``-``q`` meets segment ``a``-``b`` (touching counts)."""
    d1, d2 = cross(a, b, p), cross(a, b, q)
    d3, d4 = cross(p, q, a), cross(p, q, b)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True

    def on(s: Point, t: Point, r: Point, d: float) -> bool:  # r on segment s-t, collinear
        return (
            d == 0
            and min(s[0], t[0]) <= r[0] <= max(s[0], t[0])
            and min(s[1], t[1]) <= r[1] <= max(s[1], t[1])
        )

    return on(a, b, p, d1) or on(a, b, q, d2) or on(p, q, a, d3) or on(p, q, b, d4)


@dataclass(frozen=True)
class CountingLine:
    """A named line from ``a`` to ``b`` in pixels."""

    name: str
    a: Point
    b: Point

    @classmethod
    def from_relative(
        cls, name: str, points: Sequence[Sequence[float]], width: int, height: int
    ) -> CountingLine:
        """The line of a camera setting (0..1 coordinates) on a ``width`` x ``height`` frame."""
        (ax, ay), (bx, by) = points
        return cls(name, (ax * width, ay * height), (bx * width, by * height))

    @property
    def length(self) -> float:
        return math.dist(self.a, self.b)

    def side(self, point: Point, dead_band: float = 0.0) -> int:
        """-1 on the line's left (side a), +1 on its right (side b), 0 within the dead band."""
        value = cross(self.a, self.b, point)
        if self.length == 0 or abs(value) / self.length <= dead_band:
            return 0
        return 1 if value > 0 else -1


@dataclass(frozen=True)
class Crossing:
    """One counted crossing."""

    line: CountingLine
    direction: Direction
    detection: Detection
    point: Point


@dataclass
class _Passage:
    """Where one track stands with one line."""

    side: int  # the side it last settled on
    point: Point  # where it last was on that side
    seen: datetime
    quiet_until: datetime | None = None  # crossings before this are a wobble


class LineCounter:
    """Turns tracked detections into line crossings, once per crossing (see the module)."""

    def __init__(
        self,
        lines: Sequence[CountingLine],
        *,
        dead_band: float,
        debounce_seconds: float = DEBOUNCE_SECONDS,
        forget_after_seconds: float = LOST_TRACK_SECONDS + 1.0,
    ) -> None:
        self.lines = list(lines)
        self.dead_band = dead_band
        self.debounce = timedelta(seconds=debounce_seconds)
        self.forget_after = timedelta(seconds=forget_after_seconds)
        self.passages: dict[tuple[int, str], _Passage] = {}
        self.wobbles = 0  # crossings not counted

    @classmethod
    def for_rate(
        cls, lines: Sequence[CountingLine], fps: float, frame_size: tuple[int, int]
    ) -> LineCounter:
        """The counter of a camera analysed at ``fps`` on frames of ``frame_size`` (w, h)."""
        width, height = frame_size
        return cls(
            lines,
            dead_band=DEAD_BAND * math.hypot(width, height),
            debounce_seconds=max(DEBOUNCE_SECONDS, DEBOUNCE_FRAMES / fps),
            forget_after_seconds=LOST_TRACK_SECONDS + 1 / fps,
        )

    def update(self, detections: Sequence[Detection], moment: datetime) -> list[Crossing]:
        """The crossings counted on one frame (tracked detections only)."""
        crossings: list[Crossing] = []
        for detection in detections:
            if detection.track_id is None:
                continue
            point = reference_point(detection)
            for line in self.lines:
                crossing = self._step(line, detection, detection.track_id, point, moment)
                if crossing is not None:
                    crossings.append(crossing)
        for key in [k for k, p in self.passages.items() if moment - p.seen > self.forget_after]:
            del self.passages[key]
        return crossings

    def _step(
        self, line: CountingLine, detection: Detection, track_id: int, point: Point, at: datetime
    ) -> Crossing | None:
        side = line.side(point, self.dead_band)
        key = (track_id, line.name)
        passage = self.passages.get(key)
        if passage is None:
            if side:
                self.passages[key] = _Passage(side, point, at)
            return None
        passage.seen = at
        if side == 0:
            return None
        if side == passage.side:
            passage.point = point
            return None
        through = segments_cross(passage.point, point, line.a, line.b)
        direction: Direction = "a_to_b" if passage.side < 0 else "b_to_a"
        passage.side, passage.point = side, point
        if not through:  # went round one of the line's ends
            return None
        wobble = passage.quiet_until is not None and at < passage.quiet_until
        passage.quiet_until = at + self.debounce
        if wobble:
            self.wobbles += 1
            return None
        return Crossing(line, direction, detection, point)
