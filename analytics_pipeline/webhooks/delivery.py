"""Webhook delivery: an outbox in PostgreSQL, filled by a consumer group, emptied by senders.

The webhook consumer group's handler (:class:`WebhookEnqueuer`) turns each event into one
pending delivery per webhook that wants it, in one statement; a delivery that exists already
is not made again, so an event handled twice is sent once. Senders (:class:`WebhookSender`)
take due deliveries with ``FOR UPDATE SKIP LOCKED``, so several workers never send one
delivery at the same time, and a worker killed mid-delivery releases its row with its
connection: the delivery is sent again (at least once; receivers dedupe by ``X-Event-Id``).

A delivery is a POST of the event as JSON (the stream message's fields, ``data`` decoded)
with ``X-Event-Id`` and ``X-Signature-256: sha256=<HMAC-SHA256 hex of the body keyed by the
webhook's secret>``. A 2xx answer delivers it; anything else (another status, a redirect, a
timeout, a refused connection) is retried after an exponential back-off, and after
``max_attempts`` the delivery becomes a dead letter (``webhooks failures``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from analytics_pipeline.consumers.message import StreamMessage
from analytics_pipeline.db import query
from analytics_pipeline.dependencies import OutageLog

log = logging.getLogger(__name__)

USER_AGENT = "analytics-pipeline-webhooks/1"
SIGNATURE_HEADER = "X-Signature-256"
EVENT_ID_HEADER = "X-Event-Id"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Signature-256`` value: ``sha256=`` and the HMAC-SHA256 hex of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is :func:`sign` of ``body`` (constant time): for receivers."""
    return hmac.compare_digest(sign(secret, body), signature)


def delivery_body(message: StreamMessage) -> str:
    """The JSON a webhook receives for one event: the message's fields, ``data`` decoded."""
    return json.dumps(message.to_json(), separators=(",", ":"))


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and the exponential back-off between them."""

    max_attempts: int = 10
    base_seconds: float = 5.0
    max_seconds: float = 3600.0

    def delay(self, attempts_done: int) -> float:
        """Seconds to wait after the ``attempts_done``-th failure: base, 2x base, 4x base..."""
        exponent = min(max(attempts_done - 1, 0), 60)
        return min(self.base_seconds * 2**exponent, self.max_seconds)


class WebhookEnqueuer:
    """The webhook consumer group's handler: one pending delivery per interested webhook."""

    def __init__(
        self, pool: ConnectionPool, on_enqueued: Callable[[], object] | None = None
    ) -> None:
        self.pool = pool
        self.on_enqueued = on_enqueued

    def __call__(self, message: StreamMessage) -> None:
        """Queue ``message`` for every webhook that wants its type and camera."""
        if not message.event_id or message.position is None:
            log.warning("webhooks: skipping a stream message without event_id or position")
            return
        params = {
            "event_id": message.event_id,
            "position": message.position,
            "event_type": message.event_type,
            "camera_id": message.camera_id,
            "body": delivery_body(message),
        }
        with self.pool.connection() as conn:
            queued = conn.execute(query("webhook_enqueue"), params).fetchall()
        if queued and self.on_enqueued is not None:
            self.on_enqueued()


@dataclass(frozen=True)
class Attempt:
    """What one POST came to."""

    ok: bool
    status: int | None
    error: str | None


class WebhookSender:
    """Sends due deliveries, one at a time, each inside the transaction that locks its row."""

    def __init__(
        self,
        pool: ConnectionPool,
        *,
        policy: RetryPolicy = RetryPolicy(),
        timeout_seconds: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.pool = pool
        self.policy = policy
        self.client = client or httpx.Client(
            timeout=timeout_seconds, follow_redirects=False, headers={"User-Agent": USER_AGENT}
        )

    def send_one(self) -> bool:
        """Send the next due delivery; ``False`` when none is due."""
        with self.pool.connection() as conn, conn.transaction():
            row = conn.execute(query("webhook_claim")).fetchone()
            if row is None:
                return False
            attempt = self.post(row)
            if attempt.ok:
                conn.execute(
                    query("webhook_delivered"), {"id": row["id"], "status": attempt.status}
                )
                log.debug("delivered event %s to %s", row["event_id"], row["webhook"])
                return True
            done = row["attempts"] + 1
            outcome = conn.execute(
                query("webhook_attempt_failed"),
                {
                    "id": row["id"],
                    "status": attempt.status,
                    "error": attempt.error,
                    "max_attempts": self.policy.max_attempts,
                    "delay": self.policy.delay(done),
                },
            ).fetchone()
        if outcome and outcome["status"] == "dead":
            log.warning(
                "webhook %s: event %s is a dead letter after %d attempts (%s)",
                row["webhook"],
                row["event_id"],
                done,
                attempt.error,
            )
        else:
            log.info(
                "webhook %s: attempt %d for event %s failed (%s); retrying in %.1f s",
                row["webhook"],
                done,
                row["event_id"],
                attempt.error,
                self.policy.delay(done),
            )
        return True

    def post(self, row: dict[str, Any]) -> Attempt:
        """POST one delivery's body, signed with its webhook's secret."""
        body = row["body"].encode()
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: str(row["event_id"]),
            SIGNATURE_HEADER: sign(row["secret"], body),
            "X-Webhook-Name": row["webhook"],
            "X-Delivery-Attempt": str(row["attempts"] + 1),
        }
        try:
            response = self.client.post(row["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= response.status_code < 300:
            return Attempt(True, response.status_code, None)
        return Attempt(False, response.status_code, f"HTTP {response.status_code}")

    def run(
        self, stop: threading.Event, wake: threading.Event, *, poll_seconds: float = 1.0
    ) -> None:
        """Send due deliveries until ``stop`` is set; between them wait for ``wake`` (set
        when deliveries are queued) or ``poll_seconds``. Outages are retried."""
        outages = OutageLog(log)
        backoff = 0.5
        while not stop.is_set():
            try:
                sent = self.send_one()
            except (psycopg.Error, PoolTimeout) as exc:
                outages.down("PostgreSQL", exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            outages.up("PostgreSQL")
            backoff = 0.5
            if not sent:
                wake.wait(poll_seconds)
                wake.clear()

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


def prune_delivered(pool: ConnectionPool, older_than_seconds: float) -> int:
    """Forget deliveries done longer ago than ``older_than_seconds``; return how many."""
    with pool.connection() as conn:
        cursor = conn.execute(query("webhook_prune"), {"seconds": older_than_seconds})
        return cursor.rowcount
