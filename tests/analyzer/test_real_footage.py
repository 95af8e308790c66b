"""The default detector on real CCTV footage: Debian opencv-doc's ``vtest.avi`` (768x576,
10 fps, 795 frames: people crossing a campus square for 80 s).

Person passes counted by eye: 21. A pass is one person continuously in view; leaving the
frame ends it, being hidden behind the sign post or another person does not. Counted on
contact sheets of the whole frame every second (frames 0, 10, 20, ...), then on strips of
each edge every second (left edge, right edge with the road at the top right, the grass at the
bottom, the far path and the parked cars at the top), zoomed on 0.4-0.5 s steps where someone
crossed an edge: 3 people in view at the start, 16 entries at the right edge or the road,
1 back in from the left edge, 1 on the far path behind the building (about 35 px tall) and 1 at
the light-blue car at the top right (about 25 px, half hidden by the car). Checked by
balance: entries minus the 13 exits give the people in view at 30, 45, 55, 65 and 75 s
(6, 3, 6, 6, 8) and at the end (8). Several people leave and come back (the bald man in the
dark jacket three times, the couple of the red-and-navy jacket and the black coat twice); each
return is a new pass.

People also counted by eye on ten frames (rough boxes read off a 25 px grid at 1.6x; 61 in
all, the far path and the car included): the detector must find most of them with boxes that
overlap.
"""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np
import pytest

from analytics_pipeline.analyzer.detector import build_detector
from analytics_pipeline.analyzer.media import MediaUnavailable, opencv_sample
from analytics_pipeline.analyzer.runner import AnalyzerService
from analytics_pipeline.analyzer.tracker import DetectionTracker
from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.config import Settings
from analytics_pipeline.eventlog import EventFilter, EventLog
from tests.analyzer.test_detector import STREET_MODEL

PASSES_BY_EYE = 21
ROCK = (162, 249, 193, 276)
Box = tuple[float, float, float, float]
PEOPLE_BY_EYE: dict[int, list[Box]] = {
    50: [
        (374, 179, 400, 258),
        (409, 181, 431, 263),  # behind the sign
        (433, 176, 459, 247),
        (505, 217, 541, 311),
        (552, 214, 588, 303),
        (669, 256, 714, 371),
    ],
    100: [
        (223, 62, 237, 95),  # the far path
        (349, 200, 383, 275),
        (375, 178, 408, 256),
        (423, 180, 450, 257),
        (495, 148, 518, 220),
        (518, 152, 540, 222),
        (591, 153, 617, 233),
    ],
    150: [
        (72, 91, 89, 128),  # the far path
        (388, 195, 418, 278),
        (433, 197, 466, 275),
        (450, 178, 475, 253),
        (588, 228, 625, 316),
        (636, 108, 656, 166),
        (656, 111, 678, 168),
        (711, 111, 726, 175),
    ],
    250: [
        (39, 178, 61, 245),
        (193, 151, 222, 225),
        (373, 230, 420, 325),
        (545, 189, 578, 266),
        (597, 254, 642, 353),
        (634, 122, 656, 186),
        (657, 125, 678, 186),
    ],
    300: [
        (187, 159, 219, 234),
        (244, 159, 269, 221),
        (298, 159, 321, 230),
        (312, 211, 343, 296),
        (582, 160, 611, 234),
        (620, 161, 643, 235),
    ],
    350: [
        (383, 178, 401, 244),
        (430, 177, 445, 245),  # behind the sign
        (384, 228, 416, 319),
        (472, 188, 511, 276),
        (674, 222, 699, 319),
        (697, 225, 728, 316),
    ],
    450: [(311, 206, 338, 289), (486, 184, 516, 259), (558, 243, 593, 336)],
    500: [(306, 187, 330, 264), (557, 240, 592, 348), (572, 282, 613, 390), (615, 275, 640, 373)],
    650: [
        (141, 150, 164, 219),
        (222, 156, 241, 222),
        (316, 158, 348, 229),
        (469, 225, 500, 314),
        (641, 194, 670, 281),
        (334, 371, 380, 514),
    ],
    750: [
        (183, 201, 220, 281),
        (238, 214, 274, 303),
        (370, 181, 400, 259),
        (399, 211, 428, 300),
        (508, 178, 536, 249),
        (663, 116, 689, 174),
        (634, 217, 676, 319),
        (745, 53, 760, 97),  # at the car, half hidden
    ],
}


