"""``daily_event_stats``: per-day statistics of the log, computed with polars; its job."""

from datetime import date, timedelta

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    define_asset_job,
)

from analytics_pipeline.daily_stats import compute_day, log_counts, read_daily_stats, write_day
from assets.partitions import daily_partitions
from assets.resources import EventLogResource


@asset(partitions_def=daily_partitions, group_name="statistics", kinds={"polars", "postgres"})
def daily_event_stats(
    context: AssetExecutionContext, event_log: EventLogResource
) -> MaterializeResult:
    """Counts per camera and type, per hour, object classes, plates and dwell time for one UTC
    day, written over that day's rows of the derived tables (safe to re-run and backfill)."""
    day = date.fromisoformat(context.partition_key)
    stats = compute_day(event_log.pool, day)
    write_day(event_log.pool, stats)
    return MaterializeResult(
        metadata={
            "total_events": stats.total_events,
            "cameras": len({camera for camera, _ in stats.counts}),
            "distinct_plates": stats.distinct_plates,
            "busiest_hour": max(range(24), key=lambda h: stats.events_by_hour[h]),
            "top_plates": MetadataValue.json(stats.top_plates),
        }
    )


daily_stats_job = define_asset_job(
    "daily_stats_job", selection=[daily_event_stats], description="Recompute one day's statistics."
)


@asset_check(asset=daily_event_stats, description="Derived totals equal the log's counts.")
def daily_totals_match_log(event_log: EventLogResource) -> AssetCheckResult:
    """Every derived day's per camera/type counts equal a SQL count of the log."""
    derived = read_daily_stats(event_log.pool)
    if not derived:
        return AssetCheckResult(passed=True, metadata={"days_checked": 0})
    first, last = derived[0]["day"], derived[-1]["day"]
    truth = log_counts(event_log.pool, first, last)
    mismatched = []
    for row in derived:
        ours = {(row["day"], c["camera_id"], c["event_type"]): c["events"] for c in row["counts"]}
        theirs = {k: v for k, v in truth.items() if k[0] == row["day"]}
        if ours != theirs:
            mismatched.append(row["day"].isoformat())
    return AssetCheckResult(
        passed=not mismatched,
        metadata={
            "days_checked": len(derived),
            "days_mismatched": MetadataValue.json(mismatched),
            "range": f"{first} .. {last + timedelta(days=0)}",
        },
    )
