"""Detector accuracy: COCO mAP50-95 / mAP50 of an ONNX detector, against labels or against a reference model.

What an FP16 or INT8 export costs is only honest when it is measured the standard way, so scoring is
pycocotools' ``COCOeval`` (the reference implementation of the COCO metric), fed by the very runtime
the pipeline uses (:class:`~edgewatch.detect.detector.YoloDetector`: letterbox, ONNX Runtime, decode +
NMS) at ultralytics' validation settings (confidence 0.001, NMS IoU 0.7, 300 detections).

Ground truth is a YOLO txt dataset (``data.yaml``, or a folder with ``images/`` and ``labels/``) or a
COCO json. With no labels, ``reference`` scores a model against another model's detections (the FP32
export's, at a deployment threshold): the fidelity of a lower precision to FP32 on real frames.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from tqdm import tqdm

from edgewatch.errors import EdgewatchError
from edgewatch.types import Detections

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VAL_CONF, VAL_IOU, VAL_MAX_DET = 0.001, 0.7, 300  # ultralytics' validation settings
REFERENCE_CONF = 0.25  # a reference model's detections count as truth above the usual deployment threshold
# COCO's object sizes by box area in frame pixels (small < 32x32 <= medium < 96x96 <= large), in COCOeval's order
SIZES = {"small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e10)}


@dataclass(frozen=True)
class EvalSet:
    """Images to score and, when labelled, their ground truth in frame pixels (class ids of ``names``)."""

    images: list[Path]
    truth: list[Detections] | None
    names: list[str] | None


# ---------------------------------------------------------------- datasets


def list_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively), sorted so runs are reproducible."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def read_yolo_labels(label_file: Path, image_shape: tuple[int, int]) -> Detections:
    """One YOLO txt label file (``class cx cy w h``, normalised) as frame-pixel xyxy boxes; missing: no objects."""
    if not label_file.is_file():
        return Detections.empty()
    lines = [line.split() for line in label_file.read_text().splitlines() if line.strip()]
    if not lines:
        return Detections.empty()
    if any(len(line) != 5 for line in lines):
        raise EdgewatchError(f"{label_file}: expected 'class cx cy w h' rows (detection labels)")
    rows = np.array(lines, dtype=np.float64)
    h, w = image_shape
    cx, cy, bw, bh = rows[:, 1] * w, rows[:, 2] * h, rows[:, 3] * w, rows[:, 4] * h
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1).astype(np.float32)
    return Detections(boxes, np.ones(len(rows), np.float32), rows[:, 0].astype(np.int64))


def _label_path(image: Path) -> Path:
    """ultralytics' convention: the last ``images`` folder of the path becomes ``labels``, suffix ``.txt``."""
    parts = list(image.parts)
    i = len(parts) - 1 - parts[::-1].index("images")
    return Path(*parts[:i], "labels", *parts[i + 1 :]).with_suffix(".txt")


def _image_shape(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise EdgewatchError(f"{path}: cannot decode image")
    return image.shape[:2]


def load_yolo_set(images_dir: Path, names: list[str] | None) -> EvalSet:
    """A YOLO txt dataset split: ``.../images/...`` with labels in the matching ``.../labels/...``."""
    images = list_images(images_dir)
    if not images:
        raise EdgewatchError(f"{images_dir}: no images to evaluate on")
    labelled = "images" in images_dir.parts and _label_path(images[0]).parent.is_dir()
    truth = [read_yolo_labels(_label_path(p), _image_shape(p)) for p in images] if labelled else None
    return EvalSet(images, truth, names)


def load_coco_set(annotations: Path, images_root: Path | None) -> EvalSet:
    """A COCO json: ``file_name`` relative to ``images_root`` (default: the json's folder)."""
    coco = json.loads(annotations.read_text())
    root = images_root or annotations.parent
    categories = sorted(coco.get("categories", []), key=lambda c: c["id"])
    names = [c["name"] for c in categories]
    class_of = {c["id"]: i for i, c in enumerate(categories)}
    by_image: dict[int, list[dict[str, Any]]] = {}
    for ann in coco.get("annotations", []):
        if not ann.get("iscrowd", 0):
            by_image.setdefault(ann["image_id"], []).append(ann)
    images, truth = [], []
    for entry in sorted(coco["images"], key=lambda e: e["id"]):
        anns = by_image.get(entry["id"], [])
        xywh = np.array([a["bbox"] for a in anns], np.float32).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        images.append(root / entry["file_name"])
        truth.append(Detections(boxes, np.ones(len(anns), np.float32), np.array([class_of[a["category_id"]] for a in anns], np.int64)))
    return EvalSet(images, truth, names)


def load_eval_set(data: Path, split: str = "val", images_root: Path | None = None) -> EvalSet:
    """Resolve ``--data``: a ``data.yaml``, a COCO ``.json``, a dataset folder or a plain image folder."""
    data = Path(data)
    if data.suffix == ".json" and data.is_file():
        return load_coco_set(data, images_root)
    if data.suffix in {".yaml", ".yml"} and data.is_file():
        spec = yaml.safe_load(data.read_text())
        root = Path(spec.get("path") or data.parent)
        root = root if root.is_absolute() else data.parent / root
        if split not in spec:
            raise EdgewatchError(f"{data}: no '{split}' split")
        names = spec.get("names")
        names = [names[i] for i in sorted(names)] if isinstance(names, dict) else names
        return load_yolo_set(root / spec[split], names)
    if not data.is_dir():
        raise EdgewatchError(f"{data}: no such dataset (data.yaml, COCO .json or image folder)")
    if (data / "data.yaml").is_file():
        return load_eval_set(data / "data.yaml", split, images_root)
    images_dir = data / "images" / split if (data / "images" / split).is_dir() else data / "images"
    return load_yolo_set(images_dir if images_dir.is_dir() else data, None)


# ---------------------------------------------------------------- scoring


def _coco_ground_truth(truth: Sequence[Detections], shapes: Sequence[tuple[int, int]], n_classes: int) -> dict:
    images = [{"id": i, "height": h, "width": w} for i, (h, w) in enumerate(shapes)]
    annotations = []
    for image_id, dets in enumerate(truth):
        for box, cls in zip(dets.boxes, dets.class_ids, strict=True):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": int(cls) + 1,
                "bbox": [float(box[0]), float(box[1]), w, h], "area": w * h, "iscrowd": 0,
            })
    return {"images": images, "annotations": annotations, "categories": [{"id": k + 1} for k in range(n_classes)]}


