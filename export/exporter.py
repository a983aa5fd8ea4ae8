"""The one export entry point: any model kind, any precision.

A model kind (YOLO detector, temporal behaviour model) only supplies what differs: its torch->ONNX
trace, its metadata, the nodes INT8 must leave in float and any side files. Everything else is the
same for every kind and lives here once: simplification (onnxslim), metadata stamping, ``onnx.checker``,
FP16 conversion, INT8 Q/DQ calibration and atomic writes into the output folder.

INT8 comes in two placements of one calibration: ``<stem>_int8.onnx`` from ONNX Runtime's
``quantize_static`` (Q/DQ around every node: what ONNX Runtime's CPU kernels fuse, and what
TensorRT 8.5 builds) and, with ``tensorrt_int8``, ``<stem>_int8_trt.onnx`` from NVIDIA ModelOpt
(Q/DQ only where TensorRT's kernels fuse them; TensorRT 10 and later), calibrated on the same feeds.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import onnx
import onnxslim
from edgewatch.export.fp16 import convert_fp16
from edgewatch.export.modelopt import METHODS as MODELOPT_METHODS
from edgewatch.export.modelopt import quantize_modelopt
from edgewatch.export.onnxfile import load_model, save_model, write_metadata
from edgewatch.export.quantize import METHODS, quantize_qdq

from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata

PRECISIONS = ("fp32", "fp16", "int8")
SUFFIX = {"fp32": "", "fp16": "_fp16", "int8": "_int8"}
TENSORRT_INT8 = "int8_trt"  # key and suffix of the ModelOpt INT8 file TensorRT 10+ builds from

log = logging.getLogger(__name__)


class Exportable(Protocol):
    """What a model kind provides to :func:`export`."""

    stem: str  # output file stem: ``<stem>.onnx``, ``<stem>_fp16.onnx``, ``<stem>_int8.onnx``
    int8_op_types: Sequence[str] | None  # operator types INT8 quantizes (None: ONNX Runtime's default)

    def to_onnx(self, path: Path) -> None:
        """Trace the model to an FP32 ONNX at ``path``."""

    def metadata(self) -> ModelMetadata:
        """The model's metadata (``precision`` is stamped per file by the exporter)."""

    def int8_float_nodes(self, model: onnx.ModelProto) -> list[str]:
        """Names of nodes of the simplified FP32 graph that INT8 leaves in float."""

    def extra_files(self) -> dict[str, str]:
        """Side files written next to the ONNX files (name -> text)."""


def parse_precisions(text: str) -> tuple[str, ...]:
    """``"fp32,int8"`` -> ``("fp32", "int8")`` in canonical order; unknown names are an EdgewatchError."""
    asked = {p.strip().lower() for p in text.split(",") if p.strip()}
    if not asked:
        raise EdgewatchError(f"no precision in {text!r} (choose from {', '.join(PRECISIONS)})")
    _check_precisions(asked)
    return tuple(p for p in PRECISIONS if p in asked)


def _check_precisions(precisions: Sequence[str] | set[str]) -> None:
    unknown = sorted(set(precisions) - set(PRECISIONS))
    if unknown:
        raise EdgewatchError(f"unknown precision {', '.join(unknown)} (choose from {', '.join(PRECISIONS)})")


def export(
    model: Exportable,
    out_dir: Path,
    precisions: Sequence[str] = PRECISIONS,
    calibration: Callable[[], Sequence[Mapping[str, np.ndarray]]] | None = None,
    calib_method: str = "minmax",
    tensorrt_int8: bool = False,
    tensorrt_calib_method: str = "entropy",
) -> dict[str, Path]:
    """Export ``model`` to ``out_dir`` in each of ``precisions``; returns ``{precision: path}``.

    ``tensorrt_int8`` (with ``int8``) also writes the ModelOpt file, under the key ``int8_trt``, calibrated
    on the same feeds with ``tensorrt_calib_method`` (ModelOpt's entropy by default: on the sample
    detector its max calibration lost 1.3 to 1.8 mAP50-95 points, entropy 0.6 to 0.8).

    ``calibration`` is called only when INT8 is asked for (reading frames can be slow) and returns
    input feeds prepared exactly like inference inputs. All arguments are checked before any work;
    every file is built in a staging folder and moved into ``out_dir`` only once all of them are
    done, so a failure (bad calibration frames, an interrupt) leaves the previous export untouched.
    """
    _check_precisions(precisions)
    if "int8" in precisions and calibration is None:
        raise EdgewatchError("INT8 needs calibration frames (--calib DIR_OR_VIDEO)")
    if calib_method not in METHODS:
        raise EdgewatchError(f"unknown calibration method {calib_method!r} (choose from {', '.join(METHODS)})")
    if tensorrt_int8 and tensorrt_calib_method not in MODELOPT_METHODS:
        raise EdgewatchError(
            f"--tensorrt-calib-method: ModelOpt calibrates with {' or '.join(MODELOPT_METHODS)}, "
            f"not {tensorrt_calib_method}"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = {p: f"{model.stem}{SUFFIX[p]}.onnx" for p in precisions}
    if tensorrt_int8 and "int8" in precisions:
        names[TENSORRT_INT8] = f"{model.stem}_{TENSORRT_INT8}.onnx"
    with tempfile.TemporaryDirectory(prefix=".edgewatch-export-", dir=out_dir) as tmp:
        stage = Path(tmp)
        fp32 = stage / f"{model.stem}.onnx"
        log.info("tracing %s to ONNX", model.stem)
        model.to_onnx(stage / "traced.onnx")
        simplified = onnxslim.slim(load_model(stage / "traced.onnx"))
        save_model(write_metadata(simplified, model.metadata().with_precision("fp32")), fp32)
        if "fp16" in precisions:
            log.info("converting to FP16")
            convert_fp16(fp32, stage / names["fp16"])
        if "int8" in precisions:
            feeds = calibration()
            log.info("quantizing to INT8 (%s calibration, %d samples)", calib_method, len(feeds))
            keep = model.int8_float_nodes(simplified)
            quantize_qdq(
                fp32, stage / names["int8"], feeds, calib_method, exclude_nodes=keep, op_types=model.int8_op_types
            )
            if TENSORRT_INT8 in names:
                log.info("placing INT8 Q/DQ for TensorRT with ModelOpt (%s, same %d inputs)",
                         tensorrt_calib_method, len(feeds))
                quantize_modelopt(fp32, stage / names[TENSORRT_INT8], feeds, tensorrt_calib_method, keep,
                                  model.int8_op_types)
        extra = model.extra_files()
        for name, text in extra.items():
            (stage / name).write_text(text)
        for name in [*names.values(), *extra]:
            os.replace(stage / name, out_dir / name)
    return {p: out_dir / name for p, name in names.items()}
