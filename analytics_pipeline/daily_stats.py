"""Daily statistics derived from the log with polars, stored in derived tables.

One UTC day at a time: the day's visible events are copied out as CSV (one COPY), summarised
with polars, and written over that day's rows of ``daily_event_counts`` and ``daily_stats`` in
one transaction, so re-running a day (a backfill) gives the same rows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from analytics_pipeline.db import query

TOP_PLATES = 10
CSV_SCHEMA = {
    "camera_id": pl.String,
    "event_type": pl.String,
    "hour": pl.Int32,
    "object_class": pl.String,
    "detected_classes": pl.String,
    "plate": pl.String,
    "action": pl.String,
    "dwell_seconds": pl.Float64,
}


@dataclass(frozen=True)
class DayStats:
    """The statistics of one UTC day."""

    day: date
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (camera, type) -> n
    events_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    object_classes: dict[str, dict[str, int]] = field(default_factory=dict)
    distinct_plates: int = 0
    top_plates: list[dict[str, Any]] = field(default_factory=list)
    mean_dwell_seconds: float | None = None

    @property
    def total_events(self) -> int:
        return sum(self.counts.values())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The half-open UTC range of a day."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def read_day(pool: ConnectionPool, day: date) -> pl.DataFrame:
    """The day's visible events, the columns the statistics need, as a polars frame."""
    start, end = day_bounds(day)
    buffer = io.BytesIO()
    copy_sql = query("day_events_csv", start=sql.Literal(start), end=sql.Literal(end))
    with pool.connection() as conn, conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    return pl.read_csv(buffer, schema=CSV_SCHEMA)


def _class_counts(column: pl.Series) -> dict[str, int]:
    counts = column.drop_nulls().value_counts(sort=True)
    return {row[0]: int(row[1]) for row in counts.iter_rows()}


def summarise(day: date, frame: pl.DataFrame) -> DayStats:
    """The statistics of one day's events."""
    if frame.is_empty():
        return DayStats(day)
    counts = frame.group_by("camera_id", "event_type").len()
    hourly = frame.group_by("hour").len()
    by_hour = [0] * 24
    for hour, n in hourly.iter_rows():
        by_hour[hour] = int(n)
    tracked = frame.filter((pl.col("event_type") == "tracking") & (pl.col("action") == "entered"))
    detected = frame.filter(pl.col("event_type") == "detection")["detected_classes"]
    plates = frame.filter(pl.col("event_type") == "anpr")["plate"].drop_nulls()
    top = plates.value_counts(sort=True).head(TOP_PLATES)
    dwell = frame.filter((pl.col("event_type") == "tracking") & (pl.col("action") == "left"))[
        "dwell_seconds"
    ].drop_nulls()
    return DayStats(
        day=day,
        counts={(c, t): int(n) for c, t, n in counts.iter_rows()},
        events_by_hour=by_hour,
        object_classes={
            "tracked": _class_counts(tracked["object_class"]),
            "detected": _class_counts(detected.str.split("|").explode()),
        },
        distinct_plates=plates.n_unique(),
        top_plates=[{"plate": p, "reads": int(n)} for p, n in top.iter_rows()],
        mean_dwell_seconds=float(dwell.mean()) if len(dwell) else None,  # type: ignore[arg-type]
    )


def compute_day(pool: ConnectionPool, day: date) -> DayStats:
    """Read and summarise one day of the log."""
    return summarise(day, read_day(pool, day))


def write_day(pool: ConnectionPool, stats: DayStats) -> None:
    """Replace the day's derived rows with ``stats`` (one transaction)."""
    keys = sorted(stats.counts)
    with pool.connection() as conn, conn.transaction():
        conn.execute(query("delete_daily_stats"), {"day": stats.day})
        conn.execute(
            query("replace_daily_counts"),
            {
                "day": stats.day,
                "camera_ids": [k[0] for k in keys],
                "event_types": [k[1] for k in keys],
                "events": [stats.counts[k] for k in keys],
            },
        )
        conn.execute(
            query("replace_daily_stats"),
            {
                "day": stats.day,
                "total_events": stats.total_events,
                "events_by_hour": Jsonb(stats.events_by_hour),
                "object_classes": Jsonb(stats.object_classes),
                "distinct_plates": stats.distinct_plates,
                "top_plates": Jsonb(stats.top_plates),
                "mean_dwell_seconds": stats.mean_dwell_seconds,
            },
        )


def read_daily_stats(
    pool: ConnectionPool, first_day: date | None = None, last_day: date | None = None
) -> list[dict[str, Any]]:
    """Derived rows for a date range (inclusive), oldest first, with per camera/type counts."""
    with pool.connection() as conn:
        rows = conn.execute(query("daily_stats"), {"first_day": first_day, "last_day": last_day})
        return rows.fetchall()


def log_counts(pool: ConnectionPool, first_day: date, last_day: date) -> dict[tuple, int]:
    """(day, camera, type) -> visible events, counted by SQL straight from the log."""
    start, _ = day_bounds(first_day)
    _, end = day_bounds(last_day)
    with pool.connection() as conn:
        rows = conn.execute(query("log_counts_by_day"), {"start": start, "end": end}).fetchall()
    return {(r["day"], r["camera_id"], r["event_type"]): int(r["events"]) for r in rows}
