"""Turn a YOLO detector's raw output into per-image :class:`~edgewatch.types.Detections`.

Public API: ``decode(output, layout, conf_threshold, iou_threshold, max_det=300) -> list[Detections]``
with boxes in *network-input* pixels (map them to the frame with ``letterbox.unletterbox_boxes``).

Two layouts, both without NMS inside the graph:

- ``"xyxy_score_class"``: ``[B, N, 6]`` rows ``x1, y1, x2, y2, score, class`` (edgewatch / DeepStream-Yolo export);
- ``"yolo_raw"``: ``[B, 4 + C, N]`` columns ``cx, cy, w, h, score_0..score_C-1`` (plain ultralytics export).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from edgewatch.detect.nms import batched_nms
from edgewatch.errors import EdgewatchError
from edgewatch.types import Detections

Layout = Literal["xyxy_score_class", "yolo_raw"]
LAYOUTS: tuple[Layout, ...] = ("xyxy_score_class", "yolo_raw")
MAX_NMS = 30000  # candidates entering NMS per image, highest scores first (ultralytics' cap)


def decode(
    output: np.ndarray, layout: str, conf_threshold: float, iou_threshold: float, max_det: int = 300
) -> list[Detections]:
    """Threshold, class-aware NMS and cap at ``max_det``, image by image of the batch."""
    if layout not in LAYOUTS:
        raise EdgewatchError(f"unknown detector output layout '{layout}' (expected one of {', '.join(LAYOUTS)})")
    expected_ok = output.ndim == 3 and (output.shape[2] == 6 if layout == "xyxy_score_class" else output.shape[1] > 4)
    if not expected_ok:
        raise EdgewatchError(f"detector output shape {list(output.shape)} does not fit layout '{layout}'")
    split = _split_xyxy_score_class if layout == "xyxy_score_class" else _split_yolo_raw
    return [
        _select(*split(image.astype(np.float32, copy=False)), conf_threshold, iou_threshold, max_det)
        for image in output
    ]


def _split_xyxy_score_class(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rows[:, :4], rows[:, 4], rows[:, 5].astype(np.int64)


def _split_yolo_raw(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cx, cy, w, h = columns[:4]
    class_scores = columns[4:]
    class_ids = class_scores.argmax(axis=0)
    scores = np.take_along_axis(class_scores, class_ids[None], axis=0)[0]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, scores, class_ids.astype(np.int64)


def _select(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, conf: float, iou: float, max_det: int
) -> Detections:
    candidates = np.flatnonzero(scores > conf)
    candidates = candidates[np.argsort(-scores[candidates], kind="stable")[:MAX_NMS]]
    keep = candidates[batched_nms(boxes[candidates], scores[candidates], class_ids[candidates], iou)[:max_det]]
    return Detections(boxes[keep].astype(np.float32), scores[keep].astype(np.float32), class_ids[keep])
