"""ONNX Runtime wrappers for the two models the pipeline runs: the YOLO detector and the behaviour model.

Public API:

- ``OnnxModel(path, num_threads=0)``: a CPU session plus the model's metadata (``.metadata``: the
  ``edgewatch`` JSON entry, else what ultralytics' own metadata says), ``.input_shape``, ``.run(x)``.
- ``OnnxDetector(path, ...)`` / ``OnnxDetector.from_config(DetectorConfig)``: ``detector(images)``
  takes RGB frames and returns one :class:`Detections` per frame in *frame* pixels (letterbox,
  one ORT call per batch, decode + class-aware NMS, unletterbox, class filter).
- ``OnnxBehaviourModel(path)``: the temporal model of CONTRACT 4 with ``.spec``, ``.behaviours``,
  ``.classes``, ``.predict(x [B,W,F], mask [B,W]) -> probabilities [B,K]`` and the optional metadata
  ``applies_to`` ({class: [behaviours]}, see ``.allowed(class_name)``) and ``min_history`` (seconds).

Every mismatch between a model and what the config expects (input size, precision, class names,
kind of model) is an :class:`EdgewatchError` naming the file, raised at construction, before any
frame is read.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from edgewatch.behaviour.features import FeatureSpec
from edgewatch.config import DetectorConfig
from edgewatch.detect.decode import decode
from edgewatch.detect.letterbox import preprocess, unletterbox_boxes
from edgewatch.errors import EdgewatchError
from edgewatch.runtime.int8 import with_uint8_activations
from edgewatch.types import Detections

METADATA_KEY = "edgewatch"
# ORT's NCHWc layout pass only serves convolutions (a temporal model has none), and in onnxruntime 1.31
# it crashes (SIGSEGV) while building a session for the FP16 Transformer encoder.
TEMPORAL_DISABLED_OPTIMIZERS = ("NchwcTransformer",)
_NUMPY_OF_ORT = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


class OnnxModel:
    """One CPU inference session with its metadata; inputs are cast to the model's input type."""

    def __init__(self, path: str | Path, num_threads: int = 0, disabled_optimizers: Sequence[str] = ()) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise EdgewatchError(f"{self.path}: no such ONNX file")
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
                _cpu_model(self.path), options, providers=["CPUExecutionProvider"],
                disabled_optimizers=list(disabled_optimizers),
            )
        except Exception as exc:  # ORT raises several unrelated types for a damaged file
            raise EdgewatchError(
                f"{self.path}: not a loadable ONNX model ({' '.join(str(exc).split())[:200]})"
            ) from exc
        self.inputs = self.session.get_inputs()
        self.output_names = [o.name for o in self.session.get_outputs()]
        try:
            self.metadata = _read_metadata(self.session.get_modelmeta().custom_metadata_map)
        except (ValueError, SyntaxError) as exc:
            raise EdgewatchError(f"{self.path}: unreadable model metadata ({exc.__class__.__name__})") from exc
        self.output_shape = list(self.session.get_outputs()[0].shape)

    @property
    def input_shape(self) -> list[int | str | None]:
        """The first input's shape as ONNX states it (symbolic dimensions are names or None)."""
        return list(self.inputs[0].shape)

    def run(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """Run with the inputs in declaration order; returns all outputs."""
        feeds = {
            i.name: a.astype(_NUMPY_OF_ORT.get(i.type, a.dtype), copy=False)
            for i, a in zip(self.inputs, arrays, strict=True)
        }
        return [o.astype(np.float32, copy=False) for o in self.session.run(self.output_names, feeds)]


def _cpu_model(path: Path) -> str | bytes:
    """What ONNX Runtime should load: the path itself, or for a Q/DQ INT8 model its uint8-activation
    rewrite (see :mod:`edgewatch.runtime.int8`), without which the INT8 file runs slower than FP32 here."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # a damaged file: let ONNX Runtime report it in its own words
        return str(path)
    if not any(node.op_type == "QuantizeLinear" for node in model.graph.node):
        return str(path)
    return with_uint8_activations(model).SerializeToString()


def _read_metadata(custom: dict[str, str]) -> dict[str, Any]:
    """The ``edgewatch`` JSON entry; for a plain ultralytics export, its ``names``/``imgsz`` in the same shape."""
    if METADATA_KEY in custom:
        return json.loads(custom[METADATA_KEY])
    if "names" not in custom:
        return {}
    names = ast.literal_eval(custom["names"])  # ultralytics writes str(dict): {0: 'person', ...}
    meta: dict[str, Any] = {
        "kind": "detector",
        "names": [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names),
        # end2end heads (YOLOv10/YOLO26) emit [B, 300, 6] rows; the others the raw [B, 4+C, N] head
        "layout": "xyxy_score_class" if custom.get("end2end") == "True" else "yolo_raw",
    }
    if "imgsz" in custom:
        meta["imgsz"] = list(ast.literal_eval(custom["imgsz"]))
    return meta


class OnnxDetector:
    """YOLO detector: RGB frames in, frame-pixel :class:`Detections` out (the whole CPU ``nvinfer``)."""

    def __init__(
        self,
        path: str | Path,
        conf_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        max_det: int = 300,
        input_size: Sequence[int] | None = None,
        classes: Sequence[str] = (),
        labels_file: Path | None = None,
        precision: str | None = None,
        num_threads: int = 0,
    ) -> None:
        self.model = OnnxModel(path, num_threads)
        meta = self.model.metadata
        where = self.model.path
        if meta.get("kind", "detector") != "detector":
            raise EdgewatchError(f"{where}: is a '{meta['kind']}' model, not a detector")
        if precision is not None and meta.get("precision", precision) != precision:
            raise EdgewatchError(f"{where}: model precision is {meta['precision']} but the config says {precision}")
        self.input_size = _input_size(self.model, meta, input_size)
        self.batch_limit = _fixed_batch(self.model)
        self.layout: str = meta.get("layout") or _guess_layout(self.model.output_shape)
        self.names = _read_labels(labels_file) if labels_file is not None else list(meta.get("names", []))
        classes_out = self.model.output_shape[1]
        if (
            self.layout == "yolo_raw"
            and isinstance(classes_out, int)
            and self.names
            and len(self.names) != classes_out - 4
        ):
            raise EdgewatchError(
                f"{where}: the model scores {classes_out - 4} classes but {len(self.names)} names are given"
            )
        unknown = [c for c in classes if c not in self.names]
        if unknown:
            raise EdgewatchError(f"{where}: classes {unknown} are not among the model's classes {self.names}")
        self.class_filter = np.array([self.names.index(c) for c in classes], dtype=np.int64) if classes else None
        self.conf_threshold, self.iou_threshold, self.max_det = conf_threshold, iou_threshold, max_det

    @classmethod
    def from_config(cls, cfg: DetectorConfig) -> OnnxDetector:
        """The detector as ``[primary-gie]`` describes it."""
        return cls(
            cfg.onnx_file,
            cfg.pre_cluster_threshold,
            cfg.nms_iou_threshold,
            cfg.topk,
            cfg.input_size,
            cfg.classes,
            cfg.labels_file,
            cfg.precision,
            cfg.num_threads,
        )

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        """Raw network output for a preprocessed ``[B, 3, H, W]`` tensor (chunked for fixed-batch models)."""
        step = self.batch_limit or tensor.shape[0]
        outs = []
        for start in range(0, tensor.shape[0], step):
            chunk = tensor[start : start + step]
            pad = step - chunk.shape[0]
            padded = np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), chunk.dtype)]) if pad else chunk
            outs.append(self.model.run(padded)[0][: chunk.shape[0]])
        return np.concatenate(outs)

    def __call__(self, images: list[np.ndarray]) -> list[Detections]:
        """Detect in a batch of RGB ``[H, W, 3]`` uint8 frames with one inference call."""
        if not images:
            return []
        tensor, infos = preprocess(images, self.input_size)
        raw = decode(self.infer(tensor), self.layout, self.conf_threshold, self.iou_threshold, self.max_det)
        out = []
        for dets, info, image in zip(raw, infos, images, strict=True):
            dets = Detections(unletterbox_boxes(dets.boxes, info, image.shape[:2]), dets.scores, dets.class_ids)
            out.append(dets if self.class_filter is None else dets.select(np.isin(dets.class_ids, self.class_filter)))
        return out


def _input_size(model: OnnxModel, meta: dict[str, Any], wanted: Sequence[int] | None) -> tuple[int, int]:
    """The network input (h, w): fixed by the model, else the config, else the metadata; all must agree."""
    shape = model.input_shape
    channels_ok = len(shape) == 4 and (shape[1] == 3 or not isinstance(shape[1], int))
    if not channels_ok:
        raise EdgewatchError(f"{model.path}: input shape {shape} is not [B, 3, H, W]")
    fixed = tuple(shape[2:]) if all(isinstance(d, int) for d in shape[2:]) else None
    config = (wanted[0], wanted[-1]) if wanted else None
    if fixed and config and fixed != config:
        raise EdgewatchError(
            f"{model.path}: model input is {fixed[0]}x{fixed[1]} "
            f"but [primary-gie] input-size is {config[0]}x{config[1]}"
        )
    imgsz = meta.get("imgsz")
    size = fixed or config or ((imgsz[0], imgsz[-1]) if imgsz else None)
    if size is None:
        raise EdgewatchError(
            f"{model.path}: input size is dynamic and neither metadata nor [primary-gie] input-size gives it"
        )
    return int(size[0]), int(size[1])


def _guess_layout(output_shape: list[int | str | None]) -> str:
    """For a model without metadata: rows of 6 are DeepStream-Yolo style, anything else the raw head."""
    return "xyxy_score_class" if output_shape[-1] == 6 else "yolo_raw"


def _fixed_batch(model: OnnxModel) -> int | None:
    """The batch size a static-batch export (ultralytics' default) insists on; None when dynamic."""
    batch = model.input_shape[0]
    return batch if isinstance(batch, int) and batch > 0 else None


def _read_labels(path: Path) -> list[str]:
    if not path.is_file():
        raise EdgewatchError(f"{path}: no such labels file")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class OnnxBehaviourModel:
    """The temporal behaviour model (CONTRACT 4): per-track feature windows in, behaviour probabilities out."""

    def __init__(self, path: str | Path, num_threads: int = 1) -> None:
        self.model = OnnxModel(path, num_threads, TEMPORAL_DISABLED_OPTIMIZERS)
        self.path = self.model.path
        meta = self.model.metadata
        if meta.get("kind") != "temporal" or meta.get("feature_spec") is None:
            raise EdgewatchError(
                f"{self.path}: no edgewatch temporal metadata (kind/feature_spec); is it a behaviour model?"
            )
        spec = meta["feature_spec"]
        self.spec: FeatureSpec = FeatureSpec.from_json(spec if isinstance(spec, str) else json.dumps(spec))
        fixed = self.model.input_shape[1:]
        if any(
            isinstance(d, int) and d != want
            for d, want in zip(fixed, (self.spec.window, self.spec.num_features), strict=False)
        ):
            raise EdgewatchError(
                f"{self.path}: input 'tracks' is {fixed} but its feature spec gives [window={self.spec.window}, "
                f"features={self.spec.num_features}]"
            )
        self.behaviours: list[str] = list(meta["behaviours"])
        self.classes: list[str] = list(meta.get("classes") or self.spec.classes)
        # which behaviours can apply to a class (a car never "loiters"); absent: all of them to every class
        self.applies_to: dict[str, list[str]] = dict(meta.get("applies_to", {}))
        self.min_history: float = float(meta.get("min_history", 0.0))  # seconds of track before a first verdict

    def allowed(self, class_name: str) -> np.ndarray:
        """Boolean ``[K]``: the behaviours the model may give an object of ``class_name``."""
        names = self.applies_to.get(class_name, self.behaviours)
        return np.isin(self.behaviours, names)

    def predict(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Softmax probabilities ``[B, K]`` for feature windows ``x [B, W, F]`` with validity ``mask [B, W]``."""
        if x.shape[0] == 0:
            return np.zeros((0, len(self.behaviours)), np.float32)
        logits = self.model.run(x, mask)[0]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
