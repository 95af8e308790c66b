"""The ``analytics-pipeline`` command line: thin handlers over the stage modules.

Exit codes: 0 success; 1 the command ran but some input was rejected or a thing was missing;
2 usage or configuration error; 3 PostgreSQL or Redis could not be reached.
"""

from __future__ import annotations

import click

from analytics_pipeline.cli.analysis import analyze, demo
from analytics_pipeline.cli.cameras import cameras
from analytics_pipeline.cli.context import EXIT_CONFIG, Context, fail
from analytics_pipeline.cli.database import db
from analytics_pipeline.cli.deliver import deliver
from analytics_pipeline.cli.events import events
from analytics_pipeline.cli.plates import plates
from analytics_pipeline.cli.services import (
    dagster_command,
    dagster_dev,
    graphql_schema,
    relay,
    serve,
)
from analytics_pipeline.cli.webhooks import webhooks
from analytics_pipeline.config import ConfigError, load_settings
from analytics_pipeline.logs import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--env-file", default=".env", show_default=True, help="Optional settings file.")
@click.version_option(package_name="analytics-pipeline")
@click.pass_context
def main(ctx: click.Context, env_file: str) -> None:
    """Video analytics event pipeline: event log, Redis relay, cameras and snapshots.

    Settings come from the environment and an optional .env file (see .env.example).
    """
    try:
        settings = load_settings(env_file)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    configure_logging(settings.log_level, settings.log_format)
    state = Context(settings)
    ctx.obj = state
    ctx.call_on_close(state.close)


for command in (
    db,
    relay,
    cameras,
    events,
    analyze,
    serve,
    dagster_dev,
    dagster_command,
    graphql_schema,
    demo,
    webhooks,
    plates,
    deliver,
):
    main.add_command(command)

__all__ = ["main"]
