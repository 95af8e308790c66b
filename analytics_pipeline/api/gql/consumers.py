"""Webhooks, the plate watchlist and plate sightings (issue 10).

Registering, removing and retrying webhooks and changing the watchlist are mutations (API key
needed, like every mutation); the webhooks and their dead letters are read with the key too,
since their URLs are a site's own. A webhook's secret is shown once, in ``addWebhook``'s answer.
``plateSightings`` lists every ``anpr`` event whose plate is the one asked for or, with
``fuzzy``, within one OCR confusion (:func:`analytics_pipeline.watchlist.compare_plates`).
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import graphene

from analytics_pipeline.api.gql import plates
from analytics_pipeline.api.gql.context import context
from analytics_pipeline.api.gql.plates import Sighting
from analytics_pipeline.eventlog import EventFilter
from analytics_pipeline.watchlist import (
    WatchedPlate as WatchedPlateModel,
)
from analytics_pipeline.watchlist import Watchlist
from analytics_pipeline.webhooks import Failure, WebhookRegistry, parse_webhook
from analytics_pipeline.webhooks import Webhook as WebhookModel
from graphql import GraphQLError, GraphQLResolveInfo

MAX_SIGHTINGS = 1000


def _need_key(info: GraphQLResolveInfo) -> None:
    if not context(info).may_write:
        raise GraphQLError("webhooks are read with an API key")


class Webhook(graphene.ObjectType):
    """A registered webhook (its secret is never read back)."""

    name = graphene.String(required=True)
    url = graphene.String(required=True, description="Credentials in it shown as ***.")
    event_types = graphene.List(graphene.NonNull(graphene.String), required=True)
    camera_ids = graphene.List(graphene.NonNull(graphene.String), required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    pending = graphene.Int(required=True)
    delivered = graphene.Int(required=True)
    dead = graphene.Int(required=True)

    @staticmethod
    def resolve_url(webhook: WebhookModel, info: GraphQLResolveInfo) -> str:
        return webhook.redacted_url


class WebhookFailure(graphene.ObjectType):
    """A dead letter: a delivery that failed every attempt."""

    id = graphene.ID(required=True)
    webhook = graphene.String(required=True)
    event_id = graphene.String(required=True)
    position = graphene.Int(required=True)
    event_type = graphene.String(required=True)
    attempts = graphene.Int(required=True)
    last_status = graphene.Int()
    last_error = graphene.String()
    created_at = graphene.DateTime(required=True)
    finished_at = graphene.DateTime()

    @staticmethod
    def resolve_event_id(failure: Failure, info: GraphQLResolveInfo) -> str:
        return str(failure.event_id)


class WatchedPlate(graphene.ObjectType):
    """A plate on the watchlist."""

    plate = graphene.String(required=True)
    label = graphene.String(required=True)
    created_at = graphene.DateTime()
    updated_at = graphene.DateTime()


class PlateSighting(graphene.ObjectType):
    """One ``anpr`` event whose plate matches."""

    camera_id = graphene.String(required=True)
    timestamp = graphene.DateTime(required=True)
    plate = graphene.String(required=True, description="The plate as read.")
    kind = graphene.String(required=True, description="exact or near")
    distance = graphene.Int(required=True, description="Edits after mapping O/0, I/1, ...")
    event_position = graphene.ID(required=True, description="The event's id (log position).")

    @staticmethod
    def resolve_camera_id(s: Sighting, info: GraphQLResolveInfo) -> str:
        return s.event.camera_id

    @staticmethod
    def resolve_timestamp(s: Sighting, info: GraphQLResolveInfo) -> datetime:
        return s.event.timestamp

    @staticmethod
    def resolve_kind(s: Sighting, info: GraphQLResolveInfo) -> str:
        return "exact" if s.edits == 0 else "near"

    @staticmethod
    def resolve_event_position(s: Sighting, info: GraphQLResolveInfo) -> str:
        return str(s.event.id)


class ConsumersQuery(graphene.ObjectType):
    webhooks = graphene.List(
        graphene.NonNull(Webhook), required=True, description="Registered webhooks (API key)."
    )
    webhook_failures = graphene.List(
        graphene.NonNull(WebhookFailure),
        required=True,
        name=graphene.String(description="Only this webhook's."),
        description="Dead letters (API key).",
    )
    watched_plates = graphene.List(graphene.NonNull(WatchedPlate), required=True)
    plate_sightings = graphene.List(
        graphene.NonNull(PlateSighting),
        required=True,
        plate=graphene.String(required=True),
        fuzzy=graphene.Boolean(description="Also plates within one OCR confusion."),
        description=f"Every camera and time the plate was read, newest first (<= {MAX_SIGHTINGS}).",
    )

    @staticmethod
    def resolve_webhooks(root: None, info: GraphQLResolveInfo) -> list[WebhookModel]:
        _need_key(info)
        return WebhookRegistry(context(info).state.event_log.pool).list()

    @staticmethod
    def resolve_webhook_failures(
        root: None, info: GraphQLResolveInfo, name: str | None = None
    ) -> list[Failure]:
        _need_key(info)
        return WebhookRegistry(context(info).state.event_log.pool).failures(name)

    @staticmethod
    def resolve_watched_plates(root: None, info: GraphQLResolveInfo) -> list[WatchedPlateModel]:
        return Watchlist(context(info).state.event_log.pool).list()

    @staticmethod
    def resolve_plate_sightings(
        root: None, info: GraphQLResolveInfo, plate: str, fuzzy: bool | None = None
    ) -> list[Sighting]:
        found = plates.sightings(context(info).state.event_log, EventFilter(), plate, bool(fuzzy))
        return list(itertools.islice(found, MAX_SIGHTINGS))


class AddWebhookResult(graphene.ObjectType):
    webhook = graphene.Field(graphene.NonNull(Webhook))
    secret = graphene.String(required=True, description="Shown here only: keep it.")


class AddWebhook(graphene.Mutation):
    """Register a webhook, or replace the one of that name; only http(s) URLs."""

    class Arguments:
        name = graphene.String(required=True)
        url = graphene.String(required=True)
        event_types = graphene.List(graphene.NonNull(graphene.String))
        camera_ids = graphene.List(graphene.NonNull(graphene.String))
        secret = graphene.String(description="Generated when not given.")

    Output = graphene.NonNull(AddWebhookResult)

    @staticmethod
    def mutate(
        root: None, info: GraphQLResolveInfo, name: str, url: str, **rest: Any
    ) -> dict[str, Any]:
        given = parse_webhook(
            name,
            url,
            rest.get("event_types") or (),
            rest.get("camera_ids") or (),
            rest.get("secret"),
        )
        webhook = WebhookRegistry(context(info).state.event_log.pool).add(given)
        return {"webhook": webhook, "secret": given.secret}


class RemoveWebhook(graphene.Mutation):
    """Remove a webhook and its queued deliveries; false when there was none."""

    class Arguments:
        name = graphene.String(required=True)

    Output = graphene.NonNull(graphene.Boolean)

    @staticmethod
    def mutate(root: None, info: GraphQLResolveInfo, name: str) -> bool:
        return WebhookRegistry(context(info).state.event_log.pool).remove(name)


class RetryWebhook(graphene.Mutation):
    """Queue a webhook's dead letters again; how many were queued."""

    class Arguments:
        name = graphene.String(required=True)

    Output = graphene.NonNull(graphene.Int)

    @staticmethod
    def mutate(root: None, info: GraphQLResolveInfo, name: str) -> int:
        return WebhookRegistry(context(info).state.event_log.pool).retry(name)


class WatchPlate(graphene.Mutation):
    """Watch a plate (normalised: upper case, letters and digits), or change its label."""

    class Arguments:
        plate = graphene.String(required=True)
        label = graphene.String()

    Output = graphene.NonNull(WatchedPlate)

    @staticmethod
    def mutate(
        root: None, info: GraphQLResolveInfo, plate: str, label: str | None = None
    ) -> WatchedPlateModel:
        return Watchlist(context(info).state.event_log.pool).watch(plate, label or "")


class UnwatchPlate(graphene.Mutation):
    """Stop watching a plate; false when it was not watched."""

    class Arguments:
        plate = graphene.String(required=True)

    Output = graphene.NonNull(graphene.Boolean)

    @staticmethod
    def mutate(root: None, info: GraphQLResolveInfo, plate: str) -> bool:
        return Watchlist(context(info).state.event_log.pool).unwatch(plate)


class ConsumerMutations:
    """The webhook and watchlist fields of ``Mutation``."""

    add_webhook = AddWebhook.Field()
    remove_webhook = RemoveWebhook.Field()
    retry_webhook = RetryWebhook.Field()
    watch_plate = WatchPlate.Field()
    unwatch_plate = UnwatchPlate.Field()
