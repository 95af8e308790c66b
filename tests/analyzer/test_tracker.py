"""ByteTrack over any detector: timings in seconds at the camera's rate, weak boxes used as
ByteTrack intends, the detector's own boxes reported, and ids kept through short occlusions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics_pipeline.analyzer.detector import LOW_CONFIDENCE, RawDetections
from analytics_pipeline.analyzer.track_events import (
    ENTER_AFTER_SECONDS,
    LOST_TRACK_SECONDS,
    TrackBook,
)
from analytics_pipeline.analyzer.tracker import (
    MOTION_HEIGHTS_PER_SECOND,
    DetectionTracker,
    Stitcher,
    byte_tracker,
    widened,
)
from analytics_pipeline.analyzer.types import Detection

NAMES = ("person", "car")
FRAME = np.zeros((480, 640, 3), np.uint8)


class Scripted:
    """A detector that returns the boxes it is given, frame after frame."""

    name = "scripted"
    class_names = NAMES

    def __init__(self, frames: list[list[tuple[float, float, float, float, float]]]) -> None:
        self.frames = iter(frames)
        self.min_confidence = 0.4

    def detect(self, frame: np.ndarray) -> RawDetections:
        boxes = next(self.frames)
        array = np.array(boxes, np.float32).reshape(-1, 5)
        return RawDetections(array[:, :4], array[:, 4], np.zeros(len(array)))


def walker(step: int, x0: float = 100, speed: float = 12, score: float = 0.8):
    """A 30 x 80 person walking right ``speed`` pixels a frame."""
    x = x0 + speed * step
    return (x, 200, x + 30, 280, score)


def run(frames, fps: float = 5) -> list[list[Detection]]:
    tracker = DetectionTracker(Scripted(frames), fps=fps)
    return [tracker.track(FRAME) for _ in frames]


def test_timings_are_seconds_at_the_camera_s_rate() -> None:
    for fps in (1, 5, 10):
        tracker = byte_tracker(fps, min_confidence=0.4)
        assert tracker.max_frames_lost == round(fps * LOST_TRACK_SECONDS)
        assert tracker.args.track_high_thresh == tracker.args.new_track_thresh == 0.4
        assert tracker.args.track_low_thresh == LOW_CONFIDENCE
        book = TrackBook.for_rate(fps)
        assert book.min_hits == max(2, round(fps * ENTER_AFTER_SECONDS))
        assert book.lost_after_seconds == pytest.approx(LOST_TRACK_SECONDS + 1 / fps)
    # ByteTrack matches boxes widened by the way an object can go in one analysed frame.
    slow, fast = DetectionTracker(Scripted([]), fps=1), DetectionTracker(Scripted([]), fps=10)
    assert slow.widen == pytest.approx(10 * fast.widen) == MOTION_HEIGHTS_PER_SECOND / 2


def test_widened_boxes_grow_by_a_share_of_their_height() -> None:
    raw = RawDetections(np.array([[10, 20, 40, 100]]), np.array([0.9]), np.array([0]))
    assert widened(raw, 0.1).xyxy.tolist() == [[2, 12, 48, 108]]
    assert widened(raw, 0).xyxy.tolist() == raw.xyxy.tolist()


def test_a_weak_box_carries_a_track_and_is_otherwise_dropped() -> None:
    frames = [[walker(i)] for i in range(4)]
    frames.append([walker(4, score=0.2)])  # half hidden: a weak box where the walker is
    frames.append([walker(5), (500, 50, 520, 100, 0.2)])  # and a weak box of nothing
    out = run(frames)
    ids = {d.track_id for frame in out[1:] for d in frame if d.track_id is not None}
    assert len(ids) == 1  # one id all along, through the weak frame
    assert [d.confidence for d in out[4]] == [pytest.approx(0.2)]
    assert len(out[5]) == 1 and out[5][0].confidence == pytest.approx(0.8)  # no stray weak box


def test_the_reported_box_is_the_detector_s_own() -> None:
    frames = [[walker(i)] for i in range(6)]
    frames.append([(190, 190, 225, 285, 0.8)])  # a sudden stop: the filter would overshoot
    last = run(frames)[-1][0]
    assert (last.x1, last.y1, last.x2, last.y2) == (190, 190, 225, 285)
    assert last.track_id is not None


def test_a_walker_hidden_for_a_second_keeps_their_id() -> None:
    fps = 5
    frames = [[walker(i)] for i in range(6)]
    frames += [[] for _ in range(fps)]  # behind a post for a second
    frames += [[walker(i)] for i in range(11, 16)]
    ids = [d.track_id for frame in run(frames, fps) for d in frame if d.track_id is not None]
    assert len(set(ids)) == 1 and len(ids) >= 9


def test_someone_else_far_away_gets_an_id_of_their_own() -> None:
    frames = [[walker(i)] for i in range(6)]
    frames += [[] for _ in range(3)]
    frames += [[walker(i, x0=500, speed=-12)] for i in range(6)]  # another one, coming back
    ids = [d.track_id for frame in run(frames) for d in frame if d.track_id is not None]
    assert len(set(ids)) == 2


def test_the_stitcher_never_lends_an_id_that_is_in_view() -> None:
    stitcher = Stitcher(fps=5)

    def person(x: float, track_id: int) -> Detection:
        return Detection(x, 200, x + 30, 280, "person", 0.8, track_id)

    stitcher.ids([person(100, 1), person(140, 2)])
    assert [d.track_id for d in stitcher.ids([person(104, 1)])] == [1]  # 2 is lost
    # A new ByteTrack id right where 2 was: it is 2 again; 1 is in view and keeps its id.
    again = stitcher.ids([person(108, 1), person(142, 7)])
    assert [d.track_id for d in again] == [1, 2]
    # ByteTrack finds its own track 2 again while 7 still stands in for it: 7 gives it back.
    both = stitcher.ids([person(144, 2), person(150, 7), person(112, 1)])
    assert sorted(d.track_id for d in both) == [1, 2, 7]


def test_a_track_shows_its_last_box_of_a_fair_score() -> None:
    book = TrackBook.for_rate(5)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    person = Detection(100, 200, 130, 280, "person", 0.8, 1)
    group = Detection(90, 195, 170, 285, "person", 0.2, 1)  # a weak box around two people
    book.update([person], t0)
    book.update([person], t0 + timedelta(seconds=0.2))
    book.update([group], t0 + timedelta(seconds=0.4))
    (track,) = book.close()
    assert track.last == person and track.last_seen == t0 + timedelta(seconds=0.4)
