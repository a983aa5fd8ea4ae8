"""YOLO -> ONNX export: DeepStream layout, metadata, parity with PyTorch and with ultralytics' decoding."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")

torch = pytest.importorskip("torch")
pytest.importorskip("ultralytics")

from export_models import IMGSZ, NAMES, exported_fp32, make_checkpoint, synthetic_frames

from edgewatch.detect.decode import decode
from edgewatch.detect.letterbox import preprocess
from edgewatch.errors import EdgewatchError
from edgewatch.export.exporter import export
from edgewatch.export.onnxfile import read_metadata
from edgewatch.export.yolo import YoloExportable, load_detector
from edgewatch.metadata import ModelMetadata

CONFIGS = ("yolov8n.yaml", "yolo11n.yaml")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "export-models"


@pytest.fixture(scope="session", params=CONFIGS)
def exported(request: pytest.FixtureRequest, models_dir: Path) -> tuple[Path, Path]:
    """(checkpoint, FP32 ONNX with a dynamic batch axis) per model family, built once per session."""
    cfg = request.param
    return make_checkpoint(cfg, models_dir / f"{cfg}.pt"), exported_fp32(models_dir, cfg)


def torch_raw(weights: Path, x: np.ndarray) -> np.ndarray:
    """ultralytics' own inference output ``[B, 4+C, N]`` (cx, cy, w, h, class scores) for input ``x``."""
    model = load_detector(weights)
    with torch.inference_mode():
        return model(torch.from_numpy(x))[0].numpy()


def raw_to_rows(raw: np.ndarray) -> np.ndarray:
    """The [B, N, 6] layout computed independently from the raw output, in numpy (float64)."""
    raw = raw.astype(np.float64).transpose(0, 2, 1)
    xy, half = raw[..., :2], raw[..., 2:4] / 2
    scores = raw[..., 4:]
    return np.concatenate([xy - half, xy + half, scores.max(-1, keepdims=True), scores.argmax(-1)[..., None]], -1)


