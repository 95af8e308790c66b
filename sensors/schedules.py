"""Schedules, UTC: retention (RETENTION_CRON), the daily report (REPORT_CRON), and the weekly
and monthly reports (each after its period ends, an hour after the default daily report).

The crons are part of the definitions, read at import from the environment and ``.env``
(``assets/settings.py``); the jobs live beside the assets they run."""

from datetime import timedelta

from dagster import (
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    build_schedule_from_partitioned_job,
    schedule,
)

from assets.reports import daily_report_job, monthly_report_job, weekly_report_job
from assets.retention import retention_job
from assets.settings import LOCATION

retention_schedule = ScheduleDefinition(
    name="retention_schedule",
    job=retention_job,
    cron_schedule=LOCATION.retention_cron,
    execution_timezone="UTC",
)


@schedule(job=daily_report_job, cron_schedule=LOCATION.report_cron, execution_timezone="UTC")
def daily_report_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """The report of the day before the scheduled time (its statistics recounted first)."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return RunRequest(run_key=f"daily_report:{day}", partition_key=day)


weekly_report_schedule = build_schedule_from_partitioned_job(
    weekly_report_job, name="weekly_report_schedule", hour_of_day=7
)
"""Mondays at 07:00 UTC: the week that just ended."""

monthly_report_schedule = build_schedule_from_partitioned_job(
    monthly_report_job, name="monthly_report_schedule", hour_of_day=7, minute_of_hour=15
)
"""The 1st of each month at 07:15 UTC: the month that just ended."""
