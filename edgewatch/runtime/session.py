"""The model-session contract every runtime implements (ONNX Runtime here, TensorRT engines on NVIDIA).

Public API: :class:`ModelSession` (a Protocol). The detector and the behaviour model are written
against it, never against an ONNX Runtime or TensorRT class, so the same core code runs a model on the
CPU, inside a DeepStream probe, or in a benchmark, whatever executes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from edgewatch.metadata import ModelMetadata

Shape = list[int | str | None]  # a dimension is a size, a symbolic name, or unknown


class ModelSession(Protocol):
    """One loaded model: its file, its metadata, its inputs and outputs, and a float32 ``run``."""

    path: Path
    metadata: ModelMetadata
    input_names: list[str]
    output_names: list[str]

    @property
    def input_shape(self) -> Shape:
        """The first input's shape as the model states it."""
        ...

    @property
    def output_shape(self) -> Shape:
        """The first output's shape as the model states it."""
        ...

    def run(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """Run with the inputs in declaration order (cast to the model's input types); float32 outputs."""
        ...
