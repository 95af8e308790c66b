"""The installed vision stack: one OpenCV 4.x with the HOG and cascade detectors."""

from __future__ import annotations

import subprocess
import sys

import cv2


def test_one_opencv_4_with_hog_and_cascade() -> None:
    assert cv2.__version__.startswith("4.")
    assert hasattr(cv2, "HOGDescriptor") and hasattr(cv2, "CascadeClassifier")
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_russian_plate_number.xml")
    assert not cascade.empty()


def test_pip_check_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
