"""The GraphQL schema: the domains of ``api/gql/`` merged into one Query and one Mutation.

``graphql/schema.graphql`` is printed from it (``analytics-pipeline graphql-schema``). Field
order follows the bases read right to left (graphene collects fields along the reversed MRO).
"""

from __future__ import annotations

import graphene

from analytics_pipeline.api.gql.cameras import CameraMutations, CamerasQuery
from analytics_pipeline.api.gql.consumers import ConsumerMutations, ConsumersQuery
from analytics_pipeline.api.gql.events import EventMutations, EventsQuery
from analytics_pipeline.api.gql.nodes import NODE_TYPES, NodeQuery
from analytics_pipeline.api.gql.statistics import StatisticsQuery
from analytics_pipeline.api.gql.subscriptions import EventSubscription


# No docstrings on the roots: graphene would print them into the contract as descriptions.
class Query(
    NodeQuery, ConsumersQuery, CamerasQuery, StatisticsQuery, EventsQuery, graphene.ObjectType
):
    pass  # every read: events, statistics, cameras (images are fields of Event), node


class Mutation(ConsumerMutations, EventMutations, CameraMutations, graphene.ObjectType):
    pass  # every write: cameras, event deletion


class Subscription(EventSubscription, graphene.ObjectType):
    pass  # live events, over graphql-transport-ws on /graphql


schema = graphene.Schema(
    query=Query, mutation=Mutation, subscription=Subscription, types=list(NODE_TYPES)
)
