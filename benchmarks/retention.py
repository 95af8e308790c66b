"""Retention over 200,000 events with 70% expiring: seconds, and the share in SQL and files.

    python benchmarks/retention.py [--events 200000] [--days 40] [--folder DIR]

40 days of events on 4 cameras, each with a snapshot file (a fifth with a thumbnail too), and
1,000 orphan files. Policy: 24 days by default (the longest: 16 whole days leave as partitions,
40%), cameras cam-0 to cam-2 8 days (purged row by row, 30%), and a snapshot quota that the
rest fits in (so the quota step counts every live row's files). Time is split into SQL (inside
psycopg calls), file work (stat, unlink, scandir, realpath) and the rest (Python); the file
work is compared with a bare stat + unlink loop over as many files. Throwaway database on the
DATABASE_URL server; the files in a throwaway folder under /dev/shm (RAM: the figures are
retention's own cost, not the disk's, which on a busy VM varies several-fold from run to run)
unless --folder names another place. Ends with one line: RESULT {json}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

import analytics_pipeline.retention as retention_module
from analytics_pipeline.db import create_pool, drop_database, migrate, with_database_name
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.retention import Retention, RetentionPolicy
from analytics_pipeline.snapshots import SnapshotStore
from analytics_pipeline.thumbnails import ThumbnailStore

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/analytics")
CAMERAS = 4
POLICY = RetentionPolicy(
    default_days=24,
    camera_days={"cam-0": 8, "cam-1": 8, "cam-2": 8},
    max_snapshot_bytes=10**12,
    orphan_grace=timedelta(hours=1),
)


class Clock:
    """Seconds spent inside the wrapped calls (outermost call only)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.depth = 0

    def wrap(self, function: Callable) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.depth:
                return function(*args, **kwargs)
            self.depth += 1
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began
                self.depth -= 1

        return timed


def instrument() -> tuple[Clock, Clock]:
    sql_clock, file_clock = Clock(), Clock()
    if os.environ.get("RETENTION_BENCH_PROFILE"):
        return sql_clock, file_clock
    for cls, names in (
        (psycopg.Connection, ["execute"]),
        (psycopg.Cursor, ["execute", "fetchall", "fetchone"]),
        (psycopg.ServerCursor, ["execute", "fetchmany", "__next__"]),
    ):
        for name in names:
            setattr(cls, name, sql_clock.wrap(getattr(cls, name)))

    class TimedOs:
        """``os`` as analytics_pipeline.retention sees it, with the file calls timed."""

        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

    timed_os = TimedOs()
    for name in ("lstat", "unlink", "scandir"):
        setattr(timed_os, name, file_clock.wrap(getattr(os, name)))

    class TimedPath:
        def __getattr__(self, name: str) -> Any:
            return getattr(os.path, name)

    timed_os.path = TimedPath()
    timed_os.path.realpath = file_clock.wrap(os.path.realpath)
    timed_os.path.isfile = file_clock.wrap(os.path.isfile)
    retention_module.os = timed_os
    return sql_clock, file_clock


def load(url: str, root: Path, events: int, days: int, now: datetime) -> dict[str, int]:
    """Rows by COPY (events and their keys), one small file per event, some thumbnails."""
    per_day = events // days
    pool = create_pool(url, max_size=1)
    EventLog(pool).ensure_partitions([(now - timedelta(days=d)).date() for d in range(days + 1)])
    pool.close()
    snapshots, thumbnails = root / "snapshots", root / "thumbnails"
    rows, folders = [], set()
    for day in range(days):
        for i in range(per_day):
            moment = now - timedelta(days=day, seconds=1 + 86_000 * i / per_day)
            camera = f"cam-{i % CAMERAS}"
            path = f"{camera}/{moment:%Y-%m-%d}/motion_{moment:%H%M%S}_{i:06d}.png"
            rows.append((uuid.uuid4(), camera, moment, i, path))
            folders.add(f"{camera}/{moment:%Y-%m-%d}")
    for folder in folders:
        (snapshots / folder).mkdir(parents=True, exist_ok=True)
        (thumbnails / folder).mkdir(parents=True, exist_ok=True)
    payload = b"x" * 120
    for n, (_, _, _, _, path) in enumerate(rows):
        with open(snapshots / path, "wb") as handle:
            handle.write(payload)
        if n % 5 == 0:
            with open(thumbnails / f"{path}.jpg", "wb") as handle:
                handle.write(payload[:40])
    old = time.time() - 7200
    (snapshots / "lost").mkdir()
    for i in range(1000):
        orphan = snapshots / "lost" / f"orphan_{i}.png"
        orphan.write_bytes(payload)
        os.utime(orphan, (old, old))
    columns = 'event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path'
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY events ({columns}) FROM STDIN") as copy:
            for event_id, camera, moment, i, path in rows:
                copy.write_row((event_id, "motion", camera, moment, i, path))
        with cursor.copy('COPY event_keys (event_id, "timestamp") FROM STDIN') as copy:
            for event_id, _, moment, _, _ in rows:
                copy.write_row((event_id, moment))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"events": len(rows), "files": len(rows) + len(rows[::5]) + 1000}


