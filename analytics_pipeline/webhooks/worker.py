"""The ``deliver`` worker: the webhook and watchlist consumer groups plus webhook senders.

Several workers may run at once, on one machine or many: the consumer groups share the
stream's messages between them, the senders share the outbox through row locks. Killing one
(even with SIGKILL) loses nothing: its unacked messages are taken over by the others (or by
itself when restarted) after the claim timeout, and its half-sent delivery is sent again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import redis
from psycopg_pool import ConnectionPool, PoolTimeout

from analytics_pipeline.consumers.group import ConsumerGroup, default_consumer_name
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.watchlist import PlateMatcher, Watchlist
from analytics_pipeline.webhooks.delivery import (
    RetryPolicy,
    WebhookEnqueuer,
    WebhookSender,
    prune_delivered,
)

log = logging.getLogger(__name__)

WEBHOOK_GROUP = "webhooks"
WATCHLIST_GROUP = "plate-watchlist"


@dataclass(frozen=True)
class DeliverOptions:
    """How a worker runs (the ``deliver`` command's options)."""

    senders: int = 2
    max_attempts: int = 10
    timeout_seconds: float = 10.0
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    claim_idle_seconds: float = 30.0
    keep_delivered_seconds: float = 7 * 24 * 3600.0
    webhooks: bool = True
    watchlist: bool = True
    consumer: str | None = None


class DeliverWorker:
    """Runs the consumer groups and senders in threads until stopped."""

    def __init__(
        self,
        pool: ConnectionPool,
        client: redis.Redis,
        stream: str,
        options: DeliverOptions = DeliverOptions(),
    ) -> None:
        self.pool = pool
        self.client = client
        self.stream = stream
        self.options = options
        self.consumer = options.consumer or default_consumer_name()
        self.wake = threading.Event()
        event_log = EventLog(pool)
        self.groups: list[ConsumerGroup] = []
        if options.webhooks:
            enqueue = WebhookEnqueuer(pool, on_enqueued=self.wake.set)
            self.groups.append(self._group(WEBHOOK_GROUP, enqueue, event_log))
        if options.watchlist:
            matcher = PlateMatcher(Watchlist(pool), event_log)
            self.groups.append(self._group(WATCHLIST_GROUP, matcher, event_log))
        policy = RetryPolicy(
            options.max_attempts, options.retry_base_seconds, options.retry_max_seconds
        )
        count = options.senders if options.webhooks else 0
        self.senders = [
            WebhookSender(pool, policy=policy, timeout_seconds=options.timeout_seconds)
            for _ in range(count)
        ]

    def _group(
        self, name: str, handler: Callable[..., object], event_log: EventLog
    ) -> ConsumerGroup:
        return ConsumerGroup(
            self.client,
            self.stream,
            name,
            handler,
            consumer=self.consumer,
            event_log=event_log,
            claim_idle_seconds=self.options.claim_idle_seconds,
        )

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, then let every thread finish what it is doing."""
        threads = [
            threading.Thread(target=group.run, args=(stop,), name=f"group-{group.group}")
            for group in self.groups
        ]
        threads += [
            threading.Thread(target=sender.run, args=(stop, self.wake), name=f"sender-{i}")
            for i, sender in enumerate(self.senders)
        ]
        for thread in threads:
            thread.start()
        log.info(
            "deliver worker %s on stream %s: %s, %d sender(s)",
            self.consumer,
            self.stream,
            ", ".join(g.group for g in self.groups) or "no consumer group",
            len(self.senders),
        )
        next_prune = time.monotonic()
        try:
            while not stop.wait(1.0):
                if self.senders and time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + 3600
                    self._prune()
        finally:
            stop.set()
            self.wake.set()
            for thread in threads:
                thread.join()
            for sender in self.senders:
                sender.close()
        log.info("deliver worker %s stopped", self.consumer)

    def _prune(self) -> None:
        try:
            pruned = prune_delivered(self.pool, self.options.keep_delivered_seconds)
        except (psycopg.Error, PoolTimeout) as exc:
            log.warning("could not prune old deliveries: %s", exc)
            return
        if pruned:
            log.info("forgot %d delivered webhook deliveries", pruned)
