"""The jobs that sensors and schedules start."""

from __future__ import annotations

from dagster import define_asset_job

from assets.reports import daily_report
from assets.retention import retention
from assets.statistics import daily_event_stats
from assets.thumbnails import snapshot_thumbnails

daily_stats_job = define_asset_job(
    "daily_stats_job",
    selection=[daily_event_stats],
    description="Recompute one day's statistics.",
)
thumbnails_job = define_asset_job(
    "thumbnails_job", selection=[snapshot_thumbnails], description="Make missing thumbnails."
)
retention_job = define_asset_job(
    "retention_job", selection=[retention], description="Apply the retention policy."
)
daily_report_job = define_asset_job(
    "daily_report_job",
    selection=[daily_event_stats, daily_report],
    description="Recompute a day's statistics and report.",
)
