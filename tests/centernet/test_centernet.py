"""The CenterNet conversion and detector, checked against references that are not this code.

References:

* TensorFlow.js itself: the TFJS graph model run by ``@tensorflow/tfjs-core`` 4.22.0 with its
  CPU backend in Node.js on the same 512x512 input (``bus.jpg``, ``cv2.resize`` INTER_LINEAR,
  RGB). The heatmap and box distances at its peaks are written below; the converted model
  must give them to float precision (measured: heatmap within 1e-6, distances within 0.003 px).
* Boxes read by eye: the frames were drawn with a 10 or 20 px grid, zoomed 2 to 6 times, and
  each object's extent (head top, feet or shoe soles, outermost arm, bag or shoe) read off
  the grid, without the detector's boxes on the picture.
* People counted by eye on ``vtest.avi`` frames 100, 300 and 500 (zoomed the same way).

The model is made by the session fixture with the project's own set-up path (npm pack of the
pinned package, integrity check, conversion); without the npm registry the tests fail.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest

from analytics_pipeline.centernet import COCO_CLASSES, INPUT_SIZE
from analytics_pipeline.centernet.convert import (
    NPM_INTEGRITY,
    ConversionError,
    build,
    default_output,
    fetch_package,
    integrity_of,
    is_valid,
    same_pads,
)
from analytics_pipeline.centernet.detector import (
    CenterNetDetection,
    CenterNetDetector,
    CenterNetUnavailable,
    class_indices,
    decode,
    find_peaks,
)

Box = tuple[float, float, float, float]


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def model_path() -> Path:
    """``models/centernet.onnx``, made (or found valid) by the set-up's fetch + convert."""
    try:
        return build()
    except ConversionError as exc:
        pytest.fail(
            "cannot make the CenterNet model (npm pack @vladmandic/human@3.3.6 from the npm "
            f"registry, then conversion): {exc}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def detector(model_path: Path) -> CenterNetDetector:
    return CenterNetDetector(model_path, threads=2, device="cpu")


@pytest.fixture(scope="session")
def bus() -> np.ndarray:
    """ultralytics' ``assets/bus.jpg`` (810x1080), found without importing ultralytics."""
    spec = importlib.util.find_spec("ultralytics")
    assert spec is not None and spec.origin is not None, "ultralytics is not installed"
    image = cv2.imread(str(Path(spec.origin).parent / "assets" / "bus.jpg"))
    assert image is not None, "ultralytics' assets/bus.jpg is missing"
    return image


@pytest.fixture(scope="session")
def vtest_frames() -> dict[int, np.ndarray]:
    """Frames 100, 300 and 500 of Debian opencv-doc's ``vtest.avi`` (768x576)."""
    from analytics_pipeline.analyzer.media import MediaUnavailable, opencv_sample

    try:
        video = opencv_sample("vtest.avi")
    except MediaUnavailable as exc:
        pytest.fail(f"Debian's opencv-doc (vtest.avi) could not be had: {exc}", pytrace=False)
    capture = cv2.VideoCapture(str(video))
    frames = {}
    try:
        for index in (100, 300, 500):
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = capture.read()
            assert ok, f"cannot read frame {index} of {video}"
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


def box(detection: CenterNetDetection) -> Box:
    return (detection.x1, detection.y1, detection.x2, detection.y2)


def match(
    found: list[CenterNetDetection], expected: list[tuple[str, Box]]
) -> list[tuple[str, Box, CenterNetDetection | None, float]]:
    """Each expected box with the same-class detection overlapping it most (greedy, 1:1)."""
    free = list(found)
    pairs = []
    for class_name, reference in expected:
        candidates = [d for d in free if d.class_name == class_name]
        best = max(candidates, key=lambda d: iou(box(d), reference), default=None)
        overlap = iou(box(best), reference) if best is not None else 0.0
        if best is not None and overlap > 0:
            free.remove(best)
            pairs.append((class_name, reference, best, overlap))
        else:
            pairs.append((class_name, reference, None, 0.0))
    return pairs


# --- pieces without the model ---------------------------------------------------------------


def test_same_padding_puts_the_odd_pixel_after() -> None:
    assert same_pads(512, 3, 2) == (0, 1)  # TF: out 256, total 1, all of it bottom/right
    assert same_pads(64, 5, 2) == (1, 2)
    assert same_pads(128, 5, 1) == (2, 2)
    assert same_pads(128, 1, 1) == (0, 0)
    assert same_pads(7, 3, 2) == (1, 1)


def test_peaks_are_local_maxima_at_or_above_the_threshold() -> None:
    heat = np.zeros((2, 8, 8), np.float32)
    heat[0, 2, 3] = 0.9
    heat[0, 2, 4] = 0.8  # next to a higher cell: not a peak
    heat[0, 6, 6] = 0.5
    heat[0, 6, 7] = 0.5  # a tie: both count, as TF's heat == maxpool(heat)
    heat[1, 0, 0] = 0.4  # at the threshold, at the border: a peak
    heat[1, 5, 1] = 0.39
    classes, ys, xs = find_peaks(heat, 0.4)
    assert sorted(zip(classes.tolist(), ys.tolist(), xs.tolist(), strict=True)) == [
        (0, 2, 3),
        (0, 6, 6),
        (0, 6, 7),
        (1, 0, 0),
    ]


def test_decode_boxes_scales_to_the_frame_and_suppresses_within_a_class() -> None:
    heat = np.zeros((80, 128, 128), np.float32)
    wh = np.zeros((4, 128, 128), np.float32)
    heat[0, 10, 20] = 0.9  # person at cell (x 20, y 10): centre (80, 40) in 512-space
    wh[:, 10, 20] = (8, 16, 8, 16)
    heat[0, 10, 22] = 0.6  # an overlapping person peak: suppressed
    wh[:, 10, 22] = (16, 16, 0, 16)
    heat[2, 10, 22] = 0.7  # a car on the same spot: another class, kept
    wh[:, 10, 22] = (16, 16, 0, 16)
    heat[7, 100, 100] = 0.2  # a low-confidence truck
    wh[:, 100, 100] = (4, 4, 4, 4)
    frame_size = (1024, 256)  # 2x wider, half as tall as the network input
    found = decode(heat, wh, frame_size, 0.4)
    assert [(d.class_name, round(d.confidence, 3)) for d in found] == [
        ("person", 0.9),
        ("car", 0.7),
    ]
    assert box(found[0]) == pytest.approx((144.0, 12.0, 176.0, 28.0))  # (72,24,88,56) scaled
    low = decode(heat, wh, frame_size, 0.1)
    assert [d.class_name for d in low] == ["person", "car", "truck"]
    assert box(low[2]) == pytest.approx((792.0, 198.0, 808.0, 202.0))
    only_trucks = decode(heat, wh, frame_size, 0.1, class_indices(["truck"]))
    assert [d.class_name for d in only_trucks] == ["truck"]
    with pytest.raises(ValueError, match="lorry"):
        class_indices(["person", "lorry"])


def test_coco_classes_are_in_the_standard_order() -> None:
    assert len(COCO_CLASSES) == 80
    assert COCO_CLASSES[:8] == (
        "person",
        "bicycle",
        "car",
        "motorcycle",
        "airplane",
        "bus",
        "train",
        "truck",
    )
    assert COCO_CLASSES[-1] == "toothbrush"


def test_integrity_is_npm_s_sha512_in_base64(tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert integrity_of(empty) == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )


def _fake_npm(folder: Path, script: str) -> None:
    folder.mkdir()
    npm = folder / "npm"
    npm.write_text("#!/bin/sh\n" + script)
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)


