"""The DeepStream backend: nvurisrcbin -> nvstreammux -> nvinfer -> nvtracker -> probe -> nvdsosd -> sinks.

Public API: :class:`DeepStreamGraph` (a :class:`~edgewatch.pipeline.backend.Backend`),
``installed_version()``, ``temporal_session(path, log)``, ``prepare(cfg, version, folder, log)``.

nvinfer, nvtracker and nvdsosd are native stages; the temporal model, the events and every later core
stage run in a pad probe after the tracker (:mod:`.translate`), so both backends share them unchanged.
The binding is the version's: pyds for 6.3 to 8.0 (:mod:`.pyds_probe` + :mod:`.gst_runner`),
pyservicemaker for 9.x (:mod:`.servicemaker_probe`). Generated configs go to the cache folder
(``deepstream/<config name>/``) and are logged, so a user can read exactly what nvinfer was given.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from edgewatch.config import AppConfig
from edgewatch.detect.detector import detector_class_names
from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata
from edgewatch.paths import REPO_ROOT, cache_dir
from edgewatch.pipeline.backend import StreamReport
from edgewatch.pipeline.deepstream.documented import DeepStreamVersion, version_for
from edgewatch.pipeline.deepstream.graph import GraphFiles, GraphSpec, build_graph
from edgewatch.pipeline.deepstream.nvinfer_config import GieFiles, nvinfer_config, parser_kind
from edgewatch.pipeline.deepstream.tracker_config import tracker_base, tracker_config
from edgewatch.pipeline.deepstream.translate import ProbeCore, TensorDecoder
from edgewatch.pipeline.sources import Log, SourceState, describe
from edgewatch.runtime.session import ModelSession
from edgewatch.stages.chain import StageChain

DEEPSTREAM_ROOT = Path(os.environ.get("EDGEWATCH_DEEPSTREAM_ROOT", "/opt/nvidia/deepstream/deepstream"))
PARSER_LIB = REPO_ROOT / "pipeline" / "deepstream" / "parser" / "libnvdsparse_edgewatch.so"


def installed_version(root: Path = DEEPSTREAM_ROOT) -> DeepStreamVersion:
    """The DeepStream installed here (its ``version`` file), as the nearest documented table."""
    version_file = root / "version"
    if not version_file.is_file():
        raise EdgewatchError(
            f"backend=deepstream needs NVIDIA DeepStream 6.3 to 9.x and {version_file} is missing: run it in the "
            "edgewatch DeepStream container (Dockerfile.jetson / Dockerfile.dgpu), or use --backend cpu"
        )
    try:
        return version_for(version_file.read_text(encoding="utf-8").splitlines()[0])
    except (ValueError, IndexError) as exc:
        raise EdgewatchError(f"{version_file}: {exc}") from exc


def _engine_path(onnx: Path, batch_size: int, precision: str) -> Path | None:
    """The engine file nvinfer would build for ``onnx`` (the TensorRT issue's naming), or None before that
    code is installed (nvinfer then builds and names its own)."""
    try:
        from edgewatch.engines.naming import engine_path  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return engine_path(onnx, batch_size, 0, precision)  # type: ignore[no-any-return,unused-ignore]


def temporal_session(path: Path, log: Log) -> ModelSession:
    """The behaviour model's runtime inside the probe: the TensorRT engine next to the ONNX when there is one
    (and TensorRT can load it), else ONNX Runtime; which one is logged at start."""
    from edgewatch.runtime.onnx import TEMPORAL_DISABLED_OPTIMIZERS, OnnxSession

    installed_version()  # no DeepStream: say so before loading any model
    precision = ModelMetadata.from_onnx(path).precision or "fp32"
    engine = _engine_path(path, 1, precision)
    if engine is not None and engine.is_file():
        try:
            from edgewatch.runtime.tensorrt import TensorRTSession  # type: ignore[import-not-found,unused-ignore]

            session: ModelSession = TensorRTSession(engine)
            log(f"temporal model: TensorRT engine {engine}")
            return session
        except (ImportError, EdgewatchError) as exc:
            log(f"temporal model: engine {engine} not usable ({exc}); ONNX Runtime instead")
    else:
        log(f"temporal model: ONNX Runtime on the CPU ({'no engine at ' + str(engine) if engine else 'no engine'})")
    return OnnxSession(path, 1, TEMPORAL_DISABLED_OPTIMIZERS)


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
    precision = meta.precision or cfg.detector.precision or "fp32"
    engine = cfg.detector.model_engine_file or _engine_path(cfg.detector.onnx_file, cfg.batch_size, precision)
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
        tracker.write_text(tracker_config(cfg, tracker_base(cfg).read_text(encoding="utf-8")), encoding="utf-8")
    log(f"DeepStream {version.name} ({version.binding}); nvinfer parser={kind}; configs in {folder}")
    spec = build_graph(cfg, version, GraphFiles(gie, tracker, kind == "tensor-meta"), jetson)
    return Prepared(spec, meta, names, kind == "tensor-meta")


class DeepStreamGraph:
    """The DeepStream backend as a context manager (entering builds nothing more; leaving finalises the sinks)."""

    native_stages: ClassVar[frozenset[str]] = frozenset({"detector", "tracker", "osd"})
    temporal_runtime: ClassVar[Callable[[Path, Log], ModelSession] | None] = staticmethod(temporal_session)

    def __init__(self, config: AppConfig, log: Log) -> None:
        self.config, self.log = config, log
        self.version = installed_version()
        self._check_binding()
        jetson = platform.machine() == "aarch64" and Path("/etc/nv_tegra_release").exists()
        self.prepared = prepare(config, self.version, cache_dir("deepstream", config.path.stem), log, jetson)
        self.core: ProbeCore | None = None
        self.errors: dict[int, str] = {}
        self._runner = None

    def _check_binding(self) -> None:
        module = "pyds" if self.version.binding == "pyds" else "pyservicemaker"
        try:
            __import__(module)
        except ImportError as exc:
            raise EdgewatchError(
                f"DeepStream {self.version.name} is installed but its Python binding {module} "
                f"({self.version.binding_version}) is not importable ({exc}); the container installs it"
            ) from exc

    def __enter__(self) -> DeepStreamGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            self._runner.close()

    def _decoder(self) -> TensorDecoder | None:
        if not self.prepared.tensor_meta:
            return None
        det, meta = self.config.detector, self.prepared.meta
        if meta.imgsz is None:
            raise EdgewatchError(f"{det.onnx_file}: parser=tensor-meta needs the input size in the model's metadata")
        keep = [i for i, n in enumerate(self.prepared.names) if n in det.classes]
        return TensorDecoder(meta.layout or "xyxy_score_class", meta.imgsz, self._frame_hw(),
                             det.pre_cluster_threshold, det.nms_iou_threshold, det.topk, keep)

    def _frame_hw(self) -> tuple[int, int]:
        return self.config.streammux.height, self.config.streammux.width

    def run(self, chain: StageChain, on_batch: Callable[[], None]) -> None:
        from edgewatch.pipeline.deepstream.gst_runner import GstRunner, serve_rtsp

        n = len(self.config.sources)
        self.core = ProbeCore(chain, self.config.osd, self._frame_hw(), on_batch, self.config.application.max_frames)
        servers = serve_rtsp(self.prepared.spec.rtsp, self.log)
        if self.version.binding == "pyservicemaker":
            from edgewatch.pipeline.deepstream import servicemaker_probe

            servicemaker_probe.run(self.prepared.spec, self.core, self._decoder(), n)
        else:
            runner = GstRunner(self.prepared.spec, self.log)
            self._runner = runner
            runner.attach(self.core, self._decoder(), n)
            try:
                runner.run()
            finally:
                self.errors = dict(runner.errors)
        del servers

    def reports(self) -> list[StreamReport]:
        frames = self.core.frames if self.core is not None else {}
        general = self.errors.get(-1)
        reports = []
        for i, src in enumerate(self.config.sources):
            error = self.errors.get(i) or general
            decoded = frames.get(i, 0)
            failed = error is not None or decoded == 0
            reports.append(StreamReport(
                uri=describe(src),
                status=(SourceState.FAILED if failed else SourceState.ENDED).value,
                decoded=decoded, dropped=0, reconnects=0,
                error=error or (None if decoded else "no frames decoded"),
                outputs=self.prepared.spec.outputs[i] if decoded else (),
            ))
        return reports
