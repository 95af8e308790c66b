"""Events: the event type and its typed views of ``event_data``, the filter, the paged
connection, ``event(id)`` and the ``deleteEvent`` mutation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import graphene

from analytics_pipeline.api import inputs
from analytics_pipeline.api.clips import clip_path_of
from analytics_pipeline.api.cursors import decode_cursor, encode_cursor
from analytics_pipeline.api.deletion import delete_event
from analytics_pipeline.api.gql import images, plates
from analytics_pipeline.api.gql.cameras import Camera
from analytics_pipeline.api.gql.common import JSON, box, iso_datetime
from analytics_pipeline.api.gql.context import context
from analytics_pipeline.api.gql.relay import Node, event_position
from analytics_pipeline.cameras import Camera as CameraModel
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.eventlog import EventFilter as EventFilterModel
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.events import StoredEvent
from graphql import GraphQLError, GraphQLResolveInfo

DEFAULT_PAGE_SIZE = 50


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


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


class Event(graphene.ObjectType):
    """One event of the log. ``id`` is its global id; ``position`` its place in the log,
    which is its id in the REST routes (``/api/events/{position}``, ``/snapshots/{position}``)."""

    class Meta:
        interfaces = (Node,)
        possible_types = (StoredEvent,)

    position = graphene.ID(required=True, description="The log position (the REST id).")
    event_id = graphene.UUID(required=True, description="The idempotency key.")
    event_type = graphene.String(required=True)
    camera_id = graphene.String(required=True)
    camera = graphene.Field(Camera, description="The camera, if still registered.")
    timestamp = graphene.DateTime(required=True)
    frame_number = graphene.Int(required=True)
    data = JSON(required=True)
    snapshot_url = images.snapshot_url_field()
    thumbnail_url = images.thumbnail_url_field()
    clip_url = graphene.String(
        description="The event's MP4 clip (ENABLE_CLIPS), served with range requests; null "
        "when it has none (yet)."
    )
    detections = graphene.List(graphene.NonNull(Detection), required=True)
    track = graphene.Field(Track)
    plate = graphene.Field(Plate)

    @staticmethod
    def resolve_position(event: StoredEvent, info: GraphQLResolveInfo) -> int:
        return event.id

    @staticmethod
    def resolve_clip_url(event: StoredEvent, info: GraphQLResolveInfo) -> str | None:
        try:  # one stat: the clip's path follows from the event alone
            path = context(info).state.snapshots.resolve(clip_path_of(event))
        except (ValueError, PipelineError):
            return None
        return f"/clips/{event.id}" if path.is_file() else None

    @staticmethod
    def resolve_data(event: StoredEvent, info: GraphQLResolveInfo) -> dict[str, Any]:
        return event.event_data

    @staticmethod
    def resolve_camera(event: StoredEvent, info: GraphQLResolveInfo) -> CameraModel | None:
        return context(info).cameras.load(event.camera_id)

    @staticmethod
    def resolve_detections(event: StoredEvent, info: GraphQLResolveInfo) -> list[Detection]:
        objects = event.event_data.get("objects")
        if not isinstance(objects, list):
            return []
        return [
            Detection(
                class_name=str(o.get("class", "")),
                confidence=_number(o.get("confidence", 0.0)),
                box=box(o.get("box")),
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
            box=box(data.get("box")),
            first_seen=iso_datetime(data.get("first_seen")),
            last_seen=iso_datetime(data.get("last_seen")),
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
            confidence=_number(data.get("confidence", 0.0)),
            box=box(data.get("plate_box")),
            track_id=data.get("track_id"),
            read_count=len(reads) if isinstance(reads, list) else None,
        )


class EventFilter(graphene.InputObjectType):
    """Which events to return. ``start`` is inclusive, ``end`` exclusive."""

    camera_id = graphene.String()
    camera_ids = graphene.List(graphene.NonNull(graphene.String))
    event_types = graphene.List(graphene.NonNull(graphene.String))
    start = graphene.DateTime()
    end = graphene.DateTime()
    object_class = graphene.String(description="Detected or tracked object class.")
    plate = graphene.String(description="Plate substring, case- and space-insensitive.")
    plate_fuzzy = graphene.Boolean(
        description="With plate: anpr events whose whole plate is within one OCR confusion "
        "(one edit; O/0, I/1, B/8, S/5, Z/2 near) instead of a substring."
    )
    min_confidence = graphene.Float()
    track_id = graphene.Int()


def to_event_filter(value: dict[str, Any] | None) -> EventFilterModel:
    """The log's filter from the GraphQL input, every value checked."""
    value = dict(value or {})
    value.pop("plate_fuzzy", None)
    camera_ids = list(value.pop("camera_ids", None) or [])
    if camera_id := value.pop("camera_id", None):
        camera_ids.append(camera_id)
    event_types = value.pop("event_types", None)
    for name, values in (("cameraIds", camera_ids), ("eventTypes", event_types or [])):
        if len(values) > 1000:
            raise inputs.BadInput(f"{name} holds more than 1000 values")
        for item in values:
            inputs.text(item, name, 200)
    for name in ("object_class", "plate"):
        if value.get(name) is not None:
            inputs.text(value[name], name, 200)
    for name in ("start", "end"):
        if value.get(name) is not None:
            value[name] = inputs.utc_time(value[name], name)
    return EventFilterModel(camera_ids=camera_ids or None, event_types=event_types or None, **value)


