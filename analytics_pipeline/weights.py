"""Detector weights: a local file or a clear refusal (this service never downloads a model).

Checked when the settings are read (``DETECTOR_WEIGHTS``) and again when a detector loads a
camera's own weights. Only ``pathlib`` here: the configuration imports it, and configuration
never imports a pipeline stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from analytics_pipeline.errors import PipelineError
from analytics_pipeline.paths import project_root

WEIGHTS_SUFFIXES = (".pt", ".onnx")
_Setting = TypeVar("_Setting", str, str | None)


class WeightsError(PipelineError):
    """The detector weights cannot be used; the message says where to put them."""


def check_weights(weights: str) -> Path:
    """A local weights file, or :class:`WeightsError` (a bare name would be downloaded)."""
    path = Path(weights).expanduser()
    if not path.is_file():
        hint = (
            f"{weights!r} is not a file. ultralytics would try to download a bare model name, "
            "and this service never downloads at run time: put the weights file on disk and "
            "set DETECTOR_WEIGHTS to its path (the project's own model is "
            f"{project_root() / 'models' / 'street-nano.pt'}), or leave DETECTOR_WEIGHTS empty "
            "for the default COCO CenterNet made at set-up"
        )
        raise WeightsError(hint)
    if path.suffix not in WEIGHTS_SUFFIXES:
        raise WeightsError(f"{path} is not a .pt or .onnx weights file")
    return path.resolve()


def valid_weights_setting(value: _Setting) -> _Setting:
    """A settings validator: an empty value passes, anything else must pass
    :func:`check_weights` (its message becomes the setting's error)."""
    if value:
        try:
            check_weights(value)
        except WeightsError as exc:
            raise ValueError(str(exc)) from None
    return value
