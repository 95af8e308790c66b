"""daily_event_stats materialized with dagster against the real PostgreSQL: one day, and a
range of days as one run (a backfill) reading the log once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dagster import materialize
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

import analytics_pipeline.daily_stats as daily_stats
from analytics_pipeline.daily_stats import compute_day, read_daily_stats
from analytics_pipeline.db import connect
from assets.statistics import daily_event_stats, daily_totals_match_log, totals_match_log
from tests.assets.conftest import DAY1, scene


def stats_table(database_url: str) -> list[tuple]:
    with connect(database_url) as conn:
        counts = conn.execute(
            "SELECT day, camera_id, event_type, events FROM daily_event_counts ORDER BY 1, 2, 3"
        ).fetchall()
        days = conn.execute(
            "SELECT day, total_events, events_by_hour, object_classes, "
            "distinct_plates, top_plates, mean_dwell_seconds FROM daily_stats "
            "ORDER BY day"
        ).fetchall()
    return [tuple(r.values()) for r in counts + days]


def run(resources, *days: str) -> None:
    for day in days:
        result = materialize([daily_event_stats], partition_key=day, resources=resources)
        assert result.success


def backfill(resources, first: str, last: str, *checks) -> object:
    """One run over a range of days, as a backfill with the single-run policy launches."""
    tags = {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
    result = materialize([daily_event_stats, *checks], tags=tags, resources=resources)
    assert result.success
    return result


def test_one_day_of_statistics(resources, add_events, event_log, database_url) -> None:
    positions = add_events(*scene(DAY1))
    add_events({"timestamp": DAY1 + timedelta(days=1)})  # another day: not counted
    event_log.delete(positions[0])  # a deleted event is not counted
    result = materialize([daily_event_stats], partition_key="2026-06-01", resources=resources)
    assert result.success
    metadata = result.asset_materializations_for_node("daily_event_stats")[0].metadata
    assert metadata["total_events"].value == 7
    [row] = read_daily_stats(resources["event_log"].pool)
    assert row["total_events"] == 7
    assert {(c["camera_id"], c["event_type"]): c["events"] for c in row["counts"]} == {
        ("gate", "detection"): 1,
        ("gate", "tracking"): 2,
        ("gate", "anpr"): 1,
        ("door", "anpr"): 2,
        ("door", "tracking"): 1,
    }
    assert row["events_by_hour"][8] == 3 and row["events_by_hour"][17] == 3
    assert row["events_by_hour"][9] == 1 and sum(row["events_by_hour"]) == 7
    assert row["object_classes"] == {"tracked": {"car": 1}, "detected": {"car": 1, "person": 1}}
    assert row["distinct_plates"] == 2
    assert row["top_plates"] == [{"plate": "AB12CDE", "reads": 2}, {"plate": "XY99ZZZ", "reads": 1}]
    assert row["mean_dwell_seconds"] == 120.0


def test_an_empty_day_gives_zero_rows(resources) -> None:
    run(resources, "2026-06-03")
    [row] = read_daily_stats(resources["event_log"].pool)
    assert (row["total_events"], row["counts"], row["mean_dwell_seconds"]) == (0, [], None)


def test_a_range_is_one_run_one_read_with_metadata_per_day(
    resources, add_events, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_events(*scene(DAY1), snapshot=False)
    add_events(*scene(DAY1 + timedelta(days=2))[:3], snapshot=False)
    reads: list[tuple[date, date]] = []
    read_range = daily_stats.read_range

    def counting(pool, first, last, **kwargs):
        reads.append((first, last))
        return read_range(pool, first, last, **kwargs)

    monkeypatch.setattr(daily_stats, "read_range", counting)
    result = backfill(resources, "2026-06-01", "2026-06-04")
    assert reads == [(date(2026, 6, 1), date(2026, 6, 4))]  # the whole range in one read
    by_day = {
        m.partition: m.metadata for m in result.asset_materializations_for_node("daily_event_stats")
    }
    assert sorted(by_day) == ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04"]
    assert [by_day[d]["total_events"].value for d in sorted(by_day)] == [8, 0, 3, 0]
    assert by_day["2026-06-01"]["distinct_plates"].value == 2
    assert by_day["2026-06-01"]["run_range"].value == "2026-06-01...2026-06-04"
    assert len(read_daily_stats(resources["event_log"].pool)) == 4


def test_a_range_gives_what_each_day_alone_gives(resources, add_events, database_url) -> None:
    for offset in range(3):
        add_events(*scene(DAY1 + timedelta(days=offset))[offset:], snapshot=False)
    backfill(resources, "2026-06-01", "2026-06-03")
    together = stats_table(database_url)
    pool = resources["event_log"].pool
    alone = [compute_day(pool, date(2026, 6, 1) + timedelta(days=n)) for n in range(3)]
    assert [s.total_events for s in alone] == [8, 7, 6]
    run(resources, "2026-06-01", "2026-06-02", "2026-06-03")
    assert stats_table(database_url) == together


def test_backfill_of_a_range_twice_leaves_identical_tables(
    resources, add_events, database_url
) -> None:
    for offset in range(3):
        add_events(*scene(DAY1 + timedelta(days=offset)))
    backfill(resources, "2026-06-01", "2026-06-03")
    first = stats_table(database_url)
    backfill(resources, "2026-06-01", "2026-06-03")
    assert stats_table(database_url) == first
    assert len([r for r in first if len(r) == 7]) == 3


def test_the_check_compares_with_the_log(resources, add_events) -> None:
    add_events(*scene(DAY1), snapshot=False)
    check = backfill(resources, "2026-06-01", "2026-06-02", daily_totals_match_log)
    [evaluation] = check.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.metadata["days_checked"].value == 2  # the run's days
    add_events({"timestamp": DAY1 + timedelta(hours=3)}, snapshot=False)  # the log moves on
    stale = totals_match_log(resources["event_log"].pool)
    assert not stale.passed
    assert stale.metadata["days_mismatched"].value == ["2026-06-01"]
