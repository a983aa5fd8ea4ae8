"""The nvinfer config file written from ``[primary-gie]`` and the model's own metadata (pure: text out).

Public API: ``NVINFER_PARSE_FUNC``, :class:`GieFiles`, ``nvinfer_config(cfg, meta, names, files) -> str``,
``parser_kind(cfg, meta)``, ``network_mode(precision)``.

The keys are deepstream-app's ``[property]`` / ``[class-attrs-all]`` groups. What the CPU detector does,
nvinfer is told to do the same way: letterbox (``maintain-aspect-ratio=1`` + ``symmetric-padding=1``,
centred), pixels scaled by 1/255 in RGB order, the same confidence threshold, IoU and top-k (``cluster-mode=2``: NMS), the same class filter
(``filter-out-class-ids``, the complement of ``[primary-gie] classes``) and the same ``interval``.

Two ways to read the ``[B, N, 6]`` output (``parser``):

- ``custom`` (default for that layout): ``network-type=0`` with edgewatch's C++ bbox parser
  (``parse-bbox-func-name`` + ``custom-lib-path``); nvinfer clusters and scales to frame pixels itself.
- ``tensor-meta`` (needs no compiler; the only choice for the raw ultralytics head): ``network-type=100``
  + ``output-tensor-meta=1``; a probe on nvinfer's src pad decodes the layer with edgewatch's own
  decode/NMS and adds the objects before the tracker sees them.

One difference stays: nvinfer pads the letterbox with black, edgewatch's CPU letterbox with grey (114).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgewatch.config import AppConfig, ParserKind
from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata

NVINFER_PARSE_FUNC = "NvDsInferParseEdgewatch"  # the symbol the C++ parser exports (parser/nvdsparse_edgewatch.cpp)
NET_SCALE_FACTOR = "0.0039215697906911373"  # 1/255 as float32, what every DeepStream YOLO config writes
_NETWORK_MODE = {"fp32": 0, "int8": 1, "fp16": 2}
_NETWORK_TYPE = {"custom": 0, "tensor-meta": 100}  # 0 detector; 100 "other": nvinfer only attaches the tensors


@dataclass(frozen=True)
class GieFiles:
    """Files the config points at, decided by the shell (they live on the target machine)."""

    labels: Path  # labelfile-path: one class name per line
    engine: Path | None  # model-engine-file: None lets nvinfer build and name its own
    parser_lib: Path | None  # custom-lib-path (parser=custom)


def network_mode(precision: str | None) -> int:
    """nvinfer's ``network-mode`` for a model precision (FP32 when the model does not say)."""
    return _NETWORK_MODE[precision or "fp32"]


def parser_kind(cfg: AppConfig, meta: ModelMetadata) -> ParserKind:
    """``[primary-gie] parser``, else ``custom`` for the ``[B,N,6]`` layout and ``tensor-meta`` for the raw head."""
    if cfg.detector.parser is not None:
        if cfg.detector.parser == "custom" and meta.layout == "yolo_raw":
            raise EdgewatchError(
                f"{cfg.path}: [primary-gie] parser=custom reads [B,N,6] rows but {cfg.detector.onnx_file.name} "
                "has the raw YOLO head; export it with edgewatch export yolo, or use parser=tensor-meta"
            )
        return cfg.detector.parser
    return "tensor-meta" if meta.layout == "yolo_raw" else "custom"


def nvinfer_config(cfg: AppConfig, meta: ModelMetadata, names: Sequence[str], files: GieFiles) -> str:
    """The text of the nvinfer config file for this app config and model."""
    det = cfg.detector
    kind = parser_kind(cfg, meta)
    precision = meta.precision or det.precision
    prop: list[tuple[str, object]] = [
        ("gpu-id", 0),
        ("gie-unique-id", 1),
        ("process-mode", 1),
        ("onnx-file", det.onnx_file),
    ]
    if files.engine is not None:
        prop.append(("model-engine-file", files.engine))
    prop += [
        ("labelfile-path", files.labels),
        ("batch-size", cfg.batch_size),
        ("network-mode", network_mode(precision)),
        ("network-type", _NETWORK_TYPE[kind]),
        ("num-detected-classes", len(names)),
        ("interval", det.interval),
        ("model-color-format", 0),  # RGB, as the exporter's input
        ("net-scale-factor", NET_SCALE_FACTOR),
        ("offsets", "0;0;0"),
        ("maintain-aspect-ratio", 1),  # letterbox, as the CPU detector always does
        ("symmetric-padding", 1),
    ]
    if kind == "custom":
        if files.parser_lib is None:
            raise ValueError("parser=custom needs the parser library path")
        prop += [("cluster-mode", 2), ("parse-bbox-func-name", NVINFER_PARSE_FUNC), ("custom-lib-path", files.parser_lib)]
    else:
        prop += [("cluster-mode", 4), ("output-tensor-meta", 1)]
    dropped = [i for i, n in enumerate(names) if det.classes and n not in det.classes]
    if dropped:
        prop.append(("filter-out-class-ids", ";".join(str(i) for i in dropped)))
    attrs = [
        ("pre-cluster-threshold", det.pre_cluster_threshold),
        ("nms-iou-threshold", det.nms_iou_threshold),
        ("topk", det.topk),
    ]
    return _ini([("property", prop), ("class-attrs-all", attrs)], cfg.path)


def _ini(groups: list[tuple[str, list[tuple[str, object]]]], source: Path) -> str:
    lines = [f"# written by edgewatch from {source.name}; edit that file, not this one"]
    for name, items in groups:
        lines += ["", f"[{name}]", *(f"{key}={value}" for key, value in items)]
    return "\n".join(lines) + "\n"
