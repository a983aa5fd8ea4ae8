"""The temporal behaviour model over any :class:`~edgewatch.runtime.session.ModelSession` (CONTRACT 4).

Public API: ``BehaviourModel(session)`` with ``.spec`` (the :class:`FeatureSpec` the model was trained
with), ``.behaviours``, ``.classes``, ``.allowed(class_name)``, ``.min_history`` (seconds) and
``.predict(x [B,W,F], mask [B,W]) -> probabilities [B,K]``; ``BehaviourModel.from_file(path)`` opens
the file with ONNX Runtime. The temporal stage runs it the same way on the CPU and in a DeepStream
probe, whether ONNX Runtime or a TensorRT engine executes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgewatch.behaviour.features import FeatureSpec
from edgewatch.errors import EdgewatchError
from edgewatch.runtime.session import ModelSession


class BehaviourModel:
    """Per-track feature windows in, behaviour probabilities out; refuses a file that is not one."""

    def __init__(self, session: ModelSession) -> None:
        self.session = session
        self.path = session.path
        meta = session.metadata
        if meta.kind != "temporal" or meta.feature_spec is None:
            raise EdgewatchError(
                f"{self.path}: no edgewatch temporal metadata (kind/feature_spec); is it a behaviour model?"
            )
        self.spec: FeatureSpec = meta.feature_spec
        fixed = session.input_shape[1:]
        if any(
            isinstance(d, int) and d != want
            for d, want in zip(fixed, (self.spec.window, self.spec.num_features), strict=False)
        ):
            raise EdgewatchError(
                f"{self.path}: input 'tracks' is {fixed} but its feature spec gives [window={self.spec.window}, "
                f"features={self.spec.num_features}] (a model of an older feature layout? retrain it with "
                "edgewatch train temporal)"
            )
        self.behaviours: list[str] = list(meta.behaviours)
        self.classes: list[str] = list(meta.classes or self.spec.classes)
        # which behaviours can apply to a class (a car never "loiters"); absent: all of them to every class
        self.applies_to = dict(meta.applies_to)
        self.min_history: float = meta.min_history or 0.0

    @classmethod
    def from_file(cls, path: str | Path, num_threads: int = 1) -> BehaviourModel:
        """The behaviour model in ``path`` run by ONNX Runtime (one thread: 64 tracks take ~2 ms)."""
        from edgewatch.runtime.onnx import TEMPORAL_DISABLED_OPTIMIZERS, OnnxSession

        return cls(OnnxSession(path, num_threads, TEMPORAL_DISABLED_OPTIMIZERS))

    def allowed(self, class_name: str) -> np.ndarray:
        """Boolean ``[K]``: the behaviours the model may give an object of ``class_name``."""
        names = self.applies_to.get(class_name, self.behaviours)
        return np.isin(self.behaviours, names)

    def predict(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Softmax probabilities ``[B, K]`` for feature windows ``x [B, W, F]`` with validity ``mask [B, W]``."""
        if x.shape[0] == 0:
            return np.zeros((0, len(self.behaviours)), np.float32)
        logits = self.session.run(x, mask)[0]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
