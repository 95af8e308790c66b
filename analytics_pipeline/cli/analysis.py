"""``analyze`` and ``demo``: the analyzer from the command line."""

from __future__ import annotations

import sys

import click

from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.cli.context import (
    EXIT_CONFIG,
    EXIT_REJECTED,
    Context,
    fail,
    pass_context,
)


def _check_detector(state: Context) -> None:
    """Stop at start, with the command that fixes it, when the detector cannot run (the
    default model not made yet, YOLO weights missing, no CUDA for DETECTOR_DEVICE=cuda)."""
    from analytics_pipeline.analyzer.detector import check_detector
    from analytics_pipeline.weights import WeightsError

    try:
        check_detector(state.settings.detector_weights or None, state.settings.detector_device)
    except WeightsError as exc:
        fail(str(exc), EXIT_CONFIG)


@click.command()
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
    from analytics_pipeline.analysis import run_analysis, run_workers, summary_lines

    _check_detector(state)
    if source:
        if not camera_id:
            raise click.UsageError("--source needs --camera-id")
        CameraRegistry(state.pool).register(CameraInput(id=camera_id, source_url=source))
        cameras, until_end = (*cameras, camera_id), True
    if workers > 1:
        run_workers(state.settings, workers, cameras, realtime=realtime, until_end=until_end)
        return
    summary = run_analysis(state.settings, cameras, realtime=realtime, until_end=until_end)
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
