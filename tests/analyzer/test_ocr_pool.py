"""The analyzer's cameras share RapidOCR as a pool: calls from several threads run at once,
one per engine, and read what one engine alone reads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from analytics_pipeline.analyzer.ocr import OcrPool, build_ocr, rapidocr_engines
from analytics_pipeline.analyzer.plate_finder import find_lines
from analytics_pipeline.analyzer.synthetic_plates import draw_plate


class Inside:
    """How many calls are inside the engines now, and the most there ever were."""

    def __init__(self, wanted: int) -> None:
        self.lock, self.wanted, self.now, self.most = threading.Lock(), wanted, 0, 0
        self.reached = threading.Event()


class Gate:
    """An engine whose calls wait until ``inside.wanted`` calls are inside engines at once
    (or a second has passed)."""

    name = "gate"

    def __init__(self, inside: Inside) -> None:
        self.inside, self.calls = inside, 0

    def _call(self) -> None:
        inside = self.inside
        with inside.lock:
            self.calls += 1
            inside.now += 1
            inside.most = max(inside.most, inside.now)
            if inside.now >= inside.wanted:
                inside.reached.set()
        inside.reached.wait(1.0)
        with inside.lock:
            inside.now -= 1

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        self._call()
        return []

    def read(self, crop: np.ndarray) -> tuple[str, float]:
        self._call()
        return "", 0.0


def test_calls_from_several_threads_run_at_once_one_per_engine() -> None:
    inside = Inside(wanted=2)
    engines = [Gate(inside) for _ in range(2)]
    pool = OcrPool(list(engines))
    image = np.zeros((8, 8, 3), np.uint8)
    with ThreadPoolExecutor(4) as threads:
        list(threads.map(lambda i: pool.detect(image) if i % 2 else pool.read(image), range(8)))
    assert inside.most == 2  # two at once, never more than the engines
    assert sum(e.calls for e in engines) == 8
    assert pool.free.qsize() == 2  # every engine handed back


def test_the_analyzer_pool_reads_plates_from_several_threads_at_once() -> None:
    pool = build_ocr("rapidocr", engines=2)
    assert isinstance(pool, OcrPool) and len(pool.engines) == 2
    images = []
    for text in ("AB12CDE", "XY34ZZA", "KM56PLR", "GH78TUV"):
        image = np.full((200, 320, 3), 90, np.uint8)
        draw_plate(image, text, 70, 80, 40)
        images.append((text, image))

    def read(item: tuple[str, np.ndarray]) -> str:
        _, image = item
        lines = find_lines(pool, image, (0.0, 0.0, 320.0, 200.0))
        corners = lines[0].corners.astype(int)
        x1, y1 = corners.min(axis=0)
        x2, y2 = corners.max(axis=0)
        return pool.read(image[y1:y2, x1:x2])[0].replace(" ", "")

    with ThreadPoolExecutor(4) as threads:
        texts = list(threads.map(read, images * 2))
    assert texts == [text for text, _ in images] * 2


def test_workers_of_one_analyzer_share_the_cores_engines(monkeypatch) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)))
    assert rapidocr_engines() == 4  # at most 4 per process
    assert rapidocr_engines(processes=8) == 2
    assert rapidocr_engines(processes=16) == 1
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})  # a 2-core cpuset
    assert rapidocr_engines() == 2 and rapidocr_engines(processes=4) == 1  # at least one


def test_one_engine_unless_a_pool_is_asked_for() -> None:
    single = build_ocr("rapidocr")  # the Dagster re-read: one thread
    assert single is not None and not isinstance(single, OcrPool)
