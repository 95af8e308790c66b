"""Plate finding and reading on rendered plates with PP-OCR (RapidOCR and PaddleOCR)."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics_pipeline.analyzer.anpr import (
    FALLBACK_SECONDS,
    SETTLED_READS,
    VAIN_SECONDS,
    Anpr,
    PaddleOcrEngine,
    PlateReader,
    RapidOcrEngine,
    VehiclePlates,
    motion_regions,
    normalise_plate,
    unexplained_motion,
)
from analytics_pipeline.analyzer.camera_settings import CameraSettings
from analytics_pipeline.analyzer.plate_finder import PlateRule, find_lines
from analytics_pipeline.analyzer.sources import Frame
from analytics_pipeline.analyzer.synthetic import background, draw_car, random_plate
from analytics_pipeline.analyzer.synthetic_plates import STYLES, PlateStyle, draw_plate
from analytics_pipeline.analyzer.types import Detection, PlateRead

UK = r"[A-Z]{2}[0-9]{2}[A-Z]{3}"
T0 = datetime(2026, 6, 1, tzinfo=UTC)


class Counting:
    """An OCR engine that counts its calls."""

    def __init__(self, engine: RapidOcrEngine) -> None:
        self.engine, self.name = engine, engine.name
        self.detects = self.reads = 0

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        self.detects += 1
        return self.engine.detect(image)

    def read(self, crop: np.ndarray) -> tuple[str, float]:
        self.reads += 1
        return self.engine.read(crop)


@pytest.fixture(scope="module")
def rapidocr() -> RapidOcrEngine:
    return RapidOcrEngine()


@pytest.fixture(scope="module", params=["rapidocr", "paddleocr"])
def engine(request, rapidocr):
    return rapidocr if request.param == "rapidocr" else PaddleOcrEngine()


def car_on(image: np.ndarray, x: int, plate: str, style: str, track_id: int, y: int = 340):
    """A car with a plate drawn on ``image``: its Detection, its plate's Detection."""
    car, box = draw_car(image, x, y, 250, (40, 40, 200), plate, STYLES[style])
    return (
        Detection(car.x1, car.y1, car.x2, car.y2, "car", 0.9, track_id=track_id),
        Detection(box.x1, box.y1, box.x2, box.y2, "licence_plate", 0.8),
    )


def test_normalise_and_the_plate_likeness_rule() -> None:
    assert normalise_plate(" ab-12 cde. ") == "AB12CDE"
    rule = PlateRule()
    assert rule.accepts("AB12CDE") and rule.accepts("7ABC123") and rule.accepts("B1C2")
    assert not rule.accepts("HELLO") and not rule.accepts("123456") and not rule.accepts("A1")
    assert not rule.accepts("AB12CDE12345")
    assert PlateRule(UK).accepts("AB12CDE") and not PlateRule(UK).accepts("7ABC123")
    # with a pattern, letters and digits OCR confuses are put right where only one fits
    assert PlateRule(UK).fit("2J59URR") == "ZJ59URR" and PlateRule(UK).fit("AB1ZCDE") == "AB12CDE"
    assert PlateRule(UK).fit("AB12CD") is None and PlateRule().fit("2J59URR") == "2J59URR"


@pytest.mark.parametrize("style", sorted(STYLES))
def test_text_detection_in_a_vehicle_box_reads_every_style(engine, style: str) -> None:
    rng = np.random.default_rng(len(style))
    image = background(640, 360, rng)
    text = random_plate(rng)
    vehicle, _plate = car_on(image, 150, text, style, track_id=1)
    # no plate box: found by PP-OCR text detection inside the vehicle box
    [(found, read)] = PlateReader(engine).plates_for(image, [vehicle])
    assert found.track_id == 1 and read.text == text and read.confidence > 0.8


