"""The DeepStream backend: nvurisrcbin -> nvstreammux -> nvinfer -> nvtracker -> probe -> nvdsosd -> sinks.

Public API: :class:`DeepStreamGraph` (a :class:`~edgewatch.pipeline.backend.Backend`); what it does
before any element exists is in :mod:`.prepare`.

nvinfer, nvtracker and nvdsosd are native stages; the temporal model, the events and every later core
stage run in a pad probe after the tracker (:mod:`.translate`), so both backends share them unchanged.
The binding is the version's: pyds for 6.3 to 8.0 (:mod:`.pyds_probe` + :mod:`.gst_runner`),
pyservicemaker for 9.x (:mod:`.servicemaker_probe`). Generated configs go to the cache folder
(``deepstream/<config name>/``) and are logged, so a user can read exactly what nvinfer was given.
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from edgewatch.config import AppConfig
from edgewatch.errors import EdgewatchError
from edgewatch.paths import cache_dir
from edgewatch.pipeline.backend import StreamReport
from edgewatch.pipeline.deepstream.prepare import installed_version, prepare, temporal_session
from edgewatch.pipeline.deepstream.translate import ProbeCore, TensorDecoder
from edgewatch.pipeline.sources import Log, SourceState, describe
from edgewatch.runtime.session import ModelSession
from edgewatch.stages.chain import StageChain

class DeepStreamGraph:
    """The DeepStream backend as a context manager (entering builds nothing more; leaving finalises the sinks)."""

    native_stages: ClassVar[frozenset[str]] = frozenset({"detector", "tracker", "osd"})
    temporal_runtime: ClassVar[Callable[[Path, Log, AppConfig], ModelSession] | None] = staticmethod(temporal_session)

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

    def run(self, chain: StageChain, on_batch: Callable[[], None], stop: threading.Event) -> None:
        from edgewatch.pipeline.deepstream.gst_runner import GstRunner, serve_rtsp

        n = len(self.config.sources)
        self.core = ProbeCore(chain, self.config.osd, self._frame_hw(), on_batch, self.config.application.max_frames)
        servers = serve_rtsp(self.prepared.spec.rtsp, self.log)
        if self.version.binding == "pyservicemaker":
            from edgewatch.pipeline.deepstream import servicemaker_probe

            servicemaker_probe.run(self.prepared.spec, self.core, self._decoder(), n, stop)
        else:
            runner = GstRunner(self.prepared.spec, self.log)
            self._runner = runner
            runner.attach(self.core, self._decoder(), n)
            try:
                runner.run(stop)
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
