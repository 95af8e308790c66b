"""``analyze`` and ``demo``: the analyzer from the command line."""

from __future__ import annotations

import json
import os
import sys

import click
from pydantic import ValidationError

from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.cli.context import (
    EXIT_CONFIG,
    EXIT_REJECTED,
    Context,
    fail,
    pass_context,
)

# What one core carries at 5 fps with the default detector and ANPR, half the cameras busy
# (benchmarks/analyzer.py, cameras_sustained_5fps_default: 16 on 2 cores, as with ANPR off).
CAMERAS_PER_CORE = 8


def _check_detector(state: Context) -> None:
    """Stop at start, with the command that fixes it, when the detector cannot run (the
    default model not made yet, YOLO weights missing, no CUDA for DETECTOR_DEVICE=cuda)."""
    from analytics_pipeline.analyzer.detector import check_detector
    from analytics_pipeline.weights import WeightsError

    try:
        check_detector(state.settings.detector_weights or None, state.settings.detector_device)
    except WeightsError as exc:
        fail(str(exc), EXIT_CONFIG)


def _claim_now(state: Context, camera_id: str) -> None:
    """Take the ad-hoc camera's lease at once, as this process (which analyses it next), so
    that a running analyzer does not pick up the camera just registered."""
    from analytics_pipeline.leases import LeaseKeeper

    seconds = state.settings.camera_lease_seconds
    LeaseKeeper(state.pool, lease_seconds=seconds, capacity=1, fair_share=False).claim([camera_id])


@click.command()
@click.option("--camera", "cameras", multiple=True, help="Only this camera (repeatable).")
@click.option("--source", help="Register and run an ad-hoc camera from this file or URL.")
@click.option("--camera-id", help="The id of the --source camera.")
@click.option(
    "--settings",
    "settings_json",
    help="Per-camera settings of the --source camera as JSON (as for cameras add).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes to spread the cameras over.",
)
@click.option(
    "--max-cameras",
    type=click.IntRange(1, 100_000),
    help="Cameras this analyzer holds at most, over all its workers "
    f"(default: {CAMERAS_PER_CORE} per core).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve /metrics (Prometheus), /livez and /readyz on this port.",
)
@click.option(
    "--no-relay",
    is_flag=True,
    help="Leave publishing to Redis to a separate `relay` process (one per database).",
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
    settings_json: str | None,
    workers: int,
    max_cameras: int | None,
    metrics_port: int | None,
    no_relay: bool,
    realtime: bool,
    until_end: bool,
) -> None:
    """Analyse the enabled cameras: motion, detection and tracking, ANPR; each event gets a
    snapshot, goes to the log and to the Redis stream. Cameras added or removed while it
    runs are picked up. Ctrl-C stops it cleanly.

    Analyzers on any number of machines share the cameras through leases in PostgreSQL:
    each claims its fair share, up to --max-cameras, and takes over the cameras of one that
    died within CAMERA_LEASE_SECONDS. Started before PostgreSQL, it waits for it."""
    from analytics_pipeline.analysis import run_analysis, run_workers, summary_lines

    _check_detector(state)
    if source:
        if not camera_id:
            raise click.UsageError("--source needs --camera-id")
        try:
            camera = CameraInput(
                id=camera_id, source_url=source, settings=json.loads(settings_json or "{}")
            )
        except (ValidationError, json.JSONDecodeError) as exc:
            raise click.BadParameter(str(exc)) from None
        CameraRegistry(state.pool).register(camera)
        _claim_now(state, camera_id)
        cameras, until_end, workers = (*cameras, camera_id), True, 1
    elif settings_json:
        raise click.UsageError("--settings goes with --source")
    max_cameras = max_cameras or CAMERAS_PER_CORE * (os.cpu_count() or 1)
    options = {
        "realtime": realtime,
        "until_end": until_end,
        "max_cameras": max_cameras,
        "relay": not no_relay,
    }
    if workers > 1:
        from analytics_pipeline.leases import database_now

        # --until-end: one moment for every worker (a file is analysed once in the run).
        since = database_now(state.pool) if until_end else None
        run_workers(
            state.settings, workers, cameras, metrics_port=metrics_port, since=since, **options
        )
        return
    summary = run_analysis(state.settings, cameras, metrics_port=metrics_port, **options)
    if source and camera_id not in summary.frames and camera_id not in summary.errors:
        holder = CameraRegistry(state.pool).leases([camera_id]).get(camera_id)
        owner = holder.owner if holder is not None else None
        fail(f"camera {camera_id} is analysed by another analyzer ({owner})", EXIT_REJECTED)
    for line in summary_lines(summary):
        click.echo(line)
    for camera, error in summary.errors.items():
        click.secho(f"{camera}: {error}", fg="red", err=True)
    if summary.errors and not summary.events:
        sys.exit(EXIT_REJECTED)


@click.command()
@click.option("--serve", is_flag=True, help="Then run the API and the Dagster UI until Ctrl-C.")
@pass_context
def demo(state: Context, serve: bool) -> None:
    """Analyse a synthetic street with plates and real CCTV footage (Debian's opencv-doc)
    end to end: events with snapshots in the log and on the Redis stream."""
    from analytics_pipeline.demo import run_demo, serve_demo

    _check_detector(state)
    state.redis()  # fail early and plainly when Redis does not answer
    run_demo(state.settings, state.pool)
    if serve:
        serve_demo(state.settings)
