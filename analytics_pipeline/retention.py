"""Retention: expired events leave the log together with their snapshot and thumbnail.

Crash-safe by construction: every step is one transaction, or leaves in the database what is
left to do, so any sequence of killed runs followed by one clean run ends where one clean run
ends (same rows, same files). A run, in order:

1. **pending**: files of rows that an earlier, interrupted run purged (``retention_pending_files``,
   written in the purge's own transaction) are removed.
2. **days**: day partitions older than the longest policy leave without blocking readers:
   ``DETACH PARTITION ... CONCURRENTLY`` (``FINALIZE`` for one left half-detached), then the
   detached table's files are removed, then the table is dropped with its ``deleted_events``
   rows. A detached table left by a killed run is finished the same way. The weekly partitions
   of ``event_keys`` whose week is past the cutoff leave likewise (no per-row delete).
3. **expired**: other expired events, and events deleted through the API, are purged in
   batches, each batch one transaction that also queues its files (as in 1).
4. **sweep**: orphan files (no row points to them) older than the grace period are removed;
   younger ones (a snapshot is written before its row commits) are left and not counted.
5. **quota**: only the bytes that live rows reference count (their snapshot and thumbnail,
   found from the rows' paths, never by walking the tree): the newest events that fit stay,
   the older ones are purged as in 3.

Clips: a ``clip_ready`` row's snapshot is its MP4 clip, at its source's camera and time, so it
leaves with the source's day and counts in the quota beside it; per type, it keeps the days of
``event_data.source_event_type`` unless ``clip_ready`` is named (``expired_events.sql``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from analytics_pipeline.db import query
from analytics_pipeline.thumbnails import ThumbnailStore

log = logging.getLogger(__name__)
BATCH = 5000
_RUN_LOCK = "analytics.retention"
PAUSE_AT_ENV = "ANALYTICS_RETENTION_PAUSE_AT"
"""Test hook: ``phase:n`` pauses the run at the n-th checkpoint of that phase (for kill tests)."""
PAUSED_FILE_ENV = "ANALYTICS_RETENTION_PAUSED_FILE"


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
    """What a run removed (or, in a dry run, would remove), and what the quota counted."""

    dry_run: bool
    partitions_dropped: list[str] = field(default_factory=list)
    events_dropped: int = 0
    events_purged: int = 0
    snapshots_removed: int = 0
    thumbnails_removed: int = 0
    orphans_removed: int = 0
    bytes_freed: int = 0
    referenced_bytes: int | None = None
    """Snapshot and thumbnail bytes of the live rows after the quota step (with a quota)."""
    orphaned_bytes: int = 0
    """Unreferenced files younger than the grace period: neither counted nor removed."""
    orphan_bytes_freed: int = 0


Report = RetentionReport


class _Folder:
    """Files named by the log's relative snapshot paths under one root (resolved once).

    A path is refused when it is absolute, has ``..`` or empty parts, or its folder resolves
    outside the root; folders are resolved once each, files never (unlinking a symlink
    removes the link, which lies inside the root)."""

    def __init__(self, root: Path, suffix: str = "") -> None:
        self.root = os.path.realpath(root)
        self.suffix = suffix
        self._inside: dict[str, bool] = {}

    def path(self, relative: str) -> str | None:
        parts = relative.split("/")
        if relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
            return None
        folder = relative.rpartition("/")[0]
        inside = self._inside.get(folder)
        if inside is None:
            real = os.path.realpath(os.path.join(self.root, folder))
            inside = real == self.root or real.startswith(self.root + os.sep)
            self._inside[folder] = inside
        return f"{self.root}/{relative}{self.suffix}" if inside else None

    def size(self, relative: str) -> int:
        path = self.path(relative)
        try:
            return os.lstat(path).st_size if path else 0
        except (FileNotFoundError, NotADirectoryError):
            return 0

    def walk(self, skip: str = "") -> Iterator[tuple[str, str]]:
        """(relative, absolute) of every regular file under the root (links not followed),
        leaving out the folder ``skip`` (the other root, when one lies inside this one)."""
        stack = [""]
        while stack:
            prefix = stack.pop()
            try:
                entries = list(os.scandir(f"{self.root}/{prefix}" if prefix else self.root))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                relative = f"{prefix}/{entry.name}" if prefix else entry.name
                if entry.is_dir(follow_symlinks=False):
                    if entry.path != skip:
                        stack.append(relative)
                elif entry.is_file(follow_symlinks=False):
                    yield relative, entry.path


class Retention:
    """Applies a :class:`RetentionPolicy` to the log, the snapshots and the thumbnails."""

    def __init__(
        self, pool: ConnectionPool, thumbnails: ThumbnailStore, *, batch: int = BATCH
    ) -> None:
        self.pool = pool
        self.batch = batch
        self.snapshots = _Folder(thumbnails.snapshots.root)
        self.thumbnails = _Folder(thumbnails.root, ".jpg")
        pause = os.environ.get(PAUSE_AT_ENV, "")
        self._pause_at = (pause.partition(":")[0], int(pause.partition(":")[2] or 1))
        self._passed: dict[str, int] = {}

    def run(
        self, policy: RetentionPolicy, *, now: datetime | None = None, dry_run: bool = False
    ) -> RetentionReport:
        """Apply the policy; in a dry run, count what would go and change nothing."""
        now = now or datetime.now(UTC)
        report = RetentionReport(dry_run=dry_run)
        with psycopg.connect(self.pool.conninfo, autocommit=True, row_factory=dict_row) as ddl:
            ddl.execute("SELECT pg_advisory_lock(hashtext(%s))", (_RUN_LOCK,))
            doomed: set[int] = set()
            if not dry_run:
                self._finish_pending(report)
            cutoff = self._drop_days(ddl, policy, now, report)
            self._purge_expired(policy, now, report, doomed)
            self._sweep_orphans(policy, now, report)
            if policy.max_snapshot_bytes is not None:
                self._enforce_quota(policy.max_snapshot_bytes, report, cutoff, doomed)
        return report

    def _checkpoint(self, phase: str) -> None:
        """Test hook (``ANALYTICS_RETENTION_PAUSE_AT``): stop here until killed."""
        if phase != self._pause_at[0]:
            return
        self._passed[phase] = passed = self._passed.get(phase, 0) + 1
        if passed == self._pause_at[1]:
            Path(os.environ[PAUSED_FILE_ENV]).write_text(f"{phase}:{passed}")
            while True:
                time.sleep(60)

    def _remove(self, path: str | None, report: RetentionReport, counter: str) -> int:
        """Delete one file (not in a dry run), counting it and its bytes."""
        if path is None:
            return 0
        try:
            size = os.lstat(path).st_size
            if not report.dry_run:
                os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return 0
        except IsADirectoryError:
            log.warning("not removed, a folder where a file should be: %s", path)
            return 0
        report.bytes_freed += size
        setattr(report, counter, getattr(report, counter) + 1)
        return size

    def _remove_files(self, paths: list[str], report: RetentionReport, phase: str) -> None:
        """The snapshot and thumbnail of each path."""
        for relative in paths:
            self._remove(self.snapshots.path(relative), report, "snapshots_removed")
            self._remove(self.thumbnails.path(relative), report, "thumbnails_removed")
            self._checkpoint(phase)

    def _finish_files(self, paths: list[str], report: RetentionReport) -> None:
        """Remove the files of purged rows, then forget them in retention_pending_files."""
        self._remove_files(paths, report, "files")
        with self.pool.connection() as conn:
            conn.execute(query("retention_pending_done"), {"paths": paths})

    def _finish_pending(self, report: RetentionReport) -> None:
        while True:
            with self.pool.connection() as conn:
                rows = conn.execute(query("retention_pending"), {"limit": self.batch}).fetchall()
            if not rows:
                return
            self._finish_files([r["path"] for r in rows], report)

    def _purge(
        self, rows: list[dict], report: RetentionReport, phase: str, doomed: set[int]
    ) -> None:
        """Purge these events (one transaction that queues their files), then their files."""
        if not rows:
            return
        if report.dry_run:
            doomed.update(r["id"] for r in rows)
            report.events_purged += len(rows)
            paths = [r["snapshot_path"] for r in rows if r["snapshot_path"]]
            self._remove_files(paths, report, "files")
            return
        with self.pool.connection() as conn:
            ids = [r["id"] for r in rows]
            gone = conn.execute(query("retention_purge"), {"ids": ids}).fetchall()
        report.events_purged += len(gone)
        paths = [r["snapshot_path"] for r in gone if r["snapshot_path"]]
        self._checkpoint(phase)
        self._finish_files(paths, report)

    def _drop_days(
        self, ddl: psycopg.Connection, policy: RetentionPolicy, now: datetime, report: Report
    ) -> datetime:
        """Day partitions past the longest policy, and event_keys weeks past it; returns the
        cutoff (events older than it are gone, or would be in a dry run)."""
        cutoff = (now - timedelta(days=policy.longest_days)).date()
        for table in ddl.execute(query("retention_day_tables")).fetchall():
            keys = table["parent"] == "event_keys"
            if table["day"] + timedelta(days=7 if keys else 1) > cutoff:
                continue  # some of its days are not past the cutoff
            name = sql.Identifier(table["name"])
            if keys:
                if not report.dry_run:
                    self._detach(ddl, table)
                    ddl.execute(query("retention_drop_table", table=name))
                continue
            report.events_dropped += ddl.execute(
                query("retention_table_rows", table=name)
            ).fetchone()["n"]
            report.partitions_dropped.append(table["name"])
            if not report.dry_run:
                self._detach(ddl, table)
                self._checkpoint("days")
            self._remove_table_files(ddl, name, report)
            if not report.dry_run:
                with ddl.transaction():
                    ddl.execute(query("retention_forget_deleted_in", table=name))
                    ddl.execute(query("retention_drop_table", table=name))
        if not report.dry_run:
            ddl.execute(query("retention_forget_deleted"))
        return datetime.combine(cutoff, datetime.min.time(), tzinfo=UTC)

    @staticmethod
    def _detach(ddl: psycopg.Connection, table: dict) -> None:
        if not table["attached"]:
            return
        mode = "FINALIZE" if table["detach_pending"] else "CONCURRENTLY"
        parts = {
            "parent": sql.Identifier(table["parent"]),
            "partition": sql.Identifier(table["name"]),
        }
        ddl.execute(query("retention_detach", mode=mode, **parts))

    def _remove_table_files(
        self, ddl: psycopg.Connection, table: sql.Identifier, report: RetentionReport
    ) -> None:
        after = 0
        while True:
            rows = ddl.execute(
                query("retention_table_paths", table=table),
                {"after_id": after, "limit": self.batch},
            ).fetchall()
            if not rows:
                return
            after = rows[-1]["id"]
            self._remove_files([r["snapshot_path"] for r in rows], report, "day_files")

    def _purge_expired(
        self, policy: RetentionPolicy, now: datetime, report: RetentionReport, doomed: set[int]
    ) -> None:
        params = {
            "now": now,
            "camera_days": Jsonb(policy.camera_days),
            "type_days": Jsonb(policy.event_type_days),
            "default_days": policy.default_days,
            "limit": self.batch,
            "after_id": 0,
        }
        while True:
            with self.pool.connection() as conn:
                rows = conn.execute(query("expired_events"), params).fetchall()
            if not rows:
                return
            params["after_id"] = rows[-1]["id"]
            self._purge(rows, report, "purge", doomed)

    def _enforce_quota(
        self, quota: int, report: RetentionReport, cutoff: datetime, doomed: set[int]
    ) -> None:
        """Keep the newest events whose files fit in ``quota``; purge the older ones."""
        kept, until = 0, None
        with self.pool.connection() as conn, conn.cursor(name="quota") as rows:
            rows.itersize = self.batch
            rows.execute(query("snapshots_newest_first"))
            for row in rows:
                if report.dry_run and (row["timestamp"] < cutoff or row["id"] in doomed):
                    continue  # gone before the quota step in a real run
                relative = row["snapshot_path"]
                size = self.snapshots.size(relative) + self.thumbnails.size(relative)
                if kept + size > quota:
                    until = row
                    break
                kept += size
        report.referenced_bytes = kept
        if until is None:
            return
        bounds = {"after_ts": datetime.min.replace(tzinfo=UTC), "after_id": 0}
        bounds |= {"until_ts": until["timestamp"], "until_id": until["id"], "limit": self.batch}
        while True:
            with self.pool.connection() as conn:
                batch = conn.execute(query("oldest_snapshots"), bounds).fetchall()
            if not batch:
                return
            bounds |= {"after_ts": batch[-1]["timestamp"], "after_id": batch[-1]["id"]}
            if report.dry_run:
                batch = [r for r in batch if r["timestamp"] >= cutoff and r["id"] not in doomed]
            self._purge(batch, report, "quota", doomed)

    def _unreferenced(
        self, policy: RetentionPolicy, now: datetime
    ) -> Iterator[tuple[_Folder, str, int, bool]]:
        """(folder, absolute path, bytes, past the grace period) of every file no row points
        to: snapshots, and thumbnails whose snapshot no row points to."""
        with self.pool.connection() as conn:
            rows = conn.execute(query("all_snapshot_paths")).fetchall()
        referenced = {r["snapshot_path"] for r in rows}
        oldest_allowed = (now - policy.orphan_grace).timestamp()
        for folder, other in ((self.snapshots, self.thumbnails), (self.thumbnails, self.snapshots)):
            for relative, path in folder.walk(skip=other.root):
                source = relative[: -len(folder.suffix)] if folder.suffix else relative
                if relative.endswith(folder.suffix) and source in referenced:
                    continue
                try:
                    stat = os.lstat(path)
                except FileNotFoundError:
                    continue
                yield folder, path, stat.st_size, stat.st_mtime < oldest_allowed

    def _sweep_orphans(self, policy: RetentionPolicy, now: datetime, report: Report) -> None:
        for _, path, size, old in self._unreferenced(policy, now):
            if not old:
                report.orphaned_bytes += size
                continue
            report.orphan_bytes_freed += self._remove(path, report, "orphans_removed")
            self._checkpoint("sweep")

    def orphans(self, policy: RetentionPolicy, now: datetime) -> tuple[list[Path], list[Path]]:
        """Snapshot files no row points to and thumbnails whose snapshot no row points to,
        both older than the grace period (a snapshot is written before its row commits)."""
        snapshots: list[Path] = []
        thumbnails: list[Path] = []
        for folder, path, _, old in self._unreferenced(policy, now):
            if old:
                (snapshots if folder is self.snapshots else thumbnails).append(Path(path))
        return snapshots, thumbnails

    def rows_missing_files(self) -> int:
        """Rows whose snapshot file is missing (retention never makes one)."""
        with self.pool.connection() as conn:
            rows = conn.execute(query("all_snapshot_paths")).fetchall()
        missing = 0
        for row in rows:
            path = self.snapshots.path(row["snapshot_path"])
            missing += path is None or not os.path.isfile(path)
        return missing
