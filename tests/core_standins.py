"""Tiny ONNX stand-ins with the real models' interfaces (CONTRACT 1 and 4), built with onnx.helper.

Tests of the runtime and the stages need a detector and a behaviour model whose outputs are known
exactly; these graphs are a few nodes, build in milliseconds and need no training or download.
Other helpers' tests may import them too (``from core_standins import ...``: pytest puts ``tests/`` on
the import path).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def _save(graph: onnx.GraphProto, path: Path, metadata: dict[str, str]) -> Path:
    model = helper.make_model(graph, opset_imports=OPSET)
    model.ir_version = 8
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def constant_detector(
    path: Path,
    rows: np.ndarray,
    imgsz: tuple[int, int] = (64, 64),
    names: tuple[str, ...] = ("person", "car"),
    layout: str = "xyxy_score_class",
    metadata: str = "edgewatch",
    precision: str = "fp32",
) -> Path:
    """A detector that outputs ``rows`` for every image of the batch, whatever the pixels.

    ``rows`` is ``[N, 6]`` (layout xyxy_score_class) or ``[4 + C, N]`` (layout yolo_raw), in
    network-input pixels. Input ``input`` [B, 3, H, W] with a dynamic batch axis; output ``output``.
    ``metadata``: "edgewatch" (CONTRACT 1), "ultralytics" (a plain ultralytics export's) or "none".
    """
    rows = np.asarray(rows, np.float32)
    nodes = [
        helper.make_node("Shape", ["input"], ["in_shape"], start=0, end=1),
        helper.make_node("Concat", ["in_shape", "row_shape"], ["out_shape"], axis=0),
        helper.make_node("Expand", ["rows", "out_shape"], ["output"]),
    ]
    inits = [
        numpy_helper.from_array(rows[None], "rows"),
        numpy_helper.from_array(np.array(rows.shape, np.int64), "row_shape"),
    ]
    graph = helper.make_graph(
        nodes,
        "constant_detector",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, *imgsz])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", *rows.shape])],
        inits,
    )
    metas = {
        "edgewatch": {
            "edgewatch": json.dumps(
                {
                    "kind": "detector",
                    "imgsz": list(imgsz),
                    "stride": 32,
                    "names": list(names),
                    "letterbox": True,
                    "layout": layout,
                    "precision": precision,
                }
            )
        },
        "ultralytics": {"names": str(dict(enumerate(names))), "imgsz": str(list(imgsz)), "end2end": "False"},
        "none": {},
    }
    return _save(graph, path, metas[metadata])


def linear_behaviour_model(
    path: Path,
    spec_json: str,
    num_features: int,
    behaviours: tuple[str, ...],
    classes: tuple[str, ...],
    weights: np.ndarray | None = None,
) -> Path:
    """A temporal model: logits = (masked sum over time of ``tracks``) @ ``weights`` [F, K].

    Same inputs/outputs/metadata as the real one (CONTRACT 4); default weights make behaviour k follow
    feature k, so a test can steer the verdict through the features.
    """
    k = len(behaviours)
    w = np.eye(num_features, k, dtype=np.float32) if weights is None else weights.astype(np.float32)
    nodes = [
        helper.make_node("Unsqueeze", ["mask", "last_axis"], ["mask3"]),
        helper.make_node("Mul", ["tracks", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "time_axis"], ["pooled"], keepdims=0),
        helper.make_node("MatMul", ["pooled", "weights"], ["logits"]),
    ]
    inits = [
        numpy_helper.from_array(w, "weights"),
        numpy_helper.from_array(np.array([-1], np.int64), "last_axis"),
        numpy_helper.from_array(np.array([1], np.int64), "time_axis"),
    ]
    graph = helper.make_graph(
        nodes,
        "linear_behaviour",
        [
            helper.make_tensor_value_info("tracks", TensorProto.FLOAT, ["batch", "window", num_features]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "window"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", k])],
        inits,
    )
    meta = {"kind": "temporal", "feature_spec": spec_json, "behaviours": list(behaviours), "classes": list(classes)}
    return _save(graph, path, {"edgewatch": json.dumps(meta)})
