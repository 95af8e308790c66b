"""``snapshot_thumbnails``: a 320 px JPEG for every snapshot (idempotent); its job."""

from dagster import AssetExecutionContext, Config, MaterializeResult, asset, define_asset_job

from analytics_pipeline.db import query
from assets.resources import EventLogResource, SnapshotsResource

BATCH = 1000


class ThumbnailsConfig(Config):
    """Start after this log position (the sensor passes where new events begin)."""

    after_position: int = 0


@asset(group_name="images", kinds={"opencv"})
def snapshot_thumbnails(
    context: AssetExecutionContext,
    config: ThumbnailsConfig,
    event_log: EventLogResource,
    snapshots: SnapshotsResource,
) -> MaterializeResult:
    """Makes the thumbnails that are missing; existing ones are left alone."""
    store = snapshots.thumbnails
    made = existing = missing = made_bytes = 0
    after = config.after_position
    while True:
        with event_log.pool.connection() as conn:
            rows = conn.execute(query("snapshots_after"), {"after_id": after, "limit": BATCH})
            batch = rows.fetchall()
        if not batch:
            break
        after = batch[-1]["id"]
        for row in batch:
            try:
                path, new = store.ensure(row["snapshot_path"])
            except FileNotFoundError:
                missing += 1
                continue
            if new:
                made += 1
                made_bytes += path.stat().st_size
            else:
                existing += 1
    if missing:
        context.log.warning(f"{missing} snapshot file(s) are missing; no thumbnail made for them")
    return MaterializeResult(
        metadata={
            "made": made,
            "bytes": made_bytes,
            "already_there": existing,
            "snapshots_missing": missing,
            "last_position": after,
        }
    )


thumbnails_job = define_asset_job(
    "thumbnails_job", selection=[snapshot_thumbnails], description="Make missing thumbnails."
)
