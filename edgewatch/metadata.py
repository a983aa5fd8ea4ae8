"""The one model-metadata type: what an exported model says about itself, read by every runtime and writer.

Public API: :class:`ModelMetadata` (frozen), ``ModelMetadata.from_props(metadata_props)``,
``ModelMetadata.from_onnx(path)``, ``meta.to_props()``, ``meta.with_precision(p)``; :data:`METADATA_KEY`.

The exporter writes it into the ONNX ``metadata_props`` under :data:`METADATA_KEY` as one JSON object;
ONNX Runtime sessions, the TensorRT engine runtime (from the manifest beside an engine), the nvinfer
config writer and the evaluation tools all read it through this class, so no reader guesses at keys.
A plain ultralytics ONNX (no edgewatch entry) is read from ultralytics' own ``names`` / ``imgsz`` /
``end2end`` entries, so a user's own export still runs.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgewatch.behaviour.features import FeatureSpec
from edgewatch.errors import EdgewatchError

METADATA_KEY = "edgewatch"


@dataclass(frozen=True)
class ModelMetadata:
    """What an edgewatch model is and how to feed it (detector fields, temporal fields, or neither)."""

    kind: str | None = None  # "detector" | "temporal"; None: a model without metadata
    precision: str | None = None  # "fp32" | "fp16" | "int8"
    # detector: input size, stride, class names, letterboxed input, output layout (CONTRACT 1)
    names: tuple[str, ...] = ()
    imgsz: tuple[int, int] | None = None
    stride: int | None = None
    letterbox: bool | None = None  # True: the input is letterboxed (edgewatch.detect.letterbox)
    layout: str | None = None  # "xyxy_score_class" ([B, N, 6]) | "yolo_raw" ([B, 4 + C, N])
    source: str | None = None  # the weights file it was exported from
    # temporal: feature spec, labels and which labels apply to which class (CONTRACT 4)
    feature_spec: FeatureSpec | None = None
    behaviours: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    applies_to: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    model: str | None = None  # architecture: transformer | lstm | gru
    window: int | None = None  # input steps W (a model trained on raw sequences has no feature spec)
    num_features: int | None = None  # input features F
    min_history: float | None = None  # seconds of track before a first verdict

    @classmethod
    def from_json(cls, text: str) -> ModelMetadata:
        """Parse the edgewatch JSON entry; keys this version does not know are ignored (newer exporters)."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("metadata is not a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: v for k, v in raw.items() if k in known}
        for key in ("names", "behaviours", "classes"):
            if key in values:
                values[key] = tuple(values[key])
        if values.get("imgsz") is not None:
            size = list(values["imgsz"])
            values["imgsz"] = (int(size[0]), int(size[-1]))
        if "applies_to" in values:
            values["applies_to"] = {str(c): tuple(b) for c, b in dict(values["applies_to"] or {}).items()}
        spec = values.get("feature_spec")
        if spec is not None:
            values["feature_spec"] = FeatureSpec.from_json(spec if isinstance(spec, str) else json.dumps(spec))
        if values.get("min_history") is not None:
            values["min_history"] = float(values["min_history"])
        return cls(**values)

    @classmethod
    def from_props(cls, props: Mapping[str, str], where: str | Path = "model") -> ModelMetadata:
        """From ONNX ``metadata_props``: the edgewatch entry, else ultralytics' own, else empty."""
        try:
            if METADATA_KEY in props:
                return cls.from_json(props[METADATA_KEY])
            if "names" in props:
                return _from_ultralytics(props)
        except (ValueError, SyntaxError, TypeError, EdgewatchError) as exc:
            raise EdgewatchError(f"{where}: unreadable model metadata ({exc.__class__.__name__})") from exc
        return cls()

    @classmethod
    def from_onnx(cls, path: str | Path) -> ModelMetadata:
        """Read a model file's metadata without building a session (the DeepStream config writer's way)."""
        from edgewatch.runtime.model_file import read_onnx  # onnx only when a file is read

        model = read_onnx(path)
        return cls.from_props({p.key: p.value for p in model.metadata_props}, path)

    def to_json(self) -> str:
        """The edgewatch JSON entry: the fields that are set (feature spec nested as its own JSON text, as
        every released reader expects)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or (isinstance(value, (tuple, Mapping)) and not value):
                continue
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, FeatureSpec):
                value = value.to_json()
            elif isinstance(value, Mapping):
                value = {k: list(v) for k, v in value.items()}
            out[f.name] = value
        return json.dumps(out)

    def to_props(self) -> dict[str, str]:
        """The ``metadata_props`` entry to write."""
        return {METADATA_KEY: self.to_json()}

    def with_precision(self, precision: str) -> ModelMetadata:
        """The same metadata for a variant file (FP16, INT8) of the model."""
        return dataclasses.replace(self, precision=precision)


def _from_ultralytics(props: Mapping[str, str]) -> ModelMetadata:
    names = ast.literal_eval(props["names"])  # ultralytics writes str(dict): {0: 'person', ...}
    imgsz = list(ast.literal_eval(props["imgsz"])) if "imgsz" in props else None
    return ModelMetadata(
        kind="detector",
        names=tuple(names[i] for i in sorted(names)) if isinstance(names, dict) else tuple(names),
        imgsz=(int(imgsz[0]), int(imgsz[-1])) if imgsz else None,
        stride=int(props["stride"]) if "stride" in props else None,
        # end2end heads (YOLOv10/YOLO26) emit [B, 300, 6] rows; the others the raw [B, 4+C, N] head
        layout="xyxy_score_class" if props.get("end2end") == "True" else "yolo_raw",
    )
