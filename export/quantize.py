"""INT8 post-training quantization to explicit Q/DQ ONNX that TensorRT 8.5 to 11 and ONNX Runtime accept.

TensorRT builds INT8 from QuantizeLinear/DequantizeLinear pairs in the graph (its calibrator API is
deprecated in 10.1 and gone in 11), and it only takes *symmetric* int8 Q/DQ: zero point 0 for
activations, per-channel symmetric weights. ONNX Runtime's ``quantize_static`` writes exactly that
with ``ActivationSymmetric``/``WeightSymmetric``; biases stay float (``QuantizeBias=False``) because
TensorRT 8.5 rejects int32 DequantizeLinear inputs and fuses float biases into its int8 kernels anyway.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from edgewatch.export.onnxfile import load_model, save_model, with_precision
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quant_pre_process,
    quantize_static,
)
from tqdm import tqdm

from edgewatch.errors import EdgewatchError

METHODS: Mapping[str, CalibrationMethod] = {
    "minmax": CalibrationMethod.MinMax,
    "entropy": CalibrationMethod.Entropy,
    "percentile": CalibrationMethod.Percentile,
}

# Calibration runs the graph with every intermediate tensor as an output; collecting that many
# samples at a time bounds memory (an n-sized YOLO at 640 px keeps ~100 MB of activations per frame).
_CALIB_CHUNK = 8

Feed = Mapping[str, np.ndarray]


class _FeedReader(CalibrationDataReader):
    """ORT's calibration reader over a sized sequence of input feeds, in chunks (``set_range``).

    Calibrating hundreds of frames takes minutes, so it reports progress as samples are consumed.
    """

    def __init__(self, feeds: Sequence[Feed], progress: tqdm) -> None:
        self._feeds, self._progress = feeds, progress
        self._pos, self._end = 0, len(feeds)

    def __len__(self) -> int:
        return len(self._feeds)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._pos, self._end = start_index, end_index

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._pos >= self._end:
            return None
        feed = dict(self._feeds[self._pos])
        self._pos += 1
        self._progress.update()
        return feed


def _chunk_size(n: int) -> int:
    """The largest divisor of ``n`` not above ``_CALIB_CHUNK`` (ORT requires chunks that tile ``n``)."""
    return max(d for d in range(1, min(n, _CALIB_CHUNK) + 1) if n % d == 0)


def quantize_qdq(
    fp32_onnx: Path,
    out: Path,
    calibration: Iterable[Feed],
    method: str = "minmax",
    exclude_nodes: Sequence[str] = (),
    op_types: Sequence[str] | None = None,
) -> Path:
    """Write a TensorRT-compatible INT8 Q/DQ copy of ``fp32_onnx`` calibrated on ``calibration``.

    ``calibration`` yields input feeds (``{input_name: array}``) prepared exactly like inference
    inputs; a sized sequence (``len`` + indexing) is read lazily, any other iterable is materialised.
    ``exclude_nodes`` names nodes of the FP32 graph kept in float (accuracy-critical layers);
    ``op_types`` restricts which operator types get Q/DQ (``None``: ONNX Runtime's default set);
    only those ops' tensors are calibrated, so a Transformer passes ``("MatMul", "Gemm")`` to keep its
    ``-inf`` attention masks out of the entropy/percentile histograms.
    """
    if method not in METHODS:
        raise EdgewatchError(f"unknown calibration method {method!r} (choose from {', '.join(METHODS)})")
    model = load_model(fp32_onnx)
    unknown = sorted(set(exclude_nodes) - {node.name for node in model.graph.node})
    if unknown:
        raise EdgewatchError(f"{fp32_onnx}: cannot keep unknown nodes in float: {', '.join(unknown)}")
    feeds = calibration if isinstance(calibration, Sequence) else list(calibration)
    if len(feeds) == 0:
        raise EdgewatchError("INT8 calibration needs at least one input sample")

    with tempfile.TemporaryDirectory(prefix="edgewatch-int8-") as tmp:
        prepared, quantized = Path(tmp) / "prepared.onnx", Path(tmp) / "int8.onnx"
        # ONNX shape inference only: the graph is already simplified, ORT's optimizer would rename the
        # nodes ``exclude_nodes`` refers to, and ORT's symbolic shape inference asserts on the
        # Reshape patterns of exported Transformer encoders.
        quant_pre_process(str(fp32_onnx), str(prepared), skip_optimization=True, skip_symbolic_shape=True)
        progress = tqdm(total=len(feeds), desc=f"INT8 calibration ({method})", unit="sample", leave=False)
        with progress:
            quantize_static(
                str(prepared),
                str(quantized),
                _FeedReader(feeds, progress),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QInt8,
                weight_type=QuantType.QInt8,
                per_channel=True,
                calibrate_method=METHODS[method],
                nodes_to_exclude=list(exclude_nodes),
                op_types_to_quantize=list(op_types) if op_types is not None else None,
                extra_options={
                    "ActivationSymmetric": True,
                    "WeightSymmetric": True,
                    "QuantizeBias": False,
                    "CalibStridedMinMax": _chunk_size(len(feeds)),
                },
            )
        return save_model(with_precision(load_model(quantized), "int8"), out)