def test_a_plate_box_is_read_and_a_vehicle_without_one_is_not_skipped(rapidocr) -> None:
    image = background(640, 360, np.random.default_rng(2))
    near, near_plate = car_on(image, 20, "AB12CDE", "white", track_id=1)
    far, _far_plate = car_on(image, 330, "KX65TRM", "yellow_ttf", track_id=2)
    found = PlateReader(rapidocr, pattern=UK).plates_for(image, [near, far, near_plate])
    assert sorted((v.track_id, r.text) for v, r in found) == [(1, "AB12CDE"), (2, "KX65TRM")]


def test_a_plate_on_two_vehicle_boxes_is_the_nearer_ones(rapidocr) -> None:
    image = background(640, 360, np.random.default_rng(3))
    behind, _ = car_on(image, 200, "GH21JKL", "white", track_id=1, y=300)  # its plate hidden
    front, plate = car_on(image, 150, "MN07PQR", "yellow", track_id=2, y=350)
    assert plate.x1 > behind.x1 and plate.x2 < behind.x2 and plate.y1 < behind.y2  # on both
    for plates in ([plate], []):  # the detector's plate box, or text detection
        found = PlateReader(rapidocr).plates_for(image, [behind, front, *plates])
        assert [(v.track_id, r.text) for v, r in found] == [(2, "MN07PQR")]


def test_a_plate_on_no_tracked_vehicle_is_not_read(rapidocr) -> None:
    image = background(640, 360, np.random.default_rng(1))
    _car, plate = car_on(image, 150, "AB12CDE", "yellow", track_id=1)
    assert PlateReader(rapidocr).plates_for(image, [plate]) == []


def test_the_pattern_rejects_other_text(rapidocr) -> None:
    image = background(640, 360, np.random.default_rng(1))
    car, plate = car_on(image, 150, "HELLO", "yellow", track_id=3)
    assert PlateReader(rapidocr, pattern=UK).plates_for(image, [car, plate]) == []
    assert PlateReader(rapidocr).plates_for(image, [car]) == []  # no digit: not plate-like


def test_a_plate_cut_by_the_frame_edge_is_not_read(rapidocr) -> None:
    image = background(640, 360, np.random.default_rng(4))
    car, plate = car_on(image, 460, "AB12CDE", "white", track_id=1)
    assert plate.x2 > 640  # the plate runs off the frame
    assert PlateReader(rapidocr).plates_for(image, [car]) == []


def test_pieces_of_one_line_are_joined(rapidocr) -> None:
    image = background(640, 360, np.random.default_rng(5))
    style = PlateStyle(font="pillow")
    car, _box = draw_car(image, 150, 340, 260, (60, 60, 60), "AB12   CDE", style)
    [line] = find_lines(rapidocr, image, (car.x1, car.y1, car.x2, car.y2))[:1]
    [(_vehicle, read)] = PlateReader(rapidocr).plates_for(
        image, [Detection(car.x1, car.y1, car.x2, car.y2, "car", 0.9, track_id=1)]
    )
    assert read.text == "AB12CDE" and line.width / line.height > 4


def test_motion_regions_join_the_blobs_of_one_vehicle() -> None:
    mask = np.zeros((180, 320), np.uint8)
    mask[100:120, 50:60] = mask[100:120, 64:90] = 255  # one vehicle's edges
    mask[20:40, 250:270] = 255
    mask[5, 5] = 255  # noise
    regions = motion_regions(mask, (360, 640, 3), limit=4)
    assert regions == [(100.0, 200.0, 180.0, 240.0), (500.0, 40.0, 540.0, 80.0)]
    assert motion_regions(mask, (360, 640, 3), limit=1) == regions[:1]


