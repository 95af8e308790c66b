"""Long-running services and tools: ``relay``, ``serve``, ``dagster-dev``, ``dagster``,
``graphql-schema``."""

from __future__ import annotations

import gc
import os
import sys
import threading
from pathlib import Path

import click
import psycopg
import redis

from analytics_pipeline.cli.context import EXIT_UNREACHABLE, Context, fail, pass_context
from analytics_pipeline.db import create_pool
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.logs import uvicorn_log_config
from analytics_pipeline.metrics import serve_metrics
from analytics_pipeline.relay import Relay
from analytics_pipeline.shutdown import stop_on_signals


@click.command()
@click.option("--once", is_flag=True, help="Publish what is pending, then exit.")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve /metrics (Prometheus), /livez and /readyz on this port.",
)
@pass_context
def relay(state: Context, once: bool, metrics_port: int | None) -> None:
    """Publish committed events to the Redis stream, following the log until stopped.

    Started before PostgreSQL or Redis, it says what it waits for and starts when they
    answer; --once fails at once (exit 3) instead."""
    settings = state.settings
    if once:
        worker = Relay(
            state.event_log,
            state.redis(),
            settings.redis_stream,
            maxlen=settings.redis_stream_maxlen,
        )
        click.echo(f"published {worker.publish_pending()} event(s) to {worker.stream}")
        return
    stop = threading.Event()
    stop_on_signals(stop.set)
    server = serve_metrics(metrics_port, settings.database_url, settings.redis_url)
    pool = create_pool(settings.database_url, wait=False)
    try:
        client = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=5, socket_timeout=10
        )
        worker = Relay(
            EventLog(pool), client, settings.redis_stream, maxlen=settings.redis_stream_maxlen
        )
        worker.run(settings.database_url, stop)
    finally:
        pool.close()
        if server is not None:
            server.stop()


@click.command()
@click.option("--host", help="Address to listen on (default API_HOST).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default API_PORT, 8069).")
@pass_context
def serve(state: Context, host: str | None, port: int | None) -> None:
    """Run the API: GraphQL at /graphql, REST at /api, images, the events page at /."""
    import uvicorn

    from analytics_pipeline.api.app import create_app
    from analytics_pipeline.api.server import uvicorn_config

    app = create_app(state.settings)
    # What is built by now (schema, models, libraries) lives as long as the process: kept out
    # of the collector's full passes, which otherwise walk it under load (p99 latency).
    gc.collect()
    gc.freeze()
    uvicorn.run(app, **uvicorn_config(state.settings, host, port), log_config=uvicorn_log_config())


def _exec_dagster(state: Context, arguments: list[str] | None) -> dict[str, str]:
    """Replace this process with `dagster ARGUMENTS`, on the instance of dagster.yaml; with
    ``None``, only create the Dagster database and DAGSTER_HOME and return the variables
    `dagster` processes need.

    dagster 1.13 marks its CLI commands superseded by `dg` (the dagster-dg-cli package, not
    installed here) with a FutureWarning that starts "Function `": not printed here.
    """
    from analytics_pipeline.dagster_instance import prepare_dagster_environment
    from analytics_pipeline.paths import project_root

    try:
        env = prepare_dagster_environment(state.settings)
    except psycopg.OperationalError as exc:
        fail(f"PostgreSQL at DATABASE_URL does not answer: {exc}", EXIT_UNREACHABLE)
    if arguments is None:
        return env
    os.environ.update(env)
    filters = [f for f in os.environ.get("PYTHONWARNINGS", "").split(",") if f]
    os.environ["PYTHONWARNINGS"] = ",".join([*filters, "ignore:Function `:FutureWarning"])
    os.chdir(project_root())
    dagster = str(Path(sys.executable).parent / "dagster")
    os.execv(dagster, [dagster, *arguments])


@click.command("dagster-dev")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the UI.")
@click.option(
    "-p", "--port", type=click.IntRange(1, 65535), default=3000, show_default=True, help="UI port."
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    help="Log level of the UI and the daemon.",
)
@pass_context
def dagster_dev(state: Context, host: str, port: int, log_level: str) -> None:
    """Run Dagster locally: the UI and the daemon on workspace.yaml, with the instance of
    dagster.yaml.

    Creates the Dagster database (<db>_dagster beside DATABASE_URL's) and .dagster_home, then
    runs dagster-webserver (the UI, http://127.0.0.1:3000 unless --port says otherwise) and
    dagster-daemon (schedules, sensors, backfills, run monitoring), as `dagster dev` does but
    without its warnings; Ctrl-C (SIGINT) or SIGTERM stops both.
    """
    from analytics_pipeline.dagster_instance import serve_dagster

    sys.exit(serve_dagster(_exec_dagster(state, None), host, port, log_level))


@click.command(
    "dagster", context_settings={"ignore_unknown_options": True, "help_option_names": []}
)
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
@pass_context
def dagster_command(state: Context, dagster_args: tuple[str, ...]) -> None:
    """Any `dagster` command on the instance of dagster.yaml, from the repository root.

    For example: analytics-pipeline dagster asset materialize --select daily_event_stats
    --partition 2026-11-24 -f definitions.py
    """
    _exec_dagster(state, list(dagster_args) or ["--help"])


@click.command("graphql-schema")
def graphql_schema() -> None:
    """Print the GraphQL schema (SDL); graphql/schema.graphql is this output."""
    from analytics_pipeline.api.schema import schema

    click.echo(str(schema))
