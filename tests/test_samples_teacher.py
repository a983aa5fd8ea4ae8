"""The SSD teacher's class mapping, its YOLO labels, and the time split that keeps held-out frames unseen."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from edgewatch.samples import fetch
from edgewatch.samples.teacher import (
    CLASS_NAMES,
    COCO_TO_SAMPLE,
    ClipPlan,
    TeacherSettings,
    split_frames,
    ssd_detections,
    yolo_label_lines,
)


def _ssd_rows(*rows: tuple[int, float, float, float, float, float]) -> np.ndarray:
    """OpenCV's SSD output layout ``[1, 1, K, 7]``: image id, COCO id, score, x1, y1, x2, y2 (normalised)."""
    return np.array([[0, *r] for r in rows], np.float32).reshape(1, 1, -1, 7)


def test_coco_ids_map_to_the_six_sample_classes() -> None:
    names = {1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 6: "bus", 8: "truck"}
    assert {CLASS_NAMES[v] for v in COCO_TO_SAMPLE.values()} == set(CLASS_NAMES)
    assert all(CLASS_NAMES[COCO_TO_SAMPLE[coco]] == name for coco, name in names.items())


def test_ssd_output_becomes_pixel_boxes_of_kept_classes_only() -> None:
    out = _ssd_rows(
        (1, 0.9, 0.10, 0.20, 0.20, 0.60),  # person
        (6, 0.8, 0.50, 0.10, 0.90, 0.50),  # bus
        (5, 0.9, 0.00, 0.00, 0.50, 0.50),  # airplane: not a sample class
        (1, 0.3, 0.60, 0.60, 0.70, 0.90),  # person below the threshold
    )
    dets = ssd_detections(out, width=640, height=360, score_threshold=0.5, nms_iou=0.7)
    assert dets.class_ids.tolist() == [0, 4]
    np.testing.assert_allclose(dets.boxes[0], [64, 72, 128, 216], atol=1e-3)
    np.testing.assert_allclose(dets.scores, [0.9, 0.8], atol=1e-6)


def test_one_vehicle_reported_as_car_and_truck_keeps_the_confident_class() -> None:
    out = _ssd_rows((3, 0.42, 0.8, 0.1, 0.95, 0.2), (8, 0.51, 0.8, 0.1, 0.95, 0.2))
    dets = ssd_detections(out, 768, 576, score_threshold=0.4, nms_iou=0.7)
    assert [CLASS_NAMES[c] for c in dets.class_ids] == ["truck"]


def test_nothing_confident_gives_no_detections() -> None:
    assert len(ssd_detections(_ssd_rows((1, 0.1, 0, 0, 0.5, 0.5)), 100, 100, 0.5, 0.7)) == 0


def test_yolo_labels_are_normalised_centre_and_size() -> None:
    out = _ssd_rows((1, 0.9, 0.25, 0.25, 0.75, 0.5))
    (line,) = yolo_label_lines(ssd_detections(out, 200, 100, 0.5, 0.7), 200, 100)
    cls, cx, cy, w, h = line.split()
    assert cls == "0"
    np.testing.assert_allclose([float(cx), float(cy), float(w), float(h)], [0.5, 0.375, 0.5, 0.25], atol=1e-5)


@pytest.mark.parametrize("n_frames,plan", [(795, ClipPlan("vtest", 2, 0.2, 10)), (1799, ClipPlan("street", 6, 0.2, 30)), (10, ClipPlan("x", 1, 0.3, 2))])
def test_held_out_frames_come_strictly_after_train_frames_with_a_gap(n_frames: int, plan: ClipPlan) -> None:
    split = split_frames(n_frames, plan)
    train, val = split["train"], split["val"]
    assert train and val and not set(train) & set(val)
    assert max(train) + plan.gap_frames < min(val)
    assert all(i % plan.step == 0 and 0 <= i < n_frames for i in train + val)
    assert len(val) == pytest.approx(n_frames * plan.holdout / plan.step, abs=1)


def test_label_cache_key_follows_the_settings() -> None:
    base = TeacherSettings()
    assert base.key() == TeacherSettings().key()
    assert base.key() != replace(base, score_threshold=0.4).key()


def _cached(asset: fetch.Asset) -> bool:
    return fetch.is_valid(fetch.asset_path(asset), asset)


@pytest.mark.skipif(not all(_cached(a) for a in [fetch.CLIPS["vtest"], *fetch.TEACHER.values()]),
                    reason="needs the cached vtest clip and SSD teacher: run `edgewatch samples --teacher`")
def test_the_real_teacher_finds_the_walkers_of_a_campus_frame() -> None:
    import cv2

    from edgewatch.samples.teacher import SsdTeacher

    capture = cv2.VideoCapture(str(fetch.sample_clip("vtest")))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 99)
    ok, frame = capture.read()
    assert ok and frame.shape == (576, 768, 3)
    dets = SsdTeacher(TeacherSettings())(frame)
    assert int((dets.class_ids == 0).sum()) >= 4  # the frame shows 7 walkers; the SSD misses the smallest
