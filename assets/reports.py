"""``daily_report``: an HTML report with an hourly chart and the data, per day."""

from datetime import date

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from analytics_pipeline.reports import write_report
from assets.partitions import daily_partitions
from assets.resources import EventLogResource, SnapshotsResource
from assets.statistics import daily_event_stats


@asset(
    partitions_def=daily_partitions,
    deps=[daily_event_stats],
    group_name="reports",
    kinds={"html", "parquet"},
)
def daily_report(
    context: AssetExecutionContext, event_log: EventLogResource, files: SnapshotsResource
) -> MaterializeResult:
    """Writes REPORTS_DIR/<day>/report.html, hourly.png, counts.csv and counts.parquet."""
    report = write_report(event_log.pool, files.reports, date.fromisoformat(context.partition_key))
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(report.folder)),
            "files": MetadataValue.json(report.files),
        }
    )
