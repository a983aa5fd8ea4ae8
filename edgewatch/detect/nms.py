"""Greedy non-maximum suppression in numpy (what nvinfer's ``cluster-mode=2`` and ultralytics do).

Public API: ``box_iou(a, b) -> [N, M]``, ``nms(boxes, scores, iou) -> keep``,
``batched_nms(boxes, scores, class_ids, iou) -> keep``. Boxes are ``[N, 4]`` xyxy; ``keep`` holds
indices into the inputs, highest score first. Each greedy step suppresses with one vectorised IoU
against all remaining boxes, so the Python loop runs once per *kept* box, not per pair.
"""

from __future__ import annotations

import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``[N, 4]`` and ``[M, 4]`` xyxy boxes as ``[N, M]`` (0 where a box has no area)."""
    a = a.astype(np.float32, copy=False)[:, None, :]
    b = b.astype(np.float32, copy=False)[None, :, :]
    iw = (np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])).clip(0)
    ih = (np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])).clip(0)
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy NMS: a box survives unless a higher-scored kept box overlaps it by > ``iou``."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        order = rest[box_iou(boxes[best : best + 1], boxes[rest])[0] <= iou]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou: float) -> np.ndarray:
    """Class-aware NMS: boxes of different classes never suppress each other.

    Shifts each class's boxes by ``class_id * (coordinate span + 1)`` so classes cannot overlap, then
    runs one plain NMS (the torchvision/ultralytics trick): one pass instead of one per class.
    """
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    offset = class_ids.astype(np.float32)[:, None] * (float(boxes.max() - boxes.min()) + 1.0)
    return nms(boxes.astype(np.float32) + offset, scores, iou)
