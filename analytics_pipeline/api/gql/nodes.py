"""``node(id:)`` and ``nodes(ids:)``: refetch any event or camera by its global id (Relay)."""

from __future__ import annotations

import graphene

from analytics_pipeline.api import inputs
from analytics_pipeline.api.gql.cameras import Camera
from analytics_pipeline.api.gql.context import context
from analytics_pipeline.api.gql.events import Event
from analytics_pipeline.api.gql.relay import Node, parse_global_id
from analytics_pipeline.cameras import Camera as CameraModel
from analytics_pipeline.events import StoredEvent
from graphql import GraphQLResolveInfo

MAX_NODES = 100  # ids in one nodes(ids:) (the limit walk counts the list at this size)
NODE_TYPES = (Event, Camera)  # the types that implement Node (the schema must list them)


def _load_many(ids: list[str], info: GraphQLResolveInfo) -> list[StoredEvent | CameraModel | None]:
    ctx = context(info)
    wanted: list[tuple[str, str] | None] = []
    for value in ids:
        parsed = parse_global_id(value)
        if parsed is not None and parsed[0] == "Event":
            try:
                inputs.event_position(parsed[1])
            except inputs.BadInput:
                parsed = None
        wanted.append(parsed)
    positions = [int(p[1]) for p in wanted if p is not None and p[0] == "Event"]
    events = ctx.state.event_log.get_many(positions) if positions else {}
    ctx.cameras.prime(p[1] for p in wanted if p is not None and p[0] == "Camera")
    found: list[StoredEvent | CameraModel | None] = []
    for parsed in wanted:
        if parsed is None:
            found.append(None)
        elif parsed[0] == "Event":
            found.append(events.get(int(parsed[1])))
        else:
            found.append(ctx.cameras.load(parsed[1]))
    return found


class NodeQuery:
    """The Relay fields of ``Query``."""

    node = graphene.Field(
        Node,
        id=graphene.ID(required=True),
        description="The event or camera with this global id; null when there is none.",
    )
    nodes = graphene.Field(
        graphene.NonNull(graphene.List(Node)),
        ids=graphene.NonNull(graphene.List(graphene.NonNull(graphene.ID))),
        description=f"The objects with these global ids, in order (null where none; at most "
        f"{MAX_NODES}).",
    )

    @staticmethod
    def resolve_node(
        root: None, info: GraphQLResolveInfo, id: str
    ) -> StoredEvent | CameraModel | None:
        return _load_many([id], info)[0]

    @staticmethod
    def resolve_nodes(
        root: None, info: GraphQLResolveInfo, ids: list[str]
    ) -> list[StoredEvent | CameraModel | None]:
        if len(ids) > MAX_NODES:
            raise inputs.BadInput(f"nodes takes at most {MAX_NODES} ids, got {len(ids)}")
        return _load_many(ids, info)
