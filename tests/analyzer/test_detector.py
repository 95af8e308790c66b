"""The detector interface: the default CenterNet, YOLO from a local file, the classes a camera
reports, the device setting, and a missing model refused at start with the command that
makes it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from analytics_pipeline.analyzer import detector as detector_module
from analytics_pipeline.analyzer.detector import (
    DEFAULT_CLASSES,
    LOW_CONFIDENCE,
    CenterNetObjectDetector,
    DetectorUnavailable,
    YoloDetector,
    build_detector,
    check_detector,
    shared_centernet,
    torch_device,
    wanted_classes,
)
from analytics_pipeline.analyzer.media import MediaUnavailable, opencv_sample
from analytics_pipeline.analyzer.synthetic import background, demo_street
from analytics_pipeline.centernet import COCO_CLASSES
from analytics_pipeline.config import ConfigError, load_settings
from analytics_pipeline.weights import WeightsError

ROOT = Path(__file__).resolve().parents[2]
STREET_MODEL = ROOT / "models" / "street-nano.pt"


@pytest.fixture(scope="module")
def vtest_frame() -> np.ndarray:
    """Frame 100 of vtest.avi: seven people (counted by eye, tests/centernet)."""
    try:
        video = opencv_sample("vtest.avi")
    except MediaUnavailable as exc:
        pytest.fail(f"Debian's opencv-doc (vtest.avi) could not be had: {exc}", pytrace=False)
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 100)
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame


def test_the_classes_a_camera_reports() -> None:
    assert DEFAULT_CLASSES == ("person", "bicycle", "car", "motorcycle", "bus", "truck")
    assert wanted_classes(COCO_CLASSES, None) == list(DEFAULT_CLASSES)
    # A model that knows only some of them reports those, and its plates for ANPR.
    assert wanted_classes(("person", "car", "licence_plate"), None) == [
        "person",
        "car",
        "licence_plate",
    ]
    assert wanted_classes(("person", "car", "licence_plate"), ["car"]) == ["car", "licence_plate"]
    # A model of other things entirely reports all of them.
    assert wanted_classes(("forklift", "pallet"), None) == ["forklift", "pallet"]
    with pytest.raises(WeightsError, match="lorry"):
        wanted_classes(COCO_CLASSES, ["person", "lorry"])


def test_the_default_detector_is_centernet_with_weak_boxes_for_tracking(vtest_frame) -> None:
    detector = build_detector(None, min_confidence=0.4, imgsz=640, device="cpu", threads=2)
    assert isinstance(detector, CenterNetObjectDetector)
    assert detector.name == "centernet" and detector.class_names == COCO_CLASSES
    raw = detector.detect(vtest_frame)
    names = {COCO_CLASSES[int(c)] for c in raw.cls}
    assert names <= set(DEFAULT_CLASSES) and "person" in names
    strong = raw.conf >= 0.4
    people = [c for c, s in zip(raw.cls, strong, strict=True) if s and c == 0]
    assert 5 <= len(people) <= 7  # 7 counted by eye, 6 found at >= 0.4 (tests/centernet)
    assert (raw.conf < 0.4).any() and raw.conf.min() >= LOW_CONFIDENCE  # kept for ByteTrack
    assert raw.xywh.shape == (len(raw), 4)
    # One onnxruntime session per process, whatever the number of cameras.
    again = build_detector(None, min_confidence=0.5, imgsz=640, device="cpu", threads=2)
    assert again.model is detector.model
    # The analyzer's input: DETECTOR_CENTERNET_SIZE on the long side, the frame's aspect.
    size = load_settings(None).detector_centernet_size
    assert size == 384
    small = build_detector(None, min_confidence=0.4, imgsz=640, threads=2, centernet_size=size)
    assert small.model.input_shape(768, 576) == (384, 288)
    assert detector.model.input_shape(768, 576) == (512, 512)  # None: the upstream's input


def test_yolo_weights_run_on_the_device_asked(vtest_frame) -> None:
    yolo = build_detector(str(STREET_MODEL), min_confidence=0.4, imgsz=320, device="cpu")
    assert isinstance(yolo, YoloDetector)
    assert yolo.device == "cpu" and yolo.name == "yolo:street-nano.pt"
    assert [yolo.class_names[i] for i in yolo.class_ids] == ["person", "car", "licence_plate"]
    raw = yolo.detect(vtest_frame)
    assert len(raw.conf) == len(raw.xyxy) == len(raw.cls)
    assert (raw.conf >= LOW_CONFIDENCE).all()


def test_cuda_is_refused_plainly_where_there_is_none(monkeypatch) -> None:
    import torch

    from analytics_pipeline.centernet import detector as centernet

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert torch_device("cpu") == "cpu" and torch_device("auto") == "cpu"
    with pytest.raises(DetectorUnavailable, match="DETECTOR_DEVICE=cuda"):
        torch_device("cuda")
    monkeypatch.setattr(centernet.ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(DetectorUnavailable, match="CUDA provider"):
        check_detector(None, "cuda")
    check_detector(None, "auto")  # falls back to the CPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert torch_device("auto") == "cuda:0"


def test_a_missing_default_model_stops_the_start_naming_the_command(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(detector_module, "default_model_path", lambda: tmp_path / "none.onnx")
    with pytest.raises(
        DetectorUnavailable, match=r"python -m analytics_pipeline\.centernet\.convert"
    ):
        check_detector(None, "cpu")
    check_detector(str(STREET_MODEL), "cpu")  # YOLO weights do not need it
    with pytest.raises(WeightsError, match="never downloads"):
        check_detector("yolov8n.pt", "cpu")


def test_a_missing_model_file_named_by_path_is_refused(tmp_path) -> None:
    with pytest.raises(DetectorUnavailable, match="convert"):
        shared_centernet(tmp_path / "missing.onnx", "cpu", 1)


def test_the_analyze_command_stops_at_start_without_the_model(
    monkeypatch, tmp_path, database_url
) -> None:
    from click.testing import CliRunner

    from analytics_pipeline.cli import main

    monkeypatch.setattr(detector_module, "default_model_path", lambda: tmp_path / "none.onnx")
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(
        main, ["--env-file", str(tmp_path / "none"), "analyze", "--until-end"]
    )
    assert result.exit_code == 2, result.output
    assert "analytics_pipeline.centernet.convert" in result.output
    assert "Traceback" not in result.output


def test_detector_device_is_a_checked_setting(monkeypatch) -> None:
    assert load_settings(None).detector_device == "auto"
    monkeypatch.setenv("DETECTOR_DEVICE", "cuda")
    assert load_settings(None).detector_device == "cuda"
    monkeypatch.setenv("DETECTOR_DEVICE", "gpu")
    with pytest.raises(ConfigError, match="DETECTOR_DEVICE"):
        load_settings(None)


def test_a_camera_s_weights_must_be_a_local_file() -> None:
    from pydantic import ValidationError

    from analytics_pipeline.analyzer.camera_settings import CameraSettings

    assert CameraSettings(detector_weights="").detector_weights == ""
    assert CameraSettings(detector_weights=str(STREET_MODEL)).detector_weights
    with pytest.raises(ValidationError, match="never downloads"):
        CameraSettings(detector_weights="yolov8n.pt")


def street_frame() -> np.ndarray:
    """A frame of the synthetic street with a car, its plate and a person in view (the
    model's world; frame 75 of 300: all three found at 0.58 to 0.94 by the .pt)."""
    video = demo_street()
    backdrop = background(video.width, video.height, np.random.default_rng(video.seed))
    return video.render(video.frames // 4, backdrop)[0]


def test_yolo_onnx_weights_run_in_a_quiet_session_and_find_what_the_pt_finds(tmp_path) -> None:
    """ultralytics' own session for .onnx weights spins its idle pool threads (twice the CPU
    of a frame); the detector rebuilds it to sleep when idle, with one intra-op thread."""
    from ultralytics import YOLO

    weights = tmp_path / STREET_MODEL.name
    weights.write_bytes(STREET_MODEL.read_bytes())  # exported beside it, in tmp_path
    onnx_weights = Path(YOLO(str(weights)).export(format="onnx", imgsz=320, dynamic=True))
    yolo = build_detector(str(onnx_weights), min_confidence=0.4, imgsz=320, device="cpu")
    assert isinstance(yolo, YoloDetector)
    options = yolo.model.predictor.model.backend.session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    frame = street_frame()
    found = yolo.detect(frame)
    expected = build_detector(str(STREET_MODEL), min_confidence=0.4, imgsz=320).detect(frame)
    assert (expected.conf >= 0.5).sum() >= 2  # the frame has things in view for the model

    def matched(box: np.ndarray, cls: float, other) -> bool:
        """A box of ``other`` of the same class within 2 px (the runtimes round apart)."""
        near = np.abs(other.xyxy - box).max(axis=1) <= 2.0
        return bool((near & (other.cls == cls) & (other.conf >= 0.3)).any())

    # Every clear box of one is in the other (a box right at a cut may fall either side).
    for one, other in ((expected, found), (found, expected)):
        for box, cls, conf in zip(one.xyxy, one.cls, one.conf, strict=True):
            assert conf < 0.5 or matched(box, cls, other)
