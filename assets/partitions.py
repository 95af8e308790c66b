"""The daily partitions of the statistics and reports: UTC days from the first event."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import psycopg
from dagster import DailyPartitionsDefinition

from analytics_pipeline.config import get_settings
from analytics_pipeline.db import query

log = logging.getLogger(__name__)


def first_partition_day() -> date:
    """STATS_START_DATE, else the oldest event's day, else today."""
    settings = get_settings()
    if settings.stats_start_date is not None:
        return settings.stats_start_date
    today = datetime.now(UTC).date()
    try:
        with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
            row = conn.execute(query("first_event_day")).fetchone()
    except psycopg.Error as exc:
        fallback = today - timedelta(days=settings.retention_days)
        log.warning("cannot read the first event's day (%s); partitions start %s", exc, fallback)
        return fallback
    return row[0] if row and row[0] else today


daily_partitions = DailyPartitionsDefinition(
    start_date=first_partition_day().isoformat(), timezone="UTC", end_offset=1
)