def test_cost_control_regions_settled_vehicles_and_the_anpr_fps_cap(rapidocr) -> None:
    ocr = Counting(rapidocr)
    image = background(640, 360, np.random.default_rng(6))
    first, _ = car_on(image, 20, "AB12CDE", "white", track_id=1)
    second, _ = car_on(image, 330, "KX65TRM", "white", track_id=2)
    reader = PlateReader(ocr, max_regions=1)
    assert len(reader.plates_for(image, [first, second])) == 1 and ocr.detects == 1
    assert reader.regions == 1 and reader.seconds > 0

    anpr = Anpr(PlateReader(ocr), by_vehicle=True, anpr_fps=2.5)
    moments = [T0 + timedelta(seconds=i / 5) for i in range(20)]
    for number, moment in enumerate(moments):
        anpr.process(Frame(image, number, moment), [first], None)
    # 4 s at 5 fps, OCR capped at 2.5 passes a second: 10 passes, then the plate settles
    assert len(anpr.vehicles[1].reads) == SETTLED_READS
    assert anpr.vehicles[1].settled and ocr.detects == 1 + SETTLED_READS
    plates = anpr.vehicle_left(1)
    assert plates is not None and plates.best().text == "AB12CDE"
    assert plates.best_shot is not None and plates.best_shot.image is not image


def test_plates_in_motion_regions_are_grouped_per_vehicle(rapidocr) -> None:
    anpr = Anpr(PlateReader(rapidocr), by_vehicle=False)
    backdrop = background(640, 360, np.random.default_rng(7))
    for step in range(8):
        image = backdrop.copy()
        draw_car(image, 40 + 30 * step, 250, 180, (30, 140, 30), "GH21JKL", STYLES["small"])
        draw_car(image, 380 - 30 * step, 350, 250, (40, 40, 200), "MN07PQR", STYLES["yellow"])
        mask = np.full((180, 320), 255, np.uint8)
        anpr.process(Frame(image, step, T0 + timedelta(seconds=step / 5)), [], mask)
        assert anpr.ended(T0 + timedelta(seconds=step / 5)) == []
    assert sorted(p.best().text for p in anpr.plates.tracks.values()) == ["GH21JKL", "MN07PQR"]
    gone = anpr.ended(T0 + timedelta(seconds=5))
    assert sorted((p.best().text, p.class_name) for p in gone) == [
        ("GH21JKL", "vehicle"),
        ("MN07PQR", "vehicle"),
    ]
    assert all(p.track_id < 0 for p in gone)


def test_the_fallback_skips_explained_motion_and_spots_searched_in_vain(rapidocr) -> None:
    """Where the detector finds vehicles, the motion regions searched for a missed one are
    the motion no detection explains; a spot searched in vain is left alone for a while, a
    vehicle moving into view elsewhere is read at once."""
    mask = np.zeros((180, 320), np.uint8)
    mask[20:60, 20:60] = mask[100:140, 200:280] = 255
    person = Detection(40, 40, 120, 120, "person", 0.9, track_id=1)  # the first blob, x2
    residual = unexplained_motion(mask, [person], (360, 640, 3))
    assert not residual[20:60, 20:60].any() and residual[100:140, 200:280].all()
    assert motion_regions(residual, (360, 640, 3), 4) == [(400.0, 200.0, 560.0, 280.0)]

    ocr = Counting(rapidocr)
    anpr = Anpr(PlateReader(ocr), by_vehicle=True)
    still = background(640, 360, np.random.default_rng(8))  # no text: searched in vain
    moment = T0
    for number in range(12):  # 12 s at 1 fps: the empty spot is searched at 0 s and 8 s
        moment = T0 + timedelta(seconds=number * FALLBACK_SECONDS)
        anpr.process(Frame(still, number, moment), [person], mask)
    assert ocr.detects == 2 and VAIN_SECONDS == 8.0
    image = still.copy()
    draw_car(image, 40, 200, 250, (40, 40, 200), "GH21JKL", STYLES["white"])
    elsewhere = np.zeros_like(mask)
    elsewhere[20:105, 15:150] = 255  # the missed car's motion (40..290 x 48..200), elsewhere
    for step in range(1, 4):
        anpr.process(Frame(image, 20 + step, moment + timedelta(seconds=step)), [], elsewhere)
    assert [p.best().text for p in anpr.plates.tracks.values()] == ["GH21JKL"]
    assert len(next(iter(anpr.plates.tracks.values())).reads) == 3


