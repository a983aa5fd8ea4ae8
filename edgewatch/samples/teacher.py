"""The teacher: a real SSD-MobileNet-v2 COCO detector (OpenCV DNN) labelling frames of the real clips.

No labelled video can be had here, so the sample YOLO is distilled: the SSD's confident boxes on
sampled frames become a YOLO-format dataset. Each clip is split in *time* into a train part and a
later held-out part (with a gap between them, so near-identical neighbouring frames cannot leak);
the held-out part is only ever used to measure the student.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from edgewatch.paths import cache_dir
from edgewatch.samples.fetch import sample_clip, teacher_files
from edgewatch.types import Detections

CLASS_NAMES: tuple[str, ...] = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
# TensorFlow Object Detection API COCO ids (1-based, with gaps), as the SSD graph emits them.
COCO_TO_SAMPLE: dict[int, int] = {1: 0, 2: 1, 3: 2, 4: 3, 6: 4, 8: 5}

SSD_INPUT = (300, 300)
SPLITS = ("train", "val")


@dataclass(frozen=True)
class ClipPlan:
    """Which frames of a clip the teacher labels: every ``step``-th, the last ``holdout`` fraction held out."""

    clip: str
    step: int
    holdout: float = 0.2
    gap_frames: int = 10


@dataclass(frozen=True)
class TeacherSettings:
    """Everything that changes the labels; a different setting labels into a different cache folder."""

    plans: tuple[ClipPlan, ...] = (ClipPlan("vtest", step=2, gap_frames=10), ClipPlan("street", step=6, gap_frames=30))
    score_threshold: float = 0.5
    nms_iou: float = 0.7

    def key(self) -> str:
        """Short stable hash naming the dataset folder, so re-runs with the same settings reuse labels."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]


def split_frames(n_frames: int, plan: ClipPlan) -> dict[str, list[int]]:
    """Frame indices per split: train strictly before ``boundary - gap``, val from ``boundary`` on.

    The split is by time, not at random: neighbouring frames are near-duplicates, so a random split
    would measure memorisation instead of generalisation to later moments of the clip.
    """
    boundary = round(n_frames * (1.0 - plan.holdout))
    sampled = range(0, n_frames, plan.step)
    return {
        "train": [i for i in sampled if i < boundary - plan.gap_frames],
        "val": [i for i in sampled if i >= boundary],
    }


def ssd_detections(output: np.ndarray, width: int, height: int, score_threshold: float, nms_iou: float) -> Detections:
    """Turn OpenCV's SSD output ``[1,1,K,7]`` (image, class, score, x1,y1,x2,y2 normalised) into our classes.

    Only the six sample classes are kept (COCO ids mapped to 0..5). The SSD sometimes reports one
    vehicle as both car and truck: class-agnostic NMS keeps the more confident one.
    """
    rows = output.reshape(-1, 7)
    coco = rows[:, 1].astype(np.int64)
    keep = (rows[:, 2] >= score_threshold) & np.isin(coco, list(COCO_TO_SAMPLE))
    rows, coco = rows[keep], coco[keep]
    boxes = np.clip(rows[:, 3:7], 0.0, 1.0) * np.array([width, height, width, height], np.float32)
    sizes = boxes[:, 2:] - boxes[:, :2]
    real = (sizes > 1.0).all(axis=1)
    boxes, rows, coco = boxes[real], rows[real], coco[real]
    dets = Detections(
        boxes.astype(np.float32),
        rows[:, 2].astype(np.float32),
        np.array([COCO_TO_SAMPLE[c] for c in coco], np.int64),
    )
    if len(dets) == 0:
        return Detections.empty()
    xywh = np.concatenate([dets.boxes[:, :2], dets.boxes[:, 2:] - dets.boxes[:, :2]], axis=1)
    kept = cv2.dnn.NMSBoxes(xywh.tolist(), dets.scores.tolist(), score_threshold, nms_iou)
    return dets.select(np.sort(np.asarray(kept, np.int64).reshape(-1)))


def yolo_label_lines(dets: Detections, width: int, height: int) -> list[str]:
    """YOLO txt rows ``class cx cy w h`` normalised to the image, one per detection."""
    lines = []
    for (x1, y1, x2, y2), cls in zip(dets.boxes, dets.class_ids):
        cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
        lines.append(f"{int(cls)} {cx:.6f} {cy:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}")
    return lines


class SsdTeacher:
    """The SSD-MobileNet-v2 COCO graph run by OpenCV DNN (no torch, no model hub)."""

    def __init__(self, settings: TeacherSettings) -> None:
        graph, config = teacher_files()
        self.net = cv2.dnn.readNetFromTensorflow(str(graph), str(config))
        self.settings = settings

    def __call__(self, bgr: np.ndarray) -> Detections:
        """Detections of one BGR frame in frame pixels."""
        height, width = bgr.shape[:2]
        self.net.setInput(cv2.dnn.blobFromImage(bgr, size=SSD_INPUT, swapRB=True))
        return ssd_detections(
            self.net.forward(), width, height, self.settings.score_threshold, self.settings.nms_iou
        )


def dataset_dir(settings: TeacherSettings) -> Path:
    """The YOLO dataset folder for these settings (``images/{train,val}``, ``labels/{train,val}``)."""
    return cache_dir("samples", "dataset", settings.key())


def _label_clip(teacher: SsdTeacher, plan: ClipPlan, root: Path) -> None:
    """Label one clip's planned frames, skipping frames whose image and label are already cached."""
    capture = cv2.VideoCapture(str(sample_clip(plan.clip)))
    n_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    wanted = {i: split for split, frames in split_frames(n_frames, plan).items() for i in frames}
    todo = {
        i: s for i, s in wanted.items()
        if not (root / "labels" / s / f"{plan.clip}_{i:05d}.txt").is_file()
    }
    bar = tqdm(total=len(todo), desc=f"teacher {plan.clip}", unit="frame", disable=not todo)
    index = 0
    while todo and index <= max(todo):
        ok, frame = capture.read()
        if not ok:
            break
        if index in todo:
            stem = f"{plan.clip}_{index:05d}"
            split = todo[index]
            cv2.imwrite(str(root / "images" / split / f"{stem}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
            lines = yolo_label_lines(teacher(frame), frame.shape[1], frame.shape[0])
            # Written last: a label file marks the frame done, so an interrupted run resumes cleanly.
            (root / "labels" / split / f"{stem}.txt").write_text("".join(f"{ln}\n" for ln in lines))
            bar.update()
        index += 1
    bar.close()
    capture.release()


def build_dataset(settings: TeacherSettings = TeacherSettings()) -> Path:
    """Label every planned frame (cached) and write ``data.yaml``; returns the yaml's path."""
    root = dataset_dir(settings)
    for kind in ("images", "labels"):
        for split in SPLITS:
            (root / kind / split).mkdir(parents=True, exist_ok=True)
    teacher = SsdTeacher(settings)
    for plan in settings.plans:
        _label_clip(teacher, plan, root)
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASS_NAMES))
    data = root / "data.yaml"
    data.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    (root / "settings.json").write_text(json.dumps(asdict(settings), indent=1))
    return data
