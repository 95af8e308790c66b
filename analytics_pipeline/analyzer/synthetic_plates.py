"""Rendered licence plates for synthetic scenes, in several styles.

A :class:`PlateStyle` is a plate's colours, font, size and perspective: yellow or white
backgrounds (or any colour), OpenCV's Hershey fonts or TrueType fonts (Pillow's bundled font,
or any ``.ttf`` file such as Debian's DejaVu fonts), smaller plates, and a perspective skew
(the plate turned away from the camera). The tests read plates of several styles so that ANPR
is never tuned to one font, size or colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

Colour = tuple[int, int, int]  # BGR

YELLOW: Colour = (20, 210, 250)
WHITE: Colour = (235, 235, 235)
INK: Colour = (10, 10, 10)
HERSHEY = {
    "hershey_simplex": cv2.FONT_HERSHEY_SIMPLEX,
    "hershey_duplex": cv2.FONT_HERSHEY_DUPLEX,
    "hershey_complex": cv2.FONT_HERSHEY_COMPLEX,
    "hershey_triplex": cv2.FONT_HERSHEY_TRIPLEX,
}
PILLOW_FONT = "pillow"  # the TrueType font Pillow ships (no font package needed)


@dataclass(frozen=True)
class PlateStyle:
    """How a plate looks. ``font``: a key of :data:`HERSHEY`, ``"pillow"`` or a .ttf path;
    ``scale``: plate height relative to the vehicle's usual plate; ``skew``: how much shorter
    the right edge is than the left (0: facing the camera, 0.25: turned away)."""

    background: Colour = YELLOW
    ink: Colour = INK
    font: str = "hershey_duplex"
    scale: float = 1.0
    skew: float = 0.0
    border: bool = True


STYLES: dict[str, PlateStyle] = {
    "yellow": PlateStyle(),
    "white": PlateStyle(background=WHITE, font="hershey_simplex"),
    "yellow_ttf": PlateStyle(font=PILLOW_FONT),
    "white_ttf": PlateStyle(background=WHITE, font=PILLOW_FONT),
    "small": PlateStyle(background=WHITE, font="hershey_triplex", scale=0.7),
    "skewed": PlateStyle(font=PILLOW_FONT, skew=0.22),
}
"""Named styles for test clips (the default one is the project's original plate)."""


@lru_cache(maxsize=32)
def _truetype(font: str, size: int) -> object:
    from PIL import ImageFont

    if font == PILLOW_FONT:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(font, size)


def _hershey_width(text: str, height: int, style: PlateStyle) -> int:
    font = HERSHEY.get(style.font, cv2.FONT_HERSHEY_DUPLEX)
    scale = height / 30
    (tw, _th), _ = cv2.getTextSize(text, font, scale, max(1, round(scale * 2)))
    return tw + round(height * 0.5)


def _draw_hershey(
    target: np.ndarray, text: str, x: int, y: int, height: int, style: PlateStyle
) -> int:
    """Draw a Hershey-font plate straight onto ``target`` at (x, y); returns its width."""
    font = HERSHEY.get(style.font, cv2.FONT_HERSHEY_DUPLEX)
    scale = height / 30
    thickness = max(1, round(scale * 2))
    (_tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
    width = _hershey_width(text, height, style)
    cv2.rectangle(target, (x, y), (x + width, y + height), style.background, cv2.FILLED)
    if style.border:
        cv2.rectangle(target, (x, y), (x + width, y + height), (20, 20, 20), 1)
    origin = (x + round(height * 0.25), y + (height + th) // 2)
    cv2.putText(target, text, origin, font, scale, style.ink, thickness, cv2.LINE_AA)
    return width


def _text_canvas(text: str, height: int, style: PlateStyle) -> np.ndarray:
    """The plate as its own image (BGR): background, border and text."""
    if style.font in HERSHEY:
        width = _hershey_width(text, height, style)
        canvas = np.zeros((height + 1, width + 1, 3), np.uint8)
        _draw_hershey(canvas, text, 0, 0, height, style)
        return canvas
    from PIL import Image, ImageDraw

    probe = _truetype(style.font, 100)
    _l, cap_top, _r, cap_bottom = probe.getbbox("H")  # type: ignore[attr-defined]
    size = max(6, round(height * 0.62 * 100 / max(1, cap_bottom - cap_top)))
    face = _truetype(style.font, size)
    left, top, right, bottom = face.getbbox(text)  # type: ignore[attr-defined]
    width = (right - left) + round(height * 0.5)
    picture = Image.new("RGB", (width + 1, height + 1), style.background[::-1])
    draw = ImageDraw.Draw(picture)
    if style.border:
        draw.rectangle((0, 0, width, height), outline=(20, 20, 20))
    origin = (round(height * 0.25) - left, (height - (bottom - top)) // 2 - top)
    draw.text(origin, text, font=face, fill=style.ink[::-1])
    return np.asarray(picture)[:, :, ::-1].copy()


def draw_plate(
    image: np.ndarray, text: str, x: int, y: int, height: int, style: PlateStyle | None = None
) -> tuple[int, int, int, int]:
    """Draw a plate whose top-left corner is (x, y); its box (x1, y1, x2, y2) in the image
    (with a skew: the box around the turned plate)."""
    style = style or PlateStyle()
    if style.font in HERSHEY and not style.skew:  # drawn in place, clipped by OpenCV
        width = _draw_hershey(image, text, x, y, height, style)
        return x, y, x + width, y + height
    canvas = _text_canvas(text, height, style)
    h, w = canvas.shape[:2]
    if style.skew:
        right, left = max(0.0, style.skew) * h / 2, max(0.0, -style.skew) * h / 2
        source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        target = np.float32([[0, left], [w * 0.92, right], [w * 0.92, h - right], [0, h - left]])
        warp = cv2.getPerspectiveTransform(source, target)
        canvas = cv2.warpPerspective(canvas, warp, (w, h), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), warp, (w, h))
    else:
        mask = np.full((h, w), 255, np.uint8)
    _paste(image, canvas, mask, x, y)
    width = round(w * 0.92) if style.skew else w - 1
    return x, y, x + width, y + h - 1


def _paste(image: np.ndarray, canvas: np.ndarray, mask: np.ndarray, x: int, y: int) -> None:
    """Copy ``canvas`` where ``mask`` is set onto ``image`` at (x, y), clipped to the image."""
    h, w = canvas.shape[:2]
    x1, y1 = max(0, x), max(0, y)
    x2, y2 = min(image.shape[1], x + w), min(image.shape[0], y + h)
    if x2 <= x1 or y2 <= y1:
        return
    part = canvas[y1 - y : y2 - y, x1 - x : x2 - x]
    keep = mask[y1 - y : y2 - y, x1 - x : x2 - x] > 127
    image[y1:y2, x1:x2][keep] = part[keep]
