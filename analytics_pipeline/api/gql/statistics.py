"""Statistics: totals over a filter (from the log) and daily statistics (derived by Dagster)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import graphene

from analytics_pipeline.api.gql.common import JSON
from analytics_pipeline.api.gql.context import context
from analytics_pipeline.api.gql.events import EventFilter, to_event_filter
from analytics_pipeline.daily_stats import line_counts, read_daily_stats
from analytics_pipeline.db import query
from analytics_pipeline.eventlog import EventFilter as EventFilterModel
from graphql import GraphQLError, GraphQLResolveInfo


class CountByType(graphene.ObjectType):
    event_type = graphene.String(required=True)
    count = graphene.Int(required=True)


class CountByCamera(graphene.ObjectType):
    camera_id = graphene.String(required=True)
    count = graphene.Int(required=True)


class TimeUnit(graphene.Enum):
    """A chart bucket's width."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


class CountByTime(graphene.ObjectType):
    start = graphene.DateTime(required=True, description="Start of the bucket (UTC).")
    count = graphene.Int(required=True)


class TimeCounts(graphene.ObjectType):
    """Events per bucket of ``unit``; buckets without events are left out."""

    unit = graphene.Field(graphene.NonNull(TimeUnit))
    buckets = graphene.List(graphene.NonNull(CountByTime), required=True)


MINUTE_SPAN = timedelta(hours=3)  # spans up to this are charted per minute
HOUR_SPAN = timedelta(days=7)  # ...up to this per hour, longer ones per day


MAX_BUCKETS = 1500  # a chart's bars; past it a client asks for a coarser unit or less time
UNIT_LENGTH = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}


def check_bucket_count(unit: str, first: datetime | None, last: datetime | None) -> None:
    """A GraphQL error when ``first``..``last`` holds more than :data:`MAX_BUCKETS` of
    ``unit`` (what an explicit ``unit`` over a long log would ask for)."""
    if first is None or last is None:
        return
    buckets = (last - first) / UNIT_LENGTH[unit]
    if buckets > MAX_BUCKETS:
        raise GraphQLError(
            f"byTime: {buckets:.0f} {unit}s in the span asked for (at most {MAX_BUCKETS}): "
            "pick a coarser unit or a shorter span"
        )


def unit_for(first: datetime | None, last: datetime | None) -> str:
    """The bucket width for a chart from ``first`` to ``last``: minutes for an hour or so,
    hours for days, days for months (at most a few hundred bars)."""
    if first is None or last is None:
        return "hour"
    span = last - first
    if span <= MINUTE_SPAN:
        return "minute"
    return "hour" if span <= HOUR_SPAN else "day"


class LineCount(graphene.ObjectType):
    """Crossings of one counting line of a camera in one direction (line_crossed events)."""

    camera_id = graphene.String(required=True)
    line = graphene.String(required=True)
    direction = graphene.String(
        required=True,
        description="a_to_b or b_to_a: from the left of the way from the line's first point "
        "to its second to its right, on the image (docs/events.md).",
    )
    count = graphene.Int(required=True)

    @staticmethod
    def resolve_count(root: Any, info: GraphQLResolveInfo) -> int:
        return root["crossings"] if isinstance(root, dict) else root.crossings


class CountByHour(graphene.ObjectType):
    hour = graphene.DateTime(required=True, description="Start of the hour (UTC).")
    count = graphene.Int(required=True)


@dataclass(frozen=True)
class Count:
    """One row of a breakdown: the key under the name its GraphQL type asks for."""

    count: int
    event_type: str | None = None
    camera_id: str | None = None
    hour: datetime | None = None


@dataclass(frozen=True)
class StatsResult:
    """What ``eventStats`` resolves to: the totals, and the filter ``byHour`` counts with."""

    total_events: int
    by_type: list[Count]
    by_camera: list[Count]
    first_event: datetime | None
    last_event: datetime | None
    event_filter: EventFilterModel


