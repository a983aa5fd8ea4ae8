"""The parity gate with ONNX Runtime on both sides: real frames and real track windows, per-precision tolerances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgewatch.engines.gate import compare_detections, compare_probabilities, failures, run_gate
from edgewatch.paths import REPO_ROOT
from edgewatch.runtime.onnx import TEMPORAL_DISABLED_OPTIMIZERS, OnnxSession
from edgewatch.types import Detections

SAMPLE, BEHAVIOUR = REPO_ROOT / "models" / "sample", REPO_ROOT / "models" / "behaviour"


def dets(boxes: list[list[float]], scores: list[float], classes: list[int]) -> Detections:
    return Detections(
        np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32), np.array(classes, np.int64)
    )


def test_matching_by_hand() -> None:
    ref = [dets([[0, 0, 10, 10], [20, 20, 30, 30]], [0.9, 0.8], [0, 1])]
    # first box shifted by 1 px (IoU 81/119), second one of another class: not a match
    cand = [dets([[1, 1, 11, 11], [20, 20, 30, 30]], [0.85, 0.8], [0, 0])]
    figures = compare_detections(ref, cand)
    assert figures["matched"] == 0.5
    assert figures["mean_iou"] == pytest.approx(81 / 119, rel=1e-6)
    assert figures["max_score_diff"] == pytest.approx(0.05, abs=1e-6)


def test_no_boxes_on_either_side_agrees() -> None:
    empty = [Detections.empty()]
    assert compare_detections(empty, empty)["matched"] == 1.0


def test_probabilities_by_hand() -> None:
    ref = np.array([[0.7, 0.3], [0.4, 0.6]])
    cand = np.array([[0.6, 0.4], [0.5, 0.5]])  # second verdict flips (argmax picks the first of a tie)
    figures = compare_probabilities(ref, cand)
    assert figures["max_prob_diff"] == pytest.approx(0.1) and figures["argmax_agreement"] == 0.5
    assert failures(figures, "int8") == ["argmax_agreement 0.5000 < 0.95"]
    assert failures(figures, "fp32") == ["max_prob_diff 0.1000 > 0.01", "argmax_agreement 0.5000 < 0.99"]


def _temporal(path: Path) -> OnnxSession:
    return OnnxSession(path, 1, TEMPORAL_DISABLED_OPTIMIZERS)


def test_temporal_gate_on_real_tracks_passes_fp16_and_int8_within_their_tolerances() -> None:
    reference = _temporal(BEHAVIOUR / "behaviour.onnx")
    fp16 = run_gate("temporal", "fp16", reference, _temporal(BEHAVIOUR / "behaviour_fp16.onnx"))
    assert fp16["windows"] >= 100 and fp16["failures"] == []
    int8 = run_gate("temporal", "int8", reference, _temporal(BEHAVIOUR / "behaviour_int8.onnx"))
    assert int8["failures"] == []
    # the same INT8 outputs held to the FP32 tolerance are refused: the gate does discriminate
    assert run_gate("temporal", "fp32", reference, _temporal(BEHAVIOUR / "behaviour_int8.onnx"))["failures"]


def test_detector_gate_on_real_frames() -> None:
    reference = OnnxSession(SAMPLE / "detector.onnx", 1)
    same = run_gate("detector", "fp32", reference, OnnxSession(SAMPLE / "detector.onnx", 1))
    assert same["reference_boxes"] > 20 and same["matched"] == 1.0 and same["failures"] == []
    fp16 = run_gate("detector", "fp16", reference, OnnxSession(SAMPLE / "detector_fp16.onnx", 1))
    assert fp16["failures"] == []
    int8_at_fp32 = run_gate("detector", "fp32", reference, OnnxSession(SAMPLE / "detector_int8.onnx", 1))
    assert int8_at_fp32["failures"]  # an INT8 model does not pass for an FP32 engine
