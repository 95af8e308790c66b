"""Retention: expired events leave the log together with their snapshot and thumbnail.

Rows go first, then files: a crash in between leaves an orphan file (swept on the next run,
once older than the grace period), never a row pointing to a missing file. Whole day
partitions older than the longest policy are dropped; other expired events, and events deleted
through the API, are purged row by row; a disk quota purges the oldest snapshots' events.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from analytics_pipeline.db import query
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.thumbnails import ThumbnailStore

log = logging.getLogger(__name__)
BATCH = 5000


@dataclass(frozen=True)
class RetentionPolicy:
    """Days to keep events: a default, per camera and per event type (the shorter applies),
    an optional disk quota for snapshots, and how old an unreferenced file must be to go."""

    default_days: int = 30
    camera_days: dict[str, int] = field(default_factory=dict)
    event_type_days: dict[str, int] = field(default_factory=dict)
    max_snapshot_bytes: int | None = None
    orphan_grace: timedelta = timedelta(hours=1)

    @property
    def longest_days(self) -> int:
        """Past this age an event is expired under every policy."""
        return max([self.default_days, *self.camera_days.values(), *self.event_type_days.values()])


@dataclass
class RetentionReport:
    """What a run removed (or, in a dry run, would remove)."""

    dry_run: bool
    partitions_dropped: list[str] = field(default_factory=list)
    events_purged: int = 0
    snapshots_removed: int = 0
    thumbnails_removed: int = 0
    orphans_removed: int = 0
    bytes_freed: int = 0


def _walk_files(root: Path) -> Iterator[os.DirEntry]:
    if not root.is_dir():
        return
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    yield entry


class Retention:
    """Applies a :class:`RetentionPolicy` to the log, the snapshots and the thumbnails."""

    def __init__(self, pool: ConnectionPool, thumbnails: ThumbnailStore) -> None:
        self.pool = pool
        self.event_log = EventLog(pool)
        self.thumbnails = thumbnails
        self.snapshots = thumbnails.snapshots

    def run(
        self, policy: RetentionPolicy, *, now: datetime | None = None, dry_run: bool = False
    ) -> RetentionReport:
        """Apply the policy; in a dry run, count what would go and change nothing."""
        now = now or datetime.now(UTC)
        report = RetentionReport(dry_run=dry_run)
        self._drop_partitions(policy, now, report)
        self._purge_expired(policy, now, report)
        if policy.max_snapshot_bytes is not None:
            self._enforce_quota(policy.max_snapshot_bytes, report)
        self._sweep_orphans(policy, now, report)
        return report

    @staticmethod
    def _remove(path: Path, report: RetentionReport, counter: str) -> None:
        """Delete one file (not in a dry run), counting it and its bytes."""
        try:
            size = path.stat().st_size
            if not report.dry_run:
                path.unlink()
        except FileNotFoundError:
            return
        report.bytes_freed += size
        setattr(report, counter, getattr(report, counter) + 1)

    def _remove_files(self, paths: list[str | None], report: RetentionReport) -> None:
        for relative in paths:
            if relative:
                self._remove(self.snapshots.resolve(relative), report, "snapshots_removed")
                self._remove(self.thumbnails.path_for(relative), report, "thumbnails_removed")

    def _drop_partitions(
        self, policy: RetentionPolicy, now: datetime, report: RetentionReport
    ) -> None:
        cutoff = (now - timedelta(days=policy.longest_days)).date()
        with self.pool.connection() as conn:
            old = [
                r for r in conn.execute(query("event_partitions")).fetchall() if r["day"] < cutoff
            ]
            if not old:
                return
            before = datetime.combine(cutoff, datetime.min.time(), tzinfo=UTC)
            paths = [
                r["snapshot_path"]
                for r in conn.execute(query("snapshots_before"), {"before": before}).fetchall()
            ]
            if not report.dry_run:
                dropped = conn.execute(query("drop_partitions_before"), {"cutoff": cutoff})
                old = dropped.fetchall()
                conn.commit()
        report.partitions_dropped = [r["partition_name"] for r in old]
        self._remove_files(paths, report)

    def _purge_expired(
        self, policy: RetentionPolicy, now: datetime, report: RetentionReport
    ) -> None:
        params = {
            "now": now,
            "camera_days": Jsonb(policy.camera_days),
            "type_days": Jsonb(policy.event_type_days),
            "default_days": policy.default_days,
            "limit": BATCH,
            "after_id": 0,
        }
        while True:
            with self.pool.connection() as conn:
                rows = conn.execute(query("expired_events"), params).fetchall()
            if not rows:
                return
            params["after_id"] = rows[-1]["id"]
            if report.dry_run:
                paths = [r["snapshot_path"] for r in rows]
                report.events_purged += len(rows)
            else:
                purged = self.event_log.purge([r["id"] for r in rows])
                paths = [p.snapshot_path for p in purged]
                report.events_purged += len(purged)
            self._remove_files(paths, report)

    def _enforce_quota(self, quota: int, report: RetentionReport) -> None:
        total = sum(entry.stat().st_size for entry in _walk_files(self.snapshots.root))
        if report.dry_run:
            total -= report.bytes_freed
        after_ts, after_id = datetime.min.replace(tzinfo=UTC), 0
        while total > quota:
            with self.pool.connection() as conn:
                rows = conn.execute(
                    query("oldest_snapshots"),
                    {"after_ts": after_ts, "after_id": after_id, "limit": 500},
                ).fetchall()
            if not rows:
                return
            chosen = []
            for row in rows:
                if total <= quota:
                    break
                with contextlib.suppress(FileNotFoundError):
                    total -= self.snapshots.resolve(row["snapshot_path"]).stat().st_size
                chosen.append(row)
            after_ts, after_id = chosen[-1]["timestamp"], chosen[-1]["id"]
            if report.dry_run:
                report.events_purged += len(chosen)
                self._remove_files([r["snapshot_path"] for r in chosen], report)
            else:
                purged = self.event_log.purge([r["id"] for r in chosen])
                report.events_purged += len(purged)
                self._remove_files([p.snapshot_path for p in purged], report)

    def orphans(self, policy: RetentionPolicy, now: datetime) -> tuple[list[Path], list[Path]]:
        """Snapshot files no row points to and thumbnails whose snapshot is gone, both older
        than the grace period (a snapshot is written before its row commits)."""
        with self.pool.connection() as conn:
            referenced = {
                r["snapshot_path"] for r in conn.execute(query("all_snapshot_paths")).fetchall()
            }
        oldest_allowed = (now - policy.orphan_grace).timestamp()
        root = self.snapshots.root
        snapshots = [
            Path(entry.path)
            for entry in _walk_files(root)
            if entry.stat().st_mtime < oldest_allowed
            and Path(entry.path).relative_to(root).as_posix() not in referenced
        ]
        thumbnails = []
        for entry in _walk_files(self.thumbnails.root):
            source = Path(entry.path).relative_to(self.thumbnails.root).as_posix()
            if (
                entry.stat().st_mtime < oldest_allowed
                and source.endswith(".jpg")
                and source[:-4] not in referenced
            ):
                thumbnails.append(Path(entry.path))
        return snapshots, thumbnails

    def _sweep_orphans(
        self, policy: RetentionPolicy, now: datetime, report: RetentionReport
    ) -> None:
        snapshots, thumbnails = self.orphans(policy, now)
        for path in [*snapshots, *thumbnails]:
            self._remove(path, report, "orphans_removed")

    def rows_missing_files(self) -> int:
        """Rows whose snapshot file is missing (retention never makes one)."""
        with self.pool.connection() as conn:
            paths = [
                r["snapshot_path"] for r in conn.execute(query("all_snapshot_paths")).fetchall()
            ]
        return sum(not self.snapshots.resolve(p).is_file() for p in paths)
