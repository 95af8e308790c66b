"""The CenterNet model and the images its tests look at (session-wide: the model loads once).

The model is made by the set-up's own path (npm pack of the pinned package, integrity check,
conversion); without the npm registry the tests that need it fail.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from analytics_pipeline.centernet import ConversionError
from analytics_pipeline.centernet.convert import build
from analytics_pipeline.centernet.detector import CenterNetDetector


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
