"""retention against a seeded log with real files."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dagster import materialize

from analytics_pipeline.db import connect
from analytics_pipeline.events import NewEvent
from analytics_pipeline.retention import Retention, RetentionPolicy, RetentionReport
from assets.resources import RetentionPolicyResource
from assets.retention import no_orphans_after_retention, retention

NOW = datetime.now(UTC)


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def age(path: Path, hours: float) -> None:
    past = time.time() - hours * 3600
    os.utime(path, (past, past))


@pytest.fixture
def seeded(add_events, event_log, resources, tmp_path):
    """Events of several ages and cameras, with snapshots and thumbnails."""
    ids = add_events(
        {"timestamp": NOW - timedelta(days=45)},  # 0: past every policy
        {"timestamp": NOW - timedelta(days=45, hours=1), "camera_id": "door"},  # 1: same day
        {"timestamp": NOW - timedelta(days=5)},  # 2: gate, 5 days
        {"timestamp": NOW - timedelta(days=5), "camera_id": "door"},  # 3: door, 5 days
        {"timestamp": NOW - timedelta(days=1)},  # 4: gate, 1 day
        {"timestamp": NOW - timedelta(days=3), "camera_id": "door", "event_type": "anpr"},  # 5
        {"timestamp": NOW - timedelta(hours=2), "camera_id": "door"},  # 6: deleted below
    )
    event_log.delete(ids[6])
    for position in ids[:6]:  # thumbnails too (the deleted event is hidden)
        resources["snapshots"].thumbnails.ensure(event_log.get(position).snapshot_path)
    snapshots_root = tmp_path / "snapshots"
    old_orphan = snapshots_root / "gate" / "2026-01-01" / "motion_000000_000000.png"
    old_orphan.parent.mkdir(parents=True)
    old_orphan.write_bytes(b"orphan")
    age(old_orphan, 5)
    fresh_orphan = snapshots_root / "gate" / "fresh.png"
    fresh_orphan.write_bytes(b"being written, its row not committed yet")
    return ids, old_orphan, fresh_orphan


def policy_resource(**fields) -> RetentionPolicyResource:
    values = {"default_days": 30, "camera_days": {}, "event_type_days": {}}
    values |= {"orphan_grace_minutes": 60} | fields
    return RetentionPolicyResource(**values)


def remaining(database_url: str) -> set[int]:
    with connect(database_url) as conn:
        return {
            r["id"]
            for r in conn.execute(
                "SELECT id FROM events WHERE event_type <> 'event_deleted'"
            ).fetchall()
        }


def test_retention_respects_policies_and_leaves_no_orphans(
    resources, seeded, database_url, tmp_path
) -> None:
    ids, old_orphan, fresh_orphan = seeded
    resources["retention_policy"] = policy_resource(
        camera_days={"gate": 2}, event_type_days={"anpr": 2}
    )
    result = materialize([retention, no_orphans_after_retention], resources=resources)
    assert result.success
    metadata = {
        k: v.value
        for k, v in result.asset_materializations_for_node("retention")[0].metadata.items()
    }
    day = (NOW - timedelta(days=45)).strftime("%Y%m%d")
    assert f"events_{day}" in metadata["partitions_dropped"]
    # gate keeps 2 days, anpr 2 days, door the default 30; the deleted event is erased.
    assert remaining(database_url) == {ids[3], ids[4]}
    assert metadata["events_purged"] == 3  # ids 2, 5 and the deleted 6
    assert metadata["orphans_removed"] == 1
    assert not old_orphan.exists() and fresh_orphan.exists()
    with connect(database_url) as conn:
        paths = {
            r["snapshot_path"]
            for r in conn.execute(
                "SELECT snapshot_path FROM events WHERE snapshot_path IS NOT NULL"
            ).fetchall()
        }
    snapshot_files = files_under(tmp_path / "snapshots") - {"gate/fresh.png"}
    assert snapshot_files == paths  # no row without its file, no file without its row
    thumbnails = {p.removesuffix(".jpg") for p in files_under(tmp_path / "thumbnails")}
    assert thumbnails <= paths
    [check] = result.get_asset_check_evaluations()
    assert check.passed


def test_dry_run_changes_nothing(resources, seeded, database_url, tmp_path) -> None:
    before_rows = remaining(database_url)
    before_files = files_under(tmp_path)
    resources["retention_policy"] = policy_resource(camera_days={"gate": 2})
    result = materialize(
        [retention],
        resources=resources,
        run_config={"ops": {"retention": {"config": {"dry_run": True}}}},
    )
    metadata = {
        k: v.value
        for k, v in result.asset_materializations_for_node("retention")[0].metadata.items()
    }
    assert metadata["dry_run"] is True
    assert metadata["events_purged"] >= 2 and metadata["partitions_dropped"]
    assert remaining(database_url) == before_rows
    assert files_under(tmp_path) == before_files


def test_disk_quota_removes_the_oldest_first(resources, add_events, database_url, tmp_path):
    ids = add_events(*[{"timestamp": NOW - timedelta(hours=10 - i)} for i in range(6)])
    sizes = [p.stat().st_size for p in sorted((tmp_path / "snapshots").rglob("*.png"))]
    quota = sum(sizes) - sizes[0] - sizes[1] + 1  # two snapshots too many
    pool = resources["event_log"].pool
    report = Retention(pool, resources["snapshots"].thumbnails).run(
        RetentionPolicy(max_snapshot_bytes=quota)
    )
    assert report.events_purged == 2
    assert remaining(database_url) == set(ids[2:])
    total = sum(p.stat().st_size for p in (tmp_path / "snapshots").rglob("*.png"))
    assert total <= quota


def test_partitions_ahead_are_created(resources, database_url) -> None:
    materialize([retention], resources=resources)
    ahead = (NOW + timedelta(days=7)).strftime("%Y%m%d")
    with connect(database_url) as conn:
        found = conn.execute("SELECT to_regclass(%s) AS t", (f"events_{ahead}",)).fetchone()
    assert found["t"] is not None


def write(path: Path, size: int, hours_old: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    if hours_old:
        age(path, hours_old)


def events_with_files(event_log, root: Path, count: int, size: int, **fields) -> list[int]:
    """``count`` events a minute apart (oldest first), each with a ``size``-byte snapshot."""
    start = fields.pop("start", NOW - timedelta(hours=5))
    events = []
    for i in range(count):
        moment = start + timedelta(minutes=i)
        path = f"gate/{moment:%Y-%m-%d}/motion_{moment:%H%M%S}_{i:06d}.png"
        write(root / path, size)
        events.append(
            NewEvent(
                camera_id="gate",
                event_type="motion",
                timestamp=moment,
                frame_number=i,
                snapshot_path=path,
                **fields,
            )
        )
    return event_log.append(events)


def run_retention(resources, **policy) -> RetentionReport:
    thumbnails = resources["snapshots"].thumbnails
    return Retention(resources["event_log"].pool, thumbnails).run(RetentionPolicy(**policy))


def test_the_quota_counts_only_what_live_rows_reference(
    resources, event_log, database_url, tmp_path
) -> None:
    """Issue 22's smallest case: 100 live events with 1,000-byte files, 50 orphans two hours
    old, a 60,000-byte quota: the 60 newest events stay."""
    root = tmp_path / "snapshots"
    ids = events_with_files(event_log, root, 100, 1000)
    for i in range(50):
        write(root / "gate" / "crashed" / f"orphan_{i}.png", 1000, hours_old=2)
    report = run_retention(resources, max_snapshot_bytes=60_000)
    assert remaining(database_url) == set(ids[40:])
    assert report.orphans_removed == 50 and report.orphan_bytes_freed == 50_000
    assert report.events_purged == 40
    assert report.referenced_bytes == 60_000
    assert report.orphaned_bytes == 0
    assert report.bytes_freed == 90_000
    assert len(files_under(root)) == 60


def test_young_orphans_are_neither_counted_nor_removed(
    resources, event_log, database_url, tmp_path
) -> None:
    root = tmp_path / "snapshots"
    ids = events_with_files(event_log, root, 100, 1000)
    for i in range(50):  # snapshots whose rows are not committed yet, say
        write(root / "gate" / "writing" / f"young_{i}.png", 1000, hours_old=0.25)
    report = run_retention(resources, max_snapshot_bytes=60_000)
    assert remaining(database_url) == set(ids[40:])
    assert report.orphans_removed == 0 and report.orphaned_bytes == 50_000
    assert len(files_under(root / "gate" / "writing")) == 50


def test_the_quota_counts_thumbnails_of_live_rows(
    resources, event_log, database_url, tmp_path
) -> None:
    ids = events_with_files(event_log, tmp_path / "snapshots", 10, 1000)
    for position in ids:
        relative = event_log.get(position).snapshot_path
        write(tmp_path / "thumbnails" / f"{relative}.jpg", 500)
    report = run_retention(resources, max_snapshot_bytes=6_000)
    assert remaining(database_url) == set(ids[6:])
    assert report.referenced_bytes == 6_000
    assert report.thumbnails_removed == 6 and report.snapshots_removed == 6


def test_deleted_events_rows_leave_with_their_events(
    resources, add_events, event_log, database_url
) -> None:
    old, recent, erased = add_events(
        {"timestamp": NOW - timedelta(days=45)},
        {"timestamp": NOW - timedelta(hours=1)},
        {"timestamp": NOW - timedelta(hours=2)},
    )
    for position in (old, recent, erased):
        event_log.delete(position)
    event_log.purge([erased])  # erasure
    with connect(database_url) as conn:
        assert [r["id"] for r in conn.execute("SELECT id FROM deleted_events ORDER BY 1")] == [
            old,
            recent,
        ]
    run_retention(resources)
    assert remaining(database_url) == set()  # the tombstones remain, their events are gone
    with connect(database_url) as conn:
        assert conn.execute("SELECT count(*) AS n FROM deleted_events").fetchone()["n"] == 0
        tombstones = conn.execute(
            "SELECT count(*) AS n FROM events WHERE event_type = 'event_deleted'"
        ).fetchone()["n"]
    assert tombstones == 3


def test_paths_leading_outside_the_snapshot_root_are_never_followed(
    resources, event_log, database_url, tmp_path
) -> None:
    outside = tmp_path / "elsewhere"
    write(outside / "kept.png", 10)
    write(outside / "also_kept.png", 10)
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "linked").symlink_to(outside)
    moment = NOW - timedelta(days=2)
    crafted = [
        NewEvent(
            camera_id="gate",
            event_type="motion",
            timestamp=moment,
            frame_number=0,
            snapshot_path="linked/kept.png",
        ),
        NewEvent.model_construct(  # a row written around the model's validation
            event_id=uuid.uuid4(),
            camera_id="gate",
            event_type="motion",
            timestamp=moment,
            frame_number=1,
            snapshot_path="../elsewhere/also_kept.png",
            event_data={},
        ),
    ]
    event_log.append(crafted)
    report = run_retention(resources, camera_days={"gate": 1})
    assert remaining(database_url) == set() and report.events_purged == 2
    assert (outside / "kept.png").exists() and (outside / "also_kept.png").exists()
    assert report.snapshots_removed == 0


def test_files_queued_by_a_blocking_day_drop_go_at_the_next_run(
    resources, add_events, database_url, tmp_path
) -> None:
    add_events({"timestamp": NOW - timedelta(days=45)}, {"timestamp": NOW})
    cutoff = (NOW - timedelta(days=40)).date()
    with connect(database_url) as conn:
        conn.execute("SELECT * FROM drop_event_partitions_before(%s)", (cutoff,)).fetchall()
        conn.commit()
        [pending] = conn.execute("SELECT path FROM retention_pending_files").fetchall()
    assert (tmp_path / "snapshots" / pending["path"]).exists()
    run_retention(resources)
    assert not (tmp_path / "snapshots" / pending["path"]).exists()
    with connect(database_url) as conn:
        assert (
            conn.execute("SELECT count(*) AS n FROM retention_pending_files").fetchone()["n"] == 0
        )


def test_a_dry_run_of_the_quota_counts_and_changes_nothing(
    resources, event_log, database_url, tmp_path
) -> None:
    root = tmp_path / "snapshots"
    ids = events_with_files(event_log, root, 100, 1000)
    for i in range(50):
        write(root / "gate" / "crashed" / f"orphan_{i}.png", 1000, hours_old=2)
    before = files_under(tmp_path)
    thumbnails = resources["snapshots"].thumbnails
    report = Retention(resources["event_log"].pool, thumbnails).run(
        RetentionPolicy(max_snapshot_bytes=60_000), dry_run=True
    )
    assert (report.events_purged, report.orphans_removed, report.referenced_bytes) == (
        40,
        50,
        60_000,
    )
    assert remaining(database_url) == set(ids) and files_under(tmp_path) == before
