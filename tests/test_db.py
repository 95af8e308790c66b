"""Migrations and the database-enforced rules of the log."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from analytics_pipeline.db import MIGRATIONS_DIR, connect, migrate, migrations
from tests.conftest import _url_for, drop_database, make_event


@pytest.fixture
def empty_database_url() -> str:
    name = f"analytics_empty_{uuid.uuid4().hex[:12]}"
    yield _url_for(name)
    drop_database(name)


def test_migrate_creates_the_database_and_twice_is_a_no_op(empty_database_url: str) -> None:
    first = migrate(empty_database_url)
    assert first == [m.name for m in migrations()]
    assert migrate(empty_database_url) == []
    with connect(empty_database_url) as conn:
        versions = [r["version"] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == [m.version for m in migrations()]


def test_concurrent_migrations_apply_each_once(empty_database_url: str) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(empty_database_url))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, len(migrations())]


def test_a_changed_migration_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    for source in MIGRATIONS_DIR.glob("*.sql"):
        (tmp_path / source.name).write_text(source.read_text())
    migrate(empty_database_url, tmp_path)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(RuntimeError, match="changed after it was applied"):
        migrate(empty_database_url, tmp_path)


def test_update_delete_and_truncate_raise(event_log, database_url: str) -> None:
    event_log.append([make_event()])
    with connect(database_url) as conn:
        partition = conn.execute(
            "SELECT tableoid::regclass::text AS name FROM events LIMIT 1"
        ).fetchone()["name"]
        for statement in (
            "UPDATE events SET frame_number = 7",
            "DELETE FROM events",
            f"DELETE FROM {partition}",
            "TRUNCATE events",
            f"TRUNCATE {partition}",
            "UPDATE event_keys SET timestamp = now()",
            "DELETE FROM event_keys",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)
            conn.rollback()
        assert conn.execute("SELECT count(*) AS n FROM events").fetchone()["n"] == 1


def test_purge_path_removes_rows_and_keys(event_log, database_url: str) -> None:
    keep, gone = make_event(), make_event(snapshot_path="cam-1/2026-01-01/motion_1.png")
    positions = event_log.append([keep, gone])
    purged = event_log.purge([positions[1]])
    assert [(p.id, p.event_id, p.snapshot_path) for p in purged] == [
        (positions[1], str(gone.event_id), "cam-1/2026-01-01/motion_1.png")
    ]
    assert event_log.get(positions[1]) is None
    assert event_log.get(positions[0]) is not None
    with connect(database_url) as conn:
        keys = conn.execute("SELECT event_id FROM event_keys").fetchall()
        assert [k["event_id"] for k in keys] == [keep.event_id]
        # The permission does not outlive the purge.
        with pytest.raises(psycopg.errors.RaiseException):
            conn.execute("DELETE FROM events")


def test_pool_replaces_connections_that_died_with_a_restarted_server(postgres_server) -> None:
    """Every idle pooled connection dies with the server; none of them fails a caller."""
    from analytics_pipeline.db import create_pool

    pool = create_pool(postgres_server.url, min_size=3, max_size=3, timeout=10)
    try:
        pool.wait(10)
        postgres_server.stop()
        postgres_server.start()
        for _ in range(6):
            with pool.connection() as conn:
                assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    finally:
        pool.close()


def test_an_existing_log_takes_migration_0006_with_its_data(
    empty_database_url: str, tmp_path: Path
) -> None:
    """A database migrated before 0006 (and past it: 0010 and later applied) keeps its events
    and keys, and appending the same events again afterwards stores nothing twice."""
    from analytics_pipeline.db import create_pool
    from analytics_pipeline.eventlog import EventLog, append_params
    from tests.conftest import make_events

    for source in MIGRATIONS_DIR.glob("*.sql"):
        if not source.name.startswith("0006_"):
            (tmp_path / source.name).write_text(source.read_text())
    migrate(empty_database_url, tmp_path)
    old = make_events(5)
    with connect(empty_database_url) as conn:
        conn.execute("SELECT ensure_event_partitions(%s::date[])", ([old[0].timestamp.date()],))
        conn.execute(
            "SELECT * FROM append_events(%(event_ids)s::uuid[], %(event_types)s::text[],"
            " %(camera_ids)s::text[], %(timestamps)s::timestamptz[],"
            " %(frame_numbers)s::integer[], %(snapshot_paths)s::text[],"
            " %(event_data)s::jsonb[])",
            append_params(old),
        ).fetchall()
        conn.commit()
    assert [m for m in migrate(empty_database_url) if m.startswith("0006_")]
    pool = create_pool(empty_database_url)
    try:
        event_log = EventLog(pool)
        assert event_log.append(old) == [None] * 5
        assert None not in event_log.append(make_events(3))
        assert event_log.count() == 8
        assert {e.event_id for e in event_log.query(limit=10)} >= {e.event_id for e in old}
    finally:
        pool.close()
    with connect(empty_database_url) as conn:
        indexes = {r["indexname"] for r in conn.execute("SELECT indexname FROM pg_indexes")}
    assert "idx_camera_timestamp_covering" in indexes and "idx_camera_timestamp" not in indexes
