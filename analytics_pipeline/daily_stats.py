"""Daily statistics derived from the log with polars, stored in derived tables.

A range of UTC days at a time (one day is a range of one): the range's visible events are
copied out as CSV in one pass over the log (split in equal slices of time, one day too, over a
few connections read in parallel), summarised by one polars pass grouped by day, and written
over the range's rows of ``daily_event_counts``, ``daily_line_counts`` (``line_crossed``
events per camera, line and direction) and ``daily_stats`` in one transaction, so re-running a
range (a backfill) gives the same rows. The marks of days that retention changed
(``stats_stale_days``) are cleared in that transaction when the read saw the change.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import polars as pl
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from analytics_pipeline.db import query
from analytics_pipeline.eventlog import EventFilter

TOP_PLATES = 10
READERS = 2
"""Connections that read a range in parallel (each a run of whole days)."""
CSV_SCHEMA = {
    "hour_number": pl.Int64,
    "camera_id": pl.String,
    "event_type": pl.String,
    "object_class": pl.String,
    "detected_classes": pl.String,
    "plate": pl.String,
    "action": pl.String,
    "dwell_seconds": pl.Float64,
    "line": pl.String,
    "direction": pl.String,
}
DIRECTIONS = ("a_to_b", "b_to_a")
"""The two directions of a counting line, in the order of its points (docs/events.md)."""
LINE_NAME_MAX = 64


@dataclass(frozen=True)
class DayStats:
    """The statistics of one UTC day."""

    day: date
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (camera, type) -> n
    events_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    object_classes: dict[str, dict[str, int]] = field(
        default_factory=lambda: {"tracked": {}, "detected": {}}
    )
    distinct_plates: int = 0
    top_plates: list[dict[str, Any]] = field(default_factory=list)
    mean_dwell_seconds: float | None = None
    line_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """(camera, line, direction) -> crossings (``line_crossed`` events)."""

    @property
    def total_events(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class LineCount:
    """Crossings of one counting line of a camera in one direction."""

    camera_id: str
    line: str
    direction: str  # a_to_b | b_to_a
    crossings: int


@dataclass(frozen=True)
class RangeRead:
    """The events of a range of days, and the snapshot taken before they were read."""

    first_day: date
    last_day: date
    frame: pl.DataFrame
    snapshot: str


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The half-open UTC range of a day."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def days_between(first_day: date, last_day: date) -> list[date]:
    """Every day from ``first_day`` to ``last_day``, inclusive."""
    return [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]


def _slices(start: datetime, end: datetime, parts: int) -> list[tuple[datetime, datetime]]:
    """``parts`` consecutive half-open slices of equal length covering ``[start, end)``: one
    day is read by several connections too (each row falls in exactly one slice)."""
    step = (end - start) / max(1, parts)
    bounds = [start + step * n for n in range(max(1, parts))] + [end]
    return list(pairwise(bounds))


def _read_csv(pool: ConnectionPool, start: datetime, end: datetime) -> pl.DataFrame:
    buffer = io.BytesIO()
    copy_sql = query("stats_events_csv", start=sql.Literal(start), end=sql.Literal(end))
    with pool.connection() as conn, conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    return pl.read_csv(buffer, schema=CSV_SCHEMA)


def read_range(
    pool: ConnectionPool, first_day: date, last_day: date, *, readers: int = READERS
) -> RangeRead:
    """The visible events of the range (the columns the statistics need), read once, by
    ``readers`` connections in parallel, each a slice of the range's time."""
    with pool.connection() as conn:
        snapshot = conn.execute(query("stats_snapshot")).fetchone()["snapshot"]
    slices = _slices(day_bounds(first_day)[0], day_bounds(last_day)[1], readers)
    if len(slices) == 1:
        frames = [_read_csv(pool, *slices[0])]
    else:
        with ThreadPoolExecutor(len(slices), thread_name_prefix="stats-read") as workers:
            frames = list(workers.map(lambda part: _read_csv(pool, *part), slices))
    return RangeRead(first_day, last_day, pl.concat(frames), snapshot)


def _by_day(frame: pl.DataFrame, key: str) -> dict[date, dict[str, int]]:
    """{day: {key: count}} of a (day, key, len) frame, most frequent first, then by name."""
    found: dict[date, dict[str, int]] = {}
    for day, name, n in frame.sort(["day", "len", key], descending=[False, True, False]).rows():
        found.setdefault(day, {})[name] = int(n)
    return found


