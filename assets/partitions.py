"""The daily partitions of the statistics and reports: UTC days from STATS_START_DATE.

The start is static (a setting, 2026-01-01 by default), never the first event's day read from
the database: importing the code location touches nothing, and retention does not move it.
"""

from __future__ import annotations

from dagster import DailyPartitionsDefinition

from assets.settings import LOCATION

daily_partitions = DailyPartitionsDefinition(
    start_date=LOCATION.first_partition_day.isoformat(), timezone="UTC", end_offset=1
)
