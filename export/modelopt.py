"""INT8 Q/DQ placed the way TensorRT fuses it: NVIDIA ModelOpt's ONNX quantiser, run in its own venv.

Public API: :func:`quantize_modelopt`, :data:`MODELOPT_VENV`, :data:`MODELOPT_REQUIREMENTS`.

ONNX Runtime's ``quantize_static`` (:mod:`edgewatch.export.quantize`) puts Q/DQ around nearly every
node, which is what ONNX Runtime's CPU kernels fuse; TensorRT fuses Q/DQ only where its int8 kernels
take them (Conv/Gemm/MatMul inputs, residual adds, pooling) and runs the rest in float with extra
reformats. ModelOpt's ONNX quantiser places them by TensorRT's rules. It calibrates on the CPU with
the very input feeds the ``quantize_static`` file was calibrated on (letterboxed frames, track
windows), keeps the same nodes in float, and writes zero point 0, per-channel weights and float
biases. Its output is opset 19, so TensorRT 10 or later builds it (8.5's parser stops at opset 17).

ModelOpt pins onnxruntime 1.24 and onnx 1.21 (edgewatch pins 1.31 and 1.23), so it runs as a
subprocess in ``.venv-modelopt``, created on first use with CPU torch (about 1 GB). It never sees the
caller's files: the FP32 ONNX is copied into a scratch folder first (ModelOpt rewrites files beside
its input), and only the checked result is written to ``out``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from edgewatch.errors import EdgewatchError
from edgewatch.export.onnxfile import load_model, read_metadata, save_model, write_metadata
from edgewatch.paths import REPO_ROOT
from edgewatch.sidevenv import side_python

MODELOPT_VENV = REPO_ROOT / ".venv-modelopt"
MODELOPT_REQUIREMENTS: tuple[str, ...] = (
    "torch==2.13.0",
    "nvidia-modelopt==0.47.0",
    "onnx==1.21.0",
    "onnxruntime==1.24.4",
    "onnx-graphsurgeon==0.6.1",
    "onnxconverter-common==1.16.0",
    "onnxscript==0.7.2",
    "onnxslim==0.1.98",
    "polygraphy==0.53.6",
    "cppimport==26.4.17",
    "lief==1.0.0",
    "ml_dtypes==0.7.0",
)
METHODS = {"minmax": "max", "entropy": "entropy"}  # edgewatch's calibration names -> ModelOpt's


def modelopt_python() -> Path:
    """``.venv-modelopt``'s interpreter (created on first use)."""
    return side_python(
        MODELOPT_VENV, MODELOPT_REQUIREMENTS, "ModelOpt", "CPU torch + ModelOpt, about 1 GB", "export again"
    )


def _calibration_arrays(feeds: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The feeds as one array per input (ModelOpt's npz calibration format)."""
    if len(feeds) == 0:
        raise EdgewatchError("INT8 calibration needs at least one input sample")
    return {name: np.concatenate([np.asarray(f[name]) for f in feeds]) for name in feeds[0]}


def quantize_modelopt(
    fp32_onnx: Path,
    out: Path,
    feeds: Sequence[Mapping[str, np.ndarray]],
    method: str = "entropy",
    exclude_nodes: Sequence[str] = (),
    op_types: Sequence[str] | None = None,
) -> Path:
    """Write ModelOpt's INT8 Q/DQ version of ``fp32_onnx`` to ``out``, calibrated on ``feeds``.

    ``exclude_nodes`` (exact node names) stay in float; ``op_types`` limits the operators quantized
    (None: ModelOpt's own choice). Float parts stay FP32 (``--high_precision_dtype fp32``): the
    FP16 decision is the engine builder's, not the quantiser's.
    """
    if method not in METHODS:
        raise EdgewatchError(f"ModelOpt calibrates with {' or '.join(METHODS)}, not {method!r}")
    meta = read_metadata(load_model(fp32_onnx))
    with tempfile.TemporaryDirectory(prefix="edgewatch-modelopt-") as tmp:
        work = Path(tmp)
        source, calib, result = work / "fp32.onnx", work / "calib.npz", work / "int8.onnx"
        shutil.copyfile(fp32_onnx, source)
        np.savez(calib, **_calibration_arrays(feeds))
        cmd = [
            str(modelopt_python()),
            "-m",
            "modelopt.onnx.quantization",
            "--onnx_path",
            str(source),
            "--quantize_mode",
            "int8",
            "--calibration_method",
            METHODS[method],
            "--calibration_data_path",
            str(calib),
            "--calibration_eps",
            "cpu",
            "--high_precision_dtype",
            "fp32",
            "--output_path",
            str(result),
            "--log_level",
            "WARNING",
        ]
        if exclude_nodes:
            cmd += ["--nodes_to_exclude", *(re.escape(name) + "$" for name in exclude_nodes)]
        if op_types:
            cmd += ["--op_types_to_quantize", *op_types]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not result.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise EdgewatchError(f"ModelOpt could not quantize {fp32_onnx.name}: {last}")
        model = load_model(result)
    return save_model(write_metadata(model, meta.with_precision("int8")), out)
