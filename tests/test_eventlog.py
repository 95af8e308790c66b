"""The event log against the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics_pipeline.db import connect, query
from analytics_pipeline.eventlog import START, EventFilter, EventLog, append_params
from tests.conftest import make_event, make_events


def test_append_returns_positions_in_order(event_log: EventLog) -> None:
    events = make_events(5)
    positions = event_log.append(events)
    assert all(p is not None for p in positions)
    assert positions == sorted(positions)
    stored = event_log.get(positions[2])
    assert stored is not None
    assert stored.event_id == events[2].event_id
    assert stored.timestamp == events[2].timestamp


def test_appending_the_same_event_twice_stores_it_once(event_log: EventLog) -> None:
    events = make_events(3)
    first = event_log.append(events)
    again = event_log.append([events[1], make_event(), events[1]])
    assert again[0] is None and again[2] is None and again[1] is not None
    assert event_log.append(events) == [None, None, None]
    assert event_log.count() == 4
    assert event_log.get(first[1]).event_id == events[1].event_id


def test_same_event_id_with_another_timestamp_is_still_a_duplicate(event_log: EventLog) -> None:
    event = make_event(timestamp=datetime(2026, 3, 1, tzinfo=UTC))
    event_log.append([event])
    retry = event.model_copy(update={"timestamp": datetime(2026, 3, 5, tzinfo=UTC)})
    assert event_log.append([retry]) == [None]
    assert event_log.count() == 1


def test_an_event_for_a_day_with_no_partition_is_stored(event_log: EventLog, database_url) -> None:
    old_day = datetime(2011, 1, 1, 12, 30, tzinfo=UTC)
    far_day = datetime(2031, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)
    with connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('events_20110101') AS t").fetchone()["t"] is None
    positions = event_log.append([make_event(timestamp=old_day), make_event(timestamp=far_day)])
    assert None not in positions
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT tableoid::regclass::text AS part FROM events ORDER BY id"
        ).fetchall()
    assert [r["part"] for r in rows] == ["events_20110101", "events_20310630"]


def test_a_partition_dropped_behind_the_logs_back_is_recreated(event_log: EventLog, pool) -> None:
    day = datetime(2020, 2, 2, tzinfo=UTC)
    event_log.append([make_event(timestamp=day)])
    with pool.connection() as conn:
        dropped = conn.execute("SELECT * FROM drop_event_partitions_before('2020-02-03')")
        assert [r["partition_name"] for r in dropped] == ["events_20200202"]
    # This EventLog still believes the partition exists.
    assert None not in event_log.append([make_event(timestamp=day + timedelta(hours=1))])
    assert event_log.count() == 1


def test_read_after_never_skips_a_row_committed_late(event_log: EventLog, database_url) -> None:
    slow = make_event(camera_id="slow")
    fast = make_event(camera_id="fast")
    with connect(database_url) as slow_writer:
        # The slow writer takes the lower position and keeps its transaction open.
        slow_rows = slow_writer.execute(query("append_events"), append_params([slow])).fetchall()
        fast_position = event_log.append([fast])[0]
        assert slow_rows[0]["id"] < fast_position
        # A reader now must not move its cursor past the slow writer's row.
        seen = event_log.read_after(START)
        assert seen == []
        slow_writer.commit()
    seen = event_log.read_after(START)
    assert [e.camera_id for e in seen] == ["slow", "fast"]
    assert event_log.read_after(seen[-1].cursor) == []


def test_read_after_pages_through_everything(event_log: EventLog) -> None:
    for _ in range(3):
        event_log.append(make_events(7))
    cursor, seen = START, []
    while batch := event_log.read_after(cursor, limit=4):
        seen.extend(batch)
        cursor = batch[-1].cursor
    assert len(seen) == 21
    assert len({e.id for e in seen}) == 21


def test_query_filters_and_half_open_time_range(event_log: EventLog) -> None:
    t0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    event_log.append(
        [
            make_event("a", "motion", t0),
            make_event("a", "anpr", t0 + timedelta(minutes=1)),
            make_event("b", "motion", t0 + timedelta(minutes=2)),
            make_event("b", "tracking", t0 + timedelta(days=1)),
        ]
    )
    by_camera = event_log.query(EventFilter(camera_ids=["a"]))
    assert {(e.camera_id, e.event_type) for e in by_camera} == {("a", "motion"), ("a", "anpr")}
    by_type = event_log.query(EventFilter(event_types=["motion"]))
    assert [e.camera_id for e in by_type] == ["b", "a"]  # newest first
    window = EventFilter(start=t0, end=t0 + timedelta(minutes=2))
    assert [e.event_type for e in event_log.query(window)] == ["anpr", "motion"]
    assert event_log.count(window) == 2
    both = EventFilter(camera_ids=["b"], event_types=["tracking"], start=t0 + timedelta(days=1))
    assert [e.event_type for e in event_log.query(both)] == ["tracking"]


def test_keyset_pagination_both_directions(event_log: EventLog) -> None:
    positions = event_log.append(make_events(10))
    newest_first, before = [], None
    while page := event_log.query(limit=3, before_id=before):
        newest_first.extend(e.id for e in page)
        before = page[-1].id
    assert newest_first == sorted(positions, reverse=True)
    oldest_first = [e.id for e in event_log.query(limit=4, after_id=positions[5], descending=False)]
    assert oldest_first == positions[6:10]


def test_stats_equal_sql_counts(event_log: EventLog, database_url) -> None:
    t0 = datetime(2026, 7, 1, tzinfo=UTC)
    event_log.append(
        make_events(4, t0, camera_id="a", event_type="motion")
        + make_events(3, t0 + timedelta(hours=5), camera_id="b", event_type="anpr")
        + make_events(2, t0 + timedelta(days=2), camera_id="a", event_type="tracking")
    )
    stats = event_log.stats()
    with connect(database_url) as conn:
        rows = conn.execute("SELECT event_type, count(*) AS n FROM events GROUP BY 1")
        by_type = {r["event_type"]: r["n"] for r in rows}
    assert stats.total_events == 9
    assert stats.events_by_type == by_type == {"anpr": 3, "motion": 4, "tracking": 2}
    assert stats.events_by_camera == {"a": 6, "b": 3}
    assert stats.first_event == t0
    assert stats.last_event == t0 + timedelta(days=2, milliseconds=1)
    only_b = event_log.stats(EventFilter(camera_ids=["b"]))
    assert (only_b.total_events, only_b.events_by_camera) == (3, {"b": 3})
    empty = event_log.stats(EventFilter(camera_ids=["nobody"]))
    assert (empty.total_events, empty.events_by_type, empty.first_event) == (0, {}, None)


def test_delete_hides_the_event_everywhere_and_logs_a_tombstone(event_log: EventLog) -> None:
    keep, gone = event_log.append([make_event("a"), make_event("a", "anpr")])
    deleted = event_log.delete(gone, snapshot_deleted=True)
    assert deleted is not None and deleted.id == gone
    assert event_log.get(gone) is None
    assert [e.id for e in event_log.query()] == [keep]
    assert event_log.count() == 1
    assert event_log.stats().events_by_type == {"motion": 1}
    assert event_log.get_many([keep, gone]).keys() == {keep}
    assert event_log.delete(gone) is None  # twice: nothing more
    tombstones = [e for e in event_log.read_after(START) if e.event_type == "event_deleted"]
    assert len(tombstones) == 1
    assert tombstones[0].event_data["deleted_id"] == gone
    assert tombstones[0].event_data["snapshot_deleted"] is True
    assert event_log.delete(999_999) is None


def test_typed_filters_on_event_data(event_log: EventLog) -> None:
    t0 = datetime(2026, 8, 1, tzinfo=UTC)
    detection = {
        "objects": [
            {"class": "car", "confidence": 0.9, "box": [0, 0, 5, 5]},
            {"class": "person", "confidence": 0.4, "box": [1, 1, 2, 2]},
        ]
    }
    event_log.append(
        [
            make_event("a", "detection", t0, event_data=detection),
            make_event(
                "a",
                "tracking",
                t0,
                event_data={
                    "action": "entered",
                    "track_id": 7,
                    "class": "person",
                    "confidence": 0.55,
                },
            ),
            make_event(
                "a", "anpr", t0, event_data={"plate": "AB12CDE", "confidence": 0.97, "track_id": 7}
            ),
            make_event(
                "b", "anpr", t0, event_data={"plate": "XY99ZZZ", "confidence": 0.6, "track_id": 8}
            ),
            make_event("b", "motion", t0, event_data={"area_percent": 3.0}),
        ]
    )

    def types(**fields: object) -> list[str]:
        return sorted(e.event_type + e.camera_id for e in event_log.query(EventFilter(**fields)))

    assert types(object_class="person") == ["detectiona", "trackinga"]
    assert types(object_class="car") == ["detectiona"]
    assert types(plate="b12 c") == ["anpra"]
    assert types(plate="xy-99") == ["anprb"]
    assert types(min_confidence=0.8) == ["anpra", "detectiona"]
    assert types(min_confidence=0.5) == ["anpra", "anprb", "detectiona", "trackinga"]
    assert types(track_id=7) == ["anpra", "trackinga"]
    assert types(track_id=7, event_types=["anpr"]) == ["anpra"]
    assert event_log.count(EventFilter(plate="zz")) == 1


def test_a_batch_with_repeats_stores_the_first_of_each(event_log: EventLog) -> None:
    a, b = make_event(frame_number=1), make_event(frame_number=2)
    later_a = a.model_copy(update={"frame_number": 9, "timestamp": a.timestamp + timedelta(days=2)})
    positions = event_log.append([a, b, later_a, b])
    assert positions[2] is None and positions[3] is None
    assert positions[0] is not None and positions[1] is not None and positions[0] < positions[1]
    assert event_log.get(positions[0]).frame_number == 1
    assert event_log.count() == 2


def test_two_appends_in_one_transaction_and_a_rolled_back_one(event_log: EventLog, pool) -> None:
    first, second, dropped = make_events(3), make_events(2), make_events(4)
    with pool.connection() as conn, conn.transaction():
        one = event_log._append_in(conn, first)
        two = event_log._append_in(conn, second)  # the staging table starts empty again
    assert None not in one + two and len(set(one + two)) == 5
    with pool.connection() as conn, conn.transaction(force_rollback=True):
        assert None not in event_log._append_in(conn, dropped)
    # Nothing of the rolled-back batch is stored, or left staged for the next append.
    again = event_log.append(dropped + first)
    assert None not in again[:4] and again[4:] == [None, None, None]
    assert event_log.count() == 5 + 4


def test_event_data_that_the_fast_encoder_refuses_is_stored(event_log: EventLog) -> None:
    data = {"huge": 2**70, "text": "caf\u00e9 \u2603", "nested": {"list": [1.5, None, True]}}
    [position] = event_log.append([make_event(event_data=data)])
    assert event_log.get(position).event_data == data


def test_a_page_and_its_count_in_one_round_trip(event_log: EventLog) -> None:
    positions = event_log.append(make_events(7, camera_id="a") + make_events(3, camera_id="b"))
    assert event_log.delete(positions[6]) is not None  # the newest of a: hidden, not counted
    only_a = EventFilter(camera_ids=["a"])
    page, total = event_log.query_with_count(only_a, limit=4, offset=4)
    assert total == 6 == event_log.count(only_a)
    assert page == event_log.query(only_a, limit=4, offset=4)
    assert [e.id for e in page] == [positions[1], positions[0]]
    assert event_log.query_with_count(only_a, limit=4, offset=40) == ([], 6)
    assert event_log.query_with_count(EventFilter(camera_ids=["c"]), limit=4) == ([], 0)


def test_a_session_that_lost_its_staging_table_still_appends(event_log: EventLog, pool) -> None:
    assert None not in event_log.append(make_events(2))
    with pool.connection() as conn:
        assert conn in event_log._staged  # the connection the append used
        conn.execute("DISCARD TEMP")
        conn.commit()
    assert None not in event_log.append(make_events(3))
    assert event_log.count() == 5
