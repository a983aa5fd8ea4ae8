"""Detector core: NMS against a brute-force reference, both decode layouts, letterbox round trip, ORT runtime."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from core_standins import constant_detector, linear_behaviour_model

from edgewatch.behaviour.features import FeatureSpec
from edgewatch.behaviour.predictor import BehaviourModel
from edgewatch.detect.decode import decode
from edgewatch.detect.detector import YoloDetector
from edgewatch.detect.letterbox import letterbox, preprocess, unletterbox_boxes
from edgewatch.detect.nms import batched_nms, box_iou, nms
from edgewatch.errors import EdgewatchError


def random_boxes(rng: np.random.Generator, n: int, extent: float = 100.0) -> np.ndarray:
    xy = rng.uniform(0, extent, (n, 2))
    wh = rng.uniform(5, 40, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


def brute_force_nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Textbook greedy NMS with a scalar IoU: the reference the vectorised version must equal."""

    def scalar_iou(a: np.ndarray, b: np.ndarray) -> float:
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = iw * ih
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union

    keep: list[int] = []
    for i in sorted(range(len(scores)), key=lambda j: -scores[j]):
        if all(scalar_iou(boxes[i], boxes[k]) <= iou for k in keep):
            keep.append(i)
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_nms_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    boxes, scores = random_boxes(rng, 200), rng.uniform(size=200).astype(np.float32)
    assert nms(boxes, scores, 0.5).tolist() == brute_force_nms(boxes, scores, 0.5)


def test_batched_nms_never_suppresses_across_classes() -> None:
    rng = np.random.default_rng(7)
    boxes, scores = random_boxes(rng, 150), rng.uniform(size=150).astype(np.float32)
    class_ids = rng.integers(0, 3, 150)
    keep = set(batched_nms(boxes, scores, class_ids, 0.45).tolist())
    expected = {
        int(np.flatnonzero(class_ids == c)[k])
        for c in range(3)
        for k in brute_force_nms(boxes[class_ids == c], scores[class_ids == c], 0.45)
    }
    assert keep == expected
    same_box = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    assert len(batched_nms(same_box, np.array([0.9, 0.8]), np.array([0, 1]), 0.5)) == 2
    assert len(batched_nms(same_box, np.array([0.9, 0.8]), np.array([0, 0]), 0.5)) == 1


def test_box_iou_known_values() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [3, 3, 3, 3]], np.float32)
    np.testing.assert_allclose(box_iou(a, b)[0], [1.0, 1 / 3, 0.0, 0.0], rtol=1e-6)


def test_decode_both_layouts_agree() -> None:
    """The same detections written in both layouts decode to the same boxes, scores and classes."""
    rows = np.array(
        [
            [10, 10, 30, 50, 0.9, 1],
            [12, 11, 31, 52, 0.8, 1],  # overlaps the first, same class: suppressed
            [12, 11, 31, 52, 0.7, 0],  # same place, other class: kept
            [60, 60, 70, 80, 0.2, 0],  # under the threshold
        ],
        np.float32,
    )
    xyxy, score, cls = rows[:, :4], rows[:, 4], rows[:, 5].astype(int)
    raw = np.zeros((4 + 2, len(rows)), np.float32)
    raw[0], raw[1] = (xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2
    raw[2], raw[3] = xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]
    raw[4 + cls, np.arange(len(rows))] = score
    a = decode(np.stack([rows, rows]), "xyxy_score_class", 0.25, 0.45)
    b = decode(raw[None], "yolo_raw", 0.25, 0.45)
    assert len(a) == 2
    for dets in (a[0], a[1], b[0]):
        np.testing.assert_allclose(dets.boxes, rows[[0, 2], :4], atol=1e-5)
        np.testing.assert_allclose(dets.scores, [0.9, 0.7], atol=1e-6)
        assert dets.class_ids.tolist() == [1, 0]
    assert len(decode(np.stack([rows]), "xyxy_score_class", 0.25, 0.45, max_det=1)[0]) == 1


