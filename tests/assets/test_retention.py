"""retention against a seeded log with real files."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dagster import materialize

from analytics_pipeline.db import connect
from analytics_pipeline.retention import Retention, RetentionPolicy
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
        resources["files"].thumbnails.ensure(event_log.get(position).snapshot_path)
    snapshots_root = tmp_path / "snapshots"
    old_orphan = snapshots_root / "gate" / "2026-01-01" / "motion_000000_000000.png"
    old_orphan.parent.mkdir(parents=True)
    old_orphan.write_bytes(b"orphan")
    age(old_orphan, 5)
    fresh_orphan = snapshots_root / "gate" / "fresh.png"
    fresh_orphan.write_bytes(b"being written, its row not committed yet")
    return ids, old_orphan, fresh_orphan


def policy_resource(**fields) -> RetentionPolicyResource:
    values = {"default_days": 30, "camera_days": {}, "event_type_days": {}} | fields
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
    report = Retention(pool, resources["files"].thumbnails).run(
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
