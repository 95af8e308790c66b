"""``daily_report``: an HTML report with an hourly chart and the data, per day; its job."""

from datetime import date

from dagster import (
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
    define_asset_job,
)

from assets.partitions import daily_partitions
from assets.resources import EventLogResource, ReportsResource
from assets.statistics import daily_event_stats


@asset(
    partitions_def=daily_partitions,
    deps=[daily_event_stats],
    group_name="reports",
    kinds={"html", "parquet"},
)
def daily_report(
    context: AssetExecutionContext, event_log: EventLogResource, reports: ReportsResource
) -> MaterializeResult:
    """Writes REPORTS_DIR/<day>/report.html, hourly.png, counts.csv and counts.parquet."""
    from analytics_pipeline.reports import write_report  # polars, OpenCV: only when it runs

    day = date.fromisoformat(context.partition_key)
    report = write_report(event_log.pool, reports.folder, day)
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(report.folder)),
            "files": MetadataValue.json(report.files),
        }
    )


daily_report_job = define_asset_job(
    "daily_report_job",
    selection=[daily_event_stats, daily_report],
    description="Recompute a day's statistics and report.",
)