@pytest.fixture(scope="module")
def vtest() -> str:
    try:
        return str(opencv_sample("vtest.avi"))
    except MediaUnavailable as exc:
        pytest.fail(f"Debian's opencv-doc (vtest.avi) could not be had: {exc}", pytrace=False)


def frames_of(video: str, indices) -> dict[int, np.ndarray]:
    capture = cv2.VideoCapture(video)
    frames = {}
    try:
        for index in indices:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = capture.read()
            assert ok, f"cannot read frame {index}"
            frames[index] = frame
    finally:
        capture.release()
    return frames


def iou(a: Box, b: Box) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def people_found(boxes: dict[int, list[Box]], overlap: float = 0.4) -> tuple[int, int]:
    """(people counted by eye that a box overlaps, boxes that match nobody), 1:1 greedy."""
    found = spare = 0
    for index, people in PEOPLE_BY_EYE.items():
        free = list(boxes[index])
        for person in people:
            best = max(free, key=lambda b: iou(b, person), default=None)
            if best is not None and iou(best, person) >= overlap:
                free.remove(best)
                found += 1
        spare += len(free)
    return found, spare


def test_people_counted_by_eye_are_found_with_boxes_that_fit(vtest) -> None:
    size = Settings.model_fields["detector_centernet_size"].default
    detector = build_detector(None, min_confidence=0.4, imgsz=640, centernet_size=size)
    boxes = {}
    for index, frame in frames_of(vtest, PEOPLE_BY_EYE).items():
        raw = detector.detect(frame)
        keep = (raw.conf >= 0.4) & (raw.cls == 0)
        boxes[index] = [tuple(map(float, box)) for box in raw.xyxy[keep]]
    found, spare = people_found(boxes)
    assert sum(map(len, PEOPLE_BY_EYE.values())) == 61
    assert found >= 49, (found, spare)  # measured 51 of 61 at 384x288, 52 at 512x512 (HOG: 1)
    assert spare <= 2, (found, spare)  # the rock left of the path scores about 0.4


def test_a_default_run_enters_about_one_track_per_pass(settings, pool, vtest) -> None:
    CameraRegistry(pool).register(CameraInput(id="campus", source_url=vtest))
    service = AnalyzerService(settings, until_end=True, progress=False, relay=False)
    try:
        service.run()
    finally:
        service.close()
    # query, not read_after: read_after stops below the oldest transaction running anywhere
    # on the server, and other databases' work may hold that back.
    events = EventLog(pool).query(EventFilter(event_types=["tracking"]), limit=10_000)
    actions = Counter((e.event_data["class"], e.event_data["action"]) for e in events)
    entered = actions["person", "entered"]
    # Measured: 21 (24 with a 512x512 input); OpenCV's HOG, the old fallback, stored 43.
    assert abs(entered - PASSES_BY_EYE) <= 0.3 * PASSES_BY_EYE, actions
    assert actions["person", "left"] == entered  # every track leaves, by the end at the latest
    misfits = []
    for event in events:
        x1, y1, x2, y2 = box = event.event_data["box"]
        assert 0 <= x1 < x2 <= 768 and 0 <= y1 < y2 <= 576
        # On the square (not cut by the frame's edge, not on the far path or the road at the
        # top) a box is one whole walker, not a head or a group: as tall as people are there.
        near = x1 > 10 and x2 < 758 and y2 > 200
        walker = 1.4 <= (y2 - y1) / (x2 - x1) <= 4.5 and 60 <= y2 - y1 <= 200
        if event.event_data["class"] == "person" and near and not walker:
            misfits.append(box)
    # The one known false track: the rock left of the path, taken for a crouching person at
    # 0.40 to 0.45 for the whole clip.
    assert all(iou(box, ROCK) > 0.5 for box in misfits), misfits


def test_yolo_weights_still_track_on_real_footage(vtest) -> None:
    # The project's own model knows synthetic scenes only; this checks the path, not its skill.
    detector = build_detector(str(STREET_MODEL), min_confidence=0.4, imgsz=320, device="cpu")
    tracker = DetectionTracker(detector, fps=5)
    frames = frames_of(vtest, range(0, 120, 2))
    tracked = [tracker.track(frame) for frame in frames.values()]
    ids = Counter(d.track_id for found in tracked for d in found if d.track_id is not None)
    assert ids and max(ids.values()) >= 10  # someone followed for 2 s or more
