"""The runtimes a benchmark row can run on: ONNX Runtime on the CPU always, TensorRT engines when present.

Every measurement takes its model through :class:`~edgewatch.runtime.session.ModelSession`, so a
runtime is only "how to open a model file for a precision": the detector and behaviour code is the
pipeline's own whichever runtime executes it. A runtime that cannot run here is kept in the report
as a skipped row with the reason, never silently left out.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgewatch.runtime.session import ModelSession

PRECISIONS = ("fp32", "fp16", "int8")
# every exported file a model row can measure: the precisions, and the INT8 file with TensorRT's Q/DQ
# placement (NVIDIA ModelOpt, ``export --tensorrt-int8``), which ONNX Runtime runs too (through the same
# uint8 view), to show whether the CPU can share TensorRT's file
VARIANTS = (*PRECISIONS, "int8_trt")
SUFFIX = {"fp32": "", "fp16": "_fp16", "int8": "_int8", "int8_trt": "_int8_trt"}  # the exporter's file names


@dataclass(frozen=True)
class Runtime:
    """One way to execute a model file: its name, why it cannot run here (None: it can), how to open one."""

    name: str
    skipped: str | None
    opener: Callable[[Path, int, bool], ModelSession] | None
    suffix: str  # model file suffix this runtime loads (.onnx, .engine)

    def model_file(self, onnx_path: Path) -> Path:
        """The file this runtime loads for an ONNX export: the ONNX itself, or the engine built beside it."""
        return onnx_path.with_suffix(self.suffix)

    def open(self, path: Path, threads: int, temporal: bool = False) -> ModelSession:
        """A session of ``path`` with ``threads`` CPU threads (ignored by GPU runtimes); ``temporal`` for a
        behaviour model, which some runtimes build with other settings."""
        assert self.opener is not None, f"runtime {self.name} is skipped: {self.skipped}"
        return self.opener(path, threads, temporal)


ONNX = "onnxruntime-cpu"


def _onnx(path: Path, threads: int, temporal: bool) -> ModelSession:
    """As the pipeline opens them: the behaviour model without the optimiser pass that breaks it."""
    from edgewatch.runtime.onnx import TEMPORAL_DISABLED_OPTIMIZERS, OnnxSession

    return OnnxSession(path, threads, TEMPORAL_DISABLED_OPTIMIZERS if temporal else ())


def tensorrt() -> Runtime:
    """TensorRT through ``edgewatch.runtime.tensorrt.TensorRTSession`` (engines looked for as
    ``<export stem>.engine`` beside the ONNX files), or a skipped runtime saying which part is missing."""
    if importlib.util.find_spec("tensorrt") is None:
        return Runtime("tensorrt", "tensorrt is not installed on this machine (no NVIDIA GPU runtime)", None, ".engine")
    try:
        module = importlib.import_module("edgewatch.runtime.tensorrt")
    except ImportError as exc:
        return Runtime("tensorrt", f"edgewatch.runtime.tensorrt cannot be imported ({exc})", None, ".engine")
    session_class = module.TensorRTSession

    def opener(path: Path, _threads: int, _temporal: bool) -> ModelSession:
        return session_class(path)  # type: ignore[no-any-return]

    return Runtime("tensorrt", None, opener, ".engine")


def available() -> list[Runtime]:
    """Every runtime the harness knows, usable or skipped."""
    return [Runtime(ONNX, None, _onnx, ".onnx"), tensorrt()]


def exports(folder: Path, stem: str) -> dict[str, Path]:
    """``{variant: path}`` of the exporter's files ``<stem>{,_fp16,_int8,_int8_trt}.onnx`` present in ``folder``."""
    return {p: folder / f"{stem}{SUFFIX[p]}.onnx" for p in VARIANTS if (folder / f"{stem}{SUFFIX[p]}.onnx").is_file()}
