"""``event_log_sensor``: follows the log by commit-safe cursor and requests derived work.

New events ask for the statistics of the days they touch; days that retention (or an
erasure) changed, marked in ``stats_stale_days``, ask for a recount. Consecutive days go in
one run (``daily_event_stats`` runs a range as one run), so a thousand changed days cost a
few runs, not a thousand.
"""

import hashlib
from datetime import date, datetime, timedelta

from dagster import RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from analytics_pipeline.daily_stats import stale_days
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


def runs_of_days(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as (first, last) runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def stats_request(run_key: str, first_day: date, last_day: date) -> RunRequest:
    """A run of ``daily_stats_job`` over one day or a range of days."""
    if first_day == last_day:
        return RunRequest(
            run_key=run_key, job_name=daily_stats_job.name, partition_key=first_day.isoformat()
        )
    return RunRequest(
        run_key=run_key,
        job_name=daily_stats_job.name,
        tags={
            ASSET_PARTITION_RANGE_START_TAG: first_day.isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: last_day.isoformat(),
        },
    )


def _recount_requests(marks: list[dict], keys: set[str]) -> list[RunRequest]:
    """Recounts of the marked days; a run key from the marks themselves, so a mark is asked
    for once (and again only when rows leave its day again)."""
    marked = {row["day"]: row["txid"] for row in marks if row["day"].isoformat() in keys}
    requests = []
    for first, last in runs_of_days(list(marked)):
        seen = ",".join(f"{d}@{txid}" for d, txid in sorted(marked.items()) if first <= d <= last)
        digest = hashlib.sha256(seen.encode()).hexdigest()[:16]
        requests.append(stats_request(f"recount:{first}...{last}:{digest}", first, last))
    return requests


@sensor(jobs=[daily_stats_job, thumbnails_job], minimum_interval_seconds=30)
def event_log_sensor(
    context: SensorEvaluationContext, event_log: EventLogResource
) -> SensorResult | SkipReason:
    """On new events: the statistics of every day they touch (runs of consecutive days in one
    run each), and thumbnails from the first new snapshot on; on days marked stale: their
    recount. Run keys come from the cursor and the marks, so a tick evaluated again requests
    the same runs (which Dagster starts once). Errors raise: a broken sensor shows as failed."""
    cursor = parse_cursor(context.cursor)
    events = event_log.event_log.read_after(cursor, limit=BATCH)
    marks = stale_days(event_log.pool)
    if not events and not marks:
        return SkipReason(f"no new events after {format_cursor(cursor)}, no day to recount")
    keys = set(daily_partitions.get_partition_keys(dynamic_partitions_store=None))
    requests = _recount_requests(marks, keys)
    if not events:
        return SensorResult(run_requests=requests)
    new_cursor = format_cursor(events[-1].cursor)
    days = sorted({affected_day(e).isoformat() for e in events})
    outside = [d for d in days if d not in keys]
    if outside:
        context.log.warning(f"events on days outside the partitions, not counted: {outside}")
    for first, last in runs_of_days([date.fromisoformat(d) for d in days if d in keys]):
        requests.append(
            stats_request(f"daily_event_stats:{first}...{last}:{new_cursor}", first, last)
        )
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
