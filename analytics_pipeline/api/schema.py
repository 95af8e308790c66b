"""The GraphQL schema (graphene). ``graphql/schema.graphql`` is printed from it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import graphene
from graphene.types.generic import GenericScalar
from pydantic import ValidationError

from analytics_pipeline.api.cursors import BadCursor, decode_cursor, encode_cursor
from analytics_pipeline.api.deletion import delete_event
from analytics_pipeline.api.state import AppState
from analytics_pipeline.cameras import Camera as CameraModel
from analytics_pipeline.cameras import CameraInput as CameraInputModel
from analytics_pipeline.cameras import CameraUpdate as CameraUpdateModel
from analytics_pipeline.daily_stats import read_daily_stats
from analytics_pipeline.eventlog import EventFilter as EventFilterModel
from analytics_pipeline.events import StoredEvent, describe_errors, snapshot_url
from graphql import GraphQLError, GraphQLResolveInfo

DEFAULT_PAGE_SIZE = 50


class JSON(GenericScalar):
    """Any JSON value."""


class CameraLoader:
    """Per-request batch loader: the cameras of a page cost one query, not one per event."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.cache: dict[str, CameraModel | None] = {}

    def prime(self, camera_ids: Iterable[str]) -> None:
        missing = {c for c in camera_ids if c not in self.cache}
        if missing:
            found = self.state.cameras.get_many(sorted(missing))
            self.cache.update({c: found.get(c) for c in missing})

    def load(self, camera_id: str) -> CameraModel | None:
        self.prime([camera_id])
        return self.cache[camera_id]


def _state(info: GraphQLResolveInfo) -> AppState:
    return info.context["state"]


def _box(value: Any) -> list[float] | None:
    if isinstance(value, list) and len(value) == 4:
        return [float(v) for v in value]
    return None


class Camera(graphene.ObjectType):
    """A registered camera."""

    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    source_url = graphene.String(required=True)
    enabled = graphene.Boolean(required=True)
    settings = JSON(required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)


class Detection(graphene.ObjectType):
    """One detected object of a detection event."""

    class_name = graphene.String(required=True)
    confidence = graphene.Float(required=True)
    box = graphene.List(graphene.NonNull(graphene.Float), description="x1, y1, x2, y2 (px)")


class Track(graphene.ObjectType):
    """The tracked object of a tracking (entered/left) or ANPR event."""

    track_id = graphene.Int(required=True)
    action = graphene.String(description="entered or left (tracking events)")
    class_name = graphene.String()
    confidence = graphene.Float()
    box = graphene.List(graphene.NonNull(graphene.Float))
    first_seen = graphene.DateTime()
    last_seen = graphene.DateTime()
    dwell_seconds = graphene.Float()


class Plate(graphene.ObjectType):
    """The best licence-plate read of an ANPR event."""

    text = graphene.String(required=True)
    confidence = graphene.Float(required=True)
    box = graphene.List(graphene.NonNull(graphene.Float))
    track_id = graphene.Int()
    read_count = graphene.Int(description="How many reads of this vehicle were combined.")


