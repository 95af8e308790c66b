"""The foundation demo: what exists end to end, before the analyzer.

Registers two demo cameras, renders a small synthetic street scene, logs one annotated event
of each type with its snapshot, publishes them to the Redis stream and prints a summary.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import cv2
import numpy as np
import redis
from psycopg_pool import ConnectionPool

from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.eventlog import EventFilter, EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.relay import Relay
from analytics_pipeline.snapshots import Box, PlateRead, SnapshotStore, annotate

DEMO_CAMERAS = (
    CameraInput(id="demo-street", name="Demo street (synthetic)", source_url="synthetic://street"),
)


def street_frame(car_x: int, plate_text: str) -> np.ndarray:
    """A 640x360 synthetic street: road, kerb, a car with a rendered plate, a pedestrian."""
    frame = np.full((360, 640, 3), (90, 140, 90), np.uint8)
    cv2.rectangle(frame, (0, 200), (640, 330), (70, 70, 70), cv2.FILLED)
    cv2.rectangle(frame, (car_x, 200), (car_x + 180, 290), (160, 60, 30), cv2.FILLED)
    cv2.rectangle(frame, (car_x + 55, 258), (car_x + 125, 278), (255, 255, 255), cv2.FILLED)
    cv2.putText(
        frame,
        plate_text,
        (car_x + 58, 274),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    cv2.rectangle(frame, (500, 120), (530, 200), (40, 40, 160), cv2.FILLED)
    cv2.circle(frame, (515, 110), 12, (40, 40, 160), cv2.FILLED)
    return frame


def run_demo(settings: Settings, pool: ConnectionPool, client: redis.Redis) -> None:
    """Log one annotated event per type for the demo camera and publish them."""
    registry = CameraRegistry(pool)
    for camera in DEMO_CAMERAS:
        registry.register(camera)
    store = SnapshotStore.from_settings(settings)
    camera_id, plate_text = DEMO_CAMERAS[0].id, "AB12CDE"
    start = datetime.now(UTC)
    frame = street_frame(200, plate_text)
    car = Box(200, 200, 380, 290, "car", 0.91, track_id=1)
    person = Box(500, 98, 530, 200, "person", 0.84, track_id=2)
    plate = PlateRead(255, 258, 325, 278, plate_text, 0.97)
    mask = np.zeros(frame.shape[:2], np.uint8)
    mask[200:290, 200:380] = 255
    scenes = [
        ("motion", {"state": "started", "area_percent": 7.0}, {"motion_mask": mask}),
        ("detection", {"classes": {"car": 1, "person": 1}}, {"boxes": [car, person]}),
        ("tracking", {"action": "entered", "track_id": 1, "class": "car"}, {"boxes": [car]}),
        ("anpr", {"plate": plate_text, "confidence": 0.97, "track_id": 1}, {"plates": [plate]}),
    ]
    new_events = []
    for offset, (event_type, data, overlays) in enumerate(scenes):
        moment = start + timedelta(milliseconds=200 * offset)
        image = annotate(frame, moment, **overlays)
        path = store.write(camera_id, event_type, moment, image)
        new_events.append(
            NewEvent(
                event_type=event_type,
                camera_id=camera_id,
                timestamp=moment,
                frame_number=offset,
                snapshot_path=path,
                event_data=data,
            )
        )
    event_log = EventLog(pool)
    event_log.append(new_events)
    relay = Relay(event_log, client, settings.redis_stream, maxlen=settings.redis_stream_maxlen)
    published = relay.publish_pending()
    stats = event_log.stats(EventFilter(camera_ids=[camera_id]))
    click.echo(
        f"logged {len(new_events)} events for camera {camera_id}; "
        f"published {published} to Redis stream {settings.redis_stream!r}"
    )
    click.echo("events by type: " + ", ".join(f"{k}={v}" for k, v in stats.events_by_type.items()))
    click.echo(f"snapshots under {store.root}:")
    for event in new_events:
        click.echo(f"  {event.snapshot_path or '(snapshots disabled)'}")
    click.echo("follow the stream with: analytics-pipeline events tail --from-start --count 4")


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
