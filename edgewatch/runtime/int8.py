"""CPU view of a TensorRT-style INT8 Q/DQ model: the same quantized values, laid out for ONNX Runtime.

The exporter writes one INT8 file for every backend (symmetric int8 Q/DQ, what TensorRT needs);
this module only changes how ONNX Runtime loads it, never the file.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper


def with_uint8_activations(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same Q/DQ model with its *activation* zero points moved from int8 to uint8 (+128).

    TensorRT only takes int8 Q/DQ, but ONNX Runtime's x86 kernels are u8 x s8 (VPDPBUSD): with int8
    activations it leaves every Q/DQ pair unfused and runs float convolutions plus the conversions,
    slower than FP32. Shifting the quantized domain by 128 represents exactly the same values
    (``q_u8 = q_s8 + 128``, zero point 0 -> 128), so a CPU session should load this rewrite of the
    TensorRT file (ORT then fuses QLinearConv; its integer requantization may round a value one step
    differently from the float reference path). Weight zero points stay int8: u8 x s8 kernels.
    """
    initializers = {t.name: t for t in model.graph.initializer}
    activation_zps, weight_zps = set(), set()
    for node in model.graph.node:
        if node.op_type in {"QuantizeLinear", "DequantizeLinear"} and len(node.input) > 2:
            on_weight = node.op_type == "DequantizeLinear" and node.input[0] in initializers
            (weight_zps if on_weight else activation_zps).add(node.input[2])
    out = onnx.ModelProto()
    out.CopyFrom(model)
    for tensor in out.graph.initializer:
        if tensor.name in activation_zps - weight_zps and tensor.data_type == onnx.TensorProto.INT8:
            shifted = (numpy_helper.to_array(tensor).astype(np.int16) + 128).astype(np.uint8)
            tensor.CopyFrom(numpy_helper.from_array(shifted, tensor.name))
    return out
