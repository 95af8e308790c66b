"""The overlay pixels of a snapshot: motion, boxes, plates, the timestamp, counting lines and
zones."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from analytics_pipeline.analyzer.annotators import (
    LINE_COLOUR,
    MOTION_OPACITY,
    PLATE_COLOUR,
    ZONE_COLOUR,
    BoxAnnotator,
    LineAnnotator,
    MotionAnnotator,
    PlateAnnotator,
    TimestampAnnotator,
    annotate,
    box_label,
    class_colour,
)
from analytics_pipeline.analyzer.lines import CountingLine
from analytics_pipeline.analyzer.types import Detection, PlateRead
from analytics_pipeline.analyzer.zones import EventZone

MOMENT = datetime(2026, 3, 15, 10, 30, 45, 123456, tzinfo=UTC)
GREY = 100


def grey_frame(height: int = 480, width: int = 640) -> np.ndarray:
    return np.full((height, width, 3), GREY, np.uint8)


def test_motion_region_is_red_at_thirty_percent() -> None:
    mask = np.zeros((120, 160), np.uint8)  # a downscaled mask, as motion detection gives
    mask[30:60, 40:80] = 255
    image = annotate(grey_frame(), MOMENT, motion_mask=mask)
    expected = np.round(
        np.array([GREY, GREY, GREY]) * (1 - MOTION_OPACITY) + np.array([0, 0, 255]) * MOTION_OPACITY
    )
    assert image[180, 240].tolist() == expected.tolist()  # inside (scaled x4)
    assert image[100, 100].tolist() == [GREY, GREY, GREY]  # outside


def test_boxes_are_drawn_in_their_class_colour_with_a_label() -> None:
    car = Detection(100, 150, 300, 300, "car", 0.87, track_id=4)
    person = Detection(400, 100, 450, 300, "person", 0.6)
    image = annotate(grey_frame(), MOMENT, detections=[car, person])
    assert image[225, 100].tolist() == list(class_colour("car"))  # left edge
    assert image[300, 200].tolist() == list(class_colour("car"))  # bottom edge
    assert image[200, 450].tolist() == list(class_colour("person"))
    assert image[225, 200].tolist() == [GREY, GREY, GREY]  # inside the box untouched
    assert class_colour("car") != class_colour("person")
    # The label sits on a filled patch of the class colour just above the box.
    label_patch = image[130:148, 100:160]
    assert (label_patch == class_colour("car")).all(axis=2).mean() > 0.3
    assert box_label(car) == "car 0.87 #4"
    assert box_label(person) == "person 0.60"


def test_plate_is_a_thick_green_box_with_text_at_the_top() -> None:
    plate = PlateRead(200, 300, 320, 340, "AB12CDE", 0.93)
    image = annotate(grey_frame(), MOMENT, plates=[plate])
    for offset in range(-1, 2):  # thick: several pixels across the edge
        assert image[320, 200 + offset].tolist() == list(PLATE_COLOUR)
    banner = image[0:20, 0:120]
    assert (banner == PLATE_COLOUR).all(axis=2).mean() > 0.3
    assert (banner == 0).all(axis=2).any()  # dark text on the green banner


@pytest.mark.parametrize("width", [320, 640, 1280, 1920, 3840])
def test_the_plate_label_is_whole_inside_the_image(width: int) -> None:
    """The banner sits at the top left; no glyph touches its edge or the image's."""
    height = width * 9 // 16
    plate = PlateRead(width // 3, height // 2, width // 3 + 120, height // 2 + 40, "WW88MMM", 0.93)
    image = PlateAnnotator().annotate(grey_frame(height, width), [plate])
    top = image[: height // 4]
    green = (top == PLATE_COLOUR).all(axis=2)
    ink = ~green & ~(top == GREY).all(axis=2)
    banner_rows, banner_cols = np.nonzero(green)
    ink_rows, ink_cols = np.nonzero(ink)
    assert len(ink_rows) > 0
    assert (banner_rows.min(), banner_cols.min()) == (0, 0)  # at the top, from the left edge
    # The text's bounding box lies strictly inside the banner: nothing is cut off.
    assert banner_cols.min() < ink_cols.min() and ink_cols.max() < banner_cols.max()
    assert banner_rows.min() < ink_rows.min() and ink_rows.max() < banner_rows.max()
    assert not ink[0].any() and not ink[:, 0].any()


def test_a_label_at_the_right_edge_is_moved_inside() -> None:
    detection = Detection(630, 200, 639, 300, "person", 0.9, track_id=12)
    image = BoxAnnotator().annotate(grey_frame(), [detection])
    patch = (image == class_colour("person")).all(axis=2)
    rows, cols = np.nonzero(patch[:199])
    assert cols.max() == 639 and cols.max() - cols.min() > 100  # pushed left to fit, whole
    assert rows.max() == 198  # just above the box


def test_every_snapshot_has_a_timestamp_at_the_bottom() -> None:
    image = annotate(grey_frame(), MOMENT)
    bottom = image[455:480, 0:300]
    assert (bottom == 0).all(axis=2).mean() > 0.3  # black patch
    assert (bottom > 200).all(axis=2).any()  # white (anti-aliased) text
    assert (image[0:400] == GREY).all()  # nothing else drawn


def test_annotators_draw_in_place_and_annotate_draws_on_a_copy() -> None:
    frame = grey_frame()
    mask = np.full((480, 640), 255, np.uint8)
    assert MotionAnnotator().annotate(frame, mask) is frame
    assert TimestampAnnotator().annotate(frame, MOMENT) is frame
    untouched = grey_frame()
    annotate(untouched, MOMENT, motion_mask=mask)
    assert (untouched == GREY).all()


def test_a_counting_line_is_yellow_with_an_arrow_towards_its_b_side() -> None:
    # Drawn bottom to top at x=320: its b side (right-hand) is the right of the image.
    line = CountingLine.from_relative("gate", [[0.5, 1.0], [0.5, 0.0]], 640, 480)
    image = LineAnnotator().annotate(grey_frame(), [line])
    assert image[300, 320].tolist() == list(LINE_COLOUR)
    assert image[240, 340].tolist() == list(LINE_COLOUR)  # the arrow, to the right
    assert image[240, 300].tolist() == [GREY] * 3  # nothing to the left


def test_a_zone_is_outlined_in_magenta_and_left_unfilled() -> None:
    zone = EventZone.from_relative("door", [[0.25, 0.5], [0.75, 0.5], [0.75, 1.0]], 640, 480)
    image = annotate(grey_frame(), MOMENT, zones=[zone])
    assert image[240, 400].tolist() == list(ZONE_COLOUR)  # its top edge
    assert image[400, 450].tolist() == [GREY] * 3  # inside, not filled
