"""``deliver``: the worker that sends webhooks and matches plates against the watchlist."""

from __future__ import annotations

import logging
import threading
from typing import Any

import click
import redis

from analytics_pipeline.cli.context import Context, pass_context
from analytics_pipeline.db import create_pool
from analytics_pipeline.dependencies import UNREACHABLE, OutageLog, postgres_answers, redis_answers
from analytics_pipeline.metrics import serve_metrics
from analytics_pipeline.shutdown import stop_on_signals
from analytics_pipeline.webhooks.worker import DeliverOptions, DeliverWorker

_DEFAULTS = DeliverOptions()
log = logging.getLogger("analytics_pipeline.deliver")


def _pick(value: Any, state: Context, setting: str, default: Any) -> Any:
    """The option when given, else the setting when the configuration has it, else default."""
    if value is not None:
        return value
    return getattr(state.settings, setting, default)


def _wait_for_dependencies(state: Context, stop: threading.Event) -> bool:
    """Ask PostgreSQL and Redis until both answer (capped back-off; one line each when it
    goes missing and when it answers); False when stopped first."""
    outages, delay = OutageLog(log), 0.5
    checks = (
        ("PostgreSQL", postgres_answers, state.settings.database_url),
        ("Redis", redis_answers, state.settings.redis_url),
    )
    while not stop.is_set():
        for what, answers, url in checks:
            try:
                answers(url)
                outages.up(what)
            except UNREACHABLE as exc:
                outages.down(what, exc)
        if not outages.missing:
            return True
        stop.wait(delay)
        delay = min(delay * 2, 10.0)
    return False


@click.command()
@click.option(
    "--senders",
    type=click.IntRange(1, 64),
    help=f"Deliveries sent at once (WEBHOOK_SENDERS, {_DEFAULTS.senders}).",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 1000),
    help=f"Attempts before a dead letter (WEBHOOK_MAX_ATTEMPTS, {_DEFAULTS.max_attempts}).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 600),
    help=f"Seconds per POST (WEBHOOK_TIMEOUT_SECONDS, {_DEFAULTS.timeout_seconds:g}).",
)
@click.option(
    "--retry-base",
    type=click.FloatRange(0.01),
    help="First back-off in seconds, doubled at each failure "
    f"(WEBHOOK_RETRY_BASE_SECONDS, {_DEFAULTS.retry_base_seconds:g}).",
)
@click.option(
    "--retry-max",
    type=click.FloatRange(0.01),
    help=f"Longest back-off (WEBHOOK_RETRY_MAX_SECONDS, {_DEFAULTS.retry_max_seconds:g}).",
)
@click.option(
    "--claim-idle",
    type=click.FloatRange(0.1),
    help="Seconds after which another worker takes over a silent worker's messages "
    f"(CONSUMER_CLAIM_IDLE_SECONDS, {_DEFAULTS.claim_idle_seconds:g}).",
)
@click.option("--no-webhooks", is_flag=True, help="Only match plates.")
@click.option("--no-watchlist", is_flag=True, help="Only send webhooks.")
@click.option("--consumer", help="This worker's name in the consumer groups (default: unique).")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve /metrics (Prometheus), /livez and /readyz on this port.",
)
@pass_context
def deliver(
    state: Context,
    senders: int | None,
    max_attempts: int | None,
    timeout: float | None,
    retry_base: float | None,
    retry_max: float | None,
    claim_idle: float | None,
    no_webhooks: bool,
    no_watchlist: bool,
    consumer: str | None,
    metrics_port: int | None,
) -> None:
    """Send webhooks and match plates against the watchlist, following the stream until
    stopped (Ctrl-C). Several may run at once; a killed one loses nothing (each event is
    delivered at least once: receivers dedupe by X-Event-Id). Started before PostgreSQL or
    Redis, it says what it waits for and starts when they answer."""
    settings = state.settings
    options = DeliverOptions(
        senders=_pick(senders, state, "webhook_senders", _DEFAULTS.senders),
        max_attempts=_pick(max_attempts, state, "webhook_max_attempts", _DEFAULTS.max_attempts),
        timeout_seconds=_pick(timeout, state, "webhook_timeout_seconds", _DEFAULTS.timeout_seconds),
        retry_base_seconds=_pick(
            retry_base, state, "webhook_retry_base_seconds", _DEFAULTS.retry_base_seconds
        ),
        retry_max_seconds=_pick(
            retry_max, state, "webhook_retry_max_seconds", _DEFAULTS.retry_max_seconds
        ),
        claim_idle_seconds=_pick(
            claim_idle, state, "consumer_claim_idle_seconds", _DEFAULTS.claim_idle_seconds
        ),
        webhooks=not no_webhooks,
        watchlist=not no_watchlist,
        consumer=consumer,
    )
    if no_webhooks and no_watchlist:
        raise click.UsageError("--no-webhooks and --no-watchlist leave nothing to do")
    # httpx logs every request with its full URL, which may carry a token: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stop = threading.Event()
    stop_on_signals(stop.set)
    server = serve_metrics(metrics_port, settings.database_url, settings.redis_url)
    try:
        if not _wait_for_dependencies(state, stop):
            return  # stopped while waiting
        pool = create_pool(settings.database_url, max_size=options.senders + 4, wait=False)
        client = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=5, socket_timeout=30
        )
        try:
            DeliverWorker(pool, client, settings.redis_stream, options).run(stop)
        finally:
            client.close()
            pool.close()
    finally:
        if server is not None:
            server.stop()
