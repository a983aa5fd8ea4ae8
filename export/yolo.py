"""The YOLO-specific half of the export: load an ultralytics ``.pt``, trace it to the DeepStream layout.

Everything precision-related (FP16, INT8, simplification, metadata, checks) is shared with the
temporal model in :mod:`edgewatch.export.exporter`; this module only knows ultralytics. The graph
ends in ``output`` ``[B, N, 6]`` = ``x1, y1, x2, y2, score, class`` in network-input pixels, one row
per anchor and no NMS inside (the DeepStream-Yolo layout nvinfer parsers and our decoder read).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import onnx
import torch
from torch import nn

from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata

OPSET = 17
INT8_KEEP = ("none", "decode", "head", "detect")  # INT8 policies, see float_nodes()
DEFAULT_INT8_KEEP = "detect"


def load_detector(weights: Path) -> nn.Module:
    """Load an ultralytics detection checkpoint as an FP32 eval model; anything else is an EdgewatchError."""
    from ultralytics.nn.modules.head import Detect
    from ultralytics.nn.tasks import load_checkpoint

    weights = Path(weights)
    if not weights.is_file():
        raise EdgewatchError(f"{weights}: no such weights file")
    if weights.suffix != ".pt":
        raise EdgewatchError(f"{weights}: expected an ultralytics .pt checkpoint")
    try:
        model, _ = load_checkpoint(weights)
    except Exception as exc:  # unpickling raises anything from UnpicklingError to KeyError/TypeError
        raise EdgewatchError(f"{weights}: not an ultralytics checkpoint ({exc.__class__.__name__}: {exc})") from exc
    head = model.model[-1] if hasattr(model, "model") else None
    task = getattr(model, "task", None)
    if task != "detect" or type(head) is not Detect:
        kind = task or type(model).__name__
        raise EdgewatchError(f"{weights}: unsupported model ({kind}); only ultralytics detection models export")
    return model


def class_names(model: nn.Module) -> list[str]:
    """The model's class names in class-id order (ultralytics stores a dict or a list)."""
    names = model.names
    return [names[i] for i in range(len(names))] if isinstance(names, dict) else list(names)


class DeepStreamYolo(nn.Module):
    """An ultralytics detection model whose output is ``[B, N, 6]`` xyxy/score/class instead of ``[B, 4+C, N]``.

    The head runs in export mode (decoded ``cx, cy, w, h`` plus per-class sigmoid scores in input
    pixels); this wrapper only reorders that into boxes, best score and its class (as float, so one
    tensor carries all six columns, which is what DeepStream-Yolo style parsers expect).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = self.model(x)
        raw = raw[0] if isinstance(raw, (tuple, list)) else raw
        cxcywh, class_scores = raw[:, :4].transpose(1, 2), raw[:, 4:].transpose(1, 2)
        centre, half = cxcywh[..., :2], cxcywh[..., 2:] / 2
        score, class_id = class_scores.max(dim=-1, keepdim=True)
        return torch.cat([centre - half, centre + half, score, class_id.to(score.dtype)], dim=-1)


def prepare_for_export(model: nn.Module, imgsz: tuple[int, int]) -> nn.Module:
    """Fuse Conv+BN and put the head in ONNX export mode, the way ultralytics' own exporter does."""
    from ultralytics.nn.modules import C2f
    from ultralytics.nn.modules.head import Detect

    for p in model.parameters():
        p.requires_grad = False
    head = model.model[-1]
    # NMS-free heads (YOLOv10/YOLO26) also train a one-to-many branch: keep that one (fuse() drops the
    # other) so every model has the same one-row-per-anchor output with NMS downstream.
    head.end2end = False
    model = model.float().eval().fuse(verbose=False)
    for m in model.modules():
        if isinstance(m, Detect):
            m.export, m.format, m.dynamic, m.shape = True, "onnx", False, None
        elif isinstance(m, C2f):
            m.forward = m.forward_split  # Split instead of chunk: the cleaner graph ultralytics exports
    return model


