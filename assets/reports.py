"""Reports built from the daily statistics, and their jobs.

- ``daily_report``: a day's page, hourly chart and data, from the same day's
  ``daily_event_stats`` (identity partition mapping). ``daily_report_job`` (and its schedule)
  recounts the day's statistics before the report, in the same run.
- ``weekly_report`` and ``monthly_report``: their own partitions (complete weeks and months),
  from the period's daily rows (time-window partition mapping), with a trend chart.

A report never reads the log: a day whose statistics are missing or out of date fails the
report with the days named and the command that counts them.
"""

from datetime import date
from typing import Literal

from dagster import (
    AssetDep,
    AssetExecutionContext,
    Failure,
    IdentityPartitionMapping,
    MaterializeResult,
    MetadataValue,
    TimeWindowPartitionMapping,
    TimeWindowPartitionsDefinition,
    define_asset_job,
)

from analytics_pipeline.daily_stats import days_between
from analytics_pipeline.reports import (
    MissingStatistics,
    Period,
    statistics_for,
    write_period_report,
    write_report,
)
from assets.partitions import (
    daily_partitions,
    days_of,
    monthly_partitions,
    single_run_asset,
    weekly_partitions,
)
from assets.resources import EventLogResource, ReportsResource
from assets.statistics import daily_event_stats, key_range

CLI = "analytics-pipeline dagster asset materialize"


def recount_command(days: list[date], with_report: bool = False) -> str:
    """The CLI command that counts ``days`` (and writes their daily reports)."""
    select = "daily_event_stats,daily_report" if with_report else "daily_event_stats"
    first, last = min(days), max(days)
    target = f"--partition {first}" if first == last else f"--partition-range {first}...{last}"
    return f"{CLI} --select {select} {target} -f definitions.py"


def missing_statistics(report: str, error: MissingStatistics, daily: bool) -> Failure:
    """A plain failure naming the upstream days to count first, and how."""
    days = sorted({*error.missing, *error.stale})
    command = recount_command(days, with_report=daily)
    return Failure(
        description=f"{report}: {error}. Count them first (upstream daily_event_stats): "
        f"{command}" + (" (or run daily_report_job)" if daily else ""),
        metadata={
            "missing_days": MetadataValue.json([str(d) for d in error.missing]),
            "stale_days": MetadataValue.json([str(d) for d in error.stale]),
            "command": command,
        },
    )


@single_run_asset(
    partitions_def=daily_partitions,
    deps=[AssetDep(daily_event_stats, partition_mapping=IdentityPartitionMapping())],
    group_name="reports",
    kinds={"html", "parquet"},
)
def daily_report(
    context: AssetExecutionContext, event_log: EventLogResource, reports: ReportsResource
) -> MaterializeResult:
    """Writes REPORTS_DIR/<day>/report.html, hourly.png, counts.csv and counts.parquet for
    each day of the run, from the same day's statistics."""
    first_day, last_day = key_range(context)
    try:
        statistics_for(event_log.pool, first_day, last_day)
    except MissingStatistics as error:
        days = f"{first_day}" if first_day == last_day else f"{first_day}...{last_day}"
        raise missing_statistics(f"daily_report {days}", error, True) from None
    for day in days_between(first_day, last_day):
        report = write_report(event_log.pool, reports.folder, day)
        context.add_asset_metadata(
            {"folder": MetadataValue.path(str(report.folder))}, partition_key=day.isoformat()
        )
    return MaterializeResult(metadata={"files": MetadataValue.json(report.files)})


def _period_reports(
    context: AssetExecutionContext,
    event_log: EventLogResource,
    reports: ReportsResource,
    partitions: TimeWindowPartitionsDefinition,
    kind: Literal["weekly", "monthly"],
) -> MaterializeResult:
    """One report per week or month of the run."""
    files: list[str] = []
    for key in context.partition_keys:
        period = Period(kind, *days_of(partitions, key))
        try:
            folder = write_period_report(event_log.pool, reports.folder, period)
        except MissingStatistics as error:
            raise missing_statistics(f"{kind}_report {period.name}", error, False) from None
        days = (period.last_day - period.first_day).days + 1
        context.add_asset_metadata(
            {"folder": MetadataValue.path(str(folder)), "days": days}, partition_key=key
        )
        files = period.files(reports.folder)
    return MaterializeResult(metadata={"files": MetadataValue.json(files)})


_PERIOD = {"group_name": "reports", "kinds": {"html", "parquet"}}
_FROM_DAYS = [AssetDep(daily_event_stats, partition_mapping=TimeWindowPartitionMapping())]


@single_run_asset(partitions_def=weekly_partitions, deps=_FROM_DAYS, **_PERIOD)
def weekly_report(
    context: AssetExecutionContext, event_log: EventLogResource, reports: ReportsResource
) -> MaterializeResult:
    """REPORTS_DIR/weekly/<Monday>/: the week's page, trend chart (events per day by type)
    and data, from its seven days' statistics."""
    return _period_reports(context, event_log, reports, weekly_partitions, "weekly")


@single_run_asset(partitions_def=monthly_partitions, deps=_FROM_DAYS, **_PERIOD)
def monthly_report(
    context: AssetExecutionContext, event_log: EventLogResource, reports: ReportsResource
) -> MaterializeResult:
    """REPORTS_DIR/monthly/<YYYY-MM>/: the month's page, trend chart and data, from its
    days' statistics."""
    return _period_reports(context, event_log, reports, monthly_partitions, "monthly")


daily_report_job = define_asset_job(
    "daily_report_job",
    selection=[daily_event_stats, daily_report],
    description="Recount a day's statistics, then write its report (one run).",
)
weekly_report_job = define_asset_job(
    "weekly_report_job", selection=[weekly_report], description="Write a week's report."
)
monthly_report_job = define_asset_job(
    "monthly_report_job", selection=[monthly_report], description="Write a month's report."
)
