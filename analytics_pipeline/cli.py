"""The ``analytics-pipeline`` command line.

Exit codes: 0 success; 1 the command ran but some input was rejected or a thing was missing;
2 usage or configuration error; 3 PostgreSQL or Redis could not be reached.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

import click
import psycopg
import psycopg_pool
import redis
from pydantic import ValidationError
from tqdm import tqdm

from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.config import ConfigError, Settings, load_settings
from analytics_pipeline.db import create_pool, migrate
from analytics_pipeline.eventlog import EventFilter, EventLog
from analytics_pipeline.events import NewEvent, StoredEvent, as_utc, describe_errors
from analytics_pipeline.relay import Relay, decode_message

EXIT_REJECTED = 1
EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3

log = logging.getLogger("analytics_pipeline")


class Context:
    """Settings plus lazily opened clients shared by a command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: psycopg_pool.ConnectionPool | None = None

    @property
    def pool(self) -> psycopg_pool.ConnectionPool:
        if self._pool is None:
            try:
                self._pool = create_pool(self.settings.database_url)
            except psycopg_pool.PoolTimeout:
                fail(
                    f"PostgreSQL at DATABASE_URL={self.settings.database_url} does not answer",
                    EXIT_UNREACHABLE,
                )
        return self._pool  # type: ignore[return-value]

    @property
    def event_log(self) -> EventLog:
        return EventLog(self.pool)

    def redis(self) -> redis.Redis:
        client = redis.Redis.from_url(
            self.settings.redis_url, socket_connect_timeout=5, socket_timeout=10
        )
        try:
            client.ping()
        except redis.RedisError as exc:
            fail(
                f"Redis at REDIS_URL={self.settings.redis_url} does not answer: {exc}",
                EXIT_UNREACHABLE,
            )
        return client

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def fail(message: str, code: int) -> None:
    """Print an error and exit with ``code``."""
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


pass_context = click.make_pass_decorator(Context)


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
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    state = Context(settings)
    ctx.obj = state
    ctx.call_on_close(state.close)


@main.group()
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


@main.command()
@click.option("--once", is_flag=True, help="Publish what is pending, then exit.")
@pass_context
def relay(state: Context, once: bool) -> None:
    """Publish committed events to the Redis stream, following the log until stopped."""
    worker = Relay(
        state.event_log,
        state.redis(),
        state.settings.redis_stream,
        maxlen=state.settings.redis_stream_maxlen,
    )
    if once:
        click.echo(f"published {worker.publish_pending()} event(s) to {worker.stream}")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker.run(state.settings.database_url, stop)


@main.group()
def cameras() -> None:
    """Register, list and remove cameras."""


@cameras.command("add")
@click.argument("camera_id")
@click.option("--source", "source_url", required=True, help="File path, rtsp:// or http:// URL.")
@click.option("--name", default="", help="Display name (defaults to the id).")
@click.option("--disabled", is_flag=True, help="Register without analysing it.")
@click.option("--settings", "settings_json", default="{}", help="Per-camera settings as JSON.")
@pass_context
def cameras_add(
    state: Context, camera_id: str, source_url: str, name: str, disabled: bool, settings_json: str
) -> None:
    """Register a camera (or replace the one with the same id)."""
    try:
        camera = CameraInput(
            id=camera_id,
            name=name,
            source_url=source_url,
            enabled=not disabled,
            settings=json.loads(settings_json),
        )
    except (ValidationError, json.JSONDecodeError) as exc:
        raise click.BadParameter(str(exc)) from None
    stored = CameraRegistry(state.pool).register(camera)
    click.echo(f"registered camera {stored.id} ({stored.source_url})")


@cameras.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_context
def cameras_list(state: Context, as_json: bool) -> None:
    """List registered cameras."""
    for camera in CameraRegistry(state.pool).list():
        if as_json:
            click.echo(camera.model_dump_json())
        else:
            status = "enabled" if camera.enabled else "disabled"
            click.echo(f"{camera.id:<20} {status:<9} {camera.name:<24} {camera.source_url}")


