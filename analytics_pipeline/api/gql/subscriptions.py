"""The ``Subscription`` fields: ``eventAdded``, delivered over the graphql-transport-ws
protocol on ``/graphql`` (:mod:`analytics_pipeline.api.graphql_ws`).

The server executes a subscription document once per matching event with that event as the
root value (:mod:`analytics_pipeline.api.subscriptions`), so the resolver only hands it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import graphene

from analytics_pipeline.api.gql.events import Event, EventFilter
from analytics_pipeline.api.gql.relay import to_global_id
from analytics_pipeline.events import StoredEvent
from graphql import GraphQLResolveInfo

AFTER_HELP = (
    "Resume without a gap: the `after` of the last message received (its "
    "`extensions.after`, or an SSE id), a stream id, an events cursor, or an event's id or "
    "position. Events after it come first, from the Redis stream or, once trimmed, the log."
)


@dataclass(frozen=True)
class Deletion:
    """What ``eventDeleted`` resolves from: the deleted event's log position."""

    position: int


class DeletedEvent(graphene.ObjectType):
    """An event deleted through the API (its tombstone reached the stream)."""

    id = graphene.ID(required=True, description="The deleted event's global id.")
    position = graphene.ID(required=True, description="The deleted event's log position.")

    @staticmethod
    def resolve_id(root: Deletion, info: GraphQLResolveInfo) -> str:
        return to_global_id("Event", root.position)


class EventSubscription:
    """The event fields of ``Subscription``."""

    event_added = graphene.Field(
        graphene.NonNull(Event),
        filter=EventFilter(),
        after=graphene.String(description=AFTER_HELP),
        description="Each new event matching the filter (the same filter as `events`), as it "
        "reaches the Redis stream.",
    )

    event_deleted = graphene.Field(
        graphene.NonNull(DeletedEvent),
        after=graphene.String(description=AFTER_HELP),
        description="Each event deleted from now on (a page removes it from view).",
    )

    @staticmethod
    def resolve_event_deleted(root: Deletion, info: GraphQLResolveInfo, **args: Any) -> Deletion:
        return root

    @staticmethod
    def resolve_event_added(
        root: StoredEvent, info: GraphQLResolveInfo, **args: Any
    ) -> StoredEvent:
        return root
