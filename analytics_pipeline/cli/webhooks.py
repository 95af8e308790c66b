"""``webhooks``: register, list and remove webhooks; list and retry dead letters."""

from __future__ import annotations

import json

import click

from analytics_pipeline.cli.context import EXIT_REJECTED, Context, fail, pass_context
from analytics_pipeline.webhooks.registry import WebhookError, WebhookRegistry, parse_webhook


@click.group()
def webhooks() -> None:
    """Register webhooks, list them, and see or retry failed deliveries.

    The `deliver` worker sends them: a POST of each matching event as JSON, signed with
    X-Signature-256 (HMAC-SHA256 of the body keyed by the webhook's secret)."""


@webhooks.command("add")
@click.argument("name")
@click.option("--url", required=True, help="http:// or https:// URL the events are POSTed to.")
@click.option(
    "--event-type", "event_types", multiple=True, help="Send only this type (repeatable)."
)
@click.option(
    "--camera-id", "camera_ids", multiple=True, help="Send only this camera's (repeatable)."
)
@click.option("--secret", help="Signing secret (default: a random one, printed once).")
@pass_context
def webhooks_add(
    state: Context,
    name: str,
    url: str,
    event_types: tuple[str, ...],
    camera_ids: tuple[str, ...],
    secret: str | None,
) -> None:
    """Register a webhook (or replace the one with the same name)."""
    try:
        webhook = parse_webhook(name, url, event_types, camera_ids, secret)
    except WebhookError as exc:
        fail(f"webhook {name!r} not registered: {exc}", EXIT_REJECTED)
    stored = WebhookRegistry(state.pool).add(webhook)
    click.echo(f"registered webhook {stored.name} ({stored.redacted_url})")
    if secret is None:
        click.echo(f"secret: {stored.secret}")


@webhooks.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_context
def webhooks_list(state: Context, as_json: bool) -> None:
    """List webhooks with their pending, delivered and dead deliveries (secrets hidden)."""
    for webhook in WebhookRegistry(state.pool).list():
        if as_json:
            fields = webhook.model_dump(mode="json", exclude={"secret"})
            click.echo(json.dumps(fields | {"url": webhook.redacted_url}))
            continue
        types = ",".join(webhook.event_types) or "*"
        cameras = ",".join(webhook.camera_ids) or "*"
        click.echo(
            f"{webhook.name:<20} {webhook.redacted_url}  types={types} cameras={cameras}"
            f"  pending={webhook.pending} delivered={webhook.delivered} dead={webhook.dead}"
        )


@webhooks.command("remove")
@click.argument("name")
@pass_context
def webhooks_remove(state: Context, name: str) -> None:
    """Remove a webhook and its deliveries."""
    if not WebhookRegistry(state.pool).remove(name):
        fail(f"no webhook {name!r}", EXIT_REJECTED)
    click.echo(f"removed webhook {name}")


@webhooks.command("failures")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1))
@pass_context
def webhooks_failures(state: Context, name: str | None, as_json: bool, limit: int) -> None:
    """List dead letters (deliveries that failed every attempt), of NAME or of all."""
    registry = WebhookRegistry(state.pool)
    if name is not None and registry.get(name) is None:
        fail(f"no webhook {name!r}", EXIT_REJECTED)
    failures = registry.failures(name, limit=limit)
    for failure in failures:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "webhook": failure.webhook,
                        "event_id": str(failure.event_id),
                        "position": failure.position,
                        "event_type": failure.event_type,
                        "attempts": failure.attempts,
                        "last_status": failure.last_status,
                        "last_error": failure.last_error,
                        "failed_at": failure.finished_at.isoformat()
                        if failure.finished_at
                        else None,
                    }
                )
            )
        else:
            click.echo(
                f"{failure.webhook:<20} event {failure.event_id} (position {failure.position},"
                f" {failure.event_type}): {failure.attempts} attempts, {failure.last_error}"
            )
    if not as_json:
        click.echo(
            f"{len(failures)} failed deliver{'y' if len(failures) == 1 else 'ies'}", err=True
        )


@webhooks.command("retry")
@click.argument("name")
@pass_context
def webhooks_retry(state: Context, name: str) -> None:
    """Send NAME's dead letters again (a running `deliver` worker picks them up)."""
    try:
        count = WebhookRegistry(state.pool).retry(name)
    except WebhookError as exc:
        fail(str(exc), EXIT_REJECTED)
    click.echo(f"queued {count} failed deliver{'y' if count == 1 else 'ies'} of {name} again")
