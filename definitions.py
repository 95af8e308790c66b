"""The Dagster code location (workspace.yaml): assets/ and sensors/, with their resources."""

from __future__ import annotations

from dagster import Definitions

from analytics_pipeline.config import get_settings
from assets.reports import daily_report
from assets.resources import resources_from_settings
from assets.retention import no_orphans_after_retention, retention
from assets.statistics import daily_event_stats, daily_totals_match_log
from assets.thumbnails import snapshot_thumbnails
from sensors.event_log import event_log_sensor
from sensors.jobs import daily_report_job, daily_stats_job, retention_job, thumbnails_job
from sensors.schedules import daily_report_schedule, retention_schedule

defs = Definitions(
    assets=[daily_event_stats, snapshot_thumbnails, retention, daily_report],
    asset_checks=[daily_totals_match_log, no_orphans_after_retention],
    jobs=[daily_stats_job, thumbnails_job, retention_job, daily_report_job],
    sensors=[event_log_sensor],
    schedules=[retention_schedule, daily_report_schedule],
    resources=resources_from_settings(get_settings()),
)
