"""The partitions of the statistics and reports: UTC days from STATS_START_DATE, and the
complete weeks (Monday to Sunday) and calendar months after it.

The start is static (a setting, 2026-01-01 by default), never the first event's day read from
the database: importing the code location touches nothing, and retention does not move it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from dagster import (
    BackfillPolicy,
    BetaWarning,
    DailyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    TimeWindowPartitionsDefinition,
    WeeklyPartitionsDefinition,
    asset,
)

from assets.settings import LOCATION

_START = LOCATION.first_partition_day.isoformat()

daily_partitions = DailyPartitionsDefinition(start_date=_START, timezone="UTC", end_offset=1)
"""Every day from the start up to today (its statistics grow as the day goes)."""

weekly_partitions = WeeklyPartitionsDefinition(start_date=_START, timezone="UTC", day_offset=1)
"""Complete weeks, Monday to Sunday, the first one starting on or after the start."""

monthly_partitions = MonthlyPartitionsDefinition(start_date=_START, timezone="UTC")
"""Complete calendar months, the first one starting on or after the start."""


def days_of(partitions: TimeWindowPartitionsDefinition, key: str) -> tuple[date, date]:
    """The first and last UTC day of a partition."""
    window = partitions.time_window_for_partition_key(key)
    return window.start.date(), (window.end - timedelta(days=1)).date()


def single_run_asset(**kwargs: Any) -> Callable[..., Any]:
    """``@asset(**kwargs)`` whose backfills run a range of partitions as one run (the
    single-run backfill policy, which ``dagster asset materialize --partition-range`` needs).

    The policy is marked beta: its warning, printed by every Dagster process that loads the
    code location, is silenced here and only here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        return asset(backfill_policy=BackfillPolicy.single_run(), **kwargs)