class Event(graphene.ObjectType):
    """One event of the log."""

    id = graphene.ID(required=True, description="The global log position.")
    event_id = graphene.UUID(required=True, description="The idempotency key.")
    event_type = graphene.String(required=True)
    camera_id = graphene.String(required=True)
    camera = graphene.Field(Camera, description="The camera, if still registered.")
    timestamp = graphene.DateTime(required=True)
    frame_number = graphene.Int(required=True)
    data = JSON(required=True)
    snapshot_url = graphene.String(description="Null when the event has no snapshot.")
    thumbnail_url = graphene.String(description="Null when the event has no snapshot.")
    detections = graphene.List(graphene.NonNull(Detection), required=True)
    track = graphene.Field(Track)
    plate = graphene.Field(Plate)

    @staticmethod
    def resolve_data(event: StoredEvent, info: GraphQLResolveInfo) -> dict[str, Any]:
        return event.event_data

    @staticmethod
    def resolve_camera(event: StoredEvent, info: GraphQLResolveInfo) -> CameraModel | None:
        return info.context["cameras"].load(event.camera_id)

    @staticmethod
    def resolve_snapshot_url(event: StoredEvent, info: GraphQLResolveInfo) -> str | None:
        return snapshot_url(event)

    @staticmethod
    def resolve_thumbnail_url(event: StoredEvent, info: GraphQLResolveInfo) -> str | None:
        return f"/thumbnails/{event.id}" if event.snapshot_path else None

    @staticmethod
    def resolve_detections(event: StoredEvent, info: GraphQLResolveInfo) -> list[Detection]:
        objects = event.event_data.get("objects")
        if not isinstance(objects, list):
            return []
        return [
            Detection(
                class_name=str(o.get("class", "")),
                confidence=float(o.get("confidence", 0.0)),
                box=_box(o.get("box")),
            )
            for o in objects
            if isinstance(o, dict)
        ]

    @staticmethod
    def resolve_track(event: StoredEvent, info: GraphQLResolveInfo) -> Track | None:
        data = event.event_data
        if not isinstance(data.get("track_id"), int):
            return None
        return Track(
            track_id=data["track_id"],
            action=data.get("action"),
            class_name=data.get("class"),
            confidence=data.get("confidence") if event.event_type == "tracking" else None,
            box=_box(data.get("box")),
            first_seen=_datetime(data.get("first_seen")),
            last_seen=_datetime(data.get("last_seen")),
            dwell_seconds=data.get("dwell_seconds"),
        )

    @staticmethod
    def resolve_plate(event: StoredEvent, info: GraphQLResolveInfo) -> Plate | None:
        data = event.event_data
        if event.event_type != "anpr" or not isinstance(data.get("plate"), str):
            return None
        reads = data.get("reads")
        return Plate(
            text=data["plate"],
            confidence=float(data.get("confidence", 0.0)),
            box=_box(data.get("plate_box")),
            track_id=data.get("track_id"),
            read_count=len(reads) if isinstance(reads, list) else None,
        )


def _datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class EventFilter(graphene.InputObjectType):
    """Which events to return. ``start`` is inclusive, ``end`` exclusive."""

    camera_id = graphene.String()
    camera_ids = graphene.List(graphene.NonNull(graphene.String))
    event_types = graphene.List(graphene.NonNull(graphene.String))
    start = graphene.DateTime()
    end = graphene.DateTime()
    object_class = graphene.String(description="Detected or tracked object class.")
    plate = graphene.String(description="Plate substring, case- and space-insensitive.")
    min_confidence = graphene.Float()
    track_id = graphene.Int()


def to_event_filter(value: dict[str, Any] | None) -> EventFilterModel:
    """The log's filter from the GraphQL input."""
    value = dict(value or {})
    camera_ids = list(value.pop("camera_ids", None) or [])
    if camera_id := value.pop("camera_id", None):
        camera_ids.append(camera_id)
    return EventFilterModel(camera_ids=camera_ids or None, **value)


class EventConnection(graphene.relay.Connection):
    """A page of events, newest first, with opaque cursors over the log position."""

    class Meta:
        node = Event

    total_count = graphene.Int(required=True, description="Events matching the filter.")

    @staticmethod
    def resolve_total_count(root: EventConnection, info: GraphQLResolveInfo) -> int:
        return _state(info).event_log.count(root.event_filter)


class CountByType(graphene.ObjectType):
    event_type = graphene.String(required=True)
    count = graphene.Int(required=True)


class CountByCamera(graphene.ObjectType):
    camera_id = graphene.String(required=True)
    count = graphene.Int(required=True)


class CountByHour(graphene.ObjectType):
    hour = graphene.DateTime(required=True, description="Start of the hour (UTC).")
    count = graphene.Int(required=True)


