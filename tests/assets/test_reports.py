"""daily_report: the HTML, chart and data of one day."""

from __future__ import annotations

import cv2
import polars as pl
import pytest
from dagster import materialize

from assets.reports import daily_report
from assets.statistics import daily_event_stats
from tests.assets.conftest import DAY1, scene


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
    chart = cv2.imread(str(folder / "hourly.png"))
    assert chart is not None and chart.shape[1] == 720
    counts = pl.read_parquet(folder / "counts.parquet")
    assert counts["events"].sum() == 8
    assert pl.read_csv(folder / "counts.csv").equals(counts)


def test_report_needs_the_statistics_first(resources) -> None:
    with pytest.raises(Exception, match="materialize daily_event_stats first"):
        materialize([daily_report], partition_key="2026-06-02", resources=resources)
