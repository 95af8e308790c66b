"""Per-camera settings of lines, named zones and clips: validated when a camera is registered
(``cameras add``, the API, ``analyze --settings``), with clear messages."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from analytics_pipeline.analyzer.camera_settings import CameraSettings
from analytics_pipeline.cameras import CameraInput

SQUARE = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]


def test_lines_zones_and_clips_are_read() -> None:
    settings = CameraSettings.model_validate(
        {
            "lines": [{"name": "gate", "points": [[0.5, 1], [0.5, 0.4]]}],
            "zones": [SQUARE, {"name": "door", "points": SQUARE, "events": True}],
            "clip_events": ["line_crossed"],
            "clip_pre_seconds": 2,
        }
    )
    assert settings.lines[0].name == "gate"
    assert [z.name for z in settings.event_zones] == ["door"]
    assert len(settings.filter_zones) == 1  # the event zone does not restrict detection
    assert (settings.clip_pre_seconds, settings.clip_post_seconds) == (2, 3)


def test_a_named_zone_without_events_filters_and_one_with_events_may_filter_too() -> None:
    plain = CameraSettings.model_validate({"zones": [{"name": "road", "points": SQUARE}]})
    assert plain.filter_zones and not plain.event_zones
    both = {"name": "road", "points": SQUARE, "events": True, "filter": True}
    settings = CameraSettings.model_validate({"zones": [both]})
    assert settings.filter_zones and settings.event_zones
    assert settings.region_mask(10, 10) is not None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lines": [{"name": "g", "points": [[0, 0]]}]}, "a line needs 2 distinct points"),
        ({"lines": [{"name": "g", "points": [[0, 0], [0, 0]]}]}, "a line needs 2 distinct"),
        ({"lines": [{"name": "g", "points": [[0, 0], [1.5, 0]]}]}, "between 0 and 1"),
        ({"lines": [{"name": "", "points": [[0, 0], [1, 1]]}]}, "at least 1 character"),
        (
            {"lines": [{"name": "g", "points": [[0, 0], [1, 1]]}] * 2},
            "names must be unique",
        ),
        ({"zones": [{"name": "z", "points": SQUARE, "filter": False}]}, "neither filters"),
        ({"zones": [{"name": "z", "points": SQUARE[:2], "events": True}]}, "3+ points"),
        ({"clip_events": ["clip_ready"]}, "no clips for ['clip_ready']"),
        ({"clip_post_seconds": 31}, "less than or equal to 30"),
        ({"lines": [{"name": "g", "points": [[0, 0], [1, 1]], "colour": "red"}]}, "Extra"),
    ],
)
def test_bad_settings_are_refused_at_registration(settings: dict, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CameraInput(id="gate", source_url="/videos/a.mp4", settings=settings)
    assert message in str(refused.value)
