"""``retention``: expired events leave with their files; orphan files are swept; its job.

The days it changes are marked in ``stats_stale_days`` (purged events by a trigger in the
purge's transaction, dropped days here, after the run), so ``event_log_sensor`` requests
their recount and no derived day disagrees with the log for longer than a sensor tick and a
run.
"""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    define_asset_job,
)

from analytics_pipeline.daily_stats import stale_days
from analytics_pipeline.db import query
from analytics_pipeline.retention import Retention
from assets.resources import (
    EventLogResource,
    RedisResource,
    RetentionPolicyResource,
    SnapshotsResource,
)

PARTITIONS_AHEAD = 7


class RetentionConfig(Config):
    """``dry_run``: report what would be removed and remove nothing."""

    dry_run: bool = False


@asset(group_name="maintenance", kinds={"postgres"})
def retention(
    context: AssetExecutionContext,
    config: RetentionConfig,
    event_log: EventLogResource,
    snapshots: SnapshotsResource,
    retention_policy: RetentionPolicyResource,
    stream: RedisResource,
) -> MaterializeResult:
    """Finishes what an interrupted run left, drops whole day partitions past the longest
    policy (detached concurrently: readers are never blocked), purges other expired and
    deleted events with their snapshot and thumbnail, sweeps orphans past the grace period,
    enforces the snapshot quota on the bytes live rows reference, and makes the log's
    partitions for the coming week. Safe to kill at any point and run again."""
    policy = retention_policy.policy
    now = datetime.now(UTC)
    report = Retention(event_log.pool, snapshots.thumbnails).run(
        policy, now=now, dry_run=config.dry_run
    )
    recount: list[str] = []
    if not config.dry_run:
        today = now.date()
        event_log.event_log.ensure_partitions(
            [today + timedelta(days=d) for d in range(PARTITIONS_AHEAD + 1)]
        )
        with event_log.pool.connection() as conn:
            cutoff = (now - timedelta(days=policy.longest_days)).date()
            conn.execute(query("stale_days_mark_dropped"), {"cutoff": cutoff})
        recount = [str(row["day"]) for row in stale_days(event_log.pool)]
    try:
        stream_length: int | str = stream.client().xlen(stream.stream_key)
    except Exception as exc:
        stream_length = f"unavailable: {exc}"
    summary = asdict(report)
    context.log.info(f"retention {'(dry run) ' if config.dry_run else ''}{summary}")
    return MaterializeResult(
        metadata={
            **{k: v for k, v in summary.items() if k != "partitions_dropped" and v is not None},
            "partitions_dropped": MetadataValue.json(report.partitions_dropped),
            "policy": MetadataValue.json(
                {
                    "default_days": policy.default_days,
                    "camera_days": policy.camera_days,
                    "event_type_days": policy.event_type_days,
                    "max_snapshot_bytes": policy.max_snapshot_bytes,
                }
            ),
            "stream_length": stream_length,
            "days_to_recount": MetadataValue.json(recount[:100]),  # the oldest hundred
            "days_to_recount_count": len(recount),
        }
    )


retention_job = define_asset_job(
    "retention_job", selection=[retention], description="Apply the retention policy."
)


@asset_check(asset=retention, description="No orphan files, no rows without their file.")
def no_orphans_after_retention(
    event_log: EventLogResource,
    snapshots: SnapshotsResource,
    retention_policy: RetentionPolicyResource,
) -> AssetCheckResult:
    checker = Retention(event_log.pool, snapshots.thumbnails)
    orphan_snapshots, orphan_thumbnails = checker.orphans(
        retention_policy.policy, datetime.now(UTC)
    )
    rows_missing = checker.rows_missing_files()
    return AssetCheckResult(
        passed=not orphan_snapshots and not orphan_thumbnails and rows_missing == 0,
        metadata={
            "orphan_snapshots": len(orphan_snapshots),
            "orphan_thumbnails": len(orphan_thumbnails),
            "rows_missing_files": rows_missing,
        },
    )
