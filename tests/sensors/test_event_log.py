"""event_log_sensor evaluated with build_sensor_context against the real log."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from dagster import SkipReason, build_sensor_context

from assets.resources import EventLogResource
from sensors.event_log import event_log_sensor
from tests.assets.conftest import DAY1


def news_after(resources, cursor):
    """The first tick that sees what was just appended: the sensor reads below the oldest
    running transaction of the whole server, which other sessions may hold back a moment."""
    deadline = time.monotonic() + 60
    while isinstance(result := evaluate(resources, cursor), SkipReason):
        assert time.monotonic() < deadline, result.skip_message
        time.sleep(0.2)
    return result


def evaluate(resources, cursor):
    with build_sensor_context(
        cursor=cursor, resources={"event_log": resources["event_log"]}
    ) as context:
        return event_log_sensor(context)


def keys(result) -> list[tuple[str, str | None]]:
    return sorted((r.run_key, r.partition_key) for r in result.run_requests)


def days_asked(result) -> list[tuple[str, str]]:
    """(first, last) day of each statistics run requested."""
    found = []
    for request in result.run_requests:
        if request.job_name != "daily_stats_job":
            continue
        if request.partition_key:
            found.append((request.partition_key, request.partition_key))
        else:
            found.append(
                (
                    request.tags["dagster/asset_partition_range_start"],
                    request.tags["dagster/asset_partition_range_end"],
                )
            )
    return sorted(found)


def test_first_tick_no_news_news_and_the_same_cursor_twice(resources, add_events) -> None:
    add_events({}, {"timestamp": DAY1 + timedelta(days=1)})
    first = news_after(resources, None)
    assert days_asked(first) == [("2026-06-01", "2026-06-02")]  # consecutive days: one run
    [thumbs] = [r for r in first.run_requests if r.job_name == "thumbnails_job"]
    assert thumbs.run_config["ops"]["snapshot_thumbnails"]["config"]["after_position"] == 0
    cursor = first.cursor

    quiet = evaluate(resources, cursor)
    assert isinstance(quiet, SkipReason)

    [new] = add_events({"timestamp": DAY1 + timedelta(days=2)}, snapshot=False)
    news = news_after(resources, cursor)
    assert [r.partition_key for r in news.run_requests] == ["2026-06-03"]  # no snapshot: no
    again = evaluate(resources, cursor)
    assert keys(again) == keys(news)  # stable run keys: Dagster starts each run once
    assert again.cursor == news.cursor != cursor
    assert new > 0


def test_days_apart_are_runs_apart(resources, add_events) -> None:
    add_events(
        *({"timestamp": DAY1 + timedelta(days=n)} for n in (0, 1, 2, 5, 9, 10)), snapshot=False
    )
    result = news_after(resources, None)
    assert days_asked(result) == [
        ("2026-06-01", "2026-06-03"),
        ("2026-06-06", "2026-06-06"),
        ("2026-06-10", "2026-06-11"),
    ]
    assert len({r.run_key for r in result.run_requests}) == 3


def test_a_deleted_event_recounts_its_own_day(resources, add_events, event_log) -> None:
    [old] = add_events({"timestamp": DAY1}, snapshot=False)
    cursor = news_after(resources, None).cursor
    event_log.delete(old)
    result = news_after(resources, cursor)
    assert [r.partition_key for r in result.run_requests] == ["2026-06-01"]


def test_days_outside_the_partitions_are_skipped(resources, add_events) -> None:
    from datetime import UTC, datetime

    add_events({"timestamp": datetime(2011, 1, 1, tzinfo=UTC)}, snapshot=False)
    result = news_after(resources, None)
    assert result.run_requests == []
    assert result.cursor  # moved on: it will not ask again


def test_an_error_raises_instead_of_skipping(resources) -> None:
    broken = {"event_log": EventLogResource(database_url="postgresql://postgres@127.0.0.1:1/x")}
    with (
        build_sensor_context(cursor=None, resources=broken) as context,
        pytest.raises(Exception),  # noqa: B017 - any connection error must surface
    ):
        event_log_sensor(context)