def float_nodes(graph: onnx.GraphProto, head_index: int, keep: str) -> list[str]:
    """Nodes an INT8 policy leaves in float (``keep``: ``none``, ``decode``, ``head`` or ``detect``).

    ``decode``: the box decode and the ``[B, N, 6]`` packing. Quantizing those squeezes pixel
    coordinates (0..imgsz) and scores (0..1) through one int8 scale, which rounds every score to 0.
    ``head``: also the head's last convolutions and the DFL, which emit the box distributions and class
    logits directly. ``detect``: the whole Detect layer (all its box and class branch convolutions).
    Measured on the sample detector (benchmarks/export_accuracy.py), each step recovers mAP.
    Node names come from torch's module scopes (``/model/model.23/cv2.0/cv2.0.2/Conv``: the wrapper's
    ``model`` attribute, then the ultralytics layer), which onnxslim keeps.
    """
    if keep not in INT8_KEEP:
        raise EdgewatchError(f"unknown INT8 policy {keep!r} (choose from {', '.join(INT8_KEEP)})")
    head = f"/model/model.{head_index}/"
    last_conv = re.compile(rf"^{re.escape(head)}cv[23]\.\d+/cv[23]\.\d+\.2/")
    branch = re.compile(rf"^{re.escape(head)}(cv[23]\.|dfl/)")

    def kept(name: str) -> bool:
        decode = not name.startswith("/model/") or (name.startswith(head) and not branch.match(name))
        head_out = bool(last_conv.match(name)) or name.startswith(f"{head}dfl/")
        return {"none": False, "decode": decode, "head": decode or head_out, "detect": decode or name.startswith(head)}[keep]

    return [n.name for n in graph.node if kept(n.name)]


@dataclass
class YoloExportable:
    """An ultralytics detector ready for :func:`edgewatch.export.exporter.export`."""

    weights: Path
    imgsz: tuple[int, int]
    batch: int | None = None  # None: dynamic batch axis
    int8_keep: str = DEFAULT_INT8_KEEP
    stem: str = ""
    model: nn.Module = field(init=False, repr=False)
    int8_op_types: ClassVar[Sequence[str] | None] = None  # ONNX Runtime's default set: TensorRT fuses them all

    def __post_init__(self) -> None:
        if self.int8_keep not in INT8_KEEP:
            raise EdgewatchError(f"unknown INT8 policy {self.int8_keep!r} (choose from {', '.join(INT8_KEEP)})")
        stride = 32
        if any(s <= 0 or s % stride for s in self.imgsz):
            raise EdgewatchError(f"--imgsz {list(self.imgsz)} must be positive multiples of the stride {stride}")
        if self.batch is not None and self.batch < 1:
            raise EdgewatchError(f"--batch must be at least 1, got {self.batch}")
        self.model = load_detector(self.weights)
        self.stem = self.stem or self.weights.stem

    @property
    def names(self) -> list[str]:
        return class_names(self.model)

    def metadata(self) -> ModelMetadata:
        """CONTRACT 1's metadata (precision is stamped per file by the exporter)."""
        return ModelMetadata(
            kind="detector",
            imgsz=(self.imgsz[0], self.imgsz[-1]),
            stride=int(max(self.model.stride)),
            names=tuple(self.names),
            letterbox=True,
            layout="xyxy_score_class",
            source=self.weights.name,
        )

    def to_onnx(self, path: Path) -> None:
        """Trace the wrapped model to an FP32 ONNX at ``path`` (opset 17, TorchScript exporter)."""
        wrapped = DeepStreamYolo(prepare_for_export(self.model, self.imgsz))
        dummy = torch.zeros(self.batch or 1, 3, *self.imgsz)
        with torch.inference_mode():
            wrapped(dummy)  # builds the head's anchor grid before tracing
        dynamic = None if self.batch else {"input": {0: "batch"}, "output": {0: "batch"}}
        with warnings.catch_warnings():
            # The TorchScript exporter is chosen on purpose (what DeepStream-Yolo and ultralytics use for
            # opset 17); its deprecation notice and the head's shape-check TracerWarning are expected.
            warnings.simplefilter("ignore", category=DeprecationWarning)
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
            torch.onnx.export(
                wrapped, dummy, str(path), opset_version=OPSET, input_names=["input"], output_names=["output"],
                dynamic_axes=dynamic, dynamo=False,
            )

    def int8_float_nodes(self, model: onnx.ModelProto) -> list[str]:
        return float_nodes(model.graph, len(self.model.model) - 1, self.int8_keep)

    def extra_files(self) -> dict[str, str]:
        """``labels.txt`` for nvinfer's ``labels-file`` (one class name per line)."""
        return {"labels.txt": "\n".join(self.names) + "\n"}
