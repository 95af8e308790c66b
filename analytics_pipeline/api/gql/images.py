"""Images: the fields that point an event to its snapshot and thumbnail.

The files themselves are served by ``analytics_pipeline.api.images`` at these URLs, by event id
only.
"""

from __future__ import annotations

import graphene

from analytics_pipeline.events import StoredEvent, snapshot_url, thumbnail_url
from graphql import GraphQLResolveInfo


def _snapshot_url(event: StoredEvent, info: GraphQLResolveInfo) -> str | None:
    return snapshot_url(event)


def _thumbnail_url(event: StoredEvent, info: GraphQLResolveInfo) -> str | None:
    return thumbnail_url(event)


def snapshot_url_field() -> graphene.String:
    """``Event.snapshotUrl``."""
    return graphene.String(
        description="Null when the event has no snapshot.", resolver=_snapshot_url
    )


def thumbnail_url_field() -> graphene.String:
    """``Event.thumbnailUrl``."""
    return graphene.String(
        description="Null when the event has no snapshot.", resolver=_thumbnail_url
    )
