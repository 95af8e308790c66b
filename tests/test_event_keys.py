"""event_keys partitioned by week (sql/migrations/0005): appending twice still stores once,
across batches, days and concurrent writers, and keys leave by dropping whole weeks."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from analytics_pipeline.db import connect, query
from analytics_pipeline.eventlog import EventLog, append_params
from tests.conftest import make_event, make_events

MARCH_1 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("first_writer_commits", [True, False])
def test_concurrent_writers_of_one_event_id_on_different_days(
    event_log: EventLog, database_url: str, first_writer_commits: bool
) -> None:
    event = make_event(timestamp=MARCH_1)
    four_days_later = event.model_copy(update={"timestamp": MARCH_1 + timedelta(days=4)})
    event_log.ensure_partitions([MARCH_1.date(), four_days_later.timestamp.date()])
    second: dict[str, list] = {}
    with connect(database_url) as first:
        stored = first.execute(query("append_events"), append_params([event])).fetchall()
        assert len(stored) == 1  # not committed yet
        writer = threading.Thread(
            target=lambda: second.update(result=event_log.append([four_days_later]))
        )
        writer.start()
        time.sleep(0.5)
        assert writer.is_alive(), "the second writer did not wait for the first"
        if first_writer_commits:
            first.commit()
        else:
            first.rollback()
    writer.join(10)
    assert event_log.count() == 1
    if first_writer_commits:
        assert second["result"] == [None]
        assert event_log.query()[0].timestamp == MARCH_1
    else:
        assert second["result"][0] is not None
        assert event_log.query()[0].timestamp == four_days_later.timestamp


def test_writers_of_other_events_do_not_wait(event_log: EventLog, database_url: str) -> None:
    with connect(database_url) as slow:
        slow.execute(query("append_events"), append_params([make_event()])).fetchall()
        began = time.monotonic()
        assert None not in event_log.append(make_events(10))
        assert time.monotonic() - began < 2
        slow.commit()
    assert event_log.count() == 11


def test_a_large_batch_finds_duplicates_on_other_days(event_log: EventLog) -> None:
    first = make_events(300, MARCH_1)  # over 256 events: the batch takes the one big lock
    assert None not in event_log.append(first)
    moved = [e.model_copy(update={"timestamp": e.timestamp - timedelta(days=9)}) for e in first]
    fresh = make_events(200, MARCH_1 + timedelta(days=20))
    result = event_log.append(moved[:100] + fresh + moved[100:150] + fresh[:5])
    assert result[:100] == [None] * 100 and result[300:] == [None] * 55
    assert None not in result[100:300]
    assert event_log.count() == 500


def test_keys_are_partitioned_by_week(event_log: EventLog, database_url: str) -> None:
    wednesday = date(2026, 3, 4)
    event_log.ensure_partitions([wednesday, wednesday + timedelta(days=3)])
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bounds"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'event_keys'::regclass AND c.relname LIKE '%%20260302'"
        ).fetchall()
    assert [r["relname"] for r in rows] == ["event_keys_20260302"]  # Monday of that week
    assert "2026-03-02" in rows[0]["bounds"] and "2026-03-09" in rows[0]["bounds"]


def test_two_staged_writers_of_one_event_id_on_different_days(
    event_log: EventLog, database_url: str
) -> None:
    """Both writers on EventLog's own path (staging table, append_staged()): the second waits
    for the first and stores nothing once the first commits."""
    from analytics_pipeline.db import create_pool

    event = make_event(timestamp=MARCH_1)
    later = event.model_copy(update={"timestamp": MARCH_1 + timedelta(days=8)})
    other_pool = create_pool(database_url, max_size=1)
    other_log = EventLog(other_pool)
    second: dict[str, list] = {}
    try:
        with other_pool.connection() as conn, conn.transaction():
            assert other_log._append_in(conn, [event])[0] is not None  # not committed yet
            writer = threading.Thread(target=lambda: second.update(r=event_log.append([later])))
            writer.start()
            time.sleep(0.5)
            assert writer.is_alive(), "the second writer did not wait for the first"
        writer.join(10)
    finally:
        other_pool.close()
    assert second["r"] == [None]
    assert event_log.count() == 1 and event_log.query()[0].timestamp == MARCH_1
