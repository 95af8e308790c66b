"""Motion on a scripted synthetic street: events where the objects come and go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from analytics_pipeline.analyzer.motion import MotionDetector
from analytics_pipeline.analyzer.synthetic import Actor, StreetVideo, background


def run(video: StreetVideo, fps: float = 10.0, **options) -> list[tuple[int, str, object]]:
    detector = MotionDetector(fps=fps, **options)
    backdrop = background(video.width, video.height, np.random.default_rng(video.seed))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    changes = []
    for frame in range(video.frames):
        image, _ = video.render(frame, backdrop)
        change = detector.update(image, start + timedelta(seconds=frame / fps))
        if change:
            changes.append((frame, change.state, change))
    return changes


def test_one_event_when_motion_starts_and_one_when_it_ends() -> None:
    video = StreetVideo(
        frames=120, actors=[Actor("car", 30, 80, 340, 260, (40, 40, 200), plate="AB12CDE")]
    )
    changes = run(video)
    assert [(state) for _, state, _ in changes] == ["started", "ended"]
    (start, _, started), (end, _, ended) = changes
    assert 30 <= start <= 34  # the car appears at frame 30
    assert 80 <= end <= 93  # it leaves at frame 80; motion ends a second later
    assert started.area_percent > 1 and started.regions
    x1, _y1, _x2, y2 = started.regions[0]
    assert y2 > 250 and x1 < 100  # the region is where the car is (entering at the left)
    assert ended.duration_seconds == (end - start) / 10


def test_a_still_scene_gives_no_event() -> None:
    assert run(StreetVideo(frames=60, actors=[])) == []


def test_two_separate_passages_are_two_periods() -> None:
    video = StreetVideo(
        frames=200,
        actors=[
            Actor("person", 20, 60, 250, 120, (160, 60, 60)),
            Actor("car", 120, 170, 340, 260, (40, 200, 40), plate="KX65TRM"),
        ],
    )
    assert [state for _, state, _ in run(video)] == ["started", "ended", "started", "ended"]


def test_a_mask_hides_motion() -> None:
    video = StreetVideo(
        frames=100, actors=[Actor("car", 30, 80, 340, 260, (40, 40, 200), plate="AB12CDE")]
    )
    everything = np.zeros((360, 640), np.uint8)
    assert run(video, region_mask=everything) == []
