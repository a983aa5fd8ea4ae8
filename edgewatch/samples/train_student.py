"""Train the student YOLO on the teacher's dataset. Runs as a script inside ``.venv-train``.

ultralytics training imports torchvision, which only works with the CUDA builds of torch; those
live in their own venv, so this file imports nothing from edgewatch (which that venv lacks) and is
started by :func:`edgewatch.samples.student.train_student` as a subprocess.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="YOLO data.yaml written by the teacher")
    parser.add_argument("--out", type=Path, required=True, help="run folder; best weights copied to OUT/student.pt")
    parser.add_argument("--settings", required=True, help="JSON of edgewatch.samples.student.TrainSettings")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    settings = json.loads(args.settings)
    import torch
    from ultralytics import YOLO

    device = settings["device"]
    if device == "auto":
        device = "0" if torch.cuda.is_available() else "cpu"
    model = YOLO(settings["model"])
    model.train(
        data=str(args.data),
        project=str(args.out.parent),
        name=args.out.name,
        exist_ok=True,
        imgsz=settings["imgsz"],
        epochs=settings["epochs"],
        batch=settings["batch"],
        workers=settings["workers"],
        seed=settings["seed"],
        deterministic=True,
        device=device,
        cache="ram",
        pretrained=False,
        amp=device != "cpu",
        optimizer=settings["optimizer"],
        lr0=settings["lr0"],
        warmup_epochs=settings["warmup_epochs"],
        close_mosaic=settings["close_mosaic"],
        patience=0,
        plots=False,
        val=False,  # the student is measured once, at the end, on the held-out frames
        verbose=True,
    )
    best = args.out / "weights" / "best.pt"
    shutil.copyfile(best if best.is_file() else args.out / "weights" / "last.pt", args.out / "student.pt")


if __name__ == "__main__":
    main()
