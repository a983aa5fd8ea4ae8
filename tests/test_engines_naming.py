"""Engine file names against the names nvinfer itself writes (literal names from DeepStream's sample configs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewatch.engines.naming import engine_path
from edgewatch.errors import EdgewatchError


@pytest.mark.parametrize(
    ("onnx", "batch", "gpu", "precision", "dla", "expected"),
    [
        # DeepStream 7.1's primary detector sample: onnx-file + model-engine-file as NVIDIA ships them
        (
            "resnet18_trafficcamnet_pruned.onnx",
            1,
            0,
            "int8",
            None,
            "resnet18_trafficcamnet_pruned.onnx_b1_gpu0_int8.engine",
        ),
        ("yolov8s.onnx", 1, 0, "fp32", None, "yolov8s.onnx_b1_gpu0_fp32.engine"),
        ("models/detector_fp16.onnx", 4, 1, "fp16", None, "models/detector_fp16.onnx_b4_gpu1_fp16.engine"),
        # on a DLA core the device part names the core, not the GPU
        ("models/detector_int8.onnx", 2, 0, "int8", 1, "models/detector_int8.onnx_b2_dla1_int8.engine"),
        # nvinfer treats a negative core as "no DLA"
        ("detector.onnx", 1, 0, "fp16", -1, "detector.onnx_b1_gpu0_fp16.engine"),
    ],
)
def test_engine_path_is_the_name_nvinfer_writes(
    onnx: str, batch: int, gpu: int, precision: str, dla: int | None, expected: str
) -> None:
    assert engine_path(Path(onnx), batch, gpu, precision, dla) == Path(expected)


def test_engine_sits_beside_its_onnx(tmp_path: Path) -> None:
    onnx = tmp_path / "m" / "behaviour.onnx"
    assert engine_path(onnx, 64, 0, "fp32").parent == onnx.parent


@pytest.mark.parametrize(("batch", "gpu", "precision"), [(0, 0, "fp32"), (1, -1, "fp32"), (1, 0, "best")])
def test_bad_arguments_are_one_line_errors(batch: int, gpu: int, precision: str) -> None:
    with pytest.raises(EdgewatchError):
        engine_path(Path("m.onnx"), batch, gpu, precision)
