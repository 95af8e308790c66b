"""event_log_sensor evaluated with build_sensor_context against the real log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dagster import SkipReason, build_sensor_context

from assets.resources import EventLogResource
from sensors.event_log import event_log_sensor
from tests.assets.conftest import DAY1


def evaluate(resources, cursor):
    with build_sensor_context(
        cursor=cursor, resources={"event_log": resources["event_log"]}
    ) as context:
        return event_log_sensor(context)


def keys(result) -> list[tuple[str, str | None]]:
    return sorted((r.run_key, r.partition_key) for r in result.run_requests)


def test_first_tick_no_news_news_and_the_same_cursor_twice(resources, add_events) -> None:
    add_events({}, {"timestamp": DAY1 + timedelta(days=1)})
    first = evaluate(resources, None)
    days = sorted(r.partition_key for r in first.run_requests if r.partition_key)
    assert days == ["2026-06-01", "2026-06-02"]
    [thumbs] = [r for r in first.run_requests if r.job_name == "thumbnails_job"]
    assert thumbs.run_config["ops"]["snapshot_thumbnails"]["config"]["after_position"] == 0
    cursor = first.cursor

    quiet = evaluate(resources, cursor)
    assert isinstance(quiet, SkipReason)

    [new] = add_events({"timestamp": DAY1 + timedelta(days=2)}, snapshot=False)
    news = evaluate(resources, cursor)
    assert [r.partition_key for r in news.run_requests] == ["2026-06-03"]  # no snapshot: no
    again = evaluate(resources, cursor)
    assert keys(again) == keys(news)  # stable run keys: Dagster starts each run once
    assert again.cursor == news.cursor != cursor
    assert new > 0


def test_a_deleted_event_recounts_its_own_day(resources, add_events, event_log) -> None:
    [old] = add_events({"timestamp": DAY1}, snapshot=False)
    cursor = evaluate(resources, None).cursor
    event_log.delete(old)
    result = evaluate(resources, cursor)
    assert [r.partition_key for r in result.run_requests] == ["2026-06-01"]


def test_days_outside_the_partitions_are_skipped(resources, add_events) -> None:
    from datetime import UTC, datetime

    add_events({"timestamp": datetime(2011, 1, 1, tzinfo=UTC)}, snapshot=False)
    result = evaluate(resources, None)
    assert result.run_requests == []
    assert result.cursor  # moved on: it will not ask again


def test_an_error_raises_instead_of_skipping(resources) -> None:
    broken = {"event_log": EventLogResource(database_url="postgresql://postgres@127.0.0.1:1/x")}
    with (
        build_sensor_context(cursor=None, resources=broken) as context,
        pytest.raises(Exception),  # noqa: B017 - any connection error must surface
    ):
        event_log_sensor(context)
