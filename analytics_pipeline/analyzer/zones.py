"""Event zones: a tracked object entering or leaving a named zone.

A track is in a zone while the reference point of its box (the bottom centre, as for counting
lines) lies inside the zone's polygon. It enters once it has been inside on
:data:`ENTER_FRAMES` analysed frames (a one-frame flicker never enters); it leaves once it has
been outside for :data:`LEAVE_AFTER_SECONDS` (at least :data:`LEAVE_AFTER_FRAMES` frames),
when its track is lost, or when the stream ends, so a box jittering on the zone's edge enters
and leaves once. The dwell is from the first to the last moment seen inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from analytics_pipeline.analyzer.lines import Point, reference_point
from analytics_pipeline.analyzer.track_events import LOST_TRACK_SECONDS
from analytics_pipeline.analyzer.types import Detection

ENTER_FRAMES = 2
LEAVE_AFTER_SECONDS = 1.0
LEAVE_AFTER_FRAMES = 2


def point_in_polygon(point: Point, polygon: Sequence[Point]) -> bool:
    """Whether ``point`` is inside ``polygon`` (even-odd rule; a point on an edge may go
    either way)."""
    x, y = point
    inside = False
    previous = polygon[-1]
    for current in polygon:
        (x1, y1), (x2, y2) = previous, current
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        previous = current
    return inside


@dataclass(frozen=True)
class EventZone:
    """A named polygon in pixels."""

    name: str
    polygon: tuple[Point, ...]

    @classmethod
    def from_relative(
        cls, name: str, points: Sequence[Sequence[float]], width: int, height: int
    ) -> EventZone:
        """The zone of a camera setting (0..1 coordinates) on a ``width`` x ``height`` frame."""
        return cls(name, tuple((x * width, y * height) for x, y in points))

    def contains(self, point: Point) -> bool:
        return point_in_polygon(point, self.polygon)


@dataclass
class Visit:
    """One track's stay in one zone."""

    zone: EventZone
    track_id: int
    first_inside: datetime
    last_inside: datetime
    last: Detection  # the last detection inside
    seen: datetime  # the last frame the track was seen at all
    hits: int = 1
    entered: bool = False
    outside_since: datetime | None = None

    @property
    def dwell_seconds(self) -> float:
        return round((self.last_inside - self.first_inside).total_seconds(), 3)


@dataclass(frozen=True)
class ZoneChange:
    """A track entered or left a zone; ``detection`` is where it is now (or was last)."""

    action: Literal["entered", "left"]
    visit: Visit
    detection: Detection


class ZoneWatcher:
    """Turns tracked detections into zone entries and exits (see the module)."""

    def __init__(
        self,
        zones: Sequence[EventZone],
        *,
        enter_frames: int = ENTER_FRAMES,
        leave_after_seconds: float = LEAVE_AFTER_SECONDS,
        forget_after_seconds: float = LOST_TRACK_SECONDS + 1.0,
    ) -> None:
        self.zones = list(zones)
        self.enter_frames = enter_frames
        self.leave_after = timedelta(seconds=leave_after_seconds)
        self.forget_after = timedelta(seconds=forget_after_seconds)
        self.visits: dict[tuple[int, str], Visit] = {}

    @classmethod
    def for_rate(cls, zones: Sequence[EventZone], fps: float) -> ZoneWatcher:
        """The watcher of a camera analysed at ``fps``."""
        return cls(
            zones,
            leave_after_seconds=max(LEAVE_AFTER_SECONDS, LEAVE_AFTER_FRAMES / fps),
            forget_after_seconds=LOST_TRACK_SECONDS + 1 / fps,
        )

    def update(self, detections: Sequence[Detection], moment: datetime) -> list[ZoneChange]:
        """The entries and exits of one frame (tracked detections only)."""
        changes: list[ZoneChange] = []
        for detection in detections:
            if detection.track_id is None:
                continue
            point = reference_point(detection)
            for zone in self.zones:
                change = self._step(zone, detection, detection.track_id, point, moment)
                if change is not None:
                    changes.append(change)
        lost = [k for k, v in self.visits.items() if moment - v.seen > self.forget_after]
        for key in lost:
            visit = self.visits.pop(key)
            if visit.entered:
                changes.append(ZoneChange("left", visit, visit.last))
        return changes

    def _step(
        self, zone: EventZone, detection: Detection, track_id: int, point: Point, at: datetime
    ) -> ZoneChange | None:
        key = (track_id, zone.name)
        visit = self.visits.get(key)
        if zone.contains(point):
            if visit is None:
                visit = self.visits[key] = Visit(zone, track_id, at, at, detection, at)
            else:
                visit.hits += 1
                visit.last_inside = visit.seen = at
                visit.last = detection
                visit.outside_since = None
            if not visit.entered and visit.hits >= self.enter_frames:
                visit.entered = True
                return ZoneChange("entered", visit, detection)
            return None
        if visit is None:
            return None
        visit.seen = at
        if visit.outside_since is None:
            visit.outside_since = at
        if at - visit.outside_since < self.leave_after:
            return None
        del self.visits[key]
        return ZoneChange("left", visit, detection) if visit.entered else None

    def close(self) -> list[ZoneChange]:
        """Every entered visit leaves (end of stream)."""
        left = [ZoneChange("left", v, v.last) for v in self.visits.values() if v.entered]
        self.visits.clear()
        return left
