"""``edgewatch eval detector``: COCO mAP against YOLO/COCO labels or against a reference model."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")

from edgewatch.detect.evaluate import coco_map, evaluate, load_eval_set
from edgewatch.errors import EdgewatchError
from edgewatch.types import Detections

NAMES = ["person", "car", "bus"]


def dets(boxes: list[list[float]], classes: list[int], scores: list[float] | None = None) -> Detections:
    return Detections(
        np.array(boxes, np.float32).reshape(-1, 4),
        np.array(scores or [1.0] * len(classes), np.float32),
        np.array(classes, np.int64),
    )


TRUTH = [dets([[10, 10, 50, 80], [100, 40, 180, 90]], [0, 1]), dets([[20, 30, 60, 120]], [0])]
SHAPES = [(240, 320), (240, 320)]


def test_perfect_predictions_score_one_and_classes_without_truth_are_none() -> None:
    metrics = coco_map(TRUTH, TRUTH, SHAPES, NAMES)
    assert metrics["mAP50_95"] == pytest.approx(1.0) and metrics["mAP50"] == pytest.approx(1.0)
    assert metrics["per_class"]["person"]["instances"] == 2
    assert metrics["per_class"]["bus"]["AP50_95"] is None  # no ground truth: no AP, not counted


def test_worse_boxes_score_lower_and_misses_score_zero() -> None:
    shifted = [dets(d.boxes + 6, d.class_ids.tolist()) for d in TRUTH]
    partial = coco_map(TRUTH, shifted, SHAPES, NAMES)
    assert partial["mAP50"] == pytest.approx(1.0) and 0.2 < partial["mAP50_95"] < 0.9
    wrong_class = [dets(d.boxes, [2] * len(d)) for d in TRUTH]
    assert coco_map(TRUTH, wrong_class, SHAPES, NAMES)["mAP50_95"] == 0.0
    assert coco_map(TRUTH, [Detections.empty()] * 2, SHAPES, NAMES)["mAP50_95"] == 0.0


def write_yolo_dataset(root: Path) -> Path:
    """Two labelled 320x240 images in ultralytics' layout: images/val + labels/val + data.yaml."""
    (root / "images" / "val").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    for i, truth in enumerate(TRUTH):
        cv2.imwrite(str(root / "images" / "val" / f"im{i}.jpg"), np.full((240, 320, 3), 90, np.uint8))
        rows = [
            f"{c} {(b[0] + b[2]) / 640:.6f} {(b[1] + b[3]) / 480:.6f} {(b[2] - b[0]) / 320:.6f} {(b[3] - b[1]) / 240:.6f}"
            for b, c in zip(truth.boxes, truth.class_ids, strict=True)
        ]
        (root / "labels" / "val" / f"im{i}.txt").write_text("\n".join(rows) + "\n")
    (root / "data.yaml").write_text(f"path: {root}\nval: images/val\nnames:\n" + "".join(f"  {i}: {n}\n" for i, n in enumerate(NAMES)))
    return root