def test_a_tarball_with_the_wrong_integrity_is_refused(tmp_path, monkeypatch) -> None:
    # The fake npm writes a bogus tarball into --pack-destination (the argument after it).
    _fake_npm(
        tmp_path / "bin",
        'while [ "$1" != "--pack-destination" ]; do shift; done\n'
        'echo bogus > "$2/vladmandic-human-3.3.6.tgz"\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ConversionError, match="integrity"):
        fetch_package(tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.tgz"))  # the bad tarball is not kept


def test_an_unreachable_registry_is_a_clear_error(tmp_path, monkeypatch) -> None:
    _fake_npm(tmp_path / "bin", 'echo "npm error code ENOTFOUND registry.npmjs.org" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ConversionError, match=r"npm registry must be reachable.*ENOTFOUND"):
        fetch_package(tmp_path / "cache")


def test_a_missing_model_names_the_command_that_makes_it(tmp_path) -> None:
    with pytest.raises(CenterNetUnavailable, match=r"analytics_pipeline\.centernet\.convert"):
        CenterNetDetector(tmp_path / "centernet.onnx")


# --- the converted model --------------------------------------------------------------------


def test_the_model_is_made_once_and_is_valid(model_path: Path) -> None:
    assert model_path == default_output()
    assert is_valid(model_path)
    model = onnx.load(str(model_path))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["source_integrity"] == NPM_INTEGRITY
    assert [o.name for o in model.graph.output] == ["keypoints", "wh"]
    ops = {node.op_type for node in model.graph.node}
    assert not ops & {"TopK", "Gather", "MaxPool"}  # decoding is numpy's, not the graph's
    assert sum(node.op_type == "Transpose" for node in model.graph.node) == 1
    before = model_path.stat().st_mtime_ns
    assert build() == model_path  # idempotent: nothing rewritten
    assert model_path.stat().st_mtime_ns == before


def test_a_damaged_model_file_is_rebuilt(model_path: Path, tmp_path) -> None:
    damaged = tmp_path / "centernet.onnx"
    damaged.write_bytes(model_path.read_bytes()[:1000])
    assert not is_valid(damaged)
    assert build(damaged) == damaged  # from the cached, integrity-checked tarball
    assert is_valid(damaged)


# TFJS's own outputs on bus.jpg at the heatmap peaks >= 0.35: (class, y, x) cell, heatmap
# value, distances (left, top, right, bottom) in 512-space.
TFJS_BUS_PEAKS = [
    (0, 76, 21, 0.7652, (55.45, 116.14, 55.57, 123.81)),
    (0, 74, 44, 0.5937, (35.00, 103.69, 38.57, 114.30)),
    (0, 74, 118, 0.5760, (38.97, 120.46, 39.98, 121.33)),
    (5, 57, 63, 0.4834, (239.84, 120.36, 247.49, 129.59)),
    (5, 62, 63, 0.4033, (235.02, 141.81, 249.48, 124.32)),
    (16, 85, 5, 0.3949, (20.82, 74.86, 24.58, 71.28)),
]


def test_the_conversion_matches_tensorflow_js(detector: CenterNetDetector, bus) -> None:
    heat, distances = detector.infer(bus)
    assert heat.shape == (80, 128, 128) and distances.shape == (4, 128, 128)
    classes, ys, xs = find_peaks(heat, 0.35)
    assert sorted(zip(classes.tolist(), ys.tolist(), xs.tolist(), strict=True)) == sorted(
        (c, y, x) for c, y, x, _, _ in TFJS_BUS_PEAKS
    )
    for class_id, y, x, value, sides in TFJS_BUS_PEAKS:
        assert heat[class_id, y, x] == pytest.approx(value, abs=2e-3)
        assert distances[:, y, x] == pytest.approx(sides, abs=0.25)


# By eye on bus.jpg (810x1080): the two men in front of the bus (beige coat: hair top to shoe
# soles, left shoe to the right shoe's toe; black coat), the man cut off by the right edge
# (left shoe's toe, head top) and the bus (mirror to the right end, roof to the front tyre).
# A fourth person, mostly outside the left edge, is not expected (the model calls that bit
# a dog at 0.39).
BUS_BY_EYE: list[tuple[str, Box]] = [
    ("person", (50, 400, 240, 897)),
    ("person", (227, 405, 342, 860)),
    ("person", (669, 395, 810, 876)),
    ("bus", (5, 228, 800, 745)),
]


def test_bus_boxes_fit_the_ones_read_by_eye(detector: CenterNetDetector, bus) -> None:
    found = detector.detect(bus, score_threshold=0.4)
    pairs = match(found, BUS_BY_EYE)
    report = [
        (c, ref, d and tuple(round(v) for v in box(d)), round(o, 2)) for c, ref, d, o in pairs
    ]
    assert all(overlap >= 0.8 for *_, overlap in pairs), report  # measured 0.84 to 0.95
    assert len(found) == len(BUS_BY_EYE), found  # nothing else at >= 0.4


# By eye on vtest.avi frame 300 (768x576): six people (two pairs near the cones, the couple
# on the right) and the light-blue car cut off by the right edge.
VTEST_300_BY_EYE: list[tuple[str, Box]] = [
    ("person", (187, 159, 219, 234)),
    ("person", (244, 159, 269, 221)),
    ("person", (298, 159, 321, 230)),
    ("person", (312, 211, 343, 296)),
    ("person", (582, 160, 611, 234)),
    ("person", (620, 161, 643, 235)),
    ("car", (734, 50, 768, 91)),
]


def test_vtest_boxes_fit_the_ones_read_by_eye(detector: CenterNetDetector, vtest_frames) -> None:
    found = detector.detect(vtest_frames[300], score_threshold=0.4)
    pairs = match(found, VTEST_300_BY_EYE)
    report = [
        (c, ref, d and tuple(round(v) for v in box(d)), round(o, 2)) for c, ref, d, o in pairs
    ]
    for _, reference, detection, overlap in pairs:
        assert detection is not None, report
        # People here are 25 to 35 px wide: a few pixels are a large share of the IoU.
        assert np.abs(np.subtract(box(detection), reference)).max() <= 7, report
        assert overlap >= 0.6, report  # measured 0.62 to 0.89, mean 0.79
    assert np.mean([overlap for *_, overlap in pairs]) >= 0.75, report


# People counted by eye (zoomed): frame 100: seven (one on the far path, two left of the sign
# post, one behind the sign, two walking together, one on the right); frame 300: six; frame
# 500: four (the woman in red, three on the right). Rough boxes, for matching only.
VTEST_PEOPLE_BY_EYE: dict[int, list[Box]] = {
    100: [
        (223, 62, 237, 95),
        (349, 200, 383, 275),
        (375, 178, 408, 256),
        (423, 180, 450, 257),  # behind the sign: only head and legs show
        (495, 148, 518, 220),
        (518, 152, 540, 222),
        (591, 153, 617, 233),
    ],
    300: [reference for name, reference in VTEST_300_BY_EYE if name == "person"],
    500: [
        (306, 187, 330, 264),
        (557, 240, 592, 348),
        (572, 282, 613, 390),
        (615, 275, 640, 373),
    ],
}


@pytest.mark.parametrize(("frame", "expected_found"), [(100, 6), (300, 6), (500, 4)])
def test_people_found_on_vtest_frames(
    detector: CenterNetDetector, vtest_frames, frame: int, expected_found: int
) -> None:
    people = [
        d
        for d in detector.detect(vtest_frames[frame], score_threshold=0.4, classes=["person"])
        if d.class_name == "person"
    ]
    pairs = match(people, [("person", reference) for reference in VTEST_PEOPLE_BY_EYE[frame]])
    matched = [d for _, _, d, overlap in pairs if d is not None and overlap >= 0.5]
    false_positives = [d for d in people if d not in matched]
    assert not false_positives  # e.g. the rock at (162, 249) scores 0.397 on frame 100
    assert len(matched) == expected_found, pairs  # of 7, 6 and 4 counted by eye


def test_low_confidence_boxes_on_request(detector: CenterNetDetector, vtest_frames) -> None:
    frame = vtest_frames[100]
    high = detector.detect(frame, score_threshold=0.4)
    both = detector.detect(frame, score_threshold=0.4, low_threshold=0.1)
    assert len(both) > len(high)
    assert {box(d) for d in high} <= {box(d) for d in both}
    assert min(d.confidence for d in both) >= 0.1
    assert [d.confidence for d in both] == sorted((d.confidence for d in both), reverse=True)


def test_any_frame_size_and_device_auto(model_path: Path) -> None:
    auto = CenterNetDetector(model_path, threads=1, device="auto")
    assert auto.device in {"cpu", "cuda"}
    blank = np.zeros((INPUT_SIZE // 2, INPUT_SIZE * 3, 3), np.uint8)
    for found in auto.detect(blank, score_threshold=0.05):
        assert 0 <= found.x1 < found.x2 <= blank.shape[1]
        assert 0 <= found.y1 < found.y2 <= blank.shape[0]
