"""The offline TensorRT check of an ONNX: good graphs pass, each documented parser rule catches its bad graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgewatch.cli import main
from edgewatch.engines.onnx_check import SUPPORT_MATRIX, check_file, check_model
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT

VERSIONS = [t.version for t in SUPPORT_MATRIX]


def conv_model(
    opset: int = 17, weight: str = "initializer", qdq: dict | None = None, extra: list | None = None
) -> onnx.ModelProto:
    """x [1,3,8,8] -> (Q/DQ) -> Conv(W) -> y; ``qdq`` sets the activation Q/DQ's zero point dtype/value."""
    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "W")
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])]
    inits, nodes, conv_in = [w], [], "x"
    if qdq is not None:
        inits += [
            numpy_helper.from_array(np.array(0.1, np.float32), "s"),
            numpy_helper.from_array(np.array(qdq.get("zp", 0), qdq.get("dtype", np.int8)), "zp"),
        ]
        zp = [] if qdq.get("omit") else ["zp"]
        nodes += [
            helper.make_node("QuantizeLinear", ["x", "s", *zp], ["xq"], name="q"),
            helper.make_node("DequantizeLinear", ["xq", "s", *zp], ["xd"], name="dq"),
        ]
        conv_in = "xd"
    if weight == "input":
        inputs.append(helper.make_tensor_value_info("W", TensorProto.FLOAT, [4, 3, 3, 3]))
        inits = [i for i in inits if i.name != "W"]
    nodes.append(helper.make_node("Conv", [conv_in, "W"], ["y"], name="conv", pads=[1, 1, 1, 1]))
    nodes += extra or []
    outputs = [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)]
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_a_plain_conv_passes_every_version() -> None:
    assert check_model(conv_model()) == {v: [] for v in VERSIONS}


def test_symmetric_int8_qdq_passes() -> None:
    assert all(p == [] for p in check_model(conv_model(qdq={})).values())


def test_opset_outside_a_versions_range() -> None:
    report = check_model(conv_model(opset=19))
    assert report["8.5"] == ["opset 19 outside the parser's 1..17"]
    assert report["10.3"] == [] and report["11"] == []


def test_operator_missing_from_a_versions_table() -> None:
    norm = helper.make_node("LayerNormalization", ["y", "scale"], ["z"], name="ln", axis=-1)
    model = conv_model(extra=[norm])
    model.graph.initializer.append(numpy_helper.from_array(np.ones(8, np.float32), "scale"))
    report = check_model(model)
    assert report["8.5"] == ["operators not in the parser's table: LayerNormalization"]  # added in 8.6
    assert report["10.3"] == []


def test_unsupported_everywhere_and_custom_domains() -> None:
    model = conv_model(
        extra=[
            helper.make_node("Unique", ["y"], ["u"], name="uniq"),
            helper.make_node("MyPlugin", ["u"], ["p"], name="plug", domain="acme"),
        ]
    )
    for problems in check_model(model).values():
        assert "operators not in the parser's table: Unique" in problems
        assert "custom-domain operators need TensorRT plugins: acme::MyPlugin" in problems


@pytest.mark.parametrize(
    ("qdq", "message"),
    [
        ({"dtype": np.uint8, "zp": 128}, "zero point is uint8; TensorRT takes int8 only"),
        ({"zp": 3}, "zero point is not 0"),
        ({"omit": True}, "no zero point"),
    ],
)
def test_qdq_rules(qdq: dict, message: str) -> None:
    for problems in check_model(conv_model(qdq=qdq)).values():
        assert any(message in p for p in problems), problems


def test_int32_bias_dequantization_is_refused() -> None:
    bias = helper.make_node("DequantizeLinear", ["b32", "bs", "bzp"], ["b"], name="bias_dq")
    add = helper.make_node("Add", ["y", "b"], ["z"], name="add")
    model = conv_model(extra=[bias, add])
    model.graph.initializer.extend(
        [
            numpy_helper.from_array(np.zeros((1, 4, 1, 1), np.int32), "b32"),
            numpy_helper.from_array(np.array(0.01, np.float32), "bs"),
            numpy_helper.from_array(np.array(0, np.int32), "bzp"),
        ]
    )
    problems = check_model(model)["10.3"]
    assert any("dequantizes an int32 tensor" in p for p in problems)


def test_conv_weights_must_be_constant() -> None:
    problems = check_model(conv_model(weight="input"))["10.3"]
    assert problems == ["Conv 'conv': weights are not a constant (TensorRT needs an initializer)"]


@pytest.mark.parametrize("name", ["detector.onnx", "detector_int8.onnx"])
def test_the_sample_detector_passes_every_version(name: str) -> None:
    assert check_file(REPO_ROOT / "models" / "sample" / name) == {v: [] for v in VERSIONS}


def test_cli_exit_code_and_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.onnx", tmp_path / "bad.onnx"
    onnx.save(conv_model(), str(good))
    onnx.save(conv_model(qdq={"zp": 3}), str(bad))
    assert main(["check", "onnx", str(good)]) == 0
    assert main(["check", "onnx", str(bad), "--tensorrt", "10.3"]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: TensorRT 10.3 (JetPack 6.x / DeepStream 7.1, parser table 10.1): 2 problem(s)" in out
    assert main(["check", "onnx", str(tmp_path / "missing.onnx")]) == 2
    assert "edgewatch: error:" in capsys.readouterr().err


def test_unknown_version_is_an_error() -> None:
    with pytest.raises(EdgewatchError, match="unknown TensorRT version"):
        check_model(conv_model(), ["7.2"])
