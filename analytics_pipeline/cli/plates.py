"""``plates``: the plate watchlist."""

from __future__ import annotations

import click

from analytics_pipeline.cli.context import EXIT_REJECTED, Context, fail, pass_context
from analytics_pipeline.watchlist import Watchlist, WatchlistError, normalise_plate


@click.group()
def plates() -> None:
    """Watch plates: every anpr event whose plate matches one appends a plate_match event.

    A match is exact, or within one OCR confusion (see docs/consumers.md); the `deliver`
    worker does the matching."""


@plates.command("watch")
@click.argument("plate")
@click.option("--label", default="", help="Why it is watched (shown in plate_match events).")
@pass_context
def plates_watch(state: Context, plate: str, label: str) -> None:
    """Watch PLATE (or change its label)."""
    try:
        watched = Watchlist(state.pool).watch(plate, label)
    except WatchlistError as exc:
        fail(str(exc), EXIT_REJECTED)
    click.echo(f"watching {watched.plate}" + (f" ({watched.label})" if watched.label else ""))


@plates.command("unwatch")
@click.argument("plate")
@pass_context
def plates_unwatch(state: Context, plate: str) -> None:
    """Stop watching PLATE."""
    if not Watchlist(state.pool).unwatch(plate):
        fail(f"{normalise_plate(plate) or plate!r} is not watched", EXIT_REJECTED)
    click.echo(f"stopped watching {normalise_plate(plate)}")


@plates.command("list")
@pass_context
def plates_list(state: Context) -> None:
    """List watched plates."""
    for watched in Watchlist(state.pool).list():
        click.echo(f"{watched.plate:<16} {watched.label}".rstrip())
