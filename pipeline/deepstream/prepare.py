"""What the DeepStream backend does before any element exists (no GStreamer, no pyds): find the installed
release, open the temporal model's runtime, write nvinfer's and nvtracker's configs, build the graph.

Public API: ``DEEPSTREAM_ROOT``, ``PARSER_LIB``, ``installed_version()``, ``temporal_session(path, log, cfg)``,
:class:`Prepared`, ``prepare(cfg, version, folder, log, jetson)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgewatch.config import AppConfig
from edgewatch.detect.detector import detector_class_names
from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata
from edgewatch.paths import REPO_ROOT
from edgewatch.pipeline.deepstream.documented import DeepStreamVersion, version_for
from edgewatch.pipeline.deepstream.graph import GraphFiles, GraphSpec, build_graph
from edgewatch.pipeline.deepstream.nvinfer_config import GieFiles, nvinfer_config, parser_kind
from edgewatch.pipeline.deepstream.tracker_config import tracker_base, tracker_config
from edgewatch.runtime.session import ModelSession

Log = Callable[[str], None]  # as edgewatch.pipeline.sources.Log, without importing GStreamer

DEEPSTREAM_ROOT = Path(os.environ.get("EDGEWATCH_DEEPSTREAM_ROOT", "/opt/nvidia/deepstream/deepstream"))
PARSER_LIB = REPO_ROOT / "pipeline" / "deepstream" / "parser" / "libnvdsparse_edgewatch.so"


def installed_version(root: Path = DEEPSTREAM_ROOT) -> DeepStreamVersion:
    """The DeepStream installed here (its ``version`` file), as the nearest documented table."""
    version_file = root / "version"
    if not version_file.is_file():
        raise EdgewatchError(
            f"backend=deepstream needs NVIDIA DeepStream 6.3 to 9.x and {version_file} is missing: run it in the "
            "edgewatch DeepStream container (Dockerfile.jetson), or use --backend cpu"
        )
    try:
        return version_for(version_file.read_text(encoding="utf-8").splitlines()[0])
    except (ValueError, IndexError) as exc:
        raise EdgewatchError(f"{version_file}: {exc}") from exc


def _engine_path(cfg: AppConfig, kind: str) -> Path | None:
    """The engine ``make engines`` builds for ``kind`` at the pipeline's precision (named as nvinfer names its
    own), or None without TensorRT (nvinfer then builds and names its own)."""
    from edgewatch.engines.jobs import engine_for
    from edgewatch.runtime.tensorrt import load_tensorrt, tensorrt_major

    try:
        return engine_for(cfg, kind, tensorrt_major(load_tensorrt())).engine
    except EdgewatchError:
        return None


def temporal_session(path: Path, log: Log, cfg: AppConfig) -> ModelSession:
    """The behaviour model's runtime inside the probe: its TensorRT engine from ``make engines`` when there is
    one (and TensorRT can load it), else ONNX Runtime; which one is logged at start."""
    from edgewatch.runtime.onnx import TEMPORAL_DISABLED_OPTIMIZERS, OnnxSession
    from edgewatch.runtime.tensorrt import TensorRTSession

    installed_version()  # no DeepStream: say so before loading any model
    engine = _engine_path(cfg, "temporal")
    if engine is not None and engine.is_file():
        try:
            session: ModelSession = TensorRTSession(engine, cfg.engines.gpu_id)
            log(f"temporal model: TensorRT engine {engine}")
            return session
        except EdgewatchError as exc:
            log(f"temporal model: engine {engine} not usable ({exc}); ONNX Runtime instead")
    else:
        log(f"temporal model: ONNX Runtime on the CPU ({'no engine at ' + str(engine) if engine else 'no engine'})")
    return OnnxSession(path, 1, TEMPORAL_DISABLED_OPTIMIZERS)


LIVE_FPS = 30.0  # what nvtracker's frame counts assume for a live source, whose rate is known only once it plays


def stream_fps(cfg: AppConfig, log: Log) -> float:
    """The frame rate nvtracker's frame counts are converted at: the first file source's own (read with
    OpenCV), else :data:`LIVE_FPS`; logged, with what the ``[tracker]`` times come to."""
    from edgewatch.stages.replay import clip_fps

    files = [s for s in cfg.sources if s.kind == "file"]
    fps, where = LIVE_FPS, "assumed for a live source"
    if files:
        try:
            fps, where = clip_fps(files[0].path)[0], f"of {files[0].path.name}"
        except EdgewatchError:
            where = f"assumed: {files[0].path.name} states no frame rate"
    t = cfg.tracker
    log(f"nvtracker counts frames: at {fps:.3g} fps ({where}) probation {t.probation_seconds:g} s = "
        f"{round(t.probation_seconds * fps)} frames, track buffer {t.track_buffer_seconds:g} s = "
        f"{round(t.track_buffer_seconds * fps)} frames")
    return fps


@dataclass(frozen=True)
class Prepared:
    """What the graph needs, written to disk: the spec and the model facts the probes use."""

    spec: GraphSpec
    meta: ModelMetadata
    names: list[str]
    tensor_meta: bool


def prepare(cfg: AppConfig, version: DeepStreamVersion, folder: Path, log: Log, jetson: bool) -> Prepared:
    """Write nvinfer's and nvtracker's configs (and the labels file) into ``folder`` and build the graph."""
    meta = ModelMetadata.from_onnx(cfg.detector.onnx_file)
    names = detector_class_names(cfg.detector, meta)
    kind = parser_kind(cfg, meta)
    labels = cfg.detector.labels_file or folder / "labels.txt"
    if cfg.detector.labels_file is None:
        labels.write_text("\n".join(names) + "\n", encoding="utf-8")
    engine = cfg.detector.model_engine_file or _engine_path(cfg, "detector")
    parser_lib = None
    if kind == "custom":
        parser_lib = cfg.detector.custom_lib_path or PARSER_LIB
        if not parser_lib.is_file():
            raise EdgewatchError(
                f"{parser_lib}: nvinfer's bbox parser is not built (make -C pipeline/deepstream/parser, as the "
                "container does), or set [primary-gie] parser=tensor-meta"
            )
    gie = folder / "nvinfer.txt"
    gie.write_text(nvinfer_config(cfg, meta, names, GieFiles(labels, engine, parser_lib)), encoding="utf-8")
    tracker = None
    if cfg.tracker.enable:
        tracker = folder / "nvtracker.yml"
        fps = stream_fps(cfg, log)
        tracker.write_text(tracker_config(cfg, tracker_base(cfg).read_text(encoding="utf-8"), fps), encoding="utf-8")
    log(f"DeepStream {version.name} ({version.binding}); nvinfer parser={kind}; configs in {folder}")
    spec = build_graph(cfg, version, GraphFiles(gie, tracker, kind == "tensor-meta"), jetson)
    return Prepared(spec, meta, names, kind == "tensor-meta")
