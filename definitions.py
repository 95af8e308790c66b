"""The Dagster code location (workspace.yaml): assets/ with their jobs, sensors/ with the
schedules, and the resources Dagster builds at run time.

Importing it has no side effect: no database is read (the partitions start at
STATS_START_DATE), no service setting is loaded (resources read theirs when a run needs
them). Steps run in the run's own process (in-process executor), so stopping a run or a
``dagster asset materialize`` stops its step with it.
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from assets.plate_reread import plate_reread, plate_reread_job
from assets.reports import (
    daily_report,
    daily_report_job,
    monthly_report,
    monthly_report_job,
    weekly_report,
    weekly_report_job,
)
from assets.resources import default_resources
from assets.retention import no_orphans_after_retention, retention, retention_job
from assets.statistics import daily_event_stats, daily_stats_job, daily_totals_match_log
from assets.thumbnails import snapshot_thumbnails, thumbnails_job
from sensors.event_log import event_log_sensor
from sensors.schedules import (
    daily_report_schedule,
    monthly_report_schedule,
    retention_schedule,
    weekly_report_schedule,
)

defs = Definitions(
    assets=[
        daily_event_stats,
        snapshot_thumbnails,
        retention,
        daily_report,
        weekly_report,
        monthly_report,
        plate_reread,
    ],
    asset_checks=[daily_totals_match_log, no_orphans_after_retention],
    jobs=[
        daily_stats_job,
        thumbnails_job,
        retention_job,
        daily_report_job,
        weekly_report_job,
        monthly_report_job,
        plate_reread_job,
    ],
    sensors=[event_log_sensor],
    schedules=[
        retention_schedule,
        daily_report_schedule,
        weekly_report_schedule,
        monthly_report_schedule,
    ],
    resources=default_resources(),
    executor=in_process_executor,
)
