"""``events``: append JSON lines, list the log, follow the Redis stream."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import IO

import click
from pydantic import ValidationError
from tqdm import tqdm

from analytics_pipeline.cli.context import EXIT_REJECTED, Context, pass_context
from analytics_pipeline.eventlog import EventFilter
from analytics_pipeline.events import NewEvent, StoredEvent, as_utc, describe_errors
from analytics_pipeline.relay import decode_message
from analytics_pipeline.shutdown import stop_on_signals


@click.group()
def events() -> None:
    """Append, list and follow events."""


def _parse_lines(source: IO[str], rejected: list[str]) -> Iterator[tuple[int, NewEvent]]:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            yield number, NewEvent.model_validate_json(line)
        except ValidationError as exc:
            rejected.append(f"line {number}: {describe_errors(exc)}")


@events.command("append")
@click.argument("source", type=click.File("r"), default="-")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@pass_context
def events_append(state: Context, source: IO[str], batch_size: int) -> None:
    """Append events from JSON lines (a file or stdin), one event per line.

    Fields as in the events table: event_type, camera_id, timestamp, frame_number and
    optionally event_id, snapshot_path, event_data. Bad lines are reported with their line
    number and skipped (exit code 1); good lines are stored; an event_id already stored is
    not stored again. SIGTERM or Ctrl-C stops reading, stores the lines already read and
    says up to which line (exit code 128 + the signal's number).
    """
    event_log = state.event_log
    rejected: list[str] = []
    stored = duplicates = 0
    batch: list[NewEvent] = []
    stopped = stop_on_signals(lambda: None)

    def flush() -> None:
        nonlocal stored, duplicates
        positions = event_log.append(batch)
        new = sum(p is not None for p in positions)
        stored, duplicates = stored + new, duplicates + len(positions) - new
        progress.update(len(batch))
        batch.clear()

    last_line = 0
    with tqdm(desc="appending", unit="event", disable=None, file=sys.stderr) as progress:
        for number, event in _parse_lines(source, rejected):
            last_line = number
            batch.append(event)
            if len(batch) >= batch_size:
                flush()
            if stopped:
                break
        flush()
    for problem in rejected:
        click.secho(problem, fg="yellow", err=True)
    click.echo(f"stored {stored}, already stored {duplicates}, rejected {len(rejected)}")
    if stopped:
        click.secho(
            f"stopped by {signal.Signals(stopped[0]).name} after line {last_line}: "
            "the lines after it were not read",
            fg="yellow",
            err=True,
        )
        sys.exit(128 + stopped[0])
    if rejected:
        sys.exit(EXIT_REJECTED)


def _event_json(event: StoredEvent) -> str:
    return event.model_dump_json(exclude={"txid"})


@events.command("list")
@click.option("--camera-id", multiple=True, help="Only these cameras (repeatable).")
@click.option("--event-type", multiple=True, help="Only these types (repeatable).")
@click.option("--start", type=click.DateTime(), help="From this time (inclusive, UTC if naive).")
@click.option("--end", type=click.DateTime(), help="Until this time (exclusive).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--before", "before_id", type=int, help="Only positions below this (paging).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_context
def events_list(
    state: Context,
    camera_id: tuple[str, ...],
    event_type: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
    limit: int,
    before_id: int | None,
    as_json: bool,
) -> None:
    """List events, newest first."""
    event_filter = EventFilter(
        camera_ids=camera_id or None,
        event_types=event_type or None,
        start=as_utc(start) if start else None,
        end=as_utc(end) if end else None,
    )
    for event in state.event_log.query(event_filter, limit=limit, before_id=before_id):
        if as_json:
            click.echo(_event_json(event))
        else:
            click.echo(
                f"{event.id:>8}  {event.timestamp:%Y-%m-%d %H:%M:%S}  {event.camera_id:<16}"
                f" {event.event_type:<10} {event.snapshot_path or '-'}"
            )


@events.command("tail")
@click.option("--from-start", is_flag=True, help="Begin with the oldest message in the stream.")
@click.option("--count", type=click.IntRange(1), help="Stop after this many messages.")
@pass_context
def events_tail(state: Context, from_start: bool, count: int | None) -> None:
    """Follow the Redis stream and print each message as a JSON line."""
    client = state.redis()
    stream = state.settings.redis_stream
    last_id = "0" if from_start else "$"
    seen = 0
    try:
        while count is None or seen < count:
            reply = client.xread({stream: last_id}, block=1000, count=100)
            for _stream, messages in reply or []:
                for message_id, fields in messages:
                    last_id = message_id
                    click.echo(json.dumps({"id": message_id.decode(), **decode_message(fields)}))
                    seen += 1
                    if count is not None and seen >= count:
                        return
    except KeyboardInterrupt:
        pass
