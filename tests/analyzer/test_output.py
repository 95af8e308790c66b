"""The analyzer's output: snapshot, then log; a PostgreSQL outage loses nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg

from analytics_pipeline.analyzer.output import EventSink
from analytics_pipeline.db import create_pool
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.snapshots import SnapshotStore
from tests.conftest import PostgresServer

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def emit(sink: EventSink, i: int):
    image = np.full((90, 160, 3), i, np.uint8)
    return sink.emit("cam", "motion", T0 + timedelta(seconds=i), i, {"i": i}, image)


def test_snapshot_first_then_the_log(event_log, tmp_path: Path) -> None:
    sink = EventSink(event_log, SnapshotStore(tmp_path / "s"), tmp_path / "spill.jsonl")
    event = emit(sink, 1)
    stored = event_log.query()[0]
    assert stored.event_id == event.event_id
    assert (tmp_path / "s" / stored.snapshot_path).is_file()


def test_postgres_stopped_mid_run_loses_nothing(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    pool = create_pool(postgres_server.url, max_size=2, timeout=2)
    sink = EventSink(
        EventLog(pool), SnapshotStore(tmp_path / "s"), tmp_path / "spill.jsonl", buffer_size=5
    )
    sink.retry_seconds = 60  # during the outage only the first emit waits for a time-out
    emitted = [emit(sink, i) for i in range(10)]
    assert sink.pending == 0
    postgres_server.stop()
    emitted += [emit(sink, i) for i in range(10, 30)]  # the buffer spills to the file
    assert sink.pending == 20
    assert (tmp_path / "spill.jsonl").is_file()
    postgres_server.start()
    for _ in range(50):
        if sink.flush(force=True):
            break
    assert sink.pending == 0 and not (tmp_path / "spill.jsonl").exists()
    pool.close()
    with psycopg.connect(postgres_server.url) as conn:
        rows = conn.execute("SELECT event_id, frame_number FROM events ORDER BY id").fetchall()
    assert [r[0] for r in rows] == [e.event_id for e in emitted]  # all, once, in order
    assert [r[1] for r in rows] == list(range(30))