class EventStats(graphene.ObjectType):
    """Totals over the events matching a filter."""

    total_events = graphene.Int(required=True)
    by_type = graphene.List(graphene.NonNull(CountByType), required=True)
    by_camera = graphene.List(graphene.NonNull(CountByCamera), required=True)
    by_hour = graphene.List(graphene.NonNull(CountByHour), required=True)
    by_time = graphene.Field(
        graphene.NonNull(TimeCounts),
        unit=TimeUnit(),
        description="Events per minute, hour or day; without `unit`, the width that suits "
        "the span shown (the filter's start and end, else the first and last event).",
    )
    line_counts = graphene.List(
        graphene.NonNull(LineCount),
        required=True,
        description="Crossings of counting lines per camera, line and direction among the "
        "matching events (none when the filter's types leave out line_crossed).",
    )
    first_event = graphene.DateTime()
    last_event = graphene.DateTime()

    @staticmethod
    def resolve_line_counts(root: StatsResult, info: GraphQLResolveInfo) -> list[Any]:
        return line_counts(context(info).state.event_log.pool, root.event_filter)

    @staticmethod
    def resolve_by_time(
        root: StatsResult, info: GraphQLResolveInfo, unit: Any = None
    ) -> dict[str, Any]:
        event_filter = root.event_filter
        unit = getattr(unit, "value", unit)  # graphene hands enum arguments over as members
        first, last = event_filter.start or root.first_event, event_filter.end or root.last_event
        if unit is None:
            unit = unit_for(first, last)  # days past a week: a bar a day, however long
        else:
            check_bucket_count(unit, first, last)
        pool = context(info).state.event_log.pool
        with pool.connection() as conn:
            rows = conn.execute(
                query("count_by_bucket"), event_filter.params() | {"unit": unit}, prepare=False
            ).fetchall()
        buckets = [Count(count=int(row["n"]), hour=row["start"]) for row in rows]
        return {"unit": unit, "buckets": [{"start": b.hour, "count": b.count} for b in buckets]}

    @staticmethod
    def resolve_by_hour(root: StatsResult, info: GraphQLResolveInfo) -> list[Count]:
        hours = context(info).state.event_log.count_by_hour(root.event_filter)
        return [Count(hour=hour, count=count) for hour, count in hours]


class PlateCount(graphene.ObjectType):
    plate = graphene.String(required=True)
    reads = graphene.Int(required=True)


class DailyCount(graphene.ObjectType):
    camera_id = graphene.String(required=True)
    event_type = graphene.String(required=True)
    events = graphene.Int(required=True)


class DailyStats(graphene.ObjectType):
    """Statistics of one UTC day, derived from the log by Dagster (daily_event_stats)."""

    day = graphene.Date(required=True)
    total_events = graphene.Int(required=True)
    counts = graphene.List(graphene.NonNull(DailyCount), required=True)
    events_by_hour = graphene.List(graphene.NonNull(graphene.Int), required=True)
    object_classes = JSON(required=True, description="{tracked: {class: n}, detected: {...}}")
    distinct_plates = graphene.Int(required=True)
    top_plates = graphene.List(graphene.NonNull(PlateCount), required=True)
    mean_dwell_seconds = graphene.Float()
    line_counts = graphene.List(
        graphene.NonNull(LineCount),
        required=True,
        description="Crossings of counting lines per camera, line and direction that day.",
    )
    computed_at = graphene.DateTime(required=True)


class StatisticsQuery:
    """The statistics fields of ``Query``."""

    event_stats = graphene.Field(graphene.NonNull(EventStats), filter=EventFilter())
    daily_stats = graphene.List(
        graphene.NonNull(DailyStats),
        required=True,
        start=graphene.Date(description="First day (inclusive)."),
        end=graphene.Date(description="Last day (inclusive)."),
        description="Derived daily statistics (computed by Dagster), oldest day first.",
    )

    @staticmethod
    def resolve_daily_stats(
        root: None, info: GraphQLResolveInfo, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        return read_daily_stats(context(info).state.event_log.pool, start, end)

    @staticmethod
    def resolve_event_stats(
        root: None,
        info: GraphQLResolveInfo,
        filter: dict[str, Any] | None = None,
    ) -> StatsResult:
        event_filter = to_event_filter(filter)
        stats = context(info).state.event_log.stats(event_filter)
        return StatsResult(
            total_events=stats.total_events,
            by_type=[Count(event_type=k, count=v) for k, v in stats.events_by_type.items()],
            by_camera=[Count(camera_id=k, count=v) for k, v in stats.events_by_camera.items()],
            first_event=stats.first_event,
            last_event=stats.last_event,
            event_filter=event_filter,
        )
