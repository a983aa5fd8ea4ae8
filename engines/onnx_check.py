"""Offline TensorRT compatibility check of an ONNX file: what the TensorRT ONNX parser would refuse.

Public API: :data:`SUPPORT_MATRIX`, :class:`TensorRTTable`, :func:`check_model`, :func:`check_file`,
:func:`format_report`, :func:`summary`.

No TensorRT runs here, so ``make engines`` would be the first to find out that an export cannot be
built. This check reads the graph with ``onnx`` and applies the parser's documented rules for each
TensorRT version edgewatch supports: every operator in the parser's support table (the operators
table NVIDIA's onnx-tensorrt parser documents per release), the opset inside the documented range,
and the rules TensorRT has for explicit quantization: Q/DQ in int8 with zero point 0 and constant
scales, no int32 DequantizeLinear (a quantized bias; TensorRT fuses float biases itself), and
constant Conv weights (an initializer, or a Q/DQ of one).

Tables: the parser's table for 8.5 and for 10.1 and 10.15 are encoded below; a version without a
published table of its own is checked against the newest documented table at or below it (10.3 and
10.9 against 10.1's, 10.16 and 11 against 10.15's). The parser only ever adds operators, so that errs
on the safe side: an operator added in 10.2 to 10.9 would be reported for 10.3 and 10.9.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from edgewatch.errors import EdgewatchError

_TRT_8_5 = frozenset(
    """
    Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization Cast Ceil Celu Clip
    Concat Constant ConstantOfShape Conv ConvTranspose Cos Cosh CumSum DepthToSpace DequantizeLinear Div Dropout
    Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor GRU Gather GatherElements GatherND Gemm
    GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample HardSigmoid HardSwish Identity
    If ImageScaler InstanceNormalization IsNaN LRN LSTM LeakyRelu Less LessOrEqual Log LogSoftmax Loop
    LpNormalization LpPool MatMul Max MaxPool Mean MeanVarianceNormalization Min Mod Mul Neg NonMaxSuppression
    NonZero Not OneHot Or PRelu Pad ParametricSoftplus Pow QuantizeLinear RNN RandomNormal RandomNormalLike
    RandomUniform RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax
    ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence RoiAlign Round
    ScaledTanh Scan Scatter ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax
    Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose Trilu
    Unsqueeze Upsample Where Xor
    """.split()
)
_TRT_10_1 = _TRT_8_5 | {
    "CastLike",
    "DeformConv",
    "Gelu",
    "GroupNormalization",
    "Hardmax",
    "IsInf",
    "LayerNormalization",
    "Mish",
}
_TRT_10_15 = _TRT_10_1 | {
    "Attention",
    "BlackmanWindow",
    "HammingWindow",
    "HannWindow",
    "RMSNormalization",
    "RotaryEmbedding",
    "STFT",
    "TensorScatter",
}


@dataclass(frozen=True)
class TensorRTTable:
    """What one TensorRT version's ONNX parser takes: operators and the inclusive opset range."""

    version: str  # the TensorRT version checked
    table: str  # the parser release whose published table is applied
    operators: frozenset[str]
    opset_min: int
    opset_max: int
    deployment: str  # where users meet this version


SUPPORT_MATRIX: tuple[TensorRTTable, ...] = (
    TensorRTTable("8.5", "8.5", _TRT_8_5, 1, 17, "JetPack 5.1 / DeepStream 6.3"),
    TensorRTTable("10.3", "10.1", _TRT_10_1, 9, 20, "JetPack 6.x / DeepStream 7.1"),
    TensorRTTable("10.9", "10.1", _TRT_10_1, 9, 20, "DeepStream 8.0"),
    TensorRTTable("10.16", "10.15", _TRT_10_15, 9, 24, "DeepStream 9.x"),
    TensorRTTable("11", "10.15", _TRT_10_15, 9, 24, "TensorRT 11 (strongly typed only)"),
)

_QDQ = ("QuantizeLinear", "DequantizeLinear")


def _table(version: str) -> TensorRTTable:
    for table in SUPPORT_MATRIX:
        if table.version == version:
            return table
    known = ", ".join(t.version for t in SUPPORT_MATRIX)
    raise EdgewatchError(f"unknown TensorRT version {version!r} (checked versions: {known})")