def run(onnx_path: Path, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(["output"], {"input": x})[0]


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max |b|: robust where elementwise ratios blow up near zero."""
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_graph_layout_and_metadata(exported: tuple[Path, Path]) -> None:
    weights, onnx_path = exported
    model = onnx.load(str(onnx_path))
    onnx.checker.check_model(model, full_check=True)
    (inp,), (out,) = model.graph.input, model.graph.output
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    anchors = sum((IMGSZ[0] // s) * (IMGSZ[1] // s) for s in (8, 16, 32))
    assert (inp.name, dims(inp)) == ("input", ["batch", 3, *IMGSZ])
    assert (out.name, dims(out)) == ("output", ["batch", anchors, 6])
    assert read_metadata(model) == ModelMetadata(
        kind="detector", imgsz=IMGSZ, stride=32, names=tuple(NAMES.values()), letterbox=True,
        layout="xyxy_score_class", source=weights.name, precision="fp32",
    )
    assert (onnx_path.parent / "labels.txt").read_text().split() == list(NAMES.values())


def test_fp32_matches_pytorch(exported: tuple[Path, Path]) -> None:
    weights, onnx_path = exported
    x, _ = preprocess(synthetic_frames(2, seed=3), IMGSZ)
    expected, got = raw_to_rows(torch_raw(weights, x)), run(onnx_path, x)
    assert relative_error(got[..., :4], expected[..., :4]) <= 1e-4
    assert relative_error(got[..., 4], expected[..., 4]) <= 1e-4
    # classes must agree wherever the best class is not a numerical tie
    raw = np.sort(torch_raw(weights, x)[:, 4:], axis=1)
    clear = (raw[:, -1] - raw[:, -2]) > 1e-4
    np.testing.assert_array_equal(got[..., 5][clear], expected[..., 5][clear])


@pytest.mark.parametrize("layout", ["xyxy_score_class", "yolo_raw"])
def test_decode_matches_ultralytics_nms(exported: tuple[Path, Path], layout: str) -> None:
    """Our decode + class-aware NMS == ultralytics' non_max_suppression, on the same network output.

    Both see the same numbers (the model's raw output, or its [B, N, 6] rows), so near-tied scores
    cannot order differently and the comparison can be exact.
    """
    import sys

    from ultralytics.utils.nms import non_max_suppression

    # ultralytics calls torchvision.ops.nms only when torchvision is imported; this venv's torchvision
    # cannot be imported, so the reference here is ultralytics' pure-torch TorchNMS (same semantics).
    assert "torchvision" not in sys.modules
    weights, _ = exported
    x, _ = preprocess(synthetic_frames(2, seed=4), IMGSZ)
    raw = torch_raw(weights, x)
    conf = float(np.quantile(raw[:, 4:].max(1), 0.8))  # a threshold that keeps ~20% of anchors
    reference = non_max_suppression(torch.from_numpy(raw), conf_thres=conf, iou_thres=0.5, max_det=300)
    output = raw if layout == "yolo_raw" else raw_to_rows(raw).astype(np.float32)
    ours = decode(output, layout, conf, 0.5)
    for ref, det in zip(reference, ours, strict=True):
        ref = canonical(ref.numpy())
        mine = canonical(np.concatenate([det.boxes, det.scores[:, None], det.class_ids[:, None]], 1))
        assert len(mine) == len(ref) > 3
        np.testing.assert_allclose(mine, ref, atol=1e-3)


def canonical(rows: np.ndarray) -> np.ndarray:
    """Detections sorted by score, then position: exactly tied scores have no defined NMS order."""
    return rows[np.lexsort((rows[:, 1], rows[:, 0], -rows[:, 4]))]


def test_batch_of_four_equals_four_batches_of_one(exported: tuple[Path, Path]) -> None:
    _, onnx_path = exported
    x, _ = preprocess(synthetic_frames(4, seed=5), IMGSZ)
    batched = run(onnx_path, x)
    single = np.concatenate([run(onnx_path, x[i : i + 1]) for i in range(4)])
    assert relative_error(batched, single) <= 1e-6
    for a, b in zip(decode(batched, "xyxy_score_class", 0.5, 0.5), decode(single, "xyxy_score_class", 0.5, 0.5), strict=True):
        np.testing.assert_array_equal(a.class_ids, b.class_ids)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)


def test_fixed_batch_export(models_dir: Path, tmp_path: Path) -> None:
    weights = make_checkpoint("yolo11n.yaml", models_dir / "yolo11n.yaml.pt")
    path = export(YoloExportable(weights, (128, 160), batch=4, stem="fixed"), tmp_path, ("fp32",))["fp32"]
    (inp,) = onnx.load(str(path)).graph.input
    assert [d.dim_value for d in inp.type.tensor_type.shape.dim] == [4, 3, 128, 160]
    assert run(path, np.zeros((4, 3, 128, 160), np.float32)).shape[0] == 4


def written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.pt", "no such weights file"),
        (lambda d: written(d / "model.onnx", b"x"), "expected an ultralytics .pt"),
        (lambda d: written(d / "junk.pt", b"not a checkpoint"), "not an ultralytics checkpoint"),
    ],
)
def test_bad_weights_are_one_line_errors(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(EdgewatchError, match=message):
        YoloExportable(make(tmp_path), IMGSZ)


def test_non_detection_models_are_rejected(tmp_path: Path) -> None:
    from ultralytics.nn.tasks import ClassificationModel, SegmentationModel

    for model in (SegmentationModel("yolo11n-seg.yaml", nc=2, verbose=False), ClassificationModel("yolo11n-cls.yaml", nc=2, verbose=False)):
        path = tmp_path / f"{type(model).__name__}.pt"
        torch.save({"model": model, "train_args": {}}, path)
        with pytest.raises(EdgewatchError, match="unsupported model"):
            YoloExportable(path, IMGSZ)


def test_cli_exports_and_reports_errors(models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from edgewatch.export.cli import yolo_arguments, yolo_main

    weights = make_checkpoint("yolov8n.yaml", models_dir / "yolov8n.yaml.pt")
    parser = argparse.ArgumentParser()
    yolo_arguments(parser)
    args = parser.parse_args(["--weights", str(weights), "--imgsz", "160", "--precision", "fp32", "--name", "det", "--out", str(tmp_path)])
    assert yolo_main(args) == 0
    assert read_metadata(onnx.load(str(tmp_path / "det.onnx"))).imgsz == (160, 160)
    assert "det.onnx" in capsys.readouterr().out
    before = (tmp_path / "det.onnx").read_bytes()
    for argv, message in [
        (["--precision", "int8"], "INT8 needs --calib"),
        (["--precision", "fp64"], "unknown precision fp64"),
        (["--imgsz", "100"], "multiples of the stride"),
        (["--precision", "fp32,int8", "--calib", str(tmp_path / "nowhere")], "no such calibration"),  # fails mid-export
    ]:
        bad = parser.parse_args(["--weights", str(weights), "--name", "det", "--out", str(tmp_path), *argv])
        with pytest.raises(EdgewatchError, match=message):
            yolo_main(bad)
    assert (tmp_path / "det.onnx").read_bytes() == before  # a failed export loses nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["det.onnx", "labels.txt"]  # and leaves no staging files
