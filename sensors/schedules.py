"""Daily schedules: retention (RETENTION_CRON) and the report (REPORT_CRON), UTC."""

from datetime import timedelta

from dagster import RunRequest, ScheduleDefinition, ScheduleEvaluationContext, schedule

from analytics_pipeline.config import get_settings
from sensors.jobs import daily_report_job, retention_job

retention_schedule = ScheduleDefinition(
    name="retention_schedule",
    job=retention_job,
    cron_schedule=get_settings().retention_cron,
    execution_timezone="UTC",
)


@schedule(job=daily_report_job, cron_schedule=get_settings().report_cron, execution_timezone="UTC")
def daily_report_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """The report of the day before the scheduled time."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return RunRequest(run_key=f"daily_report:{day}", partition_key=day)
