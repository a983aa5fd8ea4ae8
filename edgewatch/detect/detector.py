"""The YOLO detector over any :class:`~edgewatch.runtime.session.ModelSession`: the whole CPU ``nvinfer``.

Public API:

- ``YoloDetector(session, ...)``: ``detector(images)`` takes RGB frames and returns one
  :class:`Detections` per frame in *frame* pixels (letterbox, one inference call per batch, decode +
  class-aware NMS, unletterbox, class filter). ``YoloDetector.from_file(path, ...)`` opens the file
  with ONNX Runtime; ``YoloDetector.from_config(DetectorConfig)`` builds what ``[primary-gie]`` says.
- ``detector_class_names(DetectorConfig)``: the class names every stage and writer uses (labels file,
  else the model's metadata), read without building a session, so a backend whose detector runs
  elsewhere (DeepStream's nvinfer) names classes exactly as the CPU backend does;
  ``model_labels(labels_file, metadata, model)``: a labels file, refused unless it names each class.

Every mismatch between the model and what the config expects (input size, precision, class names,
kind of model) is an :class:`EdgewatchError` naming the file, raised at construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgewatch.config import DetectorConfig
from edgewatch.detect.decode import decode
from edgewatch.detect.letterbox import preprocess, unletterbox_boxes
from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata
from edgewatch.runtime.session import ModelSession, Shape
from edgewatch.types import Detections


def read_labels(path: Path) -> list[str]:
    """One class name per non-empty line (nvinfer's ``labelfile-path`` format)."""
    if not path.is_file():
        raise EdgewatchError(f"{path}: no such labels file")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def model_labels(labels_file: Path, metadata: ModelMetadata, model: Path) -> list[str]:
    """The names of a labels file, refused unless there is one per class of the model (when the model
    says how many it has): fewer or more would put wrong names on screen and in the events."""
    names = read_labels(labels_file)
    if not names:
        raise EdgewatchError(f"{labels_file}: [primary-gie] labels-file names no class")
    if metadata.names and len(names) != len(metadata.names):
        raise EdgewatchError(
            f"{labels_file}: [primary-gie] labels-file has {len(names)} names but {model} has "
            f"{len(metadata.names)} classes ({', '.join(metadata.names)}); expected one name per class"
        )
    return names


def detector_class_names(config: DetectorConfig, metadata: ModelMetadata | None = None) -> list[str]:
    """``[primary-gie] labels-file`` when set (one name per class of the model), else the names in
    the model's metadata."""
    meta = metadata or ModelMetadata.from_onnx(config.onnx_file)
    if config.labels_file is not None:
        return model_labels(config.labels_file, meta, config.onnx_file)
    return list(meta.names)


class YoloDetector:
    """YOLO detector: RGB frames in, frame-pixel :class:`Detections` out."""

    def __init__(
        self,
        session: ModelSession,
        conf_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        max_det: int = 300,
        input_size: Sequence[int] | None = None,
        classes: Sequence[str] = (),
        names: Sequence[str] | None = None,
        precision: str | None = None,
    ) -> None:
        self.session = session
        meta = session.metadata
        where = session.path
        if (meta.kind or "detector") != "detector":
            raise EdgewatchError(f"{where}: is a '{meta.kind}' model, not a detector")
        if precision is not None and (meta.precision or precision) != precision:
            raise EdgewatchError(f"{where}: model precision is {meta.precision} but the config says {precision}")
        self.input_size = _input_size(session, meta, input_size)
        self.batch_limit = _fixed_batch(session.input_shape)
        self.layout: str = meta.layout or _guess_layout(session.output_shape)
        self.names = list(names) if names is not None else list(meta.names)
        classes_out = session.output_shape[1]
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
    def from_file(
        cls, path: str | Path, num_threads: int = 0, labels_file: Path | None = None, **options: Any
    ) -> YoloDetector:
        """The detector in ``path`` run by ONNX Runtime; ``options`` are the constructor's thresholds etc."""
        from edgewatch.runtime.onnx import OnnxSession

        session = OnnxSession(path, num_threads)
        names = model_labels(labels_file, session.metadata, session.path) if labels_file is not None else None
        return cls(session, names=names, **options)

    @classmethod
    def from_config(cls, cfg: DetectorConfig, threads: int | None = None) -> YoloDetector:
        """The detector as ``[primary-gie]`` describes it; ``threads`` per inference (default: the whole
        thread budget, for a caller that infers one batch at a time; see ``DetectorConfig.cpu_schedule``)."""
        return cls.from_file(
            cfg.onnx_file,
            cfg.cpu_schedule(parallel=False)[1] if threads is None else threads,
            cfg.labels_file,
            conf_threshold=cfg.pre_cluster_threshold,
            iou_threshold=cfg.nms_iou_threshold,
            max_det=cfg.topk,
            input_size=cfg.input_size,
            classes=cfg.classes,
            precision=cfg.precision,
        )

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        """Raw network output for a preprocessed ``[B, 3, H, W]`` tensor (chunked for fixed-batch models)."""
        step = self.batch_limit or tensor.shape[0]
        outs = []
        for start in range(0, tensor.shape[0], step):
            chunk = tensor[start : start + step]
            pad = step - chunk.shape[0]
            padded = np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), chunk.dtype)]) if pad else chunk
            outs.append(self.session.run(padded)[0][: chunk.shape[0]])
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


def _input_size(session: ModelSession, meta: ModelMetadata, wanted: Sequence[int] | None) -> tuple[int, int]:
    """The network input (h, w): fixed by the model, else the config, else the metadata; all must agree."""
    shape = session.input_shape
    channels_ok = len(shape) == 4 and (shape[1] == 3 or not isinstance(shape[1], int))
    if not channels_ok:
        raise EdgewatchError(f"{session.path}: input shape {shape} is not [B, 3, H, W]")
    fixed = tuple(shape[2:]) if all(isinstance(d, int) for d in shape[2:]) else None
    config = (wanted[0], wanted[-1]) if wanted else None
    if fixed and config and fixed != config:
        raise EdgewatchError(
            f"{session.path}: model input is {fixed[0]}x{fixed[1]} "
            f"but [primary-gie] input-size is {config[0]}x{config[1]}"
        )
    size = fixed or config or meta.imgsz
    if size is None:
        raise EdgewatchError(
            f"{session.path}: input size is dynamic and neither metadata nor [primary-gie] input-size gives it"
        )
    return int(size[0]), int(size[1])  # type: ignore[arg-type]


def _guess_layout(output_shape: Shape) -> str:
    """For a model without metadata: rows of 6 are DeepStream-Yolo style, anything else the raw head."""
    return "xyxy_score_class" if output_shape[-1] == 6 else "yolo_raw"


def _fixed_batch(input_shape: Shape) -> int | None:
    """The batch size a static-batch export (ultralytics' default) insists on; None when dynamic."""
    batch = input_shape[0]
    return batch if isinstance(batch, int) and batch > 0 else None