def test_decode_rejects_wrong_layout() -> None:
    with pytest.raises(EdgewatchError, match="does not fit layout"):
        decode(np.zeros((1, 84, 8400), np.float32), "xyxy_score_class", 0.25, 0.45)
    with pytest.raises(EdgewatchError, match="unknown detector output layout"):
        decode(np.zeros((1, 10, 6), np.float32), "yolo", 0.25, 0.45)


@pytest.mark.parametrize("shape", [(576, 768), (360, 640), (720, 405), (64, 64)])
def test_letterbox_round_trip(shape: tuple[int, int]) -> None:
    """A box drawn on the frame is found at the mapped place in the letterboxed input and maps back."""
    h, w = shape
    image = np.zeros((h, w, 3), np.uint8)
    box = np.array([[w * 0.2, h * 0.3, w * 0.6, h * 0.9]], np.float32).round()
    x1, y1, x2, y2 = box[0].astype(int)
    image[y1:y2, x1:x2] = 255
    boxed, info = letterbox(image, (320, 320))
    net_box = box.copy()
    net_box[:, [0, 2]] = box[:, [0, 2]] * info.scale + info.pad_x
    net_box[:, [1, 3]] = box[:, [1, 3]] * info.scale + info.pad_y
    ys, xs = np.nonzero(boxed[..., 0] > 128)
    np.testing.assert_allclose([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], net_box[0], atol=1.5)
    np.testing.assert_allclose(unletterbox_boxes(net_box, info, (h, w)), box, atol=1e-3)


def test_onnx_detector_maps_boxes_to_frame_and_filters_classes(tmp_path: Path) -> None:
    rows = np.array([[8, 24, 24, 40, 0.9, 0], [40, 24, 56, 40, 0.8, 1]], np.float32)
    path = constant_detector(tmp_path / "det.onnx", rows, imgsz=(64, 64))
    frame = np.zeros((32, 64, 3), np.uint8)  # scale 1, padded 16 px top and bottom
    dets = YoloDetector.from_file(path)([frame, frame, frame])
    assert len(dets) == 3
    np.testing.assert_allclose(dets[2].boxes, [[8, 8, 24, 24], [40, 8, 56, 24]])
    only_cars = YoloDetector.from_file(path, classes=["car"])([frame])[0]
    assert only_cars.class_ids.tolist() == [1]
    with pytest.raises(EdgewatchError, match="not among the model's classes"):
        YoloDetector.from_file(path, classes=["bus"])


def test_onnx_detector_reads_ultralytics_metadata(tmp_path: Path) -> None:
    raw = np.zeros((4 + 2, 3), np.float32)
    raw[:4, 0] = [32, 32, 16, 16]
    raw[5, 0] = 0.9
    path = constant_detector(tmp_path / "yolo.onnx", raw, imgsz=(64, 64), metadata="ultralytics", names=("a", "b"))
    det = YoloDetector.from_file(path)
    assert det.layout == "yolo_raw" and det.names == ["a", "b"]
    dets = det([np.zeros((64, 64, 3), np.uint8)])[0]
    np.testing.assert_allclose(dets.boxes, [[24, 24, 40, 40]])
    assert dets.class_ids.tolist() == [1]


def test_onnx_detector_mismatches_are_one_line_errors(tmp_path: Path) -> None:
    path = constant_detector(tmp_path / "det.onnx", np.zeros((1, 6)), imgsz=(64, 64), precision="int8")
    with pytest.raises(EdgewatchError, match=r"det.onnx: model input is 64x64 but \[primary-gie\] input-size is 32x32"):
        YoloDetector.from_file(path, input_size=(32, 32))
    with pytest.raises(EdgewatchError, match="precision is int8 but the config says fp32"):
        YoloDetector.from_file(path, precision="fp32")
    with pytest.raises(EdgewatchError, match="no such ONNX file"):
        YoloDetector.from_file(tmp_path / "missing.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not onnx")
    with pytest.raises(EdgewatchError, match="bad.onnx: not an ONNX model, or a damaged one"):
        YoloDetector.from_file(tmp_path / "bad.onnx")
    assert YoloDetector.from_file(path, input_size=(64,), precision="int8").input_size == (64, 64)


