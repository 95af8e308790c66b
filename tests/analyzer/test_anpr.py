"""Plate reading on rendered plates with PP-OCR recognition (RapidOCR, onnxruntime)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_pipeline.analyzer.anpr import (
    PaddleOcrEngine,
    PlateReader,
    RapidOcrEngine,
    normalise_plate,
)
from analytics_pipeline.analyzer.synthetic import background, draw_car, random_plate
from analytics_pipeline.analyzer.types import Detection, PlateRead


@pytest.fixture(scope="module")
def rapidocr() -> RapidOcrEngine:
    return RapidOcrEngine()


@pytest.fixture(scope="module", params=["rapidocr", "paddleocr"])
def engine(request):
    return RapidOcrEngine() if request.param == "rapidocr" else PaddleOcrEngine()


def test_normalise() -> None:
    assert normalise_plate(" ab-12 cde. ") == "AB12CDE"


@pytest.mark.parametrize("seed", range(6))
def test_rendered_plates_are_read_exactly_by_both_engines(engine, seed: int) -> None:
    rng = np.random.default_rng(seed)
    image = background(640, 360, rng)
    text = random_plate(rng)
    car, plate = draw_car(image, 150, 340, int(rng.integers(200, 300)), (40, 40, 200), text)
    reader = PlateReader(engine, pattern=r"[A-Z]{2}[0-9]{2}[A-Z]{3}")
    detections = [
        Detection(car.x1, car.y1, car.x2, car.y2, "car", 0.9, track_id=1),
        Detection(plate.x1, plate.y1, plate.x2, plate.y2, "licence_plate", 0.8),
    ]
    [(vehicle, read)] = reader.plates_for(image, detections)
    assert vehicle.track_id == 1
    assert read.text == text
    assert read.confidence > 0.8


def test_a_plate_on_no_tracked_vehicle_is_not_read(rapidocr) -> None:
    image = background(640, 360, np.random.default_rng(1))
    _car, plate = draw_car(image, 150, 340, 260, (40, 40, 200), "AB12CDE")
    detections = [Detection(plate.x1, plate.y1, plate.x2, plate.y2, "licence_plate", 0.8)]
    assert PlateReader(rapidocr).plates_for(image, detections) == []


def test_the_pattern_rejects_other_text(rapidocr) -> None:
    image = background(640, 360, np.random.default_rng(1))
    car, plate = draw_car(image, 150, 340, 260, (40, 40, 200), "HELLO")
    detections = [
        Detection(car.x1, car.y1, car.x2, car.y2, "car", 0.9, track_id=3),
        Detection(plate.x1, plate.y1, plate.x2, plate.y2, "licence_plate", 0.8),
    ]
    assert (
        PlateReader(rapidocr, pattern=r"[A-Z]{2}[0-9]{2}[A-Z]{3}").plates_for(image, detections)
        == []
    )


def test_paddleocr_never_downloads_a_missing_model(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"inference\.pdmodel"):
        PaddleOcrEngine(tmp_path)


def test_best_read_is_the_most_frequent_text_and_settles() -> None:
    from analytics_pipeline.analyzer.anpr import SETTLED_READS, VehiclePlates

    plates = VehiclePlates(track_id=1, class_name="car")
    plates.reads += [
        PlateRead(0, 0, 1, 1, "AB12CDE", 0.9),
        PlateRead(0, 0, 1, 1, "A812CDE", 0.95),
        PlateRead(0, 0, 1, 1, "AB12CDE", 0.8),
    ]
    best = plates.best()
    assert (best.text, best.confidence) == ("AB12CDE", 0.9)  # votes first, then confidence
    assert not plates.settled
    plates.reads += [PlateRead(0, 0, 1, 1, "AB12CDE", 0.9)] * (SETTLED_READS - 2)
    assert plates.settled
