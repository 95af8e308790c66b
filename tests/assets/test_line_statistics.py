"""Crossings of counting lines per direction: counted by daily_event_stats into
daily_line_counts (real PostgreSQL), read live from the log, and shown in the daily report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dagster import materialize
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from analytics_pipeline.daily_stats import (
    LineCount,
    line_counts,
    read_daily_stats,
    stored_line_counts,
)
from analytics_pipeline.db import connect
from analytics_pipeline.eventlog import EventFilter
from analytics_pipeline.payloads import LineCrossedData
from assets.reports import daily_report
from assets.statistics import daily_event_stats
from tests.assets.conftest import DAY1

DAY2 = DAY1 + timedelta(days=1)


def crossing(
    minutes: float, direction: str, line: str = "gate", camera: str = "street", **extra: Any
) -> dict[str, Any]:
    """A line_crossed event as the analyzer appends it."""
    data = LineCrossedData.model_validate(
        {
            "line": line,
            "direction": direction,
            "track_id": int(minutes * 10),
            "class": "car",
            "confidence": 0.8,
            "box": [10, 20, 50, 60],
            "point": [30.0, 60.0],
        }
    ).event_data()
    return {
        "camera_id": camera,
        "event_type": "line_crossed",
        "timestamp": DAY1 + timedelta(minutes=minutes),
        "event_data": data,
    } | extra


def table(database_url: str) -> list[tuple]:
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT day, camera_id, line, direction, crossings FROM daily_line_counts"
            " ORDER BY 1, 2, 3, 4"
        ).fetchall()
    return [tuple(r.values()) for r in rows]


def seed(add_events, event_log) -> list[int]:
    """Day 1: street/gate 3 a_to_b and 2 b_to_a (one more deleted), street/exit 1 b_to_a,
    yard/gate 1 a_to_b; other events; day 2: one crossing."""
    positions = add_events(
        crossing(1, "a_to_b"),
        crossing(2, "a_to_b"),
        crossing(3, "b_to_a"),
        crossing(4, "a_to_b"),
        crossing(5, "b_to_a"),
        crossing(6, "b_to_a"),  # deleted below: not counted
        crossing(7, "b_to_a", line="exit"),
        crossing(8, "a_to_b", camera="yard"),
        {"camera_id": "street", "timestamp": DAY1 + timedelta(minutes=9)},  # motion
        crossing(10, "b_to_a", timestamp=DAY2),
        snapshot=False,
    )
    event_log.delete(positions[5])
    return positions


def test_a_day_of_crossings_both_ways(resources, add_events, event_log, database_url) -> None:
    seed(add_events, event_log)
    result = materialize([daily_event_stats], partition_key="2026-06-01", resources=resources)
    assert result.success
    day = date(2026, 6, 1)
    assert table(database_url) == [
        (day, "street", "exit", "b_to_a", 1),
        (day, "street", "gate", "a_to_b", 3),
        (day, "street", "gate", "b_to_a", 2),
        (day, "yard", "gate", "a_to_b", 1),
    ]
    metadata = result.asset_materializations_for_node("daily_event_stats")[0].metadata
    assert metadata["line_crossings"].value == 7
    [row] = read_daily_stats(resources["event_log"].pool)
    assert row["line_counts"][1] == {
        "camera_id": "street",
        "line": "gate",
        "direction": "a_to_b",
        "crossings": 3,
    }
    assert {(c["camera_id"], c["event_type"]): c["events"] for c in row["counts"]} == {
        ("street", "line_crossed"): 6,
        ("street", "motion"): 1,
        ("yard", "line_crossed"): 1,
    }
    stored = stored_line_counts(resources["event_log"].pool, camera_ids=["street"])
    assert stored == {
        day: [
            LineCount("street", "exit", "b_to_a", 1),
            LineCount("street", "gate", "a_to_b", 3),
            LineCount("street", "gate", "b_to_a", 2),
        ]
    }


def test_live_counts_from_the_log(resources, add_events, event_log) -> None:
    seed(add_events, event_log)
    pool = resources["event_log"].pool
    day_one = EventFilter(camera_ids=["street"], start=DAY1, end=DAY1 + timedelta(days=1))
    assert line_counts(pool, day_one) == [
        LineCount("street", "exit", "b_to_a", 1),
        LineCount("street", "gate", "a_to_b", 3),
        LineCount("street", "gate", "b_to_a", 2),
    ]
    everything = line_counts(pool)
    assert LineCount("street", "gate", "b_to_a", 3) in everything  # day 2's crossing too
    assert LineCount("yard", "gate", "a_to_b", 1) in everything
    first_minutes = EventFilter(start=DAY1, end=DAY1 + timedelta(minutes=2, seconds=30))
    assert line_counts(pool, first_minutes) == [LineCount("street", "gate", "a_to_b", 2)]
    assert line_counts(pool, EventFilter(track_id=40)) == [LineCount("street", "gate", "a_to_b", 1)]
    assert line_counts(pool, EventFilter(event_types=["motion"])) == []
    assert line_counts(pool, EventFilter(event_types=["motion", "line_crossed"])) == everything


def test_recount_after_a_deletion_and_a_range_rewrite(
    resources, add_events, event_log, database_url
) -> None:
    positions = seed(add_events, event_log)
    tags = {
        ASSET_PARTITION_RANGE_START_TAG: "2026-06-01",
        ASSET_PARTITION_RANGE_END_TAG: "2026-06-02",
    }
    assert materialize([daily_event_stats], tags=tags, resources=resources).success
    first = table(database_url)
    assert (date(2026, 6, 2), "street", "gate", "b_to_a", 1) in first
    event_log.delete(positions[0])
    assert materialize([daily_event_stats], tags=tags, resources=resources).success
    again = table(database_url)
    assert (date(2026, 6, 1), "street", "gate", "a_to_b", 2) in again
    assert len(again) == len(first)


def test_malformed_crossings_are_not_counted(resources, add_events, database_url) -> None:
    add_events(
        crossing(1, "a_to_b"),
        crossing(2, "a_to_b", event_data={"line": "gate", "direction": "sideways"}),
        crossing(3, "a_to_b", event_data={"direction": "a_to_b"}),
        crossing(4, "a_to_b", event_data={"line": "x" * 65, "direction": "a_to_b"}),
        snapshot=False,
    )
    assert materialize([daily_event_stats], partition_key="2026-06-01", resources=resources).success
    assert table(database_url) == [(date(2026, 6, 1), "street", "gate", "a_to_b", 1)]


def test_the_daily_report_has_a_line_crossings_table(
    resources, add_events, event_log, tmp_path
) -> None:
    seed(add_events, event_log)
    result = materialize(
        [daily_event_stats, daily_report], partition_key="2026-06-01", resources=resources
    )
    assert result.success
    page = (tmp_path / "reports" / "2026-06-01" / "report.html").read_text()
    section = page[page.index("<h2>Line crossings</h2>") :]
    header = "<tr><th>camera</th><th>line</th><th>a_to_b</th><th>b_to_a</th></tr>"
    assert header in section
    rows = [
        "<tr><td>street</td><td>exit</td><td>0</td><td>1</td></tr>",
        "<tr><td>street</td><td>gate</td><td>3</td><td>2</td></tr>",
        "<tr><td>yard</td><td>gate</td><td>1</td><td>0</td></tr>",
    ]
    assert [section.index(row) for row in rows] == sorted(section.index(row) for row in rows)
    empty = materialize(
        [daily_event_stats, daily_report], partition_key="2026-06-03", resources=resources
    )
    assert empty.success
    quiet = (tmp_path / "reports" / "2026-06-03" / "report.html").read_text()
    assert "No line crossed." in quiet
