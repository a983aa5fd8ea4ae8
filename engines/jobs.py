"""Which engines a config asks for: model x precision x batch profile, each with its source ONNX and file name.

Public API: :class:`EngineJob`, :func:`engine_jobs`, :func:`engine_for`, :func:`model_engines`, :func:`pipeline_precision`,
:func:`source_onnx`, :func:`model_family`.

Pure (no TensorRT): the DeepStream backend calls :func:`engine_for` for the ``model-engine-file`` of
its nvinfer config and for the temporal engine its probe opens, so it uses exactly the files
``make engines`` builds, named as nvinfer names them.

Which ONNX an engine is built from (the "source"):

| precision | TensorRT 8.5-10.x, builder flags | TensorRT 10.x strongly typed, 11.x |
|---|---|---|
| fp32 | ``<stem>.onnx`` | ``<stem>.onnx`` |
| fp16 | ``<stem>.onnx`` + FP16 flag | ``<stem>_fp16.onnx`` |
| int8 | 8.5: ``<stem>_int8.onnx``; 10.x: ``<stem>_int8_trt.onnx`` | ``<stem>_int8_trt.onnx`` |

``<stem>_int8_trt.onnx`` is ModelOpt's Q/DQ placement (opset 19, so TensorRT 10 and later);
TensorRT 8.5 builds the ONNX Runtime placement, the only INT8 file its parser (opset <= 17) takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgewatch.config import AppConfig
from edgewatch.engines.manifest import BuildSettings, Profile
from edgewatch.engines.naming import PRECISIONS, engine_path
from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata

_SUFFIXES = ("_int8_trt", "_int8", "_fp16")  # longest first: "_int8_trt" also ends in no other suffix


@dataclass(frozen=True)
class EngineJob:
    """One engine to build: which model, from which ONNX, to which file, with which settings."""

    kind: str  # "detector" | "temporal"
    onnx: Path
    engine: Path
    settings: BuildSettings
    gpu_id: int = 0

    def describe(self) -> str:
        return f"{self.kind} {self.settings.precision} batch {self.settings.profile}"


def model_family(onnx: Path) -> tuple[Path, str]:
    """``(folder, stem)`` of an exported model from any of its files (``detector_int8.onnx`` -> ``detector``)."""
    stem = onnx.stem
    for suffix in _SUFFIXES:
        if stem.endswith(suffix):
            return onnx.parent, stem[: -len(suffix)]
    return onnx.parent, stem


def source_onnx(onnx: Path, precision: str, tensorrt_major: int, strongly_typed: bool = False) -> Path:
    """The ONNX file an engine of ``precision`` is built from (see the module table)."""
    folder, stem = model_family(Path(onnx))
    typed = strongly_typed or tensorrt_major >= 11
    if precision == "fp32" or (precision == "fp16" and not typed):
        name = f"{stem}.onnx"
    elif precision == "fp16":
        name = f"{stem}_fp16.onnx"
    elif precision == "int8":
        name = f"{stem}_int8.onnx" if tensorrt_major < 10 else f"{stem}_int8_trt.onnx"
    else:
        raise EdgewatchError(f"unknown engine precision {precision!r}")
    return folder / name


def _models(cfg: AppConfig) -> list[tuple[str, Path, Profile]]:
    """``(kind, configured ONNX, batch profile)`` of each model the config runs, detector first."""
    dla = cfg.engines.dla_core >= 0
    batch = cfg.batch_size  # nvinfer's batch-size: its profile is 1/B/B on the GPU, B/B/B on a DLA
    models = [("detector", cfg.detector.onnx_file, Profile(batch if dla else 1, batch, batch))]
    if cfg.temporal.enable and cfg.temporal.onnx_file is not None:
        high = cfg.engines.temporal_max_batch
        models.append(
            (
                "temporal",
                cfg.temporal.onnx_file,
                Profile(high, high, high) if dla else Profile(1, cfg.engines.temporal_opt_batch, high),
            )
        )
    return models


def _job(cfg: AppConfig, kind: str, onnx: Path, profile: Profile, precision: str, tensorrt_major: int) -> EngineJob:
    engines = cfg.engines
    dla = engines.dla_core if engines.dla_core >= 0 else None
    source = source_onnx(onnx, precision, tensorrt_major, engines.strongly_typed)
    settings = BuildSettings(precision, profile, engines.workspace_mb, dla, engines.strongly_typed)
    return EngineJob(
        kind, source, engine_path(source, profile.max, engines.gpu_id, precision, dla), settings, engines.gpu_id
    )


def pipeline_precision(cfg: AppConfig) -> str:
    """The precision the pipeline runs its models at (nvinfer's network-mode): ``[primary-gie] precision``, else
    the one the detector ONNX's metadata states, else FP32."""
    return cfg.detector.precision or ModelMetadata.from_onnx(cfg.detector.onnx_file).precision or "fp32"


def engine_for(cfg: AppConfig, kind: str, tensorrt_major: int) -> EngineJob:
    """The engine the pipeline uses for ``kind`` (``detector`` | ``temporal``) at its own precision: what the
    DeepStream backend puts in ``model-engine-file`` and opens for the temporal model."""
    return model_engines(cfg, kind, tensorrt_major)[pipeline_precision(cfg)]


def model_engines(cfg: AppConfig, kind: str, tensorrt_major: int) -> dict[str, EngineJob]:
    """``{precision: job}`` for ``kind``'s model at every precision, named and sourced as ``make engines``
    builds them whichever precisions ``[engines]`` asks for (the benchmark looks for each one)."""
    for model_kind, onnx, profile in _models(cfg):
        if model_kind == kind:
            return {p: _job(cfg, kind, onnx, profile, p, tensorrt_major) for p in PRECISIONS}
    raise EdgewatchError(f"{cfg.path}: no {kind} model in this config")


def engine_jobs(cfg: AppConfig, tensorrt_major: int) -> list[EngineJob]:
    """Every engine ``cfg`` asks for, detector first; missing source ONNX files are one error listing them."""
    precisions = cfg.engines.precisions or (pipeline_precision(cfg),)
    jobs = [
        _job(cfg, kind, onnx, profile, p, tensorrt_major) for kind, onnx, profile in _models(cfg) for p in precisions
    ]
    missing = sorted({str(j.onnx) for j in jobs if not j.onnx.is_file()})
    if missing:
        hint = " (export with --tensorrt-int8)" if any(m.endswith("_int8_trt.onnx") for m in missing) else ""
        raise EdgewatchError(f"{cfg.path}: engines need ONNX files that are missing: {', '.join(missing)}{hint}")
    return jobs
