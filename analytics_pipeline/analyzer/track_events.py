"""Entered / left from tracked detections: a track enters once it has been seen a few times
and leaves when it has not been seen for a while (or when the stream ends).

Timings are in seconds, turned into frames at each camera's analysis rate
(:meth:`TrackBook.for_rate`); the tracker keeps a lost id for :data:`LOST_TRACK_SECONDS`, so a
track leaves only once its id can no longer come back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from analytics_pipeline.analyzer.types import Detection
from analytics_pipeline.payloads import TrackingData

#: How long a lost track is kept (and can be found again under its id) before it is given up;
#: the tracker (ByteTrack's buffer, its stitching) and the book use the same span.
LOST_TRACK_SECONDS = 3.0
#: How long a track must be followed before it enters (two analysed frames at least).
ENTER_AFTER_SECONDS = 0.4


@dataclass
class Track:
    """What is known of one tracked object."""

    track_id: int
    class_name: str
    first_seen: datetime
    last_seen: datetime
    last: Detection
    best_confidence: float
    hits: int = 1
    entered: bool = False

    @property
    def dwell_seconds(self) -> float:
        return round((self.last_seen - self.first_seen).total_seconds(), 3)

    def payload(self, action: Literal["entered", "left"]) -> TrackingData:
        """The ``event_data`` of a tracking event (docs/events.md)."""
        return TrackingData(
            action=action,
            track_id=self.track_id,
            class_name=self.class_name,
            confidence=round(self.best_confidence, 4),
            box=self.last.box,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            dwell_seconds=self.dwell_seconds,
        )


class TrackBook:
    """Turns per-frame tracked detections into entered and left transitions."""

    def __init__(self, *, min_hits: int = 3, lost_after_seconds: float = 1.5) -> None:
        self.min_hits = min_hits
        self.lost_after_seconds = lost_after_seconds
        self.tracks: dict[int, Track] = {}

    @classmethod
    def for_rate(cls, fps: float) -> TrackBook:
        """The book for a camera analysed at ``fps``: enters after :data:`ENTER_AFTER_SECONDS`
        of frames, leaves one frame after the tracker gives the id up."""
        return cls(
            min_hits=max(2, round(fps * ENTER_AFTER_SECONDS)),
            lost_after_seconds=LOST_TRACK_SECONDS + 1 / fps,
        )

    def update(
        self, detections: list[Detection], moment: datetime
    ) -> tuple[list[Track], list[Track]]:
        """(entered now, left now) after one frame's detections."""
        entered: list[Track] = []
        for detection in detections:
            if detection.track_id is None:
                continue
            track = self.tracks.get(detection.track_id)
            if track is None:
                track = self.tracks[detection.track_id] = Track(
                    detection.track_id,
                    detection.class_name,
                    moment,
                    moment,
                    detection,
                    detection.confidence,
                )
            else:
                track.last_seen = moment
                # The box shown is the last one at half the track's best score or more: a weak
                # box that carried the track through a crowd may hold two people.
                if detection.confidence >= 0.5 * track.best_confidence:
                    track.last = detection
                track.best_confidence = max(track.best_confidence, detection.confidence)
                track.hits += 1
            if not track.entered and track.hits >= self.min_hits:
                track.entered = True
                entered.append(track)
        left = [
            t
            for t in self.tracks.values()
            if (moment - t.last_seen).total_seconds() >= self.lost_after_seconds
        ]
        for track in left:
            del self.tracks[track.track_id]
        return entered, [t for t in left if t.entered]

    def close(self) -> list[Track]:
        """Every entered track leaves (end of stream)."""
        left = [t for t in self.tracks.values() if t.entered]
        self.tracks.clear()
        return left
