"""Make the synthetic street data set the project's detector is trained on (YOLO format).

    .venv/bin/python scripts/make_training_data.py [--out .local/dataset] [--train 240] [--val 60]

Images come from analytics_pipeline.analyzer.synthetic.random_scene (seeded): streets with
cars carrying rendered plates, and people. Classes: person, car, licence_plate.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from analytics_pipeline.analyzer.synthetic import CLASSES, random_scene


def write_split(root: Path, split: str, count: int, seed: int, size: int) -> None:
    images, labels = root / "images" / split, root / "labels" / split
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        width = int(rng.choice([size, size * 4 // 3, size * 16 // 9]))
        image, boxes = random_scene(width, size, rng)
        cv2.imwrite(str(images / f"{i:05d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        lines = [
            f"{CLASSES.index(b.class_name)} {(b.x1 + b.x2) / 2 / width:.6f} "
            f"{(b.y1 + b.y2) / 2 / size:.6f} {(b.x2 - b.x1) / width:.6f} {(b.y2 - b.y1) / size:.6f}"
            for b in boxes
        ]
        (labels / f"{i:05d}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(".local/dataset"))
    parser.add_argument("--train", type=int, default=240)
    parser.add_argument("--val", type=int, default=60)
    parser.add_argument("--size", type=int, default=360, help="image height in pixels")
    args = parser.parse_args()
    write_split(args.out, "train", args.train, seed=1, size=args.size)
    write_split(args.out, "val", args.val, seed=2, size=args.size)
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES))
    (args.out / "data.yaml").write_text(
        f"path: {args.out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n"
    )
    print(f"wrote {args.train} + {args.val} images to {args.out}")


if __name__ == "__main__":
    main()
