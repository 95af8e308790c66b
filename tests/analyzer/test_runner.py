"""The analyzer end to end against the real PostgreSQL and Redis: synthetic street with the
project's model, cameras coming and going (real CCTV footage with the default detector:
test_real_footage.py)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import cv2
import pytest
import redis

from analytics_pipeline.analyzer.runner import AnalyzerService
from analytics_pipeline.analyzer.synthetic import demo_street
from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.eventlog import START, EventLog
from tests.conftest import REDIS_URL

MODEL = Path(__file__).resolve().parents[2] / "models" / "street-nano.pt"


def run_until_end(settings: Settings) -> dict:
    service = AnalyzerService(settings, until_end=True, progress=False)
    try:
        summary = service.run()
    finally:
        service.close()
    return summary


@pytest.fixture(scope="module")
def street_video(tmp_path_factory) -> Path:
    return demo_street().write(tmp_path_factory.mktemp("street") / "street.avi")


def test_synthetic_street_with_the_projects_model(
    settings, pool, street_video, stream_key, tmp_path
) -> None:
    settings = settings.model_copy(update={"detector_weights": str(MODEL), "detector_imgsz": 320})
    CameraRegistry(pool).register(
        CameraInput(
            id="street",
            source_url=str(street_video),
            settings={"fps": 5, "plate_pattern": "[A-Z]{2}[0-9]{2}[A-Z]{3}"},
        )
    )
    summary = run_until_end(settings)
    events = EventLog(pool).read_after(START, limit=10_000)
    kinds = Counter(e.event_type for e in events)
    assert kinds["motion"] == 2 and kinds["detection"] >= 1
    motion = [e for e in events if e.event_type == "motion"]
    assert [m.event_data["state"] for m in motion] == ["started", "ended"]
    assert motion[0].frame_number <= 30  # the first car enters at frame 20
    assert motion[1].frame_number >= 260  # the second leaves at frame 260
    tracking = [e for e in events if e.event_type == "tracking"]
    by_track: dict[int, list[str]] = {}
    for event in tracking:
        by_track.setdefault(event.event_data["track_id"], []).append(event.event_data["action"])
    cars = {e.event_data["track_id"] for e in tracking if e.event_data["class"] == "car"}
    people = {e.event_data["track_id"] for e in tracking if e.event_data["class"] == "person"}
    assert len(cars) == 2 and len(people) == 1  # stable ids: one track per object
    assert all(actions == ["entered", "left"] for actions in by_track.values())
    plates = sorted(e.event_data["plate"] for e in events if e.event_type == "anpr")
    assert plates == ["AB12CDE", "KX65TRM"]
    anpr = [e for e in events if e.event_type == "anpr"]
    assert all(e.event_data["track_id"] in cars for e in anpr)
    for event in events:
        path = tmp_path / "snapshots" / event.snapshot_path
        image = cv2.imread(str(path))
        assert image is not None and image.shape == (360, 640, 3)
    plate_snapshot = cv2.imread(str(tmp_path / "snapshots" / anpr[0].snapshot_path))
    x1, y1 = (round(v) for v in anpr[0].event_data["plate_box"][:2])
    assert plate_snapshot[y1, max(0, x1 - 1)].tolist() == [0, 255, 0]  # thick green box
    stream = redis.Redis.from_url(REDIS_URL)
    published = [int(f[b"position"]) for _, f in stream.xrange(stream_key)]
    assert published == [e.id for e in events]  # relayed, in log order
    assert summary.plates["street"] == plates or sorted(summary.plates["street"]) == plates


def test_a_broken_camera_is_reported_and_the_others_run(
    settings, pool, street_video, tmp_path
) -> None:
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"not a video at all" * 100)
    registry = CameraRegistry(pool)
    registry.register(CameraInput(id="broken", source_url=str(broken)))
    registry.register(CameraInput(id="street", source_url=str(street_video), settings={"fps": 2}))
    summary = run_until_end(settings)
    assert "cannot open" in summary.errors["broken"]
    assert summary.events["street"]["motion"] == 2


def test_cameras_added_while_running_are_picked_up(settings, pool, street_video) -> None:
    service = AnalyzerService(settings, progress=False)
    worker = threading.Thread(target=service.run)
    worker.start()
    try:
        time.sleep(1)
        CameraRegistry(pool).register(
            CameraInput(id="late", source_url=str(street_video), settings={"fps": 2})
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not EventLog(pool).query():
            time.sleep(0.5)
        assert EventLog(pool).query(), "the camera registered while running gave no event"
    finally:
        service.stop.set()
        worker.join(60)
        service.close()


def test_workers_share_the_cameras(settings, pool, street_video, tmp_path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    pair = ["cam-a", "cam-b"]
    registry = CameraRegistry(pool)
    for camera_id in pair:
        registry.register(
            CameraInput(
                id=camera_id,
                source_url=str(street_video),
                settings={"fps": 2, "detector_weights": ""},
            )
        )
    cli = shutil.which("analytics-pipeline") or str(
        Path(sys.executable).parent / "analytics-pipeline"
    )
    env = os.environ | {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_STREAM": settings.redis_stream,
        "SNAPSHOTS_DIR": str(tmp_path / "snapshots"),
    }
    result = subprocess.run(
        [
            cli,
            "--env-file",
            str(tmp_path / "none"),
            "analyze",
            "--workers",
            "2",
            "--max-cameras",
            "2",  # one camera each: the workers share the cameras through leases
            "--until-end",
            "--camera",
            pair[0],
            "--camera",
            pair[1],
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "worker-0" in result.stderr and "worker-1" in result.stderr
    claims = [line for line in result.stderr.splitlines() if "lease claimed" in line]
    assert len(claims) == 2, claims  # each camera analysed once, by one worker
    cameras = Counter(e.camera_id for e in EventLog(pool).read_after(START, limit=10_000))
    assert set(cameras) == set(pair)
    assert cameras[pair[0]] == cameras[pair[1]]  # the same video: the same events