def test_yolo_and_coco_datasets_load_the_same_truth(tmp_path: Path) -> None:
    root = write_yolo_dataset(tmp_path / "ds")
    coco = {
        "images": [{"id": i, "file_name": f"images/val/im{i}.jpg", "width": 320, "height": 240} for i in range(2)],
        "categories": [{"id": k + 1, "name": n} for k, n in enumerate(NAMES)],
        "annotations": [
            {"id": 10 * i + j, "image_id": i, "category_id": int(c) + 1, "iscrowd": 0,
             "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]}
            for i, t in enumerate(TRUTH) for j, (b, c) in enumerate(zip(t.boxes, t.class_ids, strict=True))
        ],
    }
    (root / "coco.json").write_text(json.dumps(coco))
    for source in (root, root / "data.yaml", root / "images" / "val", root / "coco.json"):
        loaded = load_eval_set(source)
        assert [p.name for p in loaded.images] == ["im0.jpg", "im1.jpg"]
        for got, want in zip(loaded.truth, TRUTH, strict=True):
            np.testing.assert_allclose(got.boxes, want.boxes, atol=0.01)
            np.testing.assert_array_equal(got.class_ids, want.class_ids)
    assert load_eval_set(root).names == NAMES


@pytest.fixture(scope="module")
def detector_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("ultralytics")
    from export_models import exported_fp32

    return exported_fp32(tmp_path_factory.getbasetemp() / "export-models", "yolo11n.yaml")


def test_model_against_itself_as_reference_is_perfect(detector_onnx: Path, tmp_path: Path) -> None:
    from export_models import synthetic_frames

    for i, frame in enumerate(synthetic_frames(3, seed=31)):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    metrics = evaluate(detector_onnx, tmp_path, reference=detector_onnx)
    assert metrics["instances"] > 0 and metrics["images"] == 3
    assert metrics["mAP50_95"] == pytest.approx(1.0) and metrics["mAP50"] == pytest.approx(1.0)


def test_cli_writes_metrics_and_plot(detector_onnx: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from edgewatch.detect.cli import evaluate_arguments, evaluate_main

    root = write_yolo_dataset(tmp_path / "ds")
    parser = argparse.ArgumentParser()
    evaluate_arguments(parser)
    assert evaluate_main(parser.parse_args(["--model", str(detector_onnx), "--data", str(root), "--out", str(tmp_path / "ev")])) == 0
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["truth"] == "labels" and metrics["instances"] == 3 and 0.0 <= metrics["mAP50_95"] <= 1.0
    assert set(metrics["per_class"]) == set(NAMES)
    assert (tmp_path / "ev" / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    assert "mAP50-95" in capsys.readouterr().out


def test_unlabelled_data_needs_a_reference(detector_onnx: Path, tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(EdgewatchError, match="--reference"):
        evaluate(detector_onnx, tmp_path)
    with pytest.raises(EdgewatchError, match="no such dataset"):
        evaluate(detector_onnx, tmp_path / "nowhere")


SAMPLE_MODELS = Path(__file__).resolve().parent.parent / "models" / "sample"


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "floor"), [("fp16", 0.98), ("int8", 0.85)])
def test_sample_detector_precisions_stay_faithful_to_fp32(tmp_path: Path, variant: str, floor: float) -> None:
    """Stated tolerance on a real model: the sample detector's FP16 / INT8 exports, scored against its
    FP32 detections (conf >= 0.25) on 20 real campus frames, keep mAP50-95 >= 0.98 / 0.85."""
    fp32, other = SAMPLE_MODELS / "detector.onnx", SAMPLE_MODELS / f"detector_{variant}.onnx"
    if not (fp32.is_file() and other.is_file()):
        pytest.skip("models/sample/detector*.onnx not present (built by `edgewatch sample-model`)")
    from edgewatch.samples.fetch import sample_clip

    try:
        clip = sample_clip("vtest")
    except EdgewatchError as exc:
        pytest.skip(f"vtest clip unavailable: {exc}")
    capture = cv2.VideoCapture(str(clip))
    for i in range(200):
        ok, frame = capture.read()
        if ok and i % 10 == 0:  # every 10th of the first 200 frames
            cv2.imwrite(str(tmp_path / f"vtest_{i:04d}.png"), frame)
    capture.release()
    metrics = evaluate(other, tmp_path, reference=fp32)
    assert metrics["instances"] > 20
    assert metrics["mAP50_95"] >= floor


def test_map_by_object_size_counts_coco_areas_and_scores_each() -> None:
    """COCO sizes by box area: < 32^2 small, < 96^2 medium, else large (pycocotools' own area ranges)."""
    truth = [dets([[0, 0, 20, 20], [50, 50, 110, 110], [0, 100, 120, 220]], [0, 0, 1])]  # 400, 3600, 14400 px^2
    shapes = [(240, 320)]
    perfect = coco_map(truth, truth, shapes, NAMES)["by_size"]
    assert {k: v["instances"] for k, v in perfect.items()} == {"small": 1, "medium": 1, "large": 1}
    assert all(v["mAP50_95"] == pytest.approx(1.0) for v in perfect.values())
    only_large = coco_map(truth, [dets([[0, 100, 120, 220]], [1])], shapes, NAMES)["by_size"]
    assert only_large["large"]["mAP50_95"] == pytest.approx(1.0)
    assert only_large["small"]["mAP50_95"] == 0.0 and only_large["medium"]["mAP50_95"] == 0.0
    nothing = coco_map(truth, [Detections.empty()], shapes, NAMES)["by_size"]
    assert nothing["small"] == {"mAP50_95": 0.0, "mAP50": 0.0, "instances": 1}
    no_large = coco_map([dets([[0, 0, 20, 20]], [0])], [dets([[0, 0, 20, 20]], [0])], shapes, NAMES)["by_size"]
    assert no_large["large"]["mAP50_95"] is None and no_large["large"]["instances"] == 0