def test_behaviour_model_interface(tmp_path: Path) -> None:
    spec = FeatureSpec(window=8, classes=("person",))
    path = linear_behaviour_model(
        tmp_path / "b.onnx", spec.to_json(), spec.num_features, ("standing", "walking"), ("person",)
    )
    model = BehaviourModel.from_file(path)
    assert model.spec == spec and model.behaviours == ["standing", "walking"] and model.classes == ["person"]
    x = np.zeros((3, 8, spec.num_features), np.float32)
    x[0, :, 1] = 1.0  # steers behaviour 1
    probs = model.predict(x, np.ones((3, 8), np.float32))
    assert probs.shape == (3, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    assert probs[0].argmax() == 1 and probs[1, 0] == pytest.approx(0.5)
    assert model.predict(x[:0], np.ones((0, 8), np.float32)).shape == (0, 2)
    detector = constant_detector(tmp_path / "d.onnx", np.zeros((1, 6)))
    with pytest.raises(EdgewatchError, match="no edgewatch temporal metadata"):
        BehaviourModel.from_file(detector)


def test_preprocess_batch_shape() -> None:
    tensor, infos = preprocess([np.zeros((10, 20, 3), np.uint8), np.zeros((30, 10, 3), np.uint8)], (32, 64))
    assert tensor.shape == (2, 3, 32, 64) and tensor.dtype == np.float32 and len(infos) == 2


def test_input_tensor_is_the_scaled_channel_first_stack_of_the_letterboxed_frames() -> None:
    from edgewatch.detect.letterbox import to_tensor

    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (24, 40, 3), dtype=np.uint8) for _ in range(3)]
    reference = np.stack(images).astype(np.float32).transpose(0, 3, 1, 2) * np.float32(1 / 255)
    tensor = to_tensor(images)
    assert tensor.flags["C_CONTIGUOUS"] and np.array_equal(tensor, reference)
    assert tensor[1, 2, 5, 7] == np.float32(images[1][5, 7, 2]) * np.float32(1 / 255)  # image 1, blue, row 5, col 7


def test_onnx_detector_without_metadata_guesses_layout_and_checks_labels(tmp_path: Path) -> None:
    raw = np.zeros((4 + 3, 5), np.float32)
    path = constant_detector(tmp_path / "bare.onnx", raw, imgsz=(64, 64), metadata="none")
    assert YoloDetector.from_file(path).layout == "yolo_raw"
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\n")
    with pytest.raises(EdgewatchError, match="scores 3 classes but 2 names are given"):
        YoloDetector.from_file(path, labels_file=labels)
    labels.write_text("a\nb\nc\n")
    assert YoloDetector.from_file(path, labels_file=labels).names == ["a", "b", "c"]


