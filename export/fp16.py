"""FP16 ONNX: float16 weights and arithmetic inside, float32 inputs and outputs kept.

TensorRT 11 builds precision from the graph's types (strongly typed networks, no FP16 builder flag),
so an FP16 engine needs an FP16 ONNX. Keeping the I/O in float32 means the same preprocessing,
decoder and DeepStream config work for every precision. The converter is ONNX Runtime's own
``onnxruntime.transformers.float16`` (already a dependency; it keeps Resize scales and other
shape-like inputs in float32 and clamps weights into the float16 range).
"""

from __future__ import annotations

from pathlib import Path

import onnxslim
from edgewatch.export.onnxfile import load_model, save_model, with_precision
from onnxruntime.transformers.float16 import convert_float_to_float16


def convert_fp16(fp32_onnx: Path, out: Path) -> Path:
    """Write a float16 copy of ``fp32_onnx`` to ``out`` with float32 inputs/outputs."""
    model = convert_float_to_float16(load_model(fp32_onnx), keep_io_types=True)
    # The converter appends the input casts at the end of the node list; onnxslim re-sorts the graph
    # topologically (which onnx.checker and TensorRT require) and folds the cast pairs it leaves.
    model = onnxslim.slim(model)
    return save_model(with_precision(model, "fp16"), out)