def _aggregate(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The per-day groupings of the statistics, computed together in one polars pass."""
    events = frame.lazy().with_columns(
        day=(pl.col("hour_number") // 24).cast(pl.Int32).cast(pl.Date)
    )
    kind, action = pl.col("event_type"), pl.col("action")
    queries = {
        "counts": events.group_by("day", "camera_id", "event_type").len(),
        "hourly": events.group_by("hour_number").len(),
        "tracked": events.filter((kind == "tracking") & (action == "entered"))
        .drop_nulls("object_class")
        .group_by("day", "object_class")
        .len(),
        # Each distinct list of classes is decoded once, after grouping.
        "detected": events.filter(kind == "detection")
        .drop_nulls("detected_classes")
        .group_by("day", "detected_classes")
        .len(),
        "plates": events.filter(kind == "anpr").drop_nulls("plate").group_by("day", "plate").len(),
        "dwell": events.filter((kind == "tracking") & (action == "left"))
        .drop_nulls("dwell_seconds")
        .group_by("day")
        .agg(pl.col("dwell_seconds").mean()),
        # Only well-formed crossings: the derived table's columns are bounded.
        "lines": events.filter(
            (kind == "line_crossed")
            & pl.col("direction").is_in(DIRECTIONS)
            & pl.col("line").str.len_chars().is_between(1, LINE_NAME_MAX)
        )
        .group_by("day", "camera_id", "line", "direction")
        .len(),
    }
    found = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    found["detected"] = (
        found["detected"]
        .with_columns(pl.col("detected_classes").str.json_decode(pl.List(pl.String)))
        .explode("detected_classes")
        .drop_nulls()
        .group_by("day", "detected_classes")
        .agg(pl.col("len").sum())
    )
    return found


def summarise_range(first_day: date, last_day: date, frame: pl.DataFrame) -> list[DayStats]:
    """The statistics of every day of the range (empty days too), from one pass over its
    events grouped by day."""
    found = _aggregate(frame)
    per_camera: dict[date, dict[tuple[str, str], int]] = {}
    for day, camera, event_type, n in found["counts"].rows():
        per_camera.setdefault(day, {})[(camera, event_type)] = int(n)
    by_hour: dict[date, list[int]] = {}
    epoch = date(1970, 1, 1)
    for hour_number, n in found["hourly"].rows():
        day = epoch + timedelta(days=hour_number // 24)
        by_hour.setdefault(day, [0] * 24)[hour_number % 24] = int(n)
    tracked = _by_day(found["tracked"], "object_class")
    detected = _by_day(found["detected"], "detected_classes")
    reads = _by_day(found["plates"], "plate")
    mean_dwell = {day: round(float(mean), 3) for day, mean in found["dwell"].rows()}
    lines: dict[date, dict[tuple[str, str, str], int]] = {}
    for day, camera, line, direction, n in found["lines"].rows():
        lines.setdefault(day, {})[(camera, line, direction)] = int(n)
    return [
        DayStats(
            day=day,
            counts=per_camera.get(day, {}),
            events_by_hour=by_hour.get(day, [0] * 24),
            object_classes={"tracked": tracked.get(day, {}), "detected": detected.get(day, {})},
            distinct_plates=len(reads.get(day, {})),
            top_plates=[
                {"plate": plate, "reads": n}
                for plate, n in list(reads.get(day, {}).items())[:TOP_PLATES]
            ],
            mean_dwell_seconds=mean_dwell.get(day),
            line_counts=lines.get(day, {}),
        )
        for day in days_between(first_day, last_day)
    ]


def compute_range(
    pool: ConnectionPool, first_day: date, last_day: date, *, readers: int = READERS
) -> tuple[list[DayStats], str]:
    """Read and summarise a range of days; the statistics and the snapshot read after."""
    read = read_range(pool, first_day, last_day, readers=readers)
    return summarise_range(first_day, last_day, read.frame), read.snapshot


def compute_day(pool: ConnectionPool, day: date) -> DayStats:
    """Read and summarise one day of the log."""
    return compute_range(pool, day, day)[0][0]


def as_columns(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> dict[str, list[Any]]:
    """Rows as one list per column, keyed by ``names`` (the array parameters of an
    ``unnest`` insert)."""
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def write_days(pool: ConnectionPool, days: list[DayStats], snapshot: str | None = None) -> None:
    """Replace the derived rows of the range ``days`` covers (one transaction); with the
    ``snapshot`` their read was taken after, clear the stale marks that read saw."""
    if not days:
        return
    first_day, last_day = min(d.day for d in days), max(d.day for d in days)
    keys = [(d.day, *key, n) for d in days for key, n in sorted(d.counts.items())]
    crossings = [(d.day, *key, n) for d in days for key, n in sorted(d.line_counts.items())]
    with pool.connection() as conn, conn.transaction():
        bounds = {"first_day": first_day, "last_day": last_day}
        conn.execute(query("delete_daily_stats_range"), bounds)
        conn.execute(
            query("insert_daily_counts"),
            as_columns(keys, ("days", "camera_ids", "event_types", "events")),
        )
        conn.execute(
            query("insert_daily_line_counts"),
            as_columns(crossings, ("days", "camera_ids", "lines", "directions", "crossings")),
        )
        conn.execute(
            query("insert_daily_stats"),
            {
                "days": [d.day for d in days],
                "total_events": [d.total_events for d in days],
                "events_by_hour": [Jsonb(d.events_by_hour) for d in days],
                "object_classes": [Jsonb(d.object_classes) for d in days],
                "distinct_plates": [d.distinct_plates for d in days],
                "top_plates": [Jsonb(d.top_plates) for d in days],
                "mean_dwell_seconds": [d.mean_dwell_seconds for d in days],
            },
        )
        if snapshot is not None:
            conn.execute(query("stale_days_clear"), {**bounds, "snapshot": snapshot})


def write_day(pool: ConnectionPool, stats: DayStats) -> None:
    """Replace one day's derived rows with ``stats`` (one transaction)."""
    write_days(pool, [stats])


def read_daily_stats(
    pool: ConnectionPool, first_day: date | None = None, last_day: date | None = None
) -> list[dict[str, Any]]:
    """Derived rows for a date range (inclusive), oldest first, with per camera/type counts
    (``counts``) and per camera/line/direction crossings (``line_counts``)."""
    with pool.connection() as conn:
        rows = conn.execute(query("daily_stats"), {"first_day": first_day, "last_day": last_day})
        return rows.fetchall()


def line_counts(pool: ConnectionPool, event_filter: EventFilter | None = None) -> list[LineCount]:
    """Crossings per camera, line and direction among the visible ``line_crossed`` events that
    match ``event_filter`` (live, from the log; ``None``: every one), ordered by camera, line
    and direction; none when the filter's event types leave ``line_crossed`` out."""
    event_filter = event_filter or EventFilter()
    if event_filter.event_types is not None and "line_crossed" not in event_filter.event_types:
        return []
    with pool.connection() as conn:
        rows = conn.execute(query("line_counts"), event_filter.params(), prepare=False).fetchall()
    return [LineCount(r["camera_id"], r["line"], r["direction"], int(r["crossings"])) for r in rows]


def stored_line_counts(
    pool: ConnectionPool,
    first_day: date | None = None,
    last_day: date | None = None,
    camera_ids: list[str] | None = None,
) -> dict[date, list[LineCount]]:
    """The crossings ``daily_event_stats`` stored for the days of a range (inclusive; ``None``
    means unbounded / every camera), per day, oldest first; days without any are left out."""
    params = {"first_day": first_day, "last_day": last_day, "camera_ids": camera_ids}
    with pool.connection() as conn:
        rows = conn.execute(query("daily_line_counts"), params).fetchall()
    found: dict[date, list[LineCount]] = {}
    for r in rows:
        count = LineCount(r["camera_id"], r["line"], r["direction"], int(r["crossings"]))
        found.setdefault(r["day"], []).append(count)
    return found


def log_counts(pool: ConnectionPool, first_day: date, last_day: date) -> dict[tuple, int]:
    """(day, camera, type) -> visible events, counted by SQL straight from the log."""
    start, _ = day_bounds(first_day)
    _, end = day_bounds(last_day)
    with pool.connection() as conn:
        rows = conn.execute(query("log_counts_by_day"), {"start": start, "end": end}).fetchall()
    return {(r["day"], r["camera_id"], r["event_type"]): int(r["events"]) for r in rows}


def stale_days(pool: ConnectionPool) -> list[dict[str, Any]]:
    """The days marked for a recount (rows left the log there), oldest first."""
    with pool.connection() as conn:
        return conn.execute(query("stale_days")).fetchall()