@cameras.command("remove")
@click.argument("camera_id")
@pass_context
def cameras_remove(state: Context, camera_id: str) -> None:
    """Remove a camera; its events stay in the log."""
    if not CameraRegistry(state.pool).remove(camera_id):
        fail(f"no camera {camera_id!r}", EXIT_REJECTED)
    click.echo(f"removed camera {camera_id}")


@main.group()
def events() -> None:
    """Append, list and follow events."""


def _parse_lines(source: IO[str], rejected: list[str]) -> Iterator[NewEvent]:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            yield NewEvent.model_validate_json(line)
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
    not stored again.
    """
    event_log = state.event_log
    rejected: list[str] = []
    stored = duplicates = 0
    batch: list[NewEvent] = []

    def flush() -> None:
        nonlocal stored, duplicates
        positions = event_log.append(batch)
        new = sum(p is not None for p in positions)
        stored, duplicates = stored + new, duplicates + len(positions) - new
        progress.update(len(batch))
        batch.clear()

    with tqdm(desc="appending", unit="event", disable=None, file=sys.stderr) as progress:
        for event in _parse_lines(source, rejected):
            batch.append(event)
            if len(batch) >= batch_size:
                flush()
        flush()
    for problem in rejected:
        click.secho(problem, fg="yellow", err=True)
    click.echo(f"stored {stored}, already stored {duplicates}, rejected {len(rejected)}")
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


def _analyze_worker(
    settings: Settings,
    index: int,
    workers: int,
    cameras: tuple[str, ...],
    realtime: bool,
    until_end: bool,
) -> None:
    """One worker process of `analyze --workers N` (module level, so that spawn can run it)."""
    from analytics_pipeline.analyzer.runner import AnalyzerService, worker_filter

    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)-7s %(processName)s %(name)s: %(message)s",
    )
    in_share = worker_filter(index, workers)
    service = AnalyzerService(
        settings, realtime=realtime, until_end=until_end, progress=False, relay=index == 0
    )
    signal.signal(signal.SIGINT, lambda *_: service.stop.set())
    signal.signal(signal.SIGTERM, lambda *_: service.stop.set())
    try:
        service.run(lambda c: in_share(c) and (not cameras or c.id in cameras))
    finally:
        service.close()


@main.command()
@click.option("--camera", "cameras", multiple=True, help="Only this camera (repeatable).")
@click.option("--source", help="Register and run an ad-hoc camera from this file or URL.")
@click.option("--camera-id", help="The id of the --source camera.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes to spread the cameras over.",
)
@click.option("--realtime", is_flag=True, help="Play files at their own pace.")
@click.option(
    "--until-end",
    is_flag=True,
    help="Exit when every camera's file has ended (implied by --source).",
)
@pass_context
def analyze(
    state: Context,
    cameras: tuple[str, ...],
    source: str | None,
    camera_id: str | None,
    workers: int,
    realtime: bool,
    until_end: bool,
) -> None:
    """Analyse the enabled cameras: motion, detection and tracking, ANPR; each event gets a
    snapshot, goes to the log and to the Redis stream. Cameras added or removed while it
    runs are picked up. Ctrl-C stops it cleanly."""
    from analytics_pipeline.analyzer.runner import AnalyzerService

    settings = state.settings
    if source:
        if not camera_id:
            raise click.UsageError("--source needs --camera-id")
        CameraRegistry(state.pool).register(CameraInput(id=camera_id, source_url=source))
        cameras, until_end = (*cameras, camera_id), True
    if workers > 1:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        processes = [
            context.Process(
                target=_analyze_worker,
                name=f"worker-{i}",
                args=(settings, i, workers, cameras, realtime, until_end),
            )
            for i in range(workers)
        ]
        for process in processes:
            process.start()
        try:
            for process in processes:
                process.join()
        except KeyboardInterrupt:
            for process in processes:
                process.join(60)
        return
    service = AnalyzerService(settings, realtime=realtime, until_end=until_end)
    signal.signal(signal.SIGINT, lambda *_: service.stop.set())
    signal.signal(signal.SIGTERM, lambda *_: service.stop.set())
    try:
        summary = service.run(lambda c: not cameras or c.id in cameras)
    finally:
        service.close()
    for camera, counts in summary.events.items():
        listed = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no events"
        frames = summary.frames.get(camera, {})
        click.echo(
            f"{camera}: {listed}; frames analysed {frames.get('analysed', 0)}, "
            f"skipped to the analysis rate {frames.get('dropped', 0)}, dropped behind a live "
            f"stream {frames.get('overload', 0)}, corrupt {frames.get('corrupt', 0)}"
        )
        if summary.plates.get(camera):
            click.echo(f"  plates: {', '.join(summary.plates[camera])}")
    for camera, error in summary.errors.items():
        click.secho(f"{camera}: {error}", fg="red", err=True)
    if summary.errors and not summary.events:
        sys.exit(EXIT_REJECTED)


@main.command()
@click.option("--host", help="Address to listen on (default API_HOST).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default API_PORT, 8069).")
@pass_context
def serve(state: Context, host: str | None, port: int | None) -> None:
    """Run the API: GraphQL at /graphql, REST at /api, images, the events page at /."""
    import uvicorn

    from analytics_pipeline.api.app import create_app

    settings = state.settings
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.log_level.lower(),
    )


def _exec_dagster(state: Context, arguments: list[str]) -> None:
    """Replace this process with `dagster ARGUMENTS`, on the instance of dagster.yaml."""
    import os

    from analytics_pipeline.dagster_instance import REPO_ROOT, prepare_dagster_environment

    try:
        env = prepare_dagster_environment(state.settings)
    except psycopg.OperationalError as exc:
        fail(f"PostgreSQL at DATABASE_URL does not answer: {exc}", EXIT_UNREACHABLE)
    os.environ.update(env)
    os.chdir(REPO_ROOT)
    dagster = str(Path(sys.executable).parent / "dagster")
    os.execv(dagster, [dagster, *arguments])


@main.command("dagster-dev", context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
@pass_context
def dagster_dev(state: Context, dagster_args: tuple[str, ...]) -> None:
    """Run `dagster dev` on workspace.yaml with the instance of dagster.yaml.

    Creates the Dagster database (<db>_dagster beside DATABASE_URL's) and .dagster_home, then
    runs `dagster dev -w workspace.yaml` (UI on http://127.0.0.1:3000 unless -p says
    otherwise); extra arguments go to dagster dev.
    """
    _exec_dagster(state, ["dev", "-w", "workspace.yaml", *dagster_args])


@main.command("dagster", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
@pass_context
def dagster_command(state: Context, dagster_args: tuple[str, ...]) -> None:
    """Any `dagster` command on the instance of dagster.yaml, from the repository root.

    For example: analytics-pipeline dagster asset materialize --select daily_event_stats
    --partition 2026-11-24 -f definitions.py
    """
    _exec_dagster(state, list(dagster_args) or ["--help"])


@main.command("graphql-schema")
def graphql_schema() -> None:
    """Print the GraphQL schema (SDL); graphql/schema.graphql is this output."""
    from analytics_pipeline.api.schema import schema

    click.echo(str(schema))


@main.command()
@click.option("--serve", is_flag=True, help="Then run the API and the Dagster UI until Ctrl-C.")
@pass_context
def demo(state: Context, serve: bool) -> None:
    """Analyse a synthetic street with plates and real CCTV footage (Debian's opencv-doc)
    end to end: events with snapshots in the log and on the Redis stream."""
    from analytics_pipeline.demo import run_demo, serve_demo

    state.redis()  # fail early and plainly when Redis does not answer
    run_demo(state.settings, state.pool)
    if serve:
        serve_demo(state.settings)


if __name__ == "__main__":
    main()
