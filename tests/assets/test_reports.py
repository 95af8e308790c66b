"""Reports: a day's from its statistics (through the asset graph), and the weekly and monthly
ones from their days' rows, with charts readable at report size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import polars as pl
import pytest
from dagster import DagsterExecutionStepExecutionError, Failure, materialize
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from assets.reports import daily_report, monthly_report, weekly_report
from assets.statistics import daily_event_stats
from tests.assets.conftest import DAY1, scene

WEEK = datetime(2026, 6, 8, tzinfo=UTC)  # a Monday


def range_tags(first: str, last: str) -> dict[str, str]:
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def failure_of(error: pytest.ExceptionInfo) -> Failure:
    failure = getattr(error.value, "user_exception", error.value)
    assert isinstance(failure, Failure)
    return failure


def readable_chart(path, width: int, height: int) -> np.ndarray:
    """The PNG decodes at the size asked, with dark pixels (axes, labels) and colour (bars)."""
    image = cv2.imread(str(path))
    assert image is not None and image.shape[:2] == (height, width)
    assert (image.max(axis=2) < 80).sum() > 500  # text and axes
    assert (image.std(axis=2) > 30).sum() > 500  # coloured bars
    return image


def test_report_of_a_day(resources, add_events, tmp_path) -> None:
    add_events(*scene(DAY1), snapshot=False)
    result = materialize(
        [daily_event_stats, daily_report], partition_key="2026-06-01", resources=resources
    )
    assert result.success
    folder = tmp_path / "reports" / "2026-06-01"
    page = (folder / "report.html").read_text()
    assert "Events report, 2026-06-01" in page
    assert "AB12CDE" in page and "XY99ZZZ" in page
    # Busiest camera first: gate has 5 events, door 3.
    assert page.index("<td>gate</td><td>5</td>") < page.index("<td>door</td><td>3</td>")
    readable_chart(folder / "hourly.png", 720, 280)
    counts = pl.read_parquet(folder / "counts.parquet")
    assert counts["events"].sum() == 8
    assert pl.read_csv(folder / "counts.csv").equals(counts)


def test_reports_of_a_range_with_their_statistics_in_one_run(
    resources, add_events, tmp_path
) -> None:
    add_events(*scene(DAY1), *scene(DAY1 + timedelta(days=2)), snapshot=False)
    result = materialize(
        [daily_event_stats, daily_report],
        tags=range_tags("2026-06-01", "2026-06-03"),
        resources=resources,
    )
    assert result.success
    assert {m.partition for m in result.asset_materializations_for_node("daily_report")} == {
        "2026-06-01",
        "2026-06-02",
        "2026-06-03",
    }
    for day in ("2026-06-01", "2026-06-02", "2026-06-03"):
        assert (tmp_path / "reports" / day / "report.html").is_file()


def test_a_report_alone_names_the_missing_day_and_the_command(resources) -> None:
    with pytest.raises((Failure, DagsterExecutionStepExecutionError)) as error:
        materialize([daily_report], partition_key="2026-06-02", resources=resources)
    failure = failure_of(error)
    assert "no daily statistics for 2026-06-02" in failure.description
    command = (
        "analytics-pipeline dagster asset materialize --select daily_event_stats,daily_report"
        " --partition 2026-06-02 -f definitions.py"
    )
    assert command in failure.description
    assert failure.metadata["missing_days"].value == ["2026-06-02"]


def test_weekly_report_with_a_trend_chart(resources, add_events, tmp_path) -> None:
    for offset in range(7):
        add_events(*scene(WEEK + timedelta(days=offset))[: offset + 1], snapshot=False)
    stats = materialize(
        [daily_event_stats], tags=range_tags("2026-06-08", "2026-06-14"), resources=resources
    )
    assert stats.success
    result = materialize([weekly_report], partition_key="2026-06-08", resources=resources)
    assert result.success
    [event] = result.asset_materializations_for_node("weekly_report")
    assert event.metadata["days"].value == 7
    folder = tmp_path / "reports" / "weekly" / "2026-06-08"
    page = (folder / "report.html").read_text()
    assert "week of 2026-06-08 (2026-06-08 to 2026-06-14)" in page
    assert "28 events over 7 days" in page  # 1 + 2 + ... + 7
    assert "busiest day 2026-06-14 (7 events)" in page
    readable_chart(folder / "trend.png", 900, 380)
    days = pl.read_parquet(folder / "days.parquet")
    assert days.group_by("day").agg(pl.col("events").sum()).sort("day")["events"].to_list() == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
    ]


def test_a_period_report_names_its_missing_days(resources, add_events) -> None:
    add_events(*scene(WEEK), snapshot=False)
    materialize([daily_event_stats], partition_key="2026-06-08", resources=resources)
    with pytest.raises((Failure, DagsterExecutionStepExecutionError)) as error:
        materialize([weekly_report], partition_key="2026-06-08", resources=resources)
    failure = failure_of(error)
    missing = ", ".join(f"2026-06-{d:02d}" for d in range(9, 15))
    assert f"weekly_report 2026-06-08: no daily statistics for {missing}" in failure.description
    assert "--select daily_event_stats --partition-range 2026-06-09...2026-06-14" in (
        failure.description
    )


def test_monthly_report(resources, add_events, tmp_path) -> None:
    add_events(*scene(datetime(2026, 2, 3, tzinfo=UTC)), snapshot=False)
    stats = materialize(
        [daily_event_stats], tags=range_tags("2026-02-01", "2026-02-28"), resources=resources
    )
    assert stats.success
    assert materialize([monthly_report], partition_key="2026-02-01", resources=resources).success
    folder = tmp_path / "reports" / "monthly" / "2026-02"
    page = (folder / "report.html").read_text()
    assert "Events report, February 2026 (UTC)" in page
    assert "8 events over 28 days" in page
    readable_chart(folder / "trend.png", 900, 380)
