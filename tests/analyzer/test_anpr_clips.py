"""ANPR end to end through ``analyze``: short rendered clips with plates of several styles (white
and yellow, Hershey and TrueType fonts, a smaller plate, a skewed plate, a darker scene, two
cars in view at once), every plate read once per vehicle with the default detector, with the
project's model, on a plate camera, and with PaddleOCR."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import pytest

from analytics_pipeline.analyzer.camera_run import RunSummary
from analytics_pipeline.analyzer.runner import AnalyzerService
from analytics_pipeline.analyzer.synthetic import plate_clips
from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.eventlog import EventFilter, EventLog

MODEL = Path(__file__).resolve().parents[2] / "models" / "street-nano.pt"
CLIPS = plate_clips()


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("plates")
    return {name: video.write(folder / f"{name}.avi") for name, video in CLIPS.items()}


def expected(name: str) -> list[str]:
    return sorted(actor.plate for actor in CLIPS[name].actors if actor.plate)


def analyse(settings: Settings, pool, source: Path, camera: dict) -> tuple[list, RunSummary]:
    CameraRegistry(pool).register(
        CameraInput(id="street", source_url=str(source), settings={"fps": 5, **camera})
    )
    service = AnalyzerService(settings, until_end=True, progress=False, relay=False)
    try:
        summary = service.run()
    finally:
        service.close()
    # query, not read_after: that one waits for every older transaction of the server to end
    events = EventLog(pool).query(EventFilter(event_types=["anpr"]), limit=100)
    return events, summary


def check(events: list, summary: RunSummary, name: str, snapshots: Path) -> None:
    plates = sorted(e.event_data["plate"] for e in events)
    assert plates == expected(name), Counter(plates)  # each plate, once per vehicle
    assert summary.ocr_ms_per_frame["street"] > 0
    for event in events:
        assert len(event.event_data["reads"]) >= 1
        image = cv2.imread(str(snapshots / event.snapshot_path))
        x1, y1 = (round(v) for v in event.event_data["plate_box"][:2])
        assert image[y1, max(0, x1 - 1)].tolist() == [0, 255, 0]  # the plate's green box


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_the_default_detector(settings, pool, clip_files, tmp_path, name: str) -> None:
    events, summary = analyse(settings, pool, clip_files[name], {})
    check(events, summary, name, tmp_path / "snapshots")


def test_the_projects_model_by_setting(settings, pool, clip_files, tmp_path) -> None:
    settings = settings.model_copy(update={"detector_weights": str(MODEL), "detector_imgsz": 320})
    events, summary = analyse(settings, pool, clip_files["white_and_yellow"], {})
    check(events, summary, "white_and_yellow", tmp_path / "snapshots")
    assert all(e.event_data["class"] == "car" and e.event_data["track_id"] > 0 for e in events)


def test_the_projects_model_by_camera(settings, pool, clip_files, tmp_path) -> None:
    camera = {"detector_weights": str(MODEL), "plate_pattern": "[A-Z]{2}[0-9]{2}[A-Z]{3}"}
    events, summary = analyse(settings, pool, clip_files["small_skewed_dark"], camera)
    check(events, summary, "small_skewed_dark", tmp_path / "snapshots")


def test_a_plate_camera(settings, pool, clip_files, tmp_path) -> None:
    camera = {"anpr": "plate_camera", "anpr_fps": 2.5, "anpr_max_regions": 2}
    events, summary = analyse(settings, pool, clip_files["white_and_yellow"], camera)
    check(events, summary, "white_and_yellow", tmp_path / "snapshots")
    assert all(e.event_data["class"] == "vehicle" and e.event_data["track_id"] < 0 for e in events)


def test_paddleocr(settings, pool, clip_files, tmp_path) -> None:
    settings = settings.model_copy(update={"ocr_engine": "paddleocr"})
    events, summary = analyse(settings, pool, clip_files["small_skewed_dark"], {})
    check(events, summary, "small_skewed_dark", tmp_path / "snapshots")


def test_anpr_off(settings, pool, clip_files) -> None:
    events, summary = analyse(settings, pool, clip_files["white_and_yellow"], {"anpr": "off"})
    assert events == [] and summary.ocr_ms_per_frame["street"] == 0
