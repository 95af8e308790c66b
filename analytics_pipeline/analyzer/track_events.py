"""Entered / left from tracked detections: a track enters once it has been seen a few times
and leaves when it has not been seen for a while (or when the stream ends)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from analytics_pipeline.analyzer.types import Detection
from analytics_pipeline.payloads import TrackingData


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
                track.last_seen, track.last = moment, detection
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
