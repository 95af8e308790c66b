"""``daily_event_stats``: per-day statistics of the log, computed with polars; its job and check.

A range of days runs as one run (``BackfillPolicy.single_run()``), from a backfill in the UI
or ``dagster asset materialize --partition-range``: the range is read from the log once (at
most :data:`MAX_DAYS_PER_READ` days per read, so memory stays bounded on longer ranges),
summarised by one polars pass grouped by day, and written over the range's derived rows in
one transaction. Each day's materialization carries that day's own metadata.
"""

from datetime import date, timedelta
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset_check,
    define_asset_job,
)
from psycopg_pool import ConnectionPool

from analytics_pipeline.daily_stats import (
    DayStats,
    compute_range,
    log_counts,
    read_daily_stats,
    write_days,
)
from assets.partitions import daily_partitions, single_run_asset
from assets.resources import EventLogResource

MAX_DAYS_PER_READ = 366
"""A longer range is read and written a year at a time, in the same run."""


def key_range(context: AssetExecutionContext | AssetCheckExecutionContext) -> tuple[date, date]:
    """The first and last day a run targets (one day, or a backfill's range)."""
    keys = context.partition_key_range
    return date.fromisoformat(keys.start), date.fromisoformat(keys.end)


def day_metadata(stats: DayStats) -> dict[str, Any]:
    """What a day's materialization shows in the UI."""
    return {
        "total_events": stats.total_events,
        "cameras": len({camera for camera, _ in stats.counts}),
        "distinct_plates": stats.distinct_plates,
        "busiest_hour": max(range(24), key=lambda h: stats.events_by_hour[h]),
        "mean_dwell_seconds": stats.mean_dwell_seconds,
        "line_crossings": sum(stats.line_counts.values()),
        "top_plates": MetadataValue.json(stats.top_plates),
    }


@single_run_asset(
    partitions_def=daily_partitions, group_name="statistics", kinds={"polars", "postgres"}
)
def daily_event_stats(
    context: AssetExecutionContext, event_log: EventLogResource
) -> MaterializeResult:
    """Counts per camera and type, per hour, object classes, plates, dwell time and line
    crossings per direction for each UTC day of the run, written over those days' rows of the
    derived tables (safe to re-run and backfill; a range runs as one run)."""
    first_day, last_day = key_range(context)
    total = 0
    start = first_day
    while start <= last_day:
        end = min(last_day, start + timedelta(days=MAX_DAYS_PER_READ - 1))
        days, snapshot = compute_range(event_log.pool, start, end)
        write_days(event_log.pool, days, snapshot)
        for stats in days:
            context.add_asset_metadata(day_metadata(stats), partition_key=stats.day.isoformat())
            total += stats.total_events
        context.log.info(f"statistics of {start} .. {end} written")
        start = end + timedelta(days=1)
    return MaterializeResult(
        metadata={
            "run_range": f"{first_day}...{last_day}",
            "run_days": (last_day - first_day).days + 1,
            "run_events": total,
        }
    )


daily_stats_job = define_asset_job(
    "daily_stats_job",
    selection=[daily_event_stats],
    description="Recompute the statistics of a day or a range of days (one run).",
)


def totals_match_log(
    pool: ConnectionPool, first_day: date | None = None, last_day: date | None = None
) -> AssetCheckResult:
    """Whether each derived day in the range (every one when unbounded) has the per
    camera/type counts of a SQL count of the log."""
    derived = read_daily_stats(pool, first_day, last_day)
    if not derived:
        return AssetCheckResult(passed=True, metadata={"days_checked": 0})
    first, last = derived[0]["day"], derived[-1]["day"]
    truth = log_counts(pool, first, last)
    mismatched = []
    for row in derived:
        ours = {(row["day"], c["camera_id"], c["event_type"]): c["events"] for c in row["counts"]}
        theirs = {k: v for k, v in truth.items() if k[0] == row["day"]}
        if ours != theirs:
            mismatched.append(row["day"].isoformat())
    never_counted = sorted({k[0] for k in truth} - {row["day"] for row in derived})
    return AssetCheckResult(
        passed=not mismatched,
        metadata={
            "days_checked": len(derived),
            "days_mismatched": MetadataValue.json(mismatched),
            "days_with_events_not_counted": MetadataValue.json([str(d) for d in never_counted]),
            "range": f"{first} .. {last}",
        },
    )


@asset_check(asset=daily_event_stats, description="Derived totals equal the log's counts.")
def daily_totals_match_log(
    context: AssetCheckExecutionContext, event_log: EventLogResource
) -> AssetCheckResult:
    """Every derived day's per camera/type counts equal a SQL count of the log: the days of
    the run when it targets some, every derived day otherwise."""
    targeted = context.has_partition_key or context.has_partition_key_range
    scope = key_range(context) if targeted else (None, None)
    return totals_match_log(event_log.pool, *scope)
