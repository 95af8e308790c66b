"""Daily schedules: retention (RETENTION_CRON) and the report (REPORT_CRON), UTC.

The crons are part of the definitions, read at import from the environment and ``.env``
(``assets/settings.py``); the jobs live beside the assets they run."""

from datetime import timedelta

from dagster import RunRequest, ScheduleDefinition, ScheduleEvaluationContext, schedule

from assets.reports import daily_report_job
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
    """The report of the day before the scheduled time."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return RunRequest(run_key=f"daily_report:{day}", partition_key=day)