def test_only_spots_searched_are_remembered_as_searched_in_vain(rapidocr) -> None:
    """A detector's plate box takes a region of the frame's budget first: of two unexplained
    motion regions only the larger is then searched, and only it is left alone for a while."""
    image = background(640, 360, np.random.default_rng(9))
    plate = Detection(300, 300, 360, 315, "licence_plate", 0.8)  # on no tracked vehicle
    mask = np.zeros((180, 320), np.uint8)
    mask[10:60, 10:110] = mask[100:130, 200:250] = 255  # 200x100 and 100x60 frame pixels
    anpr = Anpr(PlateReader(rapidocr, max_regions=2), by_vehicle=True)
    anpr.process(Frame(image, 0, T0), [plate], mask)
    assert [spot for spot, _ in anpr.vain] == [(20.0, 20.0, 220.0, 120.0)]


def test_rapidocr_sessions_sleep_when_idle(rapidocr) -> None:
    """RapidOCR's sessions are rebuilt with one thread and no spinning (spinning pool threads
    tripled the CPU a text detection costs next to other cameras' threads)."""
    for model in (rapidocr.engine.text_det, rapidocr.engine.text_rec):
        options = model.session.session.get_session_options()
        assert options.intra_op_num_threads == 1
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert not options.enable_cpu_mem_arena  # as RapidOCR's configuration has it


def test_a_vehicle_seen_again_at_once_is_not_handed_out_twice(rapidocr) -> None:
    anpr = Anpr(PlateReader(rapidocr), by_vehicle=True)
    for track_id, start in ((1, 0), (2, 3)):  # a track broken in two, 1 s apart
        plates = anpr.vehicles[track_id] = VehiclePlates(track_id, "car")
        for i in range(3):
            plates.add(PlateRead(0, 0, 1, 1, "AB12CDE", 0.9), T0 + timedelta(seconds=start + i))
        plates.last_seen = T0 + timedelta(seconds=start + 2)
        plates.keep_shot(plates.reads[0], Frame(np.zeros((2, 2, 3), np.uint8), 0, T0))
    assert anpr.vehicle_left(1) is not None
    assert anpr.vehicle_left(2) is None


def test_paddleocr_never_downloads_a_missing_model(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"inference\.pdmodel"):
        PaddleOcrEngine(tmp_path)


def test_best_read_is_the_most_frequent_text_and_settles() -> None:
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
    assert plates.agrees("AB12CDF") and not plates.agrees("KX65TRM")


def test_camera_settings_for_anpr() -> None:
    settings = CameraSettings()
    assert (settings.anpr, settings.anpr_fps, settings.anpr_max_regions) == ("auto", 5.0, 4)
    assert CameraSettings(anpr="plate_camera", anpr_fps=2, anpr_max_regions=2).anpr_fps == 2
    for bad in ({"anpr": "sometimes"}, {"anpr_fps": 0}, {"plate_pattern": "[A-Z"}):
        with pytest.raises(ValueError):
            CameraSettings(**bad)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_plate_styles_draw_inside_their_box(style: str) -> None:
    image = np.zeros((120, 320, 3), np.uint8)
    x1, y1, x2, y2 = draw_plate(image, "AB12CDE", 40, 30, 30, STYLES[style])
    drawn = np.argwhere(image.any(axis=2))
    assert drawn.min(axis=0).tolist() >= [y1, x1] and drawn.max(axis=0).tolist() <= [y2, x2]
    inside = image[y1 : y2 + 1, x1 : x2 + 1]
    background = np.array(STYLES[style].background)
    assert (np.abs(inside.astype(int) - background).sum(axis=2) < 30).mean() > 0.3
    assert (inside.sum(axis=2) < 100).mean() > 0.05  # dark text


def test_the_original_plate_is_unchanged() -> None:
    """The project's model was trained on the default plate: its pixels stay as they were."""
    image = np.zeros((60, 200, 3), np.uint8)
    assert draw_plate(image, "AB12CDE", 10, 10, 28) == (10, 10, 158, 38)
    assert zlib.crc32(image.tobytes()) == 3500085641  # the pixels before plate styles existed
