"""The shared stages in pipeline order, built from the app config and timed into :class:`RunStats`.

Public API::

    chain = StageChain.from_config(cfg, stats, native=backend.native_stages, log=log)
    with chain:
        ...                     # the backend calls chain(frames) from where its frames are
    print(json.dumps(stats.summary(chain.events_written)))

:data:`STAGES` is the order. A backend that does some stages in its own graph (DeepStream: nvinfer,
nvtracker and nvdsosd) names them in ``native``, and the chain builds only the rest, so the temporal
model, the scene analytics, the events and every later core stage run unchanged under both backends.
The analytics stage is there when a source has a scene (``[sourceN] scene=``).
``chain.class_names`` are the detector's (labels file, else the model's metadata).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from types import TracebackType

from edgewatch.config import AppConfig
from edgewatch.detect.detector import detector_class_names
from edgewatch.errors import EdgewatchError
from edgewatch.log import Log, quiet
from edgewatch.runtime.session import ModelSession
from edgewatch.stages.analytics import AnalyticsStage
from edgewatch.stages.detector import DetectorStage
from edgewatch.stages.events import EventWriter
from edgewatch.stages.osd import OsdStage
from edgewatch.stages.stats import RunStats
from edgewatch.stages.temporal import TemporalStage, describe_verdicts
from edgewatch.stages.tracker import TrackerStage
from edgewatch.types import Frame

Stage = Callable[[list[Frame]], list[Frame]]
STAGES = ("detector", "tracker", "temporal", "analytics", "events", "osd")  # the order a batch goes through them


class StageChain:
    """Calls each named stage on a batch, timing it, then counts the batch."""

    def __init__(
        self,
        stages: Sequence[tuple[str, Stage]],
        stats: RunStats,
        events: EventWriter | None = None,
        class_names: Sequence[str] = (),
    ) -> None:
        self.stages = list(stages)
        self.stats = stats
        self.events = events
        self.class_names = list(class_names)

    @classmethod
    def from_config(
        cls,
        cfg: AppConfig,
        stats: RunStats,
        native: Collection[str] = frozenset(),
        open_temporal: Callable[[Path], ModelSession] | None = None,
        log: Log = quiet,
    ) -> StageChain:
        """The stages the config enables, less those in ``native``; models are loaded (and checked) here,
        before any frame. ``open_temporal`` opens the behaviour model (default: ONNX Runtime); ``log`` gets
        the stages' start-up lines (settings in seconds, and what they come to at each stream's real rate)."""
        if cfg.temporal.enable and not cfg.tracker.enable:
            raise EdgewatchError(f"{cfg.path}: [temporal] enable=1 needs [tracker] enable=1 (behaviours are per track)")
        unknown = set(native) - set(STAGES)
        if unknown:
            raise ValueError(f"a backend declares unknown native stages {sorted(unknown)}; stages are {STAGES}")
        names = detector_class_names(cfg.detector)
        keep = cfg.tracker.track_buffer_seconds
        scenes = cfg.scenes
        mux = cfg.streammux
        frame_size = (mux.width, mux.height) if mux.width else None  # frames without pixels (DeepStream)

        def wanted(name: str, enabled: bool = True) -> bool:
            return enabled and name not in native

        stages: list[tuple[str, Stage]] = []
        if wanted("detector"):
            stages.append(("detector", DetectorStage.from_config(cfg.detector)))
        if wanted("tracker", cfg.tracker.enable):
            stages.append(("tracker", TrackerStage(cfg.tracker, cfg.detector.interval, log)))
        if wanted("temporal", cfg.temporal.enable):
            temporal = TemporalStage.from_config(cfg.temporal, names, keep, open_temporal, scenes, frame_size)
            log(describe_verdicts(temporal))
            stages.append(("temporal", temporal))
        if wanted("analytics", bool(scenes)):
            stages.append(("analytics", AnalyticsStage(scenes, names, keep)))
        events = None
        if wanted("events", cfg.events.enable):
            assert cfg.events.output_file is not None  # load_config guarantees it
            events = EventWriter(cfg.events.output_file, names, keep)
            stages.append(("events", events))
        if wanted("osd", cfg.osd.enable):
            stages.append(("osd", OsdStage(cfg.osd, names, draw_detections=not cfg.tracker.enable)))
        return cls(stages, stats, events, names)

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        return self.tail(self.head(frames))

    @property
    def head_parallel_batches(self) -> int:
        """How many batches :meth:`head` may be given at once, from as many threads (1 unless the head
        is the detector and its schedule says more)."""
        return getattr(self.stages[0][1], "parallel_batches", 1) if self.stages else 1

    def head(self, frames: list[Frame]) -> list[Frame]:
        """The first stage alone (the detector, when the chain has it), so a backend can run it on the
        next batch while :meth:`tail` finishes this one, as nvinfer runs in its own thread in DeepStream."""
        return self._run(self.stages[:1], frames)

    def tail(self, frames: list[Frame]) -> list[Frame]:
        """Every stage after the first, then the batch is counted."""
        frames = self._run(self.stages[1:], frames)
        self.stats.count(frames)
        return frames

    def _run(self, stages: Sequence[tuple[str, Stage]], frames: list[Frame]) -> list[Frame]:
        for name, stage in stages:
            with self.stats.timed(name):
                frames = stage(frames)
        return frames

    @property
    def events_written(self) -> int:
        """Lines in the events file so far (0 without an events stage), for the run summary."""
        return self.events.lines if self.events is not None else 0

    def close(self, succeeded: bool = True) -> None:
        """Close the events file and give it its final name (``succeeded``: whether the run did; see
        :func:`edgewatch.outputs.settle`). Closing twice changes nothing."""
        if self.events is not None:
            self.events.close(succeeded)

    def __enter__(self) -> StageChain:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(succeeded=exc_type is None)
