"""Clips (``clip_ready`` rows, whose snapshot_path is the MP4) under retention and the
thumbnail asset: they leave with their source's day and type, count in the quota, and never
get a thumbnail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import materialize

from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.payloads import ClipReadyData
from analytics_pipeline.retention import Retention, RetentionPolicy, RetentionReport
from analytics_pipeline.snapshots import clip_relative_path
from assets.thumbnails import snapshot_thumbnails
from tests.assets.test_retention import remaining
from tests.conftest import clip_ready_event

NOW = datetime.now(UTC)
CLIP_BYTES = 4000


def with_clip(event_log: EventLog, root: Path, position: int) -> tuple[int, Path]:
    """A clip file of ``CLIP_BYTES`` for the event at ``position`` and its ``clip_ready``."""
    source = event_log.get(position)
    assert source is not None
    relative = clip_relative_path(
        source.camera_id, source.event_type, source.timestamp, source.event_id
    ).as_posix()
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0\0\0\x18ftypisom" + b"x" * (CLIP_BYTES - 12))
    data = ClipReadyData(
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        path=relative,
        start=source.timestamp - timedelta(seconds=1),
        end=source.timestamp + timedelta(seconds=1),
        duration_seconds=2.0,
        frames=11,
        width=640,
        height=360,
    )
    [ready] = event_log.append([clip_ready_event(source, data)])
    return ready, path


def run(resources, **policy) -> RetentionReport:
    thumbnails = resources["snapshots"].thumbnails
    return Retention(resources["event_log"].pool, thumbnails).run(RetentionPolicy(**policy))


def test_a_clip_leaves_with_its_expired_day(
    resources, add_events, event_log, database_url, tmp_path
) -> None:
    old, recent = add_events(
        {"timestamp": NOW - timedelta(days=45), "event_type": "line_crossed"},
        {"timestamp": NOW - timedelta(hours=3), "event_type": "line_crossed"},
    )
    _, old_clip = with_clip(event_log, tmp_path / "snapshots", old)
    recent_ready, recent_clip = with_clip(event_log, tmp_path / "snapshots", recent)
    report = run(resources)
    assert report.partitions_dropped and report.events_dropped == 2
    assert remaining(database_url) == {recent, recent_ready}
    assert not old_clip.exists() and recent_clip.exists()
    assert report.orphans_removed == 0


def test_a_clip_keeps_the_days_of_its_source_type_unless_named(
    resources, add_events, event_log, database_url, tmp_path
) -> None:
    crossed, motion, entered = add_events(
        {"timestamp": NOW - timedelta(days=5), "event_type": "line_crossed"},
        {"timestamp": NOW - timedelta(days=5)},
        {"timestamp": NOW - timedelta(days=3), "event_type": "zone_entered"},
    )
    root = tmp_path / "snapshots"
    _, crossed_clip = with_clip(event_log, root, crossed)
    motion_ready, motion_clip = with_clip(event_log, root, motion)
    entered_ready, entered_clip = with_clip(event_log, root, entered)
    # line_crossed for 2 days: its clip goes with it; motion's clip stays with motion.
    run(resources, event_type_days={"line_crossed": 2})
    assert remaining(database_url) == {motion, motion_ready, entered, entered_ready}
    assert not crossed_clip.exists() and motion_clip.exists() and entered_clip.exists()
    # clip_ready named: clips are kept 1 day, whatever their source's type.
    run(resources, event_type_days={"clip_ready": 1})
    assert remaining(database_url) == {motion, entered}
    assert not motion_clip.exists() and not entered_clip.exists()
    assert (root / event_log.get(motion).snapshot_path).exists()


def test_clips_count_in_the_quota(resources, add_events, event_log, database_url, tmp_path):
    root = tmp_path / "snapshots"
    ids = add_events(
        *[
            {"timestamp": NOW - timedelta(hours=10 - i), "event_type": "line_crossed"}
            for i in range(3)
        ]
    )
    clips = [with_clip(event_log, root, position) for position in ids]
    snapshot = (root / event_log.get(ids[0]).snapshot_path).stat().st_size
    # Room for the two newest events with their clips, not for the oldest's clip.
    quota = 2 * (snapshot + CLIP_BYTES) + snapshot
    report = run(resources, max_snapshot_bytes=quota)
    assert report.referenced_bytes == 2 * (snapshot + CLIP_BYTES)
    assert remaining(database_url) == {ids[1], ids[2], clips[1][0], clips[2][0]}
    assert report.snapshots_removed == 2  # the oldest event's snapshot and its clip
    assert not clips[0][1].exists() and clips[1][1].exists() and clips[2][1].exists()


def test_thumbnails_skip_clips(resources, add_events, event_log, tmp_path) -> None:
    ids = add_events({"event_type": "line_crossed"}, {})
    with_clip(event_log, tmp_path / "snapshots", ids[0])
    result = materialize([snapshot_thumbnails], resources=resources)
    [event] = result.asset_materializations_for_node("snapshot_thumbnails")
    assert event.metadata["made"].value == 2
    assert event.metadata["snapshots_missing"].value == 0
    assert not list((tmp_path / "thumbnails").rglob("*.mp4.jpg"))