class EventStats(graphene.ObjectType):
    """Totals over the events matching a filter."""

    total_events = graphene.Int(required=True)
    by_type = graphene.List(graphene.NonNull(CountByType), required=True)
    by_camera = graphene.List(graphene.NonNull(CountByCamera), required=True)
    by_hour = graphene.List(graphene.NonNull(CountByHour), required=True)
    first_event = graphene.DateTime()
    last_event = graphene.DateTime()

    @staticmethod
    def resolve_by_hour(root: EventStats, info: GraphQLResolveInfo) -> list[CountByHour]:
        hours = _state(info).event_log.count_by_hour(root.event_filter)
        return [CountByHour(hour=hour, count=count) for hour, count in hours]


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
    computed_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_counts(root: dict[str, Any], info: GraphQLResolveInfo) -> list[DailyCount]:
        return [DailyCount(**c) for c in root["counts"]]

    @staticmethod
    def resolve_top_plates(root: dict[str, Any], info: GraphQLResolveInfo) -> list[PlateCount]:
        return [PlateCount(**p) for p in root["top_plates"]]


def _page_size(value: int | None, info: GraphQLResolveInfo) -> int:
    limit = _state(info).settings.api_max_page_size
    if value is not None and not 0 <= value <= limit:
        raise GraphQLError(f"page size must be between 0 and {limit}")
    return value if value is not None else min(DEFAULT_PAGE_SIZE, limit)


def _position(cursor: str | None) -> int | None:
    try:
        return decode_cursor(cursor) if cursor is not None else None
    except BadCursor as exc:
        raise GraphQLError(str(exc)) from None


def _camera_input_error(exc: ValidationError) -> GraphQLError:
    return GraphQLError(f"invalid camera: {describe_errors(exc)}")


