"""``db``: schema commands."""

from __future__ import annotations

import click
import psycopg

from analytics_pipeline.cli.context import EXIT_UNREACHABLE, Context, fail, pass_context
from analytics_pipeline.db import migrate


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("migrate")
@pass_context
def db_migrate(state: Context) -> None:
    """Apply pending sql/migrations in order (idempotent, safe to run concurrently)."""
    try:
        applied = migrate(state.settings.database_url)
    except psycopg.OperationalError as exc:
        fail(f"PostgreSQL at DATABASE_URL does not answer: {exc}", EXIT_UNREACHABLE)
    click.echo(
        f"applied {len(applied)} migration(s)"
        + (": " + ", ".join(applied) if applied else "; the schema is up to date")
    )
