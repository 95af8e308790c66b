"""Synthetic street scenes: vehicles carrying rendered plates, and people.

Used to make the project's training set, the demo video and the tests' videos with known
objects, plates and timings. Everything is drawn with OpenCV from a seeded random generator,
so the same seed gives the same pixels.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from analytics_pipeline.analyzer.synthetic_plates import STYLES, PlateStyle, draw_plate

CLASSES = ("person", "car", "licence_plate")


@dataclass(frozen=True)
class Box:
    """An annotated object: class name and pixel box."""

    class_name: str
    x1: int
    y1: int
    x2: int
    y2: int


def random_plate(rng: np.random.Generator) -> str:
    """A plate in the UK format: two letters, two digits, three letters (e.g. AB12CDE)."""
    letters = string.ascii_uppercase.replace("I", "").replace("O", "").replace("Q", "")

    def pick(count: int, alphabet: str) -> str:
        return "".join(rng.choice(list(alphabet), count))

    return pick(2, letters) + pick(2, string.digits) + pick(3, letters)


def background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Sky, buildings, pavement and a road with lane markings."""
    image = np.zeros((height, width, 3), np.uint8)
    horizon = int(height * 0.45)
    for y in range(horizon):
        shade = 150 + int(80 * y / horizon)
        image[y, :] = (shade, shade - 20, shade - 60)
    x = 0
    while x < width:
        w = int(rng.integers(width // 12, width // 5))
        h = int(rng.integers(horizon // 3, horizon))
        colour = tuple(int(c) for c in rng.integers(60, 200, 3))
        cv2.rectangle(image, (x, horizon - h), (x + w, horizon), colour, cv2.FILLED)
        for wy in range(horizon - h + 8, horizon - 10, 18):
            for wx in range(x + 6, x + w - 10, 16):
                cv2.rectangle(image, (wx, wy), (wx + 7, wy + 9), (200, 210, 120), cv2.FILLED)
        x += w + int(rng.integers(0, 12))
    cv2.rectangle(image, (0, horizon), (width, int(height * 0.55)), (150, 150, 150), cv2.FILLED)
    cv2.rectangle(image, (0, int(height * 0.55)), (width, height), (75, 75, 78), cv2.FILLED)
    lane = int(height * 0.78)
    for x in range(0, width, 60):
        cv2.rectangle(image, (x, lane), (x + 30, lane + 4), (230, 230, 230), cv2.FILLED)
    noise = rng.normal(0, 3, image.shape)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def draw_car(
    image: np.ndarray,
    x: int,
    y_bottom: int,
    length: int,
    colour: tuple,
    plate: str,
    style: PlateStyle | None = None,
) -> list[Box]:
    """A car seen from the side-rear, bottom-left at (x, y_bottom), with its plate."""
    height = int(length * 0.42)
    top = y_bottom - height
    cabin_top = top - int(height * 0.45)
    cv2.rectangle(image, (x, top), (x + length, y_bottom - height // 6), colour, cv2.FILLED)
    cabin = np.array(
        [
            [x + length // 5, top],
            [x + length // 3, cabin_top],
            [x + length * 3 // 4, cabin_top],
            [x + length * 9 // 10, top],
        ]
    )
    cv2.fillPoly(image, [cabin], colour)
    window = np.array(
        [
            [x + length // 4 + 4, top - 2],
            [x + length // 3 + 3, cabin_top + 5],
            [x + length * 3 // 4 - 3, cabin_top + 5],
            [x + length * 17 // 20, top - 2],
        ]
    )
    cv2.fillPoly(image, [window], (90, 60, 40))
    radius = height // 4
    for wx in (x + length // 5, x + length * 4 // 5):
        cv2.circle(image, (wx, y_bottom - radius), radius, (25, 25, 25), cv2.FILLED)
        cv2.circle(image, (wx, y_bottom - radius), radius // 2, (160, 160, 160), cv2.FILLED)
    plate_height = max(12, int(length * 0.11))
    if style is not None and style.scale != 1.0:
        plate_height = max(8, round(plate_height * style.scale))
    plate_box = draw_plate(
        image,
        plate,
        x + length // 2 - int(plate_height * 2.2),
        top + height // 5,
        plate_height,
        style,
    )
    return [Box("car", x, cabin_top, x + length, y_bottom), Box("licence_plate", *plate_box)]


def draw_person(
    image: np.ndarray, x: int, y_bottom: int, height: int, colour: tuple, phase: float = 0.0
) -> Box:
    """A walking figure: head, torso, arms and legs; ``phase`` swings the legs."""
    head = max(3, height // 8)
    neck_y = y_bottom - height + 2 * head
    hip_y = y_bottom - int(height * 0.45)
    cx = x + height // 6
    cv2.circle(image, (cx, y_bottom - height + head), head, (140, 170, 210), cv2.FILLED)
    cv2.rectangle(image, (cx - height // 9, neck_y), (cx + height // 9, hip_y), colour, cv2.FILLED)
    swing = int(np.sin(phase) * height * 0.12)
    thickness = max(2, height // 14)
    cv2.line(image, (cx - 2, hip_y), (cx - swing, y_bottom), (50, 40, 40), thickness)
    cv2.line(image, (cx + 2, hip_y), (cx + swing, y_bottom), (50, 40, 40), thickness)
    cv2.line(
        image,
        (cx - height // 9, neck_y + 3),
        (cx - height // 6 + swing // 2, hip_y),
        colour,
        thickness,
    )
    cv2.line(
        image,
        (cx + height // 9, neck_y + 3),
        (cx + height // 6 - swing // 2, hip_y),
        colour,
        thickness,
    )
    return Box("person", cx - height // 6, y_bottom - height, cx + height // 6, y_bottom)


def random_scene(width: int, height: int, rng: np.random.Generator) -> tuple[np.ndarray, list[Box]]:
    """One training image: a street with 0-3 cars and 0-3 people, and their boxes."""
    image = background(width, height, rng)
    boxes: list[Box] = []
    for _ in range(int(rng.integers(0, 4))):
        length = int(rng.integers(width // 5, width // 2))
        x = int(rng.integers(-length // 4, width - length * 3 // 4))
        y = int(rng.integers(int(height * 0.65), height - 2))
        colour = tuple(int(c) for c in rng.integers(20, 230, 3))
        boxes += draw_car(image, x, y, length, colour, random_plate(rng))
    for _ in range(int(rng.integers(0, 4))):
        tall = int(rng.integers(height // 6, height // 2))
        x = int(rng.integers(0, width - tall // 3))
        y = int(rng.integers(int(height * 0.5), height - 2))
        colour = tuple(int(c) for c in rng.integers(20, 230, 3))
        boxes.append(draw_person(image, x, y, tall, colour, float(rng.uniform(0, 6.3))))
    clipped = []
    for b in boxes:
        x1, y1 = max(0, b.x1), max(0, b.y1)
        x2, y2 = min(width - 1, b.x2), min(height - 1, b.y2)
        if x2 - x1 > 4 and y2 - y1 > 4:
            clipped.append(Box(b.class_name, x1, y1, x2, y2))
    return image, clipped


@dataclass(frozen=True)
class Actor:
    """Something that crosses the scene: a car with a plate, or a person."""

    kind: str  # "car" or "person"
    first_frame: int
    last_frame: int
    y_bottom: int
    size: int
    colour: tuple[int, int, int]
    plate: str = ""
    left_to_right: bool = True
    plate_style: PlateStyle | None = None  # None: the original yellow plate

    def x_at(self, frame: int, width: int) -> int | None:
        """Left edge at ``frame``, or None outside its frames."""
        if not self.first_frame <= frame <= self.last_frame:
            return None
        progress = (frame - self.first_frame) / max(1, self.last_frame - self.first_frame)
        extent = self.size if self.kind == "car" else self.size // 3
        start, end = -extent + 2, width - 2
        if not self.left_to_right:
            start, end = end, start
        return round(start + (end - start) * progress)


@dataclass
class StreetVideo:
    """A scripted street video: which actor is where in every frame."""

    width: int = 640
    height: int = 360
    fps: int = 10
    frames: int = 300
    seed: int = 7
    actors: list[Actor] = field(default_factory=list)
    brightness: float = 1.0  # below 1: a darker scene (dusk, an overcast day)

    def render(self, frame: int, backdrop: np.ndarray) -> tuple[np.ndarray, list[Box]]:
        image = backdrop.copy()
        boxes: list[Box] = []
        for actor in self.actors:
            x = actor.x_at(frame, self.width)
            if x is None:
                continue
            if actor.kind == "car":
                boxes += draw_car(
                    image,
                    x,
                    actor.y_bottom,
                    actor.size,
                    actor.colour,
                    actor.plate,
                    actor.plate_style,
                )
            else:
                boxes.append(
                    draw_person(
                        image, x, actor.y_bottom, actor.size, actor.colour, phase=frame * 0.6
                    )
                )
        if self.brightness != 1.0:
            image = cv2.convertScaleAbs(image, alpha=self.brightness)
        return image, boxes

    def write(self, path: Path) -> Path:
        """Write the video (MJPG in AVI, readable by every OpenCV build)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(
            str(path), cv2.VideoWriter_fourcc(*"MJPG"), self.fps, (self.width, self.height)
        )
        if not writer.isOpened():
            raise RuntimeError(f"cannot write video {path}")
        backdrop = background(self.width, self.height, np.random.default_rng(self.seed))
        try:
            for frame in range(self.frames):
                writer.write(self.render(frame, backdrop)[0])
        finally:
            writer.release()
        return path


def demo_street(seed: int = 7) -> StreetVideo:
    """30 s at 10 fps: two cars with plates drive through, one after the other, and a
    person walks across; the street is empty at the start, between and at the end."""
    return StreetVideo(
        frames=300,
        seed=seed,
        actors=[
            Actor("car", 20, 110, 340, 260, (40, 40, 200), plate="AB12CDE"),
            Actor("person", 60, 200, 188, 110, (160, 60, 60), left_to_right=False),
            Actor("car", 170, 260, 350, 280, (200, 120, 30), plate="KX65TRM"),
        ],
    )


def plate_clips() -> dict[str, StreetVideo]:
    """Short clips (7 s at 10 fps) of two cars each, both in view at once, with plates of
    several styles: white and yellow, Hershey and TrueType fonts, a smaller plate, a skewed
    plate, a darker scene. The street is empty for the first 1.5 s (the motion detector's
    warm-up) and at the end."""

    def pair(first: tuple[str, str], second: tuple[str, str], **video: float) -> StreetVideo:
        return StreetVideo(
            frames=70,
            seed=11,
            actors=[
                Actor("car", 16, 52, 262, 190, (60, 150, 60), first[0], True, STYLES[first[1]]),
                Actor("car", 22, 62, 352, 250, (40, 40, 200), second[0], False, STYLES[second[1]]),
            ],
            **video,  # type: ignore[arg-type]
        )

    return {
        "white_and_yellow": pair(("GH21JKL", "white"), ("KX65TRM", "yellow_ttf")),
        "small_skewed_dark": pair(("LD55FVG", "small"), ("MN07PQR", "skewed"), brightness=0.55),
    }