def _graph_rules(model: onnx.ModelProto) -> list[str]:
    """Problems every TensorRT version has with the graph (Q/DQ and constant-weight rules)."""
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    constants = {o: n for n in graph.node if n.op_type == "Constant" for o in n.output}
    producer = {o: n for n in graph.node for o in n.output}

    def constant(name: str) -> np.ndarray | None:
        if name in initializers:
            return numpy_helper.to_array(initializers[name])
        node = constants.get(name)
        return None if node is None else numpy_helper.to_array(node.attribute[0].t)

    def constant_weight(name: str) -> bool:
        """An initializer, or a Q/DQ chain ending in one (how Q/DQ exports carry Conv weights)."""
        while name not in initializers and name not in constants:
            node = producer.get(name)
            if node is None or node.op_type not in _QDQ:
                return False
            name = node.input[0]
        return True

    problems = []
    for node in graph.node:
        where = f"{node.op_type} '{node.name or node.output[0]}'"
        if node.op_type in _QDQ:
            if len(node.input) < 3 or not node.input[2]:
                problems.append(
                    f"{where}: no zero point (ONNX then means uint8; TensorRT needs int8 with zero point 0)"
                )
            else:
                zero_point = constant(node.input[2])
                if zero_point is None:
                    problems.append(f"{where}: zero point is not a constant")
                elif zero_point.dtype != np.int8:
                    problems.append(f"{where}: zero point is {zero_point.dtype}; TensorRT takes int8 only")
                elif np.any(zero_point != 0):
                    problems.append(f"{where}: zero point is not 0 (TensorRT quantizes symmetrically)")
            if constant(node.input[1]) is None:
                problems.append(f"{where}: scale is not a constant")
        if node.op_type == "DequantizeLinear":
            value = constant(node.input[0])
            if value is not None and value.dtype == np.int32:
                problems.append(f"{where}: dequantizes an int32 tensor (a quantized bias; keep biases float)")
        if node.op_type in {"Conv", "ConvTranspose"} and not constant_weight(node.input[1]):
            problems.append(f"{where}: weights are not a constant (TensorRT needs an initializer)")
    return problems


def check_model(model: onnx.ModelProto, versions: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Problems per TensorRT version (``{version: [problem, ...]}``, empty list: the parser takes it)."""
    tables = SUPPORT_MATRIX if versions is None else tuple(_table(v) for v in versions)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    common = _graph_rules(model)
    ops = sorted({n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx")})
    custom = sorted({f"{n.domain}::{n.op_type}" for n in model.graph.node if n.domain not in ("", "ai.onnx")})
    report = {}
    for table in tables:
        problems = []
        if opset is None or not table.opset_min <= opset <= table.opset_max:
            problems.append(f"opset {opset} outside the parser's {table.opset_min}..{table.opset_max}")
        missing = [op for op in ops if op not in table.operators]
        if missing:
            problems.append(f"operators not in the parser's table: {', '.join(missing)}")
        if custom:
            problems.append(f"custom-domain operators need TensorRT plugins: {', '.join(custom)}")
        report[table.version] = problems + common
    return report


def check_file(path: Path, versions: Sequence[str] | None = None) -> dict[str, list[str]]:
    """:func:`check_model` on a file; a missing or unreadable file is an EdgewatchError naming it."""
    path = Path(path)
    if not path.is_file():
        raise EdgewatchError(f"{path}: no such ONNX file")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError/ValueError/... depending on the damage
        raise EdgewatchError(f"{path}: not a readable ONNX model ({exc.__class__.__name__})") from exc
    return check_model(model, versions)


def format_report(path: Path, report: dict[str, list[str]]) -> Iterable[str]:
    """Lines for a person: one per TensorRT version, then each problem indented under it."""
    for version, problems in report.items():
        table = _table(version)
        verdict = "ok" if not problems else f"{len(problems)} problem(s)"
        yield f"{path}: TensorRT {version} ({table.deployment}, parser table {table.table}): {verdict}"
        for problem in problems[:20]:
            yield f"    {problem}"
        if len(problems) > 20:
            yield f"    ... and {len(problems) - 20} more"


def summary(path: Path, report: dict[str, list[str]]) -> str:
    """One line per file (printed after every export): each version ok, or its first problem."""
    parts = [
        f"{v} ok" if not p else f"{v}: {p[0]}" + (f" (+{len(p) - 1} more)" if len(p) > 1 else "")
        for v, p in report.items()
    ]
    return f"{Path(path).name}: TensorRT parser check: {', '.join(parts)}"