def _coco_results(predictions: Sequence[Detections]) -> list[dict[str, Any]]:
    return [
        {"image_id": image_id, "category_id": int(cls) + 1, "score": float(score),
         "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]}
        for image_id, dets in enumerate(predictions)
        for b, score, cls in zip(dets.boxes, dets.scores, dets.class_ids, strict=True)
    ]


def coco_map(
    truth: Sequence[Detections], predictions: Sequence[Detections], shapes: Sequence[tuple[int, int]], names: Sequence[str]
) -> dict[str, Any]:
    """COCO box mAP50-95 and mAP50, overall, per class and per object size (:data:`SIZES`), plus each
    class's PR curve at IoU 0.5.

    A class (or size) without ground truth has no AP (``None``) and does not count in the mean, as in COCO.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = COCO()
    gt.dataset = _coco_ground_truth(truth, shapes, len(names))
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress and its summary table
        gt.createIndex()
        results = _coco_results(predictions)
        if not results:
            return _no_detections(truth, names)
        evaluator = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluator.params.maxDets = [1, 10, VAL_MAX_DET]  # the headline figures use the last cap
        evaluator.evaluate()
        evaluator.accumulate()
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # [IoU thresholds, recall points, classes], all areas, max dets
    per_class = {}
    for k, name in enumerate(names):
        p = precision[:, :, k]
        valid = p > -1
        per_class[name] = {
            "AP50_95": float(p[valid].mean()) if valid.any() else None,
            "AP50": float(p[0][valid[0]].mean()) if valid[0].any() else None,
            "instances": int(sum(int((t.class_ids == k).sum()) for t in truth)),
            "pr_curve_iou50": p[0].clip(0).tolist() if valid[0].any() else None,
        }
    # COCOeval.summarize() hard-codes 100 detections for its first figure; these are its means at our cap
    valid = precision > -1
    overall = {"mAP50_95": float(precision[valid].mean()), "mAP50": float(precision[0][valid[0]].mean())}
    return {**overall, "per_class": per_class, "by_size": _by_size(evaluator.eval["precision"], truth)}


def _by_size(precision: np.ndarray | None, truth: Sequence[Detections]) -> dict[str, dict[str, Any]]:
    """mAP50-95 / mAP50 over the objects of each COCO size (COCOeval's area ranges 1..3) with their counts;
    ``precision`` None (nothing detected) scores 0 wherever there is ground truth."""
    boxes = np.concatenate([t.boxes for t in truth]) if truth else np.zeros((0, 4), np.float32)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    out = {}
    for a, (name, (low, high)) in enumerate(SIZES.items(), start=1):
        n = int(((areas >= low) & (areas < high)).sum())
        if precision is None:
            out[name] = {"mAP50_95": 0.0 if n else None, "mAP50": 0.0 if n else None, "instances": n}
            continue
        p = precision[:, :, :, a, -1]
        valid = p > -1
        out[name] = {
            "mAP50_95": float(p[valid].mean()) if valid.any() else None,
            "mAP50": float(p[0][valid[0]].mean()) if valid[0].any() else None,
            "instances": n,
        }
    return out


def _no_detections(truth: Sequence[Detections], names: Sequence[str]) -> dict[str, Any]:
    """A model that finds nothing scores 0 on every class that has ground truth."""
    counts = {name: int(sum(int((t.class_ids == k).sum()) for t in truth)) for k, name in enumerate(names)}
    per_class = {
        name: {"AP50_95": 0.0 if n else None, "AP50": 0.0 if n else None, "instances": n, "pr_curve_iou50": None}
        for name, n in counts.items()
    }
    return {"mAP50_95": 0.0, "mAP50": 0.0, "per_class": per_class, "by_size": _by_size(None, truth)}


# ---------------------------------------------------------------- the command's work


def detect_all(detector: Any, images: Sequence[Path], desc: str) -> tuple[list[Detections], list[tuple[int, int]]]:
    """Run ``detector`` (RGB frames -> frame-pixel Detections) over image files, with their shapes."""
    detections, shapes = [], []
    for path in tqdm(images, desc=desc, unit="img", leave=False):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise EdgewatchError(f"{path}: cannot decode image")
        detections.append(detector([cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)])[0])
        shapes.append(bgr.shape[:2])
    return detections, shapes


def run_model(model: Path, images: Sequence[Path], conf: float = VAL_CONF) -> tuple[Any, list[Detections], list[tuple[int, int]]]:
    """``model``'s detector at validation settings (or ``conf``), its detections on ``images`` and their
    shapes: the expensive half of an evaluation, kept apart so one pass can be scored several ways."""
    from edgewatch.detect.detector import YoloDetector

    detector = YoloDetector.from_file(model, conf_threshold=conf, iou_threshold=VAL_IOU, max_det=VAL_MAX_DET)
    detections, shapes = detect_all(detector, images, model.name)
    return detector, detections, shapes


def evaluate(
    model: Path,
    data: Path,
    reference: Path | None = None,
    split: str = "val",
    images_root: Path | None = None,
    reference_conf: float = REFERENCE_CONF,
) -> dict[str, Any]:
    """Score ``model`` on ``data``: against its labels, or against ``reference``'s detections when given."""
    dataset = load_eval_set(data, split, images_root)
    if dataset.truth is None and reference is None:
        raise EdgewatchError(f"{data}: no labels found; pass --reference FP32.onnx to score fidelity to a reference model")
    detector, predictions, shapes = run_model(model, dataset.images)
    names = detector.names
    if reference is None and dataset.names is not None and list(dataset.names) != list(names):
        raise EdgewatchError(f"{model}: classes {names} differ from the dataset's {list(dataset.names)}")
    if reference is not None:
        _, truth, _ = run_model(reference, dataset.images, reference_conf)
    else:
        truth = dataset.truth
    if not any(len(t) for t in truth):
        raise EdgewatchError(f"{data}: no ground-truth objects to score against (mAP is undefined)")
    scores = coco_map(truth, predictions, shapes, names)
    return {
        "model": str(model),
        "precision": detector.session.metadata.precision,
        "data": str(data),
        "truth": f"reference {reference} (conf >= {reference_conf})" if reference is not None else "labels",
        "images": len(dataset.images),
        "instances": int(sum(len(t) for t in truth)),
        "conf_threshold": VAL_CONF,
        "iou_threshold": VAL_IOU,
        **scores,
    }


def plot_metrics(metrics: dict[str, Any], out: Path) -> Path:
    """Per-class AP bars and PR curves at IoU 0.5, one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = [(n, c) for n, c in metrics["per_class"].items() if c["AP50_95"] is not None]
    fig, (bars, curves) = plt.subplots(1, 2, figsize=(12, 4.5))
    x = np.arange(len(classes))
    bars.bar(x - 0.2, [c["AP50_95"] for _, c in classes], 0.4, label="AP50-95")
    bars.bar(x + 0.2, [c["AP50"] for _, c in classes], 0.4, label="AP50")
    bars.set_xticks(x, [f"{n}\n({c['instances']})" for n, c in classes])
    bars.set_ylim(0, 1)
    bars.set_title(f"mAP50-95 {metrics['mAP50_95']:.3f}  mAP50 {metrics['mAP50']:.3f}")
    bars.legend()
    recall = np.linspace(0, 1, 101)
    for name, c in classes:
        if c["pr_curve_iou50"] is not None:
            curves.plot(recall, c["pr_curve_iou50"], label=f"{name} {c['AP50']:.3f}")
    curves.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title="PR curve, IoU 0.5")
    curves.legend(fontsize=8)
    fig.suptitle(f"{Path(metrics['model']).name} vs {metrics['truth']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
