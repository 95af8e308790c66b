"""A vehicle's plate reads, and a small tracker that groups plates seen without a vehicle track.

:class:`VehiclePlates` holds every read of one vehicle and votes on them. Where plates are
found in motion regions (no vehicle detector, or a plate camera), :class:`PlateTracker` follows
each plate from frame to frame by where it is expected (its last place moved by its speed),
its overlap and its text, so that one passing vehicle is one group of reads and one ``anpr``
event. Plate tracks are numbered -1, -2, ... so that they never share a number with the
detector's (positive) vehicle and person tracks of the same camera.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from analytics_pipeline.analyzer.sources import Frame
from analytics_pipeline.analyzer.types import PlateRead

SETTLED_READS = 5  # identical reads after which a vehicle's plate is not read again
PLATE_LOST_SECONDS = 2.0  # a plate unseen this long has left
SETTLED_RECHECK_SECONDS = 1.0  # a region of settled plates only is searched this often


@dataclass
class VehiclePlates:
    """Every read of one vehicle, and the annotated frame of its best read."""

    track_id: int
    class_name: str
    reads: list[PlateRead] = field(default_factory=list)
    shots: dict[str, tuple[float, Frame]] = field(default_factory=dict)
    """Per text read: its best read's confidence and frame, the plate drawn on it."""
    first_read: datetime | None = None
    last_seen: datetime | None = None
    box: tuple[float, float, float, float] | None = None  # where the plate was last seen
    velocity: tuple[float, float] = (0.0, 0.0)  # of the plate's centre, pixels per second

    @property
    def settled(self) -> bool:
        """Enough reads agree (SETTLED_READS of the same text) that more add nothing."""
        return (
            bool(self.reads) and max(Counter(r.text for r in self.reads).values()) >= SETTLED_READS
        )

    def best(self) -> PlateRead | None:
        """The text read most often (ties: the highest confidence), with its best read."""
        if not self.reads:
            return None
        votes = Counter(r.text for r in self.reads)
        top = max(votes.values())
        candidates = [r for r in self.reads if votes[r.text] == top]
        return max(candidates, key=lambda r: r.confidence)

    def agrees(self, text: str) -> bool:
        """Whether ``text`` may be this vehicle's plate (no read yet, or :func:`same_plate` as
        its best read), not another vehicle's."""
        best = self.best()
        return best is None or same_plate(text, best.text)

    @property
    def best_shot(self) -> Frame | None:
        """The frame of the best read (:meth:`best`), its plate drawn on it."""
        best = self.best()
        shot = self.shots.get(best.text) if best is not None else None
        return shot[1] if shot is not None else None

    def keep_shot(self, read: PlateRead, frame: Frame) -> None:
        """Keep ``frame`` (annotated) as the picture of ``read``'s text."""
        self.shots[read.text] = (read.confidence, frame)

    def merge(self, other: VehiclePlates) -> None:
        """Take ``other``'s reads (the same vehicle, seen before it was tracked as this one)."""
        self.reads = other.reads + self.reads
        moments = [m for m in (self.first_read, other.first_read) if m is not None]
        self.first_read = min(moments) if moments else None
        for text, shot in other.shots.items():
            if text not in self.shots or shot[0] > self.shots[text][0]:
                self.shots[text] = shot

    def add(self, read: PlateRead, moment: datetime) -> bool:
        """Add a read; True when it is its text's best read so far (keep its frame with
        :meth:`keep_shot`)."""
        self.reads.append(read)
        self.first_read = self.first_read or moment
        shot = self.shots.get(read.text)
        return shot is None or read.confidence > shot[0]


Box = tuple[float, float, float, float]


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def same_plate(a: str, b: str) -> bool:
    """Whether two reads may be of one plate: within two edits (OCR slips), or with the same
    first or last four characters (the plate partly hidden or cut off)."""
    if edit_distance(a, b) <= 2:
        return True
    return min(len(a), len(b)) >= 4 and (a[:4] == b[:4] or a[-4:] == b[-4:])


def centre(box: Box) -> tuple[float, float]:
    """The middle of ``box``."""
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def holds(region: Box, point: tuple[float, float]) -> bool:
    """Whether ``point`` lies inside ``region`` (edges included)."""
    return region[0] <= point[0] <= region[2] and region[1] <= point[1] <= region[3]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def closest(text: str, groups: Iterable[VehiclePlates]) -> VehiclePlates | None:
    """Of the groups whose plate ``text`` may be, the one whose best read is nearest to it."""
    close = [
        (edit_distance(text, best.text), group)
        for group in groups
        if (best := group.best()) is not None and same_plate(text, best.text)
    ]
    return min(close, key=lambda pair: pair[0])[1] if close else None


