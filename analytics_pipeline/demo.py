"""The demo: a synthetic street with plates and Debian's real CCTV footage, analysed end to
end, then the API and the Dagster UI."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from psycopg_pool import ConnectionPool

from analytics_pipeline.analysis import run_analysis, summary_lines
from analytics_pipeline.analyzer.media import MediaUnavailable, opencv_sample
from analytics_pipeline.analyzer.synthetic import demo_street
from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.paths import local_dir, project_root

DEMO_VIDEO = local_dir() / "videos" / "demo-street.avi"
MODEL = project_root() / "models" / "street-nano.pt"


def demo_cameras() -> list[CameraInput]:
    """The synthetic street (the project's model) and, when it can be had, vtest.avi (the
    default detector, COCO CenterNet, with the default settings).

    The street has a counting line across the road (``gate``, drawn bottom to top: ``a_to_b``
    is left to right) and, with the demo's ``ENABLE_CLIPS``, a clip of each crossing. The
    street keeps the project's model: the real COCO detector does not see its flat drawn
    cars as cars (nothing at score 0.3 on any of its frames) and finds its stick-figure walker
    only now and then, so the street's plates would never be read off a vehicle track.
    """
    if not DEMO_VIDEO.is_file():
        demo_street().write(DEMO_VIDEO)
    cameras = [
        CameraInput(
            id="demo-street",
            name="Synthetic street with plates",
            source_url=str(DEMO_VIDEO),
            settings={
                "fps": 5,
                "detector_weights": str(MODEL),
                "plate_pattern": "[A-Z]{2}[0-9]{2}[A-Z]{3}",
                "lines": [{"name": "gate", "points": [[0.5, 1.0], [0.5, 0.45]]}],
                "clip_events": ["line_crossed", "anpr"],
            },
        )
    ]
    try:
        cameras.append(
            CameraInput(
                id="campus",
                name="Campus CCTV (opencv-doc vtest.avi)",
                source_url=str(opencv_sample("vtest.avi")),
                settings={"detector_weights": ""},  # "": the default CenterNet
            )
        )
    except MediaUnavailable as exc:
        click.secho(
            f"real footage unavailable, demo runs the synthetic street only: {exc}",
            fg="yellow",
            err=True,
        )
    return cameras


def run_demo(settings: Settings, pool: ConnectionPool) -> None:
    """Register the demo cameras and analyse them to the end, with a progress bar each."""
    cameras = demo_cameras()
    registry = CameraRegistry(pool)
    for camera in cameras:
        registry.register(camera)
    summary = run_analysis(
        settings.model_copy(update={"detector_imgsz": 320, "enable_clips": True}),
        [c.id for c in cameras],
        until_end=True,
    )
    click.echo("")
    for line in summary_lines(summary, frames=False):
        click.echo(line)
    for camera_id, error in summary.errors.items():
        click.secho(f"{camera_id}: {error}", fg="red", err=True)
    click.echo(f"snapshots under {settings.snapshots_dir.resolve()}/<camera>/<day>/")
    click.echo("clips of the street's line crossings and plates: /clips/{event id}")
    click.echo(
        f"Redis stream {settings.redis_stream!r}: analytics-pipeline events tail "
        "--from-start --count 5"
    )


def serve_demo(settings: Settings) -> None:
    """Run the API and the Dagster UI side by side until Ctrl-C, then stop both.

    Started with Popen and stopped with SIGINT: `dagster dev` started with `&` from bash
    ignores SIGINT and SIGTERM (DESIGN.md, traps).
    """
    cli = str(Path(sys.executable).parent / "analytics-pipeline")
    processes = [
        subprocess.Popen([cli, "serve"]),
        subprocess.Popen([cli, "dagster-dev", "-p", "3000"]),
    ]
    click.echo(
        f"\nAPI and events page: http://{settings.api_host}:{settings.api_port}/   "
        "GraphiQL: /graphql\nDagster UI: http://127.0.0.1:3000/ (assets: "
        "daily_event_stats, snapshot_thumbnails, retention, daily_report)\n"
        "Ctrl-C stops both."
    )
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
