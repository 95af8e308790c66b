"""Retention marks the days it changes; the sensor asks for their recount; after it no derived
day disagrees with the log (daily_totals_match_log green)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from dagster import SkipReason, build_sensor_context, materialize

from analytics_pipeline.daily_stats import compute_range, read_daily_stats, stale_days, write_days
from assets.resources import RetentionPolicyResource
from assets.retention import retention
from assets.statistics import daily_event_stats, daily_totals_match_log, totals_match_log
from sensors.event_log import event_log_sensor

NOW = datetime.now(UTC)


def noon(days_ago: int) -> datetime:
    """Midday of a past day: an event and its neighbours stay on that day."""
    day = (NOW - timedelta(days=days_ago)).date()
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def sensor_tick(resources, cursor=None):
    with build_sensor_context(
        cursor=cursor, resources={"event_log": resources["event_log"]}
    ) as context:
        return event_log_sensor(context)


def cursor_past_the_appends(resources) -> str:
    """The sensor's cursor once it has read the events just appended (it reads below the
    oldest running transaction of the server, which other sessions may hold back a while)."""
    deadline = time.monotonic() + 60
    while True:
        tick = sensor_tick(resources, None)
        if not isinstance(tick, SkipReason) and tick.cursor:
            return tick.cursor
        assert time.monotonic() < deadline, "the sensor never saw the appended events"
        time.sleep(0.5)


def run_request(resources, request) -> None:
    """Execute a sensor's run request of daily_stats_job in this process, with its check."""
    result = materialize(
        [daily_event_stats, daily_totals_match_log],
        partition_key=request.partition_key,
        tags=request.tags,
        resources=resources,
    )
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def test_retention_changes_are_recounted_and_the_check_stays_green(resources, add_events) -> None:
    old, purged, kept = noon(45), noon(5), noon(1)
    add_events(
        {"timestamp": old},  # its day partition is dropped
        {"timestamp": old + timedelta(minutes=1), "camera_id": "door"},
        {"timestamp": purged, "camera_id": "door"},  # door keeps 2 days: purged
        {"timestamp": purged + timedelta(seconds=1)},  # gate keeps 30 days: stays
        {"timestamp": kept, "camera_id": "door"},
        snapshot=False,
    )
    days = sorted({day_of(old), day_of(purged), day_of(kept)})
    cursor = cursor_past_the_appends(resources)
    for day in days:
        materialize([daily_event_stats], partition_key=day.isoformat(), resources=resources)
    pool = resources["event_log"].pool
    assert totals_match_log(pool).passed
    resources["retention_policy"] = RetentionPolicyResource(
        default_days=30, camera_days={"door": 2}, event_type_days={}, orphan_grace_minutes=60
    )
    result = materialize([retention], resources=resources)
    assert result.success
    [event] = result.asset_materializations_for_node("retention")
    assert event.metadata["days_to_recount"].value == [str(day_of(old)), str(day_of(purged))]
    assert not totals_match_log(pool).passed  # what the recount is for

    tick = sensor_tick(resources, cursor)
    recounts = [r for r in tick.run_requests if r.run_key.startswith("recount:")]
    assert sorted(r.partition_key for r in recounts) == [str(day_of(old)), str(day_of(purged))]
    again = sensor_tick(resources, cursor)  # a tick evaluated twice asks for the same runs
    assert sorted(r.run_key for r in again.run_requests) == sorted(r.run_key for r in recounts)
    for request in recounts:
        run_request(resources, request)

    check = totals_match_log(pool)
    assert check.passed and check.metadata["days_checked"].value == 3
    totals = {row["day"]: row["total_events"] for row in read_daily_stats(pool)}
    assert totals == {day_of(old): 0, day_of(purged): 1, day_of(kept): 1}
    assert stale_days(pool) == []
    assert isinstance(sensor_tick(resources, cursor), SkipReason)  # nothing left to do


def test_a_purge_during_a_recount_keeps_its_mark(resources, add_events, event_log) -> None:
    ids = add_events({"timestamp": noon(3)}, snapshot=False)
    pool = resources["event_log"].pool
    day = day_of(noon(3))
    stats, snapshot = compute_range(pool, day, day)  # the read, before the purge commits
    with pool.connection() as conn:
        conn.execute("SELECT * FROM purge_events(%s::bigint[])", (ids,))
    write_days(pool, stats, snapshot)  # the read did not see the purge: the mark stays
    assert [row["day"] for row in stale_days(pool)] == [day]
    stats, snapshot = compute_range(pool, day, day)
    write_days(pool, stats, snapshot)
    assert stale_days(pool) == []
    assert read_daily_stats(pool)[0]["total_events"] == 0


def test_consecutive_marked_days_are_one_range_run(resources, add_events) -> None:
    first = noon(10)
    ids = add_events(
        *({"timestamp": first + timedelta(days=n)} for n in range(3)),
        {"timestamp": first + timedelta(days=5)},
        snapshot=False,
    )
    cursor = cursor_past_the_appends(resources)
    with resources["event_log"].pool.connection() as conn:
        conn.execute("SELECT * FROM purge_events(%s::bigint[])", (ids,))
    tick = sensor_tick(resources, cursor)
    ranges = sorted(
        (r.tags.get("dagster/asset_partition_range_start", r.partition_key), r.partition_key)
        for r in tick.run_requests
    )
    day0 = day_of(first)
    assert ranges == [
        (str(day0), None),  # three days in one run, by range tags
        (str(day0 + timedelta(days=5)), str(day0 + timedelta(days=5))),
    ]
    [three] = [r for r in tick.run_requests if r.partition_key is None]
    assert three.tags["dagster/asset_partition_range_end"] == str(day0 + timedelta(days=2))
    run_request(resources, three)
    assert [r["day"] for r in stale_days(resources["event_log"].pool)] == [day0 + timedelta(days=5)]


def test_purging_a_tombstone_marks_nothing(resources, add_events, event_log) -> None:
    [kept, erased] = add_events({"timestamp": noon(3)}, {"timestamp": noon(3)}, snapshot=False)
    event_log.delete(erased)  # a tombstone, stamped now: the sensor recounts the erased day
    pool = resources["event_log"].pool
    with pool.connection() as conn:
        tombstones = conn.execute("SELECT id FROM events WHERE event_type = 'event_deleted'")
        [tombstone] = [row["id"] for row in tombstones.fetchall()]
        conn.execute("SELECT * FROM purge_events(%s::bigint[])", ([tombstone],))
    assert stale_days(pool) == []  # tombstones are not counted: nothing to recount
    with pool.connection() as conn:
        conn.execute("SELECT * FROM purge_events(%s::bigint[])", ([kept],))
    assert [(row["day"], row["reason"]) for row in stale_days(pool)] == [
        (day_of(noon(3)), "events purged")
    ]