def bare_file_seconds(count: int, folder: Path) -> float:
    """stat + unlink of ``count`` files in a bare loop: the floor for the file work."""
    folder.mkdir()
    names = [str(folder / f"f{i}.png") for i in range(count)]
    for name in names:
        with open(name, "wb") as handle:
            handle.write(b"x" * 120)
    began = time.perf_counter()
    for name in names:
        os.lstat(name)
        os.unlink(name)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=40)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    parser.add_argument("--folder", default=shm, help="where the files go (default /dev/shm)")
    args = parser.parse_args()
    url = with_database_name(DATABASE_URL, f"analytics_bench_retention_{uuid.uuid4().hex[:8]}")
    root = Path(tempfile.mkdtemp(prefix="retention-bench-", dir=args.folder))
    now = datetime.now(UTC)
    migrate(url)
    try:
        began = time.perf_counter()
        loaded = load(url, root, args.events, args.days, now)
        print(
            f"loaded {loaded['events']:,} events, {loaded['files']:,} files"
            f" in {time.perf_counter() - began:.1f} s"
        )
        sql_clock, file_clock = instrument()
        pool = create_pool(url, max_size=2)
        store = ThumbnailStore(SnapshotStore(root / "snapshots"), (root / "thumbnails").resolve())
        began = time.perf_counter()
        if os.environ.get("RETENTION_BENCH_PROFILE"):
            import cProfile

            profiler = cProfile.Profile()
            report = profiler.runcall(Retention(pool, store).run, POLICY, now=now)
            profiler.dump_stats(os.environ["RETENTION_BENCH_PROFILE"])
        else:
            report = Retention(pool, store).run(POLICY, now=now)
        seconds = time.perf_counter() - began
        pool.close()
        gone = report.events_dropped + report.events_purged
        removed = report.snapshots_removed + report.thumbnails_removed + report.orphans_removed
        bare = bare_file_seconds(removed, root / "bare")
        other = seconds - sql_clock.seconds - file_clock.seconds
        print(f"retention of {loaded['events']:,} events: {seconds:.2f} s")
        print(
            f"  expired {gone:,} ({gone / loaded['events']:.0%}): "
            f"{len(report.partitions_dropped)} days dropped ({report.events_dropped:,} events),"
            f" {report.events_purged:,} purged row by row"
        )
        print(
            f"  files removed {removed:,} ({report.orphans_removed:,} orphans);"
            f" quota counted {report.referenced_bytes:,} referenced bytes"
        )
        print(f"  SQL   {sql_clock.seconds:6.2f} s  {sql_clock.seconds / seconds:5.0%}")
        print(
            f"  files {file_clock.seconds:6.2f} s  {file_clock.seconds / seconds:5.0%}"
            f"  (bare stat + unlink of as many files: {bare:.2f} s)"
        )
        print(f"  other {other:6.2f} s  {other / seconds:5.0%}  (Python)")
        result = {
            "retention_200k_s": round(seconds, 3),
            "folder": str(root.parent),
            "events": loaded["events"],
            "expired_share": round(gone / loaded["events"], 3),
            "sql_s": round(sql_clock.seconds, 3),
            "file_s": round(file_clock.seconds, 3),
            "other_s": round(other, 3),
            "sql_share": round(sql_clock.seconds / seconds, 3),
            "file_share": round(file_clock.seconds / seconds, 3),
            "files_removed": removed,
            "file_vs_bare_unlink": round(file_clock.seconds / bare, 2),
            "us_per_expired_event": round(seconds / gone * 1e6, 1),
        }
        print("RESULT " + json.dumps(result))
    finally:
        drop_database(url)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
