"""Event clips: the ring buffer, which frames a clip takes, its bounds, and the MP4 written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from analytics_pipeline.analyzer import clips
from analytics_pipeline.analyzer.clips import ClipRecorder, downscale, encode_mp4, read_clip
from analytics_pipeline.analyzer.sources import Frame
from analytics_pipeline.events import NewEvent
from analytics_pipeline.payloads import ClipReadyData
from analytics_pipeline.snapshots import EncodedFile, SnapshotStore, clip_relative_path

T0 = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)


class Written:
    """What the recorder emits, its files written under ``root`` as the sink would."""

    def __init__(self, root: Path) -> None:
        self.store = SnapshotStore(root, enabled=False)  # clips do not need snapshots on
        self.events: list[NewEvent] = []

    def __call__(
        self, event_type: str, moment: datetime, number: int, data: dict, clip: EncodedFile
    ) -> NewEvent:
        path = self.store.write("cam", event_type, moment, clip)
        event = NewEvent(
            event_type=event_type,
            camera_id="cam",
            timestamp=moment,
            frame_number=number,
            snapshot_path=path,
            event_data=data,
        )
        self.events.append(event)
        return event


def frame(index: int, fps: float = 5.0, size: tuple[int, int] = (320, 180)) -> Frame:
    image = np.full((size[1], size[0], 3), (index * 7) % 255, np.uint8)
    return Frame(image, index, T0 + timedelta(seconds=index / fps))


def event_at(index: int, fps: float = 5.0) -> NewEvent:
    return NewEvent(
        event_type="line_crossed",
        camera_id="cam",
        timestamp=T0 + timedelta(seconds=index / fps),
        frame_number=index,
    )


def recorder(written: Written, pre: float = 1.0, post: float = 1.0) -> ClipRecorder:
    return ClipRecorder(
        "cam", written, event_types=["line_crossed"], pre_seconds=pre, post_seconds=post, fps=5
    )


def test_a_clip_spans_pre_to_post_seconds_around_its_event(tmp_path: Path) -> None:
    written = Written(tmp_path)
    rec = recorder(written)
    source = event_at(20)
    for index in range(40):
        rec.add(frame(index))
        if index == 20:
            rec.start(source)
    rec.close()
    (ready,) = written.events
    data = ClipReadyData.model_validate(ready.event_data)
    assert data.source_event_id == source.event_id and data.source_event_type == "line_crossed"
    second = timedelta(seconds=1)
    assert (data.start, data.end) == (source.timestamp - second, source.timestamp + second)
    assert data.frames == 11 and data.duration_seconds == 2.2
    assert (
        ready.snapshot_path
        == data.path
        == clip_relative_path("cam", "line_crossed", source.timestamp, source.event_id).as_posix()
    )
    assert ready.timestamp == source.timestamp and ready.frame_number == 20
    info = read_clip(tmp_path / data.path)
    assert (info.codec, info.frames, info.width, info.height) == ("h264", 11, 320, 180)
    assert info.duration_seconds == pytest.approx(2.2, abs=0.01)


def test_the_stream_end_cuts_a_clip_short_and_a_late_event_takes_buffered_frames(
    tmp_path: Path,
) -> None:
    written = Written(tmp_path)
    rec = recorder(written, pre=1.0, post=3.0)
    for index in range(10):
        rec.add(frame(index))
    rec.start(event_at(4))  # as anpr does: an earlier frame's event
    rec.add(frame(10))
    rec.close()
    (ready,) = written.events
    # From 1 s before the event (before frame 0: from frame 0) to the end, frame 10.
    assert ready.event_data["frames"] == 11


def test_the_ring_keeps_pre_seconds_and_stays_within_its_byte_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = recorder(Written(tmp_path), pre=1.0)
    for index in range(80):
        rec.add(frame(index))
    assert len(rec.ring) == 56  # 1 s + LATE_EVENT_SECONDS at 5 fps, both ends
    monkeypatch.setattr(clips, "MAX_BUFFER_BYTES", 3 * len(rec.ring[-1].jpeg))
    rec.add(frame(80))
    assert len(rec.ring) <= 3 and rec.ring_bytes <= clips.MAX_BUFFER_BYTES


def test_only_so_many_clips_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clips, "MAX_PENDING", 2)
    written = Written(tmp_path)
    rec = recorder(written, post=5.0)
    rec.add(frame(0))
    for _ in range(3):
        rec.start(event_at(0))
    assert (len(rec.pending), rec.skipped) == (2, 1)
    rec.close()
    assert len(written.events) == 2 and rec.written == 2


def test_large_frames_are_downscaled_to_even_sides() -> None:
    assert downscale(np.zeros((721, 1281, 3), np.uint8)).shape == (360, 640, 3)
    small = np.zeros((100, 200, 3), np.uint8)
    assert downscale(small) is small


def test_the_mp4_is_h264_with_its_index_first() -> None:
    images = [np.full((64, 96, 3), i * 30, np.uint8) for i in range(5)]
    moments = [T0 + timedelta(seconds=i * 0.5) for i in range(5)]
    data = encode_mp4(images, moments, 2.0)
    assert data[4:8] == b"ftyp"
    assert data.find(b"moov") < data.find(b"mdat")  # faststart: plays while it downloads
