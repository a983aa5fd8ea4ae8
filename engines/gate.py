"""The parity gate: an engine must agree with ONNX Runtime on real inputs before it is kept.

Public API: :data:`TOLERANCES`, :func:`compare_detections`, :func:`compare_probabilities`,
:func:`failures`, :func:`detector_frames`, :func:`track_windows_for`, :func:`run_gate`.

Both sides run the same ONNX (the engine's source file; ONNX Runtime on the CPU) on the same real
inputs: frames of the two sample clips through the detector's own letterbox and decode (the boxes
users see, at the deployment threshold), and windows of real pedestrian tracks (TUD-Campus and
TUD-Stadtmitte ground truth) through the behaviour model (the probabilities and verdicts users see). The figures compare
what users see, not raw tensors: matched boxes' IoU and score, boxes found by one side only, the
largest behaviour-probability change and how often the verdict (argmax) agrees. An engine beyond its
precision's tolerances is refused (deleted, with the figures in the report).

Tolerances per precision (the engine's own kernels and FP16 rounding, or TensorRT's int8 kernels on
the same Q/DQ scales, against ONNX Runtime):

| precision | boxes matched (each side) | mean IoU | max score diff | max prob. diff | verdicts agree |
|---|---|---|---|---|---|
| fp32 | >= 0.99 | >= 0.99 | <= 0.02 | <= 0.01 | >= 0.99 |
| fp16 | >= 0.97 | >= 0.97 | <= 0.05 | <= 0.05 | >= 0.98 |
| int8 | >= 0.90 | >= 0.90 | <= 0.15 | <= 0.15 | >= 0.95 |
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from edgewatch.errors import EdgewatchError
from edgewatch.runtime.session import ModelSession
from edgewatch.types import Detections

MATCH_IOU = 0.5  # a box pair closer than this is one box (the usual detection-match threshold)
GATE_CONF = 0.25  # boxes compared at the usual deployment threshold
TOLERANCES: dict[str, dict[str, float]] = {
    "fp32": {
        "matched": 0.99,
        "mean_iou": 0.99,
        "max_score_diff": 0.02,
        "max_prob_diff": 0.01,
        "argmax_agreement": 0.99,
    },
    "fp16": {
        "matched": 0.97,
        "mean_iou": 0.97,
        "max_score_diff": 0.05,
        "max_prob_diff": 0.05,
        "argmax_agreement": 0.98,
    },
    "int8": {
        "matched": 0.90,
        "mean_iou": 0.90,
        "max_score_diff": 0.15,
        "max_prob_diff": 0.15,
        "argmax_agreement": 0.95,
    },
}
_AT_LEAST = ("matched", "mean_iou", "argmax_agreement")  # the others are "at most"


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of xyxy boxes ``a [N, 4]`` and ``b [M, 4]``."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def compare_detections(reference: Sequence[Detections], candidate: Sequence[Detections]) -> dict[str, float]:
    """Per-frame one-to-one matching (same class, IoU >= 0.5, Hungarian on IoU) of two detectors' boxes.

    ``matched``: matched boxes over the larger of the two sides' box counts (a box only one side has
    counts against it, whichever side); ``mean_iou`` and ``max_score_diff`` over matched pairs.
    """
    ious, score_diffs, n_ref, n_cand = [], [], 0, 0
    for ref, cand in zip(reference, candidate, strict=True):
        n_ref, n_cand = n_ref + len(ref), n_cand + len(cand)
        if not len(ref) or not len(cand):
            continue
        iou = _iou(ref.boxes, cand.boxes) * (ref.class_ids[:, None] == cand.class_ids[None, :])
        rows, cols = linear_sum_assignment(-iou)
        keep = iou[rows, cols] >= MATCH_IOU
        ious += iou[rows, cols][keep].tolist()
        score_diffs += np.abs(ref.scores[rows] - cand.scores[cols])[keep].tolist()
    boxes = max(n_ref, n_cand)
    return {
        "reference_boxes": float(n_ref),
        "candidate_boxes": float(n_cand),
        "matched": len(ious) / boxes if boxes else 1.0,
        "mean_iou": float(np.mean(ious)) if ious else (1.0 if not boxes else 0.0),
        "max_score_diff": float(np.max(score_diffs)) if score_diffs else 0.0,
    }


def compare_probabilities(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    """Behaviour probabilities ``[N, K]`` of two models: largest change and verdict (argmax) agreement."""
    return {
        "windows": float(len(reference)),
        "max_prob_diff": float(np.abs(reference - candidate).max()) if len(reference) else 0.0,
        "argmax_agreement": float(np.mean(reference.argmax(1) == candidate.argmax(1))) if len(reference) else 1.0,
    }


def failures(figures: dict[str, float], precision: str) -> list[str]:
    """The tolerances of ``precision`` that ``figures`` break, one readable item each."""
    out = []
    for key, limit in TOLERANCES[precision].items():
        if key not in figures:
            continue
        value = figures[key]
        bad = value < limit if key in _AT_LEAST else value > limit
        if bad:
            out.append(f"{key} {value:.4f} {'<' if key in _AT_LEAST else '>'} {limit}")
    return out


def detector_frames(count: int = 24) -> list[np.ndarray]:
    """RGB frames spread over both real sample clips (fetched into the cache on first use)."""
    import cv2

    from edgewatch.samples.fetch import sample_clip

    frames = []
    for clip in ("vtest", "street"):
        capture = cv2.VideoCapture(str(sample_clip(clip)))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        for index in np.linspace(0, total - 1, count // 2).astype(int):
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, bgr = capture.read()
            if ok:
                frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        capture.release()
    return frames


def track_windows_for(session: ModelSession, limit: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Windows of real pedestrian tracks (TUD-Campus and TUD-Stadtmitte ground truth), every 0.2 s of each
    track (the pipeline's default stride at 25 fps), in the model's own feature spec, at most ``limit``."""
    from edgewatch.behaviour.features import track_windows
    from edgewatch.samples.fetch import MOT_FRAME_RATE, MOT_TRACKS, ensure_assets
    from edgewatch.track.mot import read_mot

    spec = session.metadata.feature_spec
    if spec is None:
        raise EdgewatchError(f"{session.path}: no feature spec in its metadata; the gate needs one")
    xs, masks = [], []
    for files in MOT_TRACKS.values():
        gt_path, _ = ensure_assets(files)
        sequence = read_mot(gt_path, MOT_FRAME_RATE)
        for times, boxes in ((sequence.times(i), sequence.boxes(i)) for i in sequence.tracks):
            if len(times) >= 2:
                x, mask, _ = track_windows(times, boxes, spec.class_index("person"), spec, stride=0.2, min_history=1.0)
                xs.append(x)
                masks.append(mask)
    x, mask = np.concatenate(xs)[:limit], np.concatenate(masks)[:limit]
    return x, mask


def run_gate(kind: str, precision: str, reference: ModelSession, candidate: ModelSession) -> dict[str, Any]:
    """Run both sessions on the gate's real inputs; the figures plus ``failures`` (empty: the engine passes)."""
    if kind == "detector":
        from edgewatch.detect.detector import YoloDetector

        frames = detector_frames()
        ref, cand = (YoloDetector(s, conf_threshold=GATE_CONF)(frames) for s in (reference, candidate))
        figures = compare_detections(ref, cand)
    else:
        from edgewatch.behaviour.predictor import BehaviourModel

        ref_model, cand_model = BehaviourModel(reference), BehaviourModel(candidate)
        x, mask = track_windows_for(reference)
        figures = compare_probabilities(ref_model.predict(x, mask), cand_model.predict(x, mask))
    return {**figures, "failures": failures(figures, precision)}
