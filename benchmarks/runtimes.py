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

from edgewatch.config import AppConfig
from edgewatch.errors import EdgewatchError
from edgewatch.runtime.session import ModelSession

PRECISIONS = ("fp32", "fp16", "int8")
# every exported file a model row can measure: the precisions, and the INT8 file with TensorRT's Q/DQ
# placement (NVIDIA ModelOpt, ``export --tensorrt-int8``), which ONNX Runtime runs too (through the same
# uint8 view), to show whether the CPU can share TensorRT's file
VARIANTS = (*PRECISIONS, "int8_trt")
SUFFIX = {"fp32": "", "fp16": "_fp16", "int8": "_int8", "int8_trt": "_int8_trt"}  # the exporter's file names


@dataclass(frozen=True)
class Runtime:
    """One way to execute a model file: its name, why it cannot run here (None: it can), how to open one, and
    for an engine runtime where a row's engine is (``engine(kind, variant)``; None: the exported ONNX itself)."""

    name: str
    skipped: str | None
    opener: Callable[[Path, int, bool], ModelSession] | None
    engine: Callable[[str, str], Path] | None = None

    def model_file(self, onnx_path: Path, variant: str, kind: str) -> Path:
        """The file this runtime loads for the ``variant`` row of the ``kind`` model (``detector`` |
        ``temporal``) whose export is ``onnx_path``: the ONNX itself, or the engine ``make engines`` builds."""
        return onnx_path if self.engine is None else self.engine(kind, variant)

    def skips_variant(self, variant: str) -> str | None:
        """Why this runtime has no row of its own for ``variant`` (None: it has): TensorRT builds its INT8
        engine from the Q/DQ file its version takes, so ``int8_trt`` is its ``int8`` row."""
        if self.engine is not None and variant == "int8_trt":
            return "TensorRT's INT8 engine is built from the Q/DQ file its version takes: the int8 row"
        return None

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


def tensorrt(cfg: AppConfig) -> Runtime:
    """TensorRT through ``edgewatch.runtime.tensorrt.TensorRTSession``, on the engines ``make engines`` builds for
    ``cfg`` (nvinfer's names, beside the ONNX files), or a skipped runtime saying which part is missing."""
    if importlib.util.find_spec("tensorrt") is None:
        return Runtime("tensorrt", "tensorrt is not installed on this machine (no NVIDIA GPU runtime)", None)
    try:
        module = importlib.import_module("edgewatch.runtime.tensorrt")
        major = module.tensorrt_major(module.load_tensorrt())
    except (ImportError, EdgewatchError) as exc:
        return Runtime("tensorrt", f"edgewatch.runtime.tensorrt cannot be used ({exc})", None)
    session_class = module.TensorRTSession

    def opener(path: Path, _threads: int, _temporal: bool) -> ModelSession:
        return session_class(path)  # type: ignore[no-any-return]

    return Runtime("tensorrt", None, opener, engine_lookup(cfg, major))


def engine_lookup(cfg: AppConfig, tensorrt_major: int) -> Callable[[str, str], Path]:
    """``(kind, variant) -> engine file`` for ``cfg``'s models on TensorRT ``tensorrt_major``: the name and source
    ONNX ``make engines`` uses (``int8_trt`` is TensorRT's ``int8``)."""
    from edgewatch.engines.jobs import model_engines

    def engine(kind: str, variant: str) -> Path:
        return model_engines(cfg, kind, tensorrt_major)["int8" if variant == "int8_trt" else variant].engine

    return engine


def available(cfg: AppConfig) -> list[Runtime]:
    """Every runtime the harness knows for ``cfg``'s models, usable or skipped."""
    return [Runtime(ONNX, None, _onnx), tensorrt(cfg)]


def row_model(runtime: Runtime, models: dict[str, Path], variant: str, kind: str) -> tuple[Path | None, str | None]:
    """``(file, None)``: what the ``variant`` row of the ``kind`` model measures on ``runtime``; ``(None, reason)``
    when the row is skipped (runtime missing, no such row for this runtime, the file not there)."""
    reason = runtime.skipped or runtime.skips_variant(variant)
    if reason is not None:
        return None, reason
    if variant not in models:
        return None, f"no {variant} export of the {kind} model"
    path = runtime.model_file(models[variant], variant, kind)
    return (path, None) if path.is_file() else (None, f"{path.name} not found")


def exports(folder: Path, stem: str) -> dict[str, Path]:
    """``{variant: path}`` of the exporter's files ``<stem>{,_fp16,_int8,_int8_trt}.onnx`` present in ``folder``."""
    return {p: folder / f"{stem}{SUFFIX[p]}.onnx" for p in VARIANTS if (folder / f"{stem}{SUFFIX[p]}.onnx").is_file()}
