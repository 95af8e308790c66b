"""Entered and left from tracked detections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics_pipeline.analyzer.track_events import TrackBook
from analytics_pipeline.analyzer.types import Detection

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seen(track_id: int, x: float = 10) -> Detection:
    return Detection(x, 10, x + 20, 60, "person", 0.8, track_id)


def test_enters_after_min_hits_and_leaves_when_lost() -> None:
    book = TrackBook(min_hits=2, lost_after_seconds=1.0)
    entered, left = book.update([seen(1)], T0)
    assert (entered, left) == ([], [])
    entered, _ = book.update([seen(1, 12)], T0 + timedelta(seconds=0.2))
    assert [t.track_id for t in entered] == [1]
    assert book.update([seen(1, 14)], T0 + timedelta(seconds=0.4)) == ([], [])
    _, left = book.update([], T0 + timedelta(seconds=1.5))
    assert [t.track_id for t in left] == [1]
    data = left[0].payload("left").event_data()
    assert data["dwell_seconds"] == 0.4 and data["box"] == [14, 10, 34, 60]
    assert data["first_seen"] == T0.isoformat()


def test_a_flicker_never_enters_nor_leaves() -> None:
    book = TrackBook(min_hits=3, lost_after_seconds=1.0)
    book.update([seen(5)], T0)
    assert book.update([], T0 + timedelta(seconds=2)) == ([], [])


def test_close_makes_entered_tracks_leave() -> None:
    book = TrackBook(min_hits=1)
    book.update([seen(1), seen(2), Detection(0, 0, 1, 1, "person", 0.9)], T0)
    assert sorted(t.track_id for t in book.close()) == [1, 2]
