"""Train the project's small detector (YOLOv8 nano, from scratch) on the synthetic data set.

    .venv/bin/python scripts/make_training_data.py
    .venv/bin/python scripts/train_detector.py [--epochs 25] [--imgsz 320]

Writes models/street-nano.pt and prints mAP on the held-out synthetic images. No download:
the architecture comes from ultralytics' own yolov8n.yaml, plotting is off (it would fetch a
font). On 2 CPU cores this takes about ten minutes; it is not part of CI.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")
os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / ".local" / "ultralytics"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".local" / "dataset" / "data.yaml")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "street-nano.pt")
    args = parser.parse_args()

    import torch
    from ultralytics import YOLO

    torch.set_num_threads(os.cpu_count() or 2)
    model = YOLO("yolov8n.yaml")
    model.train(
        data=str(args.data),
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=16,
        device="cpu",
        workers=2,
        plots=False,
        amp=False,
        pretrained=False,
        project=str(ROOT / ".local" / "training"),
        name="street-nano",
        exist_ok=True,
        verbose=False,
    )
    best = Path(model.trainer.best)
    metrics = YOLO(str(best)).val(
        data=str(args.data), imgsz=args.imgsz, device="cpu", plots=False, verbose=False
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, args.out)
    print(f"saved {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    print(
        f"held-out synthetic images: mAP50 {metrics.box.map50:.3f}, mAP50-95 {metrics.box.map:.3f}"
    )
    for i, name in metrics.names.items():
        print(f"  {name:<14} mAP50 {metrics.box.ap50[i]:.3f}")


if __name__ == "__main__":
    main()
