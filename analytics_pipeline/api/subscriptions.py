"""GraphQL subscriptions, server side: feeds over the process's one Redis reader.

Every subscription of a process hears the same :class:`~analytics_pipeline.api.hub.LiveHub`
(one ``XREAD`` for all). Subscriptions with the same document and variables share a
:class:`Feed`: it reads the new messages' events from the log with the subscription's filter
(the same query as ``events``, so the same filter semantics, tombstones hidden), executes the
document once per event in a worker thread, and hands the ready result to each subscriber's
bounded queue. A subscriber whose queue is full is marked overflowed (the WebSocket side tells
it and closes); past ``GRAPHQL_MAX_SUBSCRIBERS`` no new subscription is taken.

``after`` resumes: the messages after it come from the stream, or from the log once the
stream is trimmed (:mod:`analytics_pipeline.api.resume`, as for the SSE ``Last-Event-ID``).
Each result carries ``extensions.after``, the value to resume from after it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio

from analytics_pipeline.api import inputs
from analytics_pipeline.api.bounded_queue import BoundedQueue
from analytics_pipeline.api.cursors import BadCursor, decode_cursor
from analytics_pipeline.api.gql.context import GraphQLContext
from analytics_pipeline.api.gql.events import filtered_query
from analytics_pipeline.api.gql.execution import deadline_context, result_body
from analytics_pipeline.api.gql.relay import event_position
from analytics_pipeline.api.gql.subscriptions import Deletion
from analytics_pipeline.api.hub import parse_stream_id
from analytics_pipeline.api.resume import Item, backlog_items, parse_last_event_id
from analytics_pipeline.api.schema import schema
from analytics_pipeline.api.state import AppState
from analytics_pipeline.eventlog import Cursor
from analytics_pipeline.events import StoredEvent
from graphql import DocumentNode, ExecutionResult, execute

log = logging.getLogger(__name__)
MAX_PENDING = 10_000  # messages a feed holds while its execution catches up
BATCH = 200  # messages executed in one worker-thread call
CLUSTER_GAP = 1_000  # positions further apart than this are read in separate queries
BATCH_SECONDS = 10.0  # time budget of one batch's execution
OVERFLOW = object()  # in a subscriber's queue: it fell too far behind


class TooManySubscribers(inputs.BadInput):
    """``GRAPHQL_MAX_SUBSCRIBERS`` subscriptions are open already."""


@dataclass(frozen=True)
class Operation:
    """A checked subscription: its document, variables and root-field arguments."""

    text: str
    document: DocumentNode
    operation_name: str | None
    variables: dict[str, Any]
    filter: dict[str, Any] | None
    after: str | None
    field: str = "eventAdded"  # the root field: eventAdded or eventDeleted

    @property
    def key(self) -> tuple[str, str | None, str]:
        """Subscriptions with the same key share one feed (one execution per event). ``after``
        only decides the backlog, so resuming clients join the feed of everyone else."""
        shared = {k: v for k, v in self.variables.items() if self.after is None or v != self.after}
        return self.text, self.operation_name, json.dumps(shared, sort_keys=True)


Result = tuple[tuple[int, int] | None, dict[str, Any]]  # (stream id, the `next` payload)


class Subscriber(BoundedQueue[Result]):
    """One subscription's bounded queue of results; when full it overflows (the WebSocket
    side tells the client, which resubscribes from its last ``after``)."""

    def __init__(self, size: int) -> None:
        super().__init__(size, OVERFLOW)


def render(state: AppState, operation: Operation, items: list[Item]) -> list[Result]:
    """The results of ``operation`` for the stream messages ``items`` that its filter matches
    (worker thread). The events come from the log, so deleted ones are left out."""
    if operation.field == "eventDeleted":
        return _render_deletions(state, operation, items)
    query, event_filter, _fuzzy = filtered_query(state.event_log, operation.filter)
    wanted: dict[int, Item] = {}
    for item in items:
        position = item[1].get("position", "")
        if position.isdigit():
            wanted[int(position)] = item
    found: dict[int, StoredEvent] = {}
    for low, high in _clusters(sorted(wanted)):
        rows = query(
            event_filter,
            limit=high - low + 1,
            after_id=low - 1,
            before_id=high + 1,
            descending=False,
        )
        found.update((e.id, e) for e in rows if e.id in wanted)
    context = GraphQLContext(state)
    context.cameras.prime(e.camera_id for e in found.values())
    production = state.settings.api_production
    deadline = time.monotonic() + BATCH_SECONDS
    results: list[Result] = []
    for stream_id, fields in items:
        position = fields.get("position", "")
        event = found.get(int(position)) if position.isdigit() else None
        if event is None:
            continue
        result = _execute(state, operation, event, context, deadline)
        body = result_body(result, production)
        cursor = fields.get("cursor") or f"{event.txid}:{event.id}"
        body["extensions"] = {"after": f"{stream_id}@{cursor}"}
        key = parse_stream_id(stream_id)
        results.append((key if key != (0, 0) else None, body))
    return results


def _render_deletions(state: AppState, operation: Operation, items: list[Item]) -> list[Result]:
    """``eventDeleted``: one result per tombstone among ``items``."""
    context = GraphQLContext(state)
    deadline = time.monotonic() + BATCH_SECONDS
    results: list[Result] = []
    for stream_id, fields in items:
        if fields.get("event_type") != "event_deleted":
            continue
        try:
            position = int(json.loads(fields.get("data") or "{}")["deleted_id"])
        except (ValueError, KeyError, TypeError):
            continue
        result = _execute(state, operation, Deletion(position), context, deadline)
        body = result_body(result, state.settings.api_production)
        body["extensions"] = {"after": f"{stream_id}@{fields.get('cursor', '')}"}
        key = parse_stream_id(stream_id)
        results.append((key if key != (0, 0) else None, body))
    return results


def _execute(
    state: AppState,
    operation: Operation,
    event: StoredEvent | Deletion,
    context: GraphQLContext,
    deadline: float,
) -> ExecutionResult:
    return execute(
        schema.graphql_schema,
        operation.document,
        root_value=event,
        context_value=context,
        variable_values=operation.variables,
        operation_name=operation.operation_name,
        execution_context_class=deadline_context(deadline, BATCH_SECONDS),
    )


def _clusters(positions: list[int]) -> Iterator[tuple[int, int]]:
    """Runs of sorted positions, split where two are more than ``CLUSTER_GAP`` apart."""
    if not positions:
        return
    low = high = positions[0]
    for position in positions[1:]:
        if position - high > CLUSTER_GAP:
            yield low, high
            low = position
        high = position
    yield low, high


def resume_point(state: AppState, after: str) -> tuple[str | None, Cursor | None]:
    """``(stream id, log cursor)`` to resume after; :class:`inputs.BadInput` when ``after``
    is none of the forms ``eventAdded(after:)`` takes (worker thread: may read the log)."""
    parsed = parse_last_event_id(after) if "@" in after else None
    if parsed is not None:
        return parsed
    if parse_stream_id(after) is not None:
        return after, None
    try:
        position = decode_cursor(after)
    except BadCursor:
        try:
            position = event_position(after)
        except inputs.BadInput:
            raise inputs.BadInput(
                "after must be a message's extensions.after, a stream id, an events cursor "
                "or an event id"
            ) from None
    event = state.event_log.get(position)
    if event is None:
        raise inputs.BadInput(f"no event at position {position} to resume after")
    return None, event.cursor


class Feed:
    """The subscribers of one operation, fed by the hub, one execution per event."""

    def __init__(self, registry: SubscriptionRegistry, operation: Operation) -> None:
        self.registry = registry
        self.operation = operation
        self.subscribers: set[Subscriber] = set()
        self.pending: list[Item] = []
        self.wake = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name="graphql-subscription-feed")
        registry.state.live.listen(self.on_message)

    def on_message(self, stream_id: str, fields: dict[str, str]) -> None:
        """A new stream message (on the event loop)."""
        if len(self.pending) >= MAX_PENDING:
            log.warning("a subscription feed fell %d messages behind", MAX_PENDING)
            self.pending.clear()
            for subscriber in self.subscribers:
                subscriber.overflow()
            return
        self.pending.append((stream_id, fields))
        self.wake.set()

    async def render(self, items: list[Item]) -> list[Result]:
        """``render`` in a worker thread (with the GraphQL requests' limiter)."""
        state = self.registry.state
        return await anyio.to_thread.run_sync(
            render, state, self.operation, items, limiter=state.graphql_limiter
        )

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.pending:
                batch, self.pending = self.pending[:BATCH], self.pending[BATCH:]
                try:
                    results = await self.render(batch)
                except Exception:
                    # Never a silent gap: its subscribers are closed (1013) and resume with
                    # ``after`` from the last result they got, the missed events read again.
                    log.exception("a subscription feed failed on %d messages", len(batch))
                    for subscriber in list(self.subscribers):
                        subscriber.overflow()
                    continue
                for subscriber in list(self.subscribers):
                    for result in results:
                        subscriber.offer(result)

    def close(self) -> None:
        self.registry.state.live.unlisten(self.on_message)
        self.task.cancel()


class SubscriptionRegistry:
    """The feeds of one app; the cap on subscribers."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.max_subscribers = state.settings.graphql_max_subscribers
        self.queue_size = state.settings.graphql_subscriber_queue
        self.feeds: dict[tuple[str, str | None, str], Feed] = {}
        self.count = 0

    def join(self, operation: Operation) -> tuple[Feed, Subscriber]:
        """A new subscriber of ``operation``'s feed; :class:`TooManySubscribers` at the cap."""
        if self.count >= self.max_subscribers:
            raise TooManySubscribers(
                f"too many subscriptions ({self.max_subscribers}); try again later"
            )
        feed = self.feeds.get(operation.key)
        if feed is None:
            feed = self.feeds[operation.key] = Feed(self, operation)
        subscriber = Subscriber(self.queue_size)
        feed.subscribers.add(subscriber)
        self.count += 1
        return feed, subscriber

    def leave(self, feed: Feed, subscriber: Subscriber) -> None:
        if subscriber not in feed.subscribers:
            return
        feed.subscribers.discard(subscriber)
        self.count -= 1
        if not feed.subscribers and self.feeds.get(feed.operation.key) is feed:
            del self.feeds[feed.operation.key]
            feed.close()

    def close(self) -> None:
        for feed in list(self.feeds.values()):
            feed.close()
        self.feeds.clear()


async def backlog(feed: Feed, after: str) -> tuple[list[Result], tuple[int, int] | None]:
    """The results a subscriber resuming ``after`` missed, and the newest stream id among
    them (live results up to it are duplicates)."""
    state = feed.registry.state
    stream_id, cursor = await anyio.to_thread.run_sync(resume_point, state, after)
    hub = state.live
    items, newest = await backlog_items(hub.redis, hub.stream, state.event_log, stream_id, cursor)
    results: list[Result] = []
    for start in range(0, len(items), BATCH):
        results += await feed.render(items[start : start + BATCH])
    return results, newest


def is_duplicate(result: Result, seen: tuple[int, int] | None) -> bool:
    """Whether a live result was already sent from the backlog."""
    key = result[0]
    return seen is not None and key is not None and key <= seen
