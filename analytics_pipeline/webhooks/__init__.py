"""Webhooks: registration in PostgreSQL, signed deliveries with retries, and the worker.

See ``docs/consumers.md``; the worker is :mod:`analytics_pipeline.webhooks.worker`.
"""

from analytics_pipeline.webhooks.delivery import (
    RetryPolicy,
    WebhookEnqueuer,
    WebhookSender,
    delivery_body,
    sign,
    verify,
)
from analytics_pipeline.webhooks.registry import (
    Failure,
    Webhook,
    WebhookError,
    WebhookInput,
    WebhookRegistry,
    parse_webhook,
    validate_webhook_url,
)

__all__ = [
    "Failure",
    "RetryPolicy",
    "Webhook",
    "WebhookEnqueuer",
    "WebhookError",
    "WebhookInput",
    "WebhookRegistry",
    "WebhookSender",
    "delivery_body",
    "parse_webhook",
    "sign",
    "validate_webhook_url",
    "verify",
]