class Query(graphene.ObjectType):
    events = graphene.Field(
        graphene.NonNull(EventConnection),
        filter=EventFilter(),
        first=graphene.Int(),
        after=graphene.String(),
        last=graphene.Int(),
        before=graphene.String(),
        description="Events newest first; `first`/`after` page back in time, `last`/`before` "
        "forward.",
    )
    event = graphene.Field(Event, id=graphene.ID(required=True))
    event_stats = graphene.Field(graphene.NonNull(EventStats), filter=EventFilter())
    daily_stats = graphene.List(
        graphene.NonNull(DailyStats),
        required=True,
        start=graphene.Date(description="First day (inclusive)."),
        end=graphene.Date(description="Last day (inclusive)."),
        description="Derived daily statistics (computed by Dagster), oldest day first.",
    )
    cameras = graphene.List(graphene.NonNull(Camera), required=True)
    camera = graphene.Field(Camera, id=graphene.ID(required=True))

    @staticmethod
    def resolve_daily_stats(
        root: None, info: GraphQLResolveInfo, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        return read_daily_stats(_state(info).event_log.pool, start, end)

    @staticmethod
    def resolve_events(
        root: None,
        info: GraphQLResolveInfo,
        filter: dict[str, Any] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> EventConnection:
        if first is not None and last is not None:
            raise GraphQLError("give either first or last, not both")
        event_log = _state(info).event_log
        event_filter = to_event_filter(filter)
        after_position, before_position = _position(after), _position(before)
        if last is not None:
            # The `last` events before `before` in newest-first order are the oldest ones
            # newer than it: fetched oldest first, shown newest first.
            size = _page_size(last, info)
            rows = event_log.query(
                event_filter,
                limit=size + 1,
                after_id=before_position,
                before_id=after_position,
                descending=False,
            )
            page = list(reversed(rows[:size]))
            has_previous, has_next = len(rows) > size, before_position is not None
        else:
            size = _page_size(first, info)
            rows = event_log.query(
                event_filter, limit=size + 1, before_id=after_position, after_id=before_position
            )
            page = rows[:size]
            has_next, has_previous = len(rows) > size, after_position is not None
        info.context["cameras"].prime(e.camera_id for e in page)
        connection = EventConnection(
            edges=[EventConnection.Edge(node=e, cursor=encode_cursor(e.id)) for e in page],
            page_info=graphene.relay.PageInfo(
                has_next_page=has_next,
                has_previous_page=has_previous,
                start_cursor=encode_cursor(page[0].id) if page else None,
                end_cursor=encode_cursor(page[-1].id) if page else None,
            ),
        )
        connection.event_filter = event_filter
        return connection

    @staticmethod
    def resolve_event(root: None, info: GraphQLResolveInfo, id: str) -> StoredEvent | None:
        if not id.isdigit():
            raise GraphQLError(f"event id must be a number, got {id!r}")
        return _state(info).event_log.get(int(id))

    @staticmethod
    def resolve_event_stats(
        root: None,
        info: GraphQLResolveInfo,
        filter: dict[str, Any] | None = None,
    ) -> EventStats:
        event_filter = to_event_filter(filter)
        stats = _state(info).event_log.stats(event_filter)
        result = EventStats(
            total_events=stats.total_events,
            by_type=[CountByType(event_type=k, count=v) for k, v in stats.events_by_type.items()],
            by_camera=[
                CountByCamera(camera_id=k, count=v) for k, v in stats.events_by_camera.items()
            ],
            first_event=stats.first_event,
            last_event=stats.last_event,
        )
        result.event_filter = event_filter
        return result

    @staticmethod
    def resolve_cameras(root: None, info: GraphQLResolveInfo) -> list[CameraModel]:
        return _state(info).cameras.list()

    @staticmethod
    def resolve_camera(root: None, info: GraphQLResolveInfo, id: str) -> CameraModel | None:
        return info.context["cameras"].load(id)


class CameraInput(graphene.InputObjectType):
    id = graphene.ID(required=True)
    name = graphene.String()
    source_url = graphene.String(required=True)
    enabled = graphene.Boolean()
    settings = JSON()


class CameraUpdateInput(graphene.InputObjectType):
    name = graphene.String()
    source_url = graphene.String()
    enabled = graphene.Boolean()
    settings = JSON()


class RegisterCamera(graphene.Mutation):
    """Register a camera, or replace the one with the same id."""

    class Arguments:
        input = CameraInput(required=True)

    Output = graphene.NonNull(Camera)

    @staticmethod
    def mutate(root: None, info: GraphQLResolveInfo, input: dict[str, Any]) -> CameraModel:
        values = {k: v for k, v in input.items() if v is not None}
        try:
            camera = CameraInputModel(**values)
        except ValidationError as exc:
            raise _camera_input_error(exc) from None
        return _state(info).cameras.register(camera)


class UpdateCamera(graphene.Mutation):
    """Change some fields of a registered camera."""

    class Arguments:
        id = graphene.ID(required=True)
        input = CameraUpdateInput(required=True)

    Output = Camera

    @staticmethod
    def mutate(
        root: None,
        info: GraphQLResolveInfo,
        id: str,
        input: dict[str, Any],
    ) -> CameraModel:
        try:
            change = CameraUpdateModel(**input)
        except ValidationError as exc:
            raise _camera_input_error(exc) from None
        camera = _state(info).cameras.update(id, change)
        if camera is None:
            raise GraphQLError(f"no camera {id!r}")
        return camera


class RemoveCamera(graphene.Mutation):
    """Remove a camera; its events stay in the log."""

    class Arguments:
        id = graphene.ID(required=True)

    Output = graphene.NonNull(graphene.Boolean)

    @staticmethod
    def mutate(root: None, info: GraphQLResolveInfo, id: str) -> bool:
        return _state(info).cameras.remove(id)


class DeleteEventPayload(graphene.ObjectType):
    deleted = graphene.Boolean(required=True)
    snapshot_deleted = graphene.Boolean(required=True)
    event = graphene.Field(Event, description="The event as it was.")


class DeleteEvent(graphene.Mutation):
    """Hide an event from every query at once (a tombstone in the log)."""

    class Arguments:
        id = graphene.ID(required=True)
        delete_snapshot = graphene.Boolean(default_value=False)

    Output = graphene.NonNull(DeleteEventPayload)

    @staticmethod
    def mutate(
        root: None,
        info: GraphQLResolveInfo,
        id: str,
        delete_snapshot: bool = False,
    ) -> DeleteEventPayload:
        if not id.isdigit():
            raise GraphQLError(f"event id must be a number, got {id!r}")
        event, snapshot_deleted = delete_event(_state(info), int(id), delete_snapshot)
        return DeleteEventPayload(
            deleted=event is not None, snapshot_deleted=snapshot_deleted, event=event
        )


class Mutation(graphene.ObjectType):
    register_camera = RegisterCamera.Field()
    update_camera = UpdateCamera.Field()
    remove_camera = RemoveCamera.Field()
    delete_event = DeleteEvent.Field()


schema = graphene.Schema(query=Query, mutation=Mutation)
