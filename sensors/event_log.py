"""``event_log_sensor``: follows the log by commit-safe cursor and requests derived work."""

from datetime import date, datetime

from dagster import RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from analytics_pipeline.eventlog import format_cursor, parse_cursor
from analytics_pipeline.events import StoredEvent
from assets.partitions import daily_partitions
from assets.resources import EventLogResource
from assets.statistics import daily_stats_job
from assets.thumbnails import thumbnails_job

BATCH = 20_000


def affected_day(event: StoredEvent) -> date:
    """The day whose statistics an event changes (a tombstone: the deleted event's day)."""
    if event.event_type == "event_deleted" and "deleted_timestamp" in event.event_data:
        return datetime.fromisoformat(event.event_data["deleted_timestamp"]).date()
    return event.timestamp.date()


@sensor(jobs=[daily_stats_job, thumbnails_job], minimum_interval_seconds=30)
def event_log_sensor(
    context: SensorEvaluationContext, event_log: EventLogResource
) -> SensorResult | SkipReason:
    """On new events: the statistics of every day they touch, and thumbnails from the first
    new snapshot on. Run keys come from the cursor, so a tick evaluated again requests the
    same runs (which Dagster starts once). Errors raise: a broken sensor shows as failed."""
    cursor = parse_cursor(context.cursor)
    events = event_log.event_log.read_after(cursor, limit=BATCH)
    if not events:
        return SkipReason(f"no new events after {format_cursor(cursor)}")
    new_cursor = format_cursor(events[-1].cursor)
    keys = set(daily_partitions.get_partition_keys(dynamic_partitions_store=None))
    days = sorted({affected_day(e).isoformat() for e in events})
    outside = [d for d in days if d not in keys]
    if outside:
        context.log.warning(f"events on days outside the partitions, not counted: {outside}")
    requests = [
        RunRequest(
            run_key=f"daily_event_stats:{day}:{new_cursor}",
            job_name=daily_stats_job.name,
            partition_key=day,
        )
        for day in days
        if day in keys
    ]
    with_snapshots = [e.id for e in events if e.snapshot_path]
    if with_snapshots:
        requests.append(
            RunRequest(
                run_key=f"snapshot_thumbnails:{new_cursor}",
                job_name=thumbnails_job.name,
                run_config={
                    "ops": {
                        "snapshot_thumbnails": {
                            "config": {"after_position": min(with_snapshots) - 1}
                        }
                    }
                },
            )
        )
    return SensorResult(run_requests=requests, cursor=new_cursor)