def test_metadata_round_trips_and_reads_every_committed_model() -> None:
    """The one metadata type reads what the exporter writes, ignores keys a newer exporter adds, and
    reads the committed sample models (whatever runtime then runs them)."""
    from edgewatch.metadata import METADATA_KEY, ModelMetadata
    from edgewatch.paths import REPO_ROOT

    spec = FeatureSpec(window=8, classes=("person",))
    meta = ModelMetadata(kind="temporal", precision="int8", feature_spec=spec, behaviours=("a", "b"),
                         classes=("person",), applies_to={"person": ("a",)}, window=8, num_features=spec.num_features)
    assert ModelMetadata.from_props(meta.to_props()) == meta
    newer = json.loads(meta.to_json()) | {"added_later": [1, 2]}
    assert ModelMetadata.from_props({METADATA_KEY: json.dumps(newer)}) == meta
    assert ModelMetadata.from_props({}) == ModelMetadata()
    with pytest.raises(EdgewatchError, match="unreadable model metadata"):
        ModelMetadata.from_props({METADATA_KEY: "[1, 2"}, "m.onnx")
    detector = ModelMetadata.from_onnx(REPO_ROOT / "models" / "sample" / "detector.onnx")
    assert detector.kind == "detector" and detector.names[0] == "person" and detector.layout == "xyxy_score_class"
    behaviour = ModelMetadata.from_onnx(REPO_ROOT / "models" / "behaviour" / "behaviour_int8.onnx")
    assert behaviour.kind == "temporal" and behaviour.precision == "int8" and behaviour.feature_spec is not None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: b"", "empty file (0 bytes), not an ONNX model"),
        (lambda data: b"edgewatch: this is a text file, not a model\n" * 20, "not an ONNX model, or a damaged one"),
        (lambda data: data[: len(data) // 2], "not an ONNX model, or a damaged one"),
        (lambda data: data[: len(data) - 7], "not an ONNX model, or a damaged one"),
        (lambda data: b"\x08\x07", "damaged or invalid ONNX model"),  # parses (ir_version=7 alone), no graph
        (lambda data: _without_an_initializer(data), "damaged or invalid ONNX model"),
    ],
    ids=["empty", "text", "half", "cut-short", "header-only", "initializer-lost"],
)
def test_damaged_model_files_are_one_line_errors_in_a_fresh_process(
    tmp_path: Path, damage: object, message: str
) -> None:
    """Each damage is loaded as the pipeline loads it, in a subprocess: ONNX Runtime aborts the
    process on some of these (the empty file did), which only a fresh process can show."""
    good = constant_detector(tmp_path / "good.onnx", np.zeros((1, 6)))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(damage(good.read_bytes()))  # type: ignore[operator]
    script = (
        "import sys\nfrom edgewatch.detect.detector import YoloDetector\nfrom edgewatch.errors import EdgewatchError\n"
        f"try:\n    YoloDetector.from_file({str(bad)!r})\nexcept EdgewatchError as exc:\n    print(exc)\n    sys.exit(2)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stdout.startswith(f"{bad}: {message}") and done.stdout.count("\n") == 1


def _without_an_initializer(data: bytes) -> bytes:
    """A model that still parses but lost a tensor: what a careless edit or a bad merge leaves."""
    import onnx

    model = onnx.ModelProto()
    model.ParseFromString(data)
    del model.graph.initializer[0]
    return model.SerializeToString()


def test_labels_file_must_name_each_class_of_the_model(tmp_path: Path) -> None:
    from edgewatch.config import DetectorConfig
    from edgewatch.detect.detector import detector_class_names

    path = constant_detector(tmp_path / "det.onnx", np.zeros((1, 6)), names=("person", "car", "bus"))
    labels = tmp_path / "labels.txt"
    labels.write_text("person\ncar\n")
    message = r"labels.txt: \[primary-gie\] labels-file has 2 names but .*det.onnx has 3 classes \(person, car, bus\)"
    with pytest.raises(EdgewatchError, match=message):
        YoloDetector.from_file(path, labels_file=labels)
    with pytest.raises(EdgewatchError, match=message):  # the DeepStream backend's way to the names
        detector_class_names(DetectorConfig(path, labels_file=labels))
    labels.write_text("\n\n")
    with pytest.raises(EdgewatchError, match="labels-file names no class"):
        detector_class_names(DetectorConfig(path, labels_file=labels))
    labels.write_text("human\nauto\nbus\n")  # renaming is fine: one name per class
    assert detector_class_names(DetectorConfig(path, labels_file=labels)) == ["human", "auto", "bus"]
    assert YoloDetector.from_file(path, labels_file=labels).names == ["human", "auto", "bus"]
