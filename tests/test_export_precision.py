"""FP16 and INT8 Q/DQ exports: TensorRT-compatible structure, tolerances against FP32, calibration frames."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")

torch = pytest.importorskip("torch")
pytest.importorskip("ultralytics")

from export_models import IMGSZ, make_checkpoint, synthetic_frames

from edgewatch.detect import letterbox
from edgewatch.errors import EdgewatchError
from edgewatch.export import calibration
from edgewatch.export.exporter import export
from edgewatch.export.fp16 import convert_fp16
from edgewatch.export.onnxfile import read_metadata
from edgewatch.export.quantize import quantize_qdq
from edgewatch.export.yolo import YoloExportable


@pytest.fixture(scope="session")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """yolo11n-layout test model in FP32, FP16 and INT8 (head kept float), calibrated on 8 synthetic frames."""
    root = tmp_path_factory.getbasetemp() / "export-models"
    weights = make_checkpoint("yolo11n.yaml", root / "yolo11n.yaml.pt")
    feeds = [{"input": letterbox.preprocess([f], IMGSZ)[0]} for f in synthetic_frames(8, seed=11)]
    return export(YoloExportable(weights, IMGSZ), root / "precisions", ("fp32", "fp16", "int8"), lambda: feeds)


def run(path: Path, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["output"], {"input": x})[0]


def initializer(model: onnx.ModelProto, name: str) -> np.ndarray:
    return next(numpy_helper.to_array(t) for t in model.graph.initializer if t.name == name)


def test_fp16_is_float16_inside_with_float32_io(variants: dict[str, Path]) -> None:
    model = onnx.load(str(variants["fp16"]))
    onnx.checker.check_model(model, full_check=True)
    assert read_metadata(model).precision == "fp16"
    io_types = {v.type.tensor_type.elem_type for v in (*model.graph.input, *model.graph.output)}
    assert io_types == {onnx.TensorProto.FLOAT}
    conv_weights = [initializer(model, n.input[1]) for n in model.graph.node if n.op_type == "Conv"]
    assert conv_weights and all(w.dtype == np.float16 for w in conv_weights)


def test_fp16_output_close_to_fp32(variants: dict[str, Path]) -> None:
    """Stated FP16 tolerance: scores within 0.05, boxes within 2% of the input size for 99% of coordinates."""
    x, _ = letterbox.preprocess(synthetic_frames(2, seed=12), IMGSZ)
    fp32, fp16 = run(variants["fp32"], x), run(variants["fp16"], x)
    assert np.abs(fp16[..., 4] - fp32[..., 4]).max() <= 0.05
    assert np.quantile(np.abs(fp16[..., :4] - fp32[..., :4]), 0.99) <= 0.02 * max(IMGSZ)


def test_int8_is_tensorrt_style_qdq(variants: dict[str, Path]) -> None:
    """Symmetric int8 (all zero points 0), per-channel conv weights, float biases, head left in float."""
    model = onnx.load(str(variants["int8"]))
    onnx.checker.check_model(model, full_check=True)
    assert read_metadata(model).precision == "int8"
    qdq = [n for n in model.graph.node if n.op_type in {"QuantizeLinear", "DequantizeLinear"}]
    assert qdq, "no Q/DQ nodes"
    for node in qdq:
        zero_point = initializer(model, node.input[2])
        assert zero_point.dtype == np.int8 and not zero_point.any()
    produced_by = {out: n for n in model.graph.node for out in n.output}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    quantized = [n for n in convs if produced_by.get(n.input[1]) is not None and produced_by[n.input[1]].op_type == "DequantizeLinear"]
    assert len(quantized) > 0.6 * len(convs)  # backbone and neck; the Detect layer stays float by default
    for conv in quantized:
        scale = initializer(model, produced_by[conv.input[1]].input[1])
        assert scale.ndim == 1 and scale.size == initializer(model, produced_by[conv.input[1]].input[0]).shape[0]
        if len(conv.input) > 2:
            assert conv.input[2] not in produced_by  # bias stays a float initializer (TensorRT 8.5)
    float_convs = {n.name for n in convs} - {n.name for n in quantized}
    assert float_convs and all("/cv2." in n or "/cv3." in n or "/dfl/" in n for n in float_convs)
    assert produced_by["output"].op_type != "DequantizeLinear"  # boxes and scores are not squeezed into one int8 scale


def test_int8_runs_and_stays_in_range(variants: dict[str, Path]) -> None:
    """A random-weight network gives no meaningful INT8 accuracy (that is measured on the sample detector
    in benchmarks/export_accuracy.py); here: same shape, finite, valid scores and class ids."""
    x, _ = letterbox.preprocess(synthetic_frames(2, seed=13), IMGSZ)
    fp32, int8 = run(variants["fp32"], x), run(variants["int8"], x)
    assert int8.shape == fp32.shape and np.isfinite(int8).all()
    assert ((int8[..., 4] >= 0) & (int8[..., 4] <= 1)).all()
    assert set(np.unique(int8[..., 5])) <= {0.0, 1.0, 2.0}


def test_quantize_and_fp16_keep_what_was_there_on_error(variants: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "int8.onnx"
    out.write_bytes(b"previous")
    feeds = [{"input": np.zeros((1, 3, *IMGSZ), np.float32)}]
    with pytest.raises(EdgewatchError, match="unknown calibration method"):
        quantize_qdq(variants["fp32"], out, feeds, method="kl")
    with pytest.raises(EdgewatchError, match="unknown nodes"):
        quantize_qdq(variants["fp32"], out, feeds, exclude_nodes=["/not/a/node"])
    with pytest.raises(EdgewatchError, match="at least one"):
        quantize_qdq(variants["fp32"], out, [])
    with pytest.raises(EdgewatchError, match="no such ONNX"):
        convert_fp16(tmp_path / "missing.onnx", out)
    assert out.read_bytes() == b"previous"


# ---------------------------------------------------------------- calibration frames


@pytest.fixture()
def image_folder(tmp_path: Path) -> Path:
    for i, frame in enumerate(synthetic_frames(6, seed=21)):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return tmp_path


@pytest.fixture()
def video(tmp_path: Path) -> Path:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for i in range(30):
        frame = np.full((240, 320, 3), i * 8, np.uint8)
        writer.write(frame)
    writer.release()
    return path


def test_calibration_goes_through_the_inference_preprocess(image_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Calibration tensors are exactly what inference's letterbox.preprocess makes of the same frames."""
    calls = []
    real = letterbox.preprocess
    monkeypatch.setattr(letterbox, "preprocess", lambda images, size: calls.append(size) or real(images, size))
    feeds = calibration.calibration_set(image_folder, (128, 160), count=4, seed=3)
    got = [feeds[i]["input"] for i in range(len(feeds))]
    assert calls == [(128, 160)] * 4
    for ref, tensor in zip(feeds.frames, got, strict=True):
        rgb = cv2.cvtColor(cv2.imread(str(ref.path)), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(tensor, real([rgb], (128, 160))[0])


def test_frames_are_sampled_across_the_source_and_shuffled(image_folder: Path, video: Path) -> None:
    refs = calibration.list_frames(video)
    assert len(refs) == 30 and refs[0].index == 0
    picked = calibration.sample_frames(refs, 10, seed=0)
    indices = [r.index for r in picked]
    assert len(set(indices)) == 10 and indices != sorted(indices)  # shuffled, no repeats
    assert min(indices) < 10 and max(indices) >= 20  # drawn from the whole clip, not its start
    assert indices == [r.index for r in calibration.sample_frames(refs, 10, seed=0)]  # seeded
    assert len(calibration.sample_frames(calibration.list_frames(image_folder), 100)) == 6


def test_video_frames_decode_to_the_right_frame(video: Path) -> None:
    frame = calibration.read_rgb(calibration.FrameRef(video, 20))
    assert abs(float(frame.mean()) - 160) < 3  # frame 20 was filled with 20 * 8


def test_fixed_batch_calibration_groups_frames(image_folder: Path) -> None:
    feeds = calibration.calibration_set(image_folder, IMGSZ, count=5, batch=2)
    assert len(feeds) == 2 and feeds[1]["input"].shape == (2, 3, *IMGSZ)


@pytest.mark.parametrize(
    ("source", "message"),
    [("missing", "no such calibration"), ("empty", "no images"), ("notes.txt", "must be a folder of images or a video")],
)
def test_bad_calibration_sources(tmp_path: Path, source: str, message: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(EdgewatchError, match=message):
        calibration.list_frames(tmp_path / source)


def test_int8_float_policies_are_nested(variants: dict[str, Path]) -> None:
    """none keeps nothing, decode keeps the [B,N,6] packing, head adds the last convs and the DFL,
    detect the whole Detect layer."""
    from edgewatch.export.yolo import float_nodes

    graph = onnx.load(str(variants["fp32"])).graph
    head_index = 23  # yolo11n's Detect layer
    none, decode, head, detect = (set(float_nodes(graph, head_index, k)) for k in ("none", "decode", "head", "detect"))
    assert none == set() and decode < head < detect
    assert detect - head == {n.name for n in graph.node if n.name.startswith("/model/model.23/")} - head
    assert next(n.name for n in graph.node if "output" in n.output) in decode
    assert sorted(n for n in head - decode if n.endswith("Conv")) == sorted(
        [f"/model/model.23/cv{b}.{i}/cv{b}.{i}.2/Conv" for b in (2, 3) for i in range(3)] + ["/model/model.23/dfl/conv/Conv"]
    )
    with pytest.raises(EdgewatchError, match="unknown INT8 policy"):
        float_nodes(graph, head_index, "all")


def test_uint8_activation_rewrite_is_lossless(variants: dict[str, Path]) -> None:
    """The CPU-friendly rewrite of the TensorRT INT8 file represents the same quantized model.

    ORT runs the rewrite with fused integer kernels and the original through float convolutions
    between Q/DQ pairs; the two round a few requantizations differently (one step), nothing more.
    """
    from edgewatch.runtime.int8 import with_uint8_activations

    model = onnx.load(str(variants["int8"]))
    rewritten = with_uint8_activations(model)
    onnx.checker.check_model(rewritten)
    weights = {t.name for t in model.graph.initializer}
    for node in (n for n in rewritten.graph.node if n.op_type in {"QuantizeLinear", "DequantizeLinear"}):
        zero_point = initializer(rewritten, node.input[2])
        on_weight = node.op_type == "DequantizeLinear" and node.input[0] in weights
        assert (zero_point.dtype, int(zero_point.max())) == ((np.int8, 0) if on_weight else (np.uint8, 128))
    x, _ = letterbox.preprocess(synthetic_frames(2, seed=14), IMGSZ)
    session = ort.InferenceSession(rewritten.SerializeToString(), providers=["CPUExecutionProvider"])
    fused, reference = session.run(["output"], {"input": x})[0], run(variants["int8"], x)
    assert np.mean(np.abs(fused - reference) > 1e-3) < 0.01
    assert np.abs(fused[..., 4] - reference[..., 4]).max() < 0.05