def filtered_query(
    event_log: EventLog, filter: dict[str, Any] | None
) -> tuple[Callable[..., list[StoredEvent]], EventFilterModel, str | None]:
    """How ``events`` reads with the GraphQL filter ``filter``: a function with the arguments
    of :meth:`EventLog.query`, the log's filter, and the fuzzy plate (``plateFuzzy``)."""
    event_filter = to_event_filter(filter)
    if (filter or {}).get("plate_fuzzy") and event_filter.plate is not None:
        fuzzy_plate = event_filter.plate
        query = functools.partial(plates.fuzzy_page, event_log, plate=fuzzy_plate)
        return query, replace(event_filter, plate=None), fuzzy_plate
    return event_log.query, event_filter, None


@dataclass(frozen=True)
class EventEdge:
    node: StoredEvent
    cursor: str


@dataclass(frozen=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@dataclass(frozen=True)
class EventPage:
    """What ``events`` resolves to: one page, and the filter ``totalCount`` counts with."""

    edges: list[EventEdge]
    page_info: PageInfo
    event_filter: EventFilterModel
    fuzzy_plate: str | None = None


class EventConnection(graphene.relay.Connection):
    """A page of events, newest first, with opaque cursors over the log position."""

    class Meta:
        node = Event

    total_count = graphene.Int(required=True, description="Events matching the filter.")

    @staticmethod
    def resolve_total_count(root: EventPage, info: GraphQLResolveInfo) -> int:
        if root.fuzzy_plate is not None:
            return plates.count(context(info).state.event_log, root.event_filter, root.fuzzy_plate)
        return context(info).state.event_log.count(root.event_filter)


def _page_size(value: int | None, info: GraphQLResolveInfo) -> int:
    limit = context(info).settings.api_max_page_size
    if value is not None and not 0 <= value <= limit:
        raise GraphQLError(f"page size must be between 0 and {limit}")
    return value if value is not None else min(DEFAULT_PAGE_SIZE, limit)


def _position(cursor: str | None) -> int | None:
    return decode_cursor(cursor) if cursor is not None else None


class EventsQuery:
    """The event fields of ``Query``."""

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
    event = graphene.Field(
        Event, id=graphene.ID(required=True, description="The global id or the log position.")
    )

    @staticmethod
    def resolve_events(
        root: None,
        info: GraphQLResolveInfo,
        filter: dict[str, Any] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> EventPage:
        if first is not None and last is not None:
            raise GraphQLError("give either first or last, not both")
        ctx = context(info)
        query, event_filter, fuzzy_plate = filtered_query(ctx.state.event_log, filter)
        after_position, before_position = _position(after), _position(before)
        if last is not None:
            # The `last` events before `before` in newest-first order are the oldest ones
            # newer than it: fetched oldest first, shown newest first.
            size = _page_size(last, info)
            rows = query(
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
            rows = query(
                event_filter, limit=size + 1, before_id=after_position, after_id=before_position
            )
            page = rows[:size]
            has_next, has_previous = len(rows) > size, after_position is not None
        ctx.cameras.want(e.camera_id for e in page)
        return EventPage(
            edges=[EventEdge(node=e, cursor=encode_cursor(e.id)) for e in page],
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=has_previous,
                start_cursor=encode_cursor(page[0].id) if page else None,
                end_cursor=encode_cursor(page[-1].id) if page else None,
            ),
            event_filter=event_filter,
            fuzzy_plate=fuzzy_plate,
        )

    @staticmethod
    def resolve_event(root: None, info: GraphQLResolveInfo, id: str) -> StoredEvent | None:
        return context(info).state.event_log.get(event_position(id))


@dataclass(frozen=True)
class DeleteResult:
    deleted: bool
    snapshot_deleted: bool
    event: StoredEvent | None


class DeleteEventPayload(graphene.ObjectType):
    deleted = graphene.Boolean(required=True)
    snapshot_deleted = graphene.Boolean(required=True)
    event = graphene.Field(Event, description="The event as it was.")


class DeleteEvent(graphene.Mutation):
    """Hide an event from every query at once (a tombstone in the log)."""

    class Arguments:
        id = graphene.ID(required=True, description="The global id or the log position.")
        delete_snapshot = graphene.Boolean(default_value=False)

    Output = graphene.NonNull(DeleteEventPayload)

    @staticmethod
    def mutate(
        root: None,
        info: GraphQLResolveInfo,
        id: str,
        delete_snapshot: bool = False,
    ) -> DeleteResult:
        position = event_position(id)
        event, snapshot_deleted = delete_event(context(info).state, position, delete_snapshot)
        return DeleteResult(
            deleted=event is not None, snapshot_deleted=snapshot_deleted, event=event
        )


class EventMutations:
    """The event fields of ``Mutation``."""

    delete_event = DeleteEvent.Field()
