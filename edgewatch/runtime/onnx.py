"""ONNX Runtime implementation of :class:`~edgewatch.runtime.session.ModelSession` (the CPU backend's runtime).

Public API: ``OnnxSession(path, num_threads=0, disabled_optimizers=())`` with ``.metadata``
(:class:`~edgewatch.metadata.ModelMetadata`), ``.input_names``, ``.input_shape``, ``.output_shape``,
``.run(*arrays)``; :data:`TEMPORAL_DISABLED_OPTIMIZERS` for sessions of the behaviour model.

A damaged or unreadable file is an :class:`EdgewatchError` naming it, raised at construction,
before ONNX Runtime sees it (:func:`~edgewatch.runtime.model_file.read_onnx`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata
from edgewatch.runtime.int8 import with_uint8_activations
from edgewatch.runtime.model_file import read_onnx
from edgewatch.runtime.session import Shape

# ORT's NCHWc layout pass only serves convolutions (a temporal model has none), and in onnxruntime 1.31
# it crashes (SIGSEGV) while building a session for the FP16 Transformer encoder.
TEMPORAL_DISABLED_OPTIMIZERS = ("NchwcTransformer",)
_NUMPY_OF_ORT = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


class OnnxSession:
    """One CPU inference session with its metadata; inputs are cast to the model's input type."""

    def __init__(self, path: str | Path, num_threads: int = 0, disabled_optimizers: Sequence[str] = ()) -> None:
        self.path = Path(path)
        model = read_onnx(self.path)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1  # the graphs are sequential; extra pools only compete for cores
        options.log_severity_level = 3
        # idle ORT workers sleep instead of spinning: spinning threads steal the cores that GStreamer's
        # decode and encode threads need on a small edge CPU
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                _cpu_model(model, self.path), options, providers=["CPUExecutionProvider"],
                disabled_optimizers=list(disabled_optimizers),
            )
        except Exception as exc:  # ORT raises several unrelated types for a damaged file
            raise EdgewatchError(
                f"{self.path}: not a loadable ONNX model ({' '.join(str(exc).split())[:200]})"
            ) from exc
        self._inputs = self.session.get_inputs()
        self._outputs = self.session.get_outputs()
        self.input_names = [i.name for i in self._inputs]
        self.output_names = [o.name for o in self._outputs]
        self.metadata = ModelMetadata.from_props(self.session.get_modelmeta().custom_metadata_map, self.path)

    @property
    def input_shape(self) -> Shape:
        return list(self._inputs[0].shape)

    @property
    def output_shape(self) -> Shape:
        return list(self._outputs[0].shape)

    def run(self, *arrays: np.ndarray) -> list[np.ndarray]:
        feeds = {
            i.name: a.astype(_NUMPY_OF_ORT.get(i.type, a.dtype), copy=False)
            for i, a in zip(self._inputs, arrays, strict=True)
        }
        return [o.astype(np.float32, copy=False) for o in self.session.run(self.output_names, feeds)]


def _cpu_model(model: onnx.ModelProto, path: Path) -> str | bytes:
    """What ONNX Runtime should load: the path itself, or for a Q/DQ INT8 model its uint8-activation
    rewrite (see :mod:`edgewatch.runtime.int8`), without which the INT8 file runs slower than FP32 here."""
    if not any(node.op_type == "QuantizeLinear" for node in model.graph.node):
        return str(path)
    return with_uint8_activations(model).SerializeToString()
