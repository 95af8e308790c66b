"""Whole days leave without blocking readers, and a drop interrupted anywhere is finished."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from analytics_pipeline.db import connect, create_pool
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.retention import Retention, RetentionPolicy
from tests.assets.test_retention import remaining

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=45)
LARGE_DAY = 100_000
HOLD_SECONDS = 1.5


def partition(moment: datetime) -> str:
    return f"events_{moment:%Y%m%d}"


def tables(database_url: str) -> set[str]:
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class WHERE relname ~ '^event(s|_keys)_[0-9]{8}$'"
        ).fetchall()
    return {r["relname"] for r in rows}


def load_large_old_day(database_url: str, event_log: EventLog) -> None:
    """LARGE_DAY events (and their keys) 45 days ago by COPY, with paths to missing files."""
    day = OLD.replace(hour=0, minute=0, second=0, microsecond=0)
    event_log.ensure_partitions([day.date()])
    columns = 'event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path'
    keys = [(uuid.uuid4(), day + timedelta(seconds=0.8 * i)) for i in range(LARGE_DAY)]
    with connect(database_url) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY events ({columns}, event_data) FROM STDIN") as copy:
            for i, (event_id, moment) in enumerate(keys):
                path = f"gate/{moment:%Y-%m-%d}/motion_{i:06d}.png"
                copy.write_row((event_id, "motion", "gate", moment, i, path, Jsonb({})))
        with cursor.copy('COPY event_keys (event_id, "timestamp") FROM STDIN') as copy:
            for row in keys:
                copy.write_row(row)
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE events")


class Readers:
    """API-style reads (EventLog.query) in a loop on connections that give up on a lock
    after 300 ms and on a statement after 2 s."""

    def __init__(self, database_url: str) -> None:
        options = "options=-c%20lock_timeout%3D300%20-c%20statement_timeout%3D2000"
        self.pool = create_pool(f"{database_url}?{options}", max_size=1)
        self.log = EventLog(self.pool)
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def read_until(self, done: threading.Event, at_least: float) -> None:
        began = time.monotonic()
        while not done.is_set() or time.monotonic() - began < at_least:
            start = time.monotonic()
            try:
                assert self.log.query(limit=50)
            except psycopg.Error as exc:
                self.errors.append(type(exc).__name__)
            self.latencies.append(time.monotonic() - start)
            time.sleep(0.02)
        self.pool.close()


def hold_a_reader(database_url: str, holding: threading.Event) -> None:
    """A long read (a report, a backfill) that keeps its transaction open for a while."""
    with connect(database_url) as conn:
        conn.execute("SELECT count(*) FROM events WHERE camera_id = 'gate'").fetchone()
        holding.set()
        time.sleep(HOLD_SECONDS)
        conn.commit()


def drop_while_reading(database_url: str, drop) -> tuple[Readers, float]:
    """Runs ``drop`` while a long reader holds the log and API-style readers keep reading."""
    holding, done = threading.Event(), threading.Event()
    readers = Readers(database_url)
    long_reader = threading.Thread(target=hold_a_reader, args=(database_url, holding))
    long_reader.start()
    holding.wait(10)
    timing = {}

    def run_drop() -> None:
        began = time.monotonic()
        try:
            drop()
        finally:
            timing["seconds"] = time.monotonic() - began
            done.set()

    dropper = threading.Thread(target=run_drop)
    dropper.start()
    readers.read_until(done, at_least=HOLD_SECONDS)
    dropper.join(60)
    long_reader.join(60)
    return readers, timing["seconds"]


@pytest.fixture
def large_old_day(database_url, event_log, add_events):
    load_large_old_day(database_url, event_log)
    add_events({"timestamp": NOW - timedelta(hours=1)}, {"timestamp": NOW})
    return database_url


def test_reads_keep_answering_while_a_large_day_is_dropped(large_old_day, resources) -> None:
    retention = Retention(resources["event_log"].pool, resources["snapshots"].thumbnails)
    report = {}
    readers, seconds = drop_while_reading(
        large_old_day, lambda: report.update(r=retention.run(RetentionPolicy(), now=NOW))
    )
    print(
        f"\ndrop of a {LARGE_DAY:,}-event day: {seconds:.2f} s; {len(readers.latencies)} reads,"
        f" slowest {max(readers.latencies) * 1000:.0f} ms, errors {readers.errors}"
    )
    assert report["r"].partitions_dropped == [partition(OLD)]
    assert report["r"].events_dropped == LARGE_DAY
    assert partition(OLD) not in tables(large_old_day)
    assert seconds >= HOLD_SECONDS * 0.9  # the detach waited for the long reader...
    assert readers.errors == []  # ...while every read answered, none waiting on a lock
    assert len(readers.latencies) > 10
    assert max(readers.latencies) < 0.5, max(readers.latencies)


def test_a_blocking_detach_would_stall_them(large_old_day) -> None:
    """The same readers time out behind the exclusive lock of a plain DETACH (the old way,
    still in drop_event_partitions_before()): the test above can see blocking."""

    def drop() -> None:
        with connect(large_old_day) as conn:
            cutoff = (OLD + timedelta(days=1)).date()
            conn.execute("SELECT * FROM drop_event_partitions_before(%s)", (cutoff,)).fetchall()
            conn.commit()

    readers, seconds = drop_while_reading(large_old_day, drop)
    print(
        f"\nblocking drop: {seconds:.2f} s; {len(readers.latencies)} reads,"
        f" {readers.errors.count('LockNotAvailable')} timed out on the lock"
    )
    assert "LockNotAvailable" in readers.errors


def test_an_interrupted_concurrent_detach_is_finalized(
    resources, add_events, database_url, tmp_path
) -> None:
    old, recent = add_events({"timestamp": OLD}, {"timestamp": NOW})
    old_file = tmp_path / "snapshots" / resources["event_log"].event_log.get(old).snapshot_path
    with connect(database_url) as reader, psycopg.connect(database_url, autocommit=True) as ddl:
        reader.execute("SELECT count(*) FROM events").fetchone()  # holds the log
        pid, outcome = ddl.info.backend_pid, []

        def detach() -> None:
            try:
                ddl.execute(f"ALTER TABLE events DETACH PARTITION {partition(OLD)} CONCURRENTLY")
            except psycopg.errors.QueryCanceled:
                outcome.append("cancelled")

        detaching = threading.Thread(target=detach)
        detaching.start()
        with connect(database_url) as admin:
            for _ in range(200):  # until it waits for the reader, after its first commit
                row = admin.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
                ).fetchone()
                if row and row["wait_event_type"] == "Lock":
                    break
                time.sleep(0.05)
            admin.execute("SELECT pg_cancel_backend(%s)", (pid,))
        detaching.join(10)
        reader.commit()
    assert outcome == ["cancelled"]
    with connect(database_url) as conn:
        pending = conn.execute("SELECT count(*) AS n FROM pg_inherits WHERE inhdetachpending")
        assert pending.fetchone()["n"] == 1
    report = Retention(resources["event_log"].pool, resources["snapshots"].thumbnails).run(
        RetentionPolicy()
    )
    assert report.partitions_dropped == [partition(OLD)]
    assert partition(OLD) not in tables(database_url) and not old_file.exists()
    assert remaining(database_url) == {recent}


def test_a_detached_day_left_by_a_killed_run_is_finished(
    resources, add_events, event_log, database_url, tmp_path
) -> None:
    old, recent = add_events({"timestamp": OLD}, {"timestamp": NOW})
    old_file = tmp_path / "snapshots" / event_log.get(old).snapshot_path
    event_log.delete(old)
    with connect(database_url) as conn:
        conn.execute(f"ALTER TABLE events DETACH PARTITION {partition(OLD)}")
        conn.commit()
    assert old_file.exists()
    Retention(resources["event_log"].pool, resources["snapshots"].thumbnails).run(RetentionPolicy())
    assert partition(OLD) not in tables(database_url) and not old_file.exists()
    with connect(database_url) as conn:
        assert conn.execute("SELECT count(*) AS n FROM deleted_events").fetchone()["n"] == 0
    assert remaining(database_url) == {recent}


def test_keys_leave_by_whole_weeks_and_appending_twice_still_stores_once(
    resources, add_events, event_log, database_url
) -> None:
    add_events({"timestamp": OLD}, {"timestamp": NOW - timedelta(days=2)})
    week = (OLD - timedelta(days=OLD.weekday())).strftime("%Y%m%d")
    assert f"event_keys_{week}" in tables(database_url)
    Retention(resources["event_log"].pool, resources["snapshots"].thumbnails).run(RetentionPolicy())
    assert f"event_keys_{week}" not in tables(database_url)
    [kept] = event_log.query()
    again = kept.model_copy(update={"timestamp": NOW})
    assert event_log.append([again]) == [None]
    assert event_log.count() == 1