class PlateTracker:
    """Groups plate sightings across frames into passing vehicles (class ``vehicle``)."""

    def __init__(self, lost_after_seconds: float = PLATE_LOST_SECONDS) -> None:
        self.lost_after_seconds = lost_after_seconds
        self.tracks: dict[int, VehiclePlates] = {}
        self.next_id = -1

    def _distance(self, track: VehiclePlates, box: Box, moment: datetime) -> float | None:
        """How far ``box`` is from where ``track``'s plate is expected, in plate widths;
        None when it cannot be that plate."""
        assert track.box is not None
        ex, ey = self._expected(track, moment)
        bx, by = centre(box)
        width = max(track.box[2] - track.box[0], box[2] - box[0], 1.0)
        distance = ((bx - ex) ** 2 + (by - ey) ** 2) ** 0.5 / width
        if iou(track.box, box) > 0.1:
            distance = min(distance, 0.5)
        return distance if distance <= 1.5 else None

    def match(self, boxes: list[Box], moment: datetime) -> list[VehiclePlates | None]:
        """The live track each box belongs to (None: a new plate), closest pairs first."""
        pairs = []
        for i, box in enumerate(boxes):
            for track in self.tracks.values():
                distance = self._distance(track, box, moment)
                if distance is not None:
                    pairs.append((distance, i, track.track_id))
        found: list[VehiclePlates | None] = [None] * len(boxes)
        used: set[int] = set()
        for _distance, i, track_id in sorted(pairs):
            if found[i] is None and track_id not in used:
                found[i] = self.tracks[track_id]
                used.add(track_id)
        return found

    def by_text(self, text: str) -> VehiclePlates | None:
        """The live track whose plate ``text`` is (:func:`same_plate`: the same plate seen
        elsewhere), the closest if several."""
        return closest(text, self.tracks.values())

    def forget(self, track: VehiclePlates) -> None:
        """Stop following ``track`` (its reads went to a vehicle track)."""
        self.tracks.pop(track.track_id, None)

    def seen(self, track: VehiclePlates | None, box: Box, moment: datetime) -> VehiclePlates:
        """Record a sighting of ``track``'s plate at ``box`` (a new track when None)."""
        if track is None:
            track = VehiclePlates(self.next_id, "vehicle")
            self.next_id -= 1
            self.tracks[track.track_id] = track
        elif track.box is not None and track.last_seen is not None:
            dt = (moment - track.last_seen).total_seconds()
            if dt > 0:
                (ox, oy), (nx, ny) = centre(track.box), centre(box)
                track.velocity = ((nx - ox) / dt, (ny - oy) / dt)
        track.box, track.last_seen = box, moment
        return track

    def only_settled_in(self, region: Box, moment: datetime) -> bool:
        """Whether ``region`` holds only settled plates, seen less than
        :data:`SETTLED_RECHECK_SECONDS` ago: it is searched again only that often (enough to
        keep following them; a vehicle joining them waits that long to be read)."""
        inside = [t for t in self.tracks.values() if holds(region, self._expected(t, moment))]
        return bool(inside) and all(
            t.settled
            and t.last_seen is not None
            and (moment - t.last_seen).total_seconds() < SETTLED_RECHECK_SECONDS
            for t in inside
        )

    @staticmethod
    def _expected(track: VehiclePlates, moment: datetime) -> tuple[float, float]:
        """Where ``track``'s plate centre is expected at ``moment``."""
        assert track.box is not None and track.last_seen is not None
        dt = (moment - track.last_seen).total_seconds()
        cx, cy = centre(track.box)
        return cx + track.velocity[0] * dt, cy + track.velocity[1] * dt

    def ended(self, moment: datetime) -> list[VehiclePlates]:
        """Tracks whose plate has not been seen for ``lost_after_seconds``; forgotten here."""
        gone = [
            t
            for t in self.tracks.values()
            if t.last_seen is not None
            and (moment - t.last_seen).total_seconds() >= self.lost_after_seconds
        ]
        for track in gone:
            del self.tracks[track.track_id]
        return gone

    def close(self) -> list[VehiclePlates]:
        """Every live track (the end of the stream)."""
        tracks = list(self.tracks.values())
        self.tracks.clear()
        return tracks
