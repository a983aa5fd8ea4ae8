"""Temporal stage: per-track history -> one batched behaviour inference every ``stride-seconds``.

Public API: ``TemporalStage(model, class_names, TemporalConfig, evict_after, scenes=None, frame_size=None)`` /
``TemporalStage.from_config(TemporalConfig, class_names, evict_after, open_session=None, scenes=None,
frame_size=None)``; ``stage(frames)`` sets ``Track.behaviour`` on the CONFIRMED tracks of the covered
classes (in place) and returns the frames. ``class_names`` are the detector's, ``evict_after`` the
tracker's ``track-buffer-seconds``, ``scenes`` the streams' scenes: the model's lane direction input
is the scene's at the track's foot point (a zone's own ``lane-direction``, else the scene's), per
camera; streams without one keep the model's. ``frame_size`` is the frames' ``(width, height)``
where frames carry no pixels (DeepStream: the streammux size), to tell boxes the frame edge cuts.

- **History**: each (stream, track) keeps a ring of its newest ``(time, box, cut sides)``
  observations; the boxes go through the feature spec's :class:`BoxFilter` as they arrive
  (completion of boxes the frame edge cuts, Kalman smoothing when the model was trained with it):
  one O(1) step per track and frame, the same filter training ran from each track's first box. The
  features are defined on *time* (``FeatureSpec``), so the ring holds ``history_seconds + step`` of
  observations, capped at :data:`MAX_FPS` per second. Histories of tracks unseen for ``evict_after``
  seconds are dropped (:class:`TrackTable`), so memory follows the live tracks only.
- **Cadence**: a stream's tracks are classified on the first frame of each ``stride-seconds`` slot of
  its clock (frame-rate independent); all due tracks of all frames of the batch go through the model
  in ONE call.
- **Verdicts**: probabilities are restricted to the behaviours allowed for the track's class
  (``applies_to``), then held to :class:`~edgewatch.behaviour.verdicts.VerdictRules` (smoothing in
  seconds, a minimum history, a confidence and a dwell before any change). A covered track is
  ``Behaviour("undecided", ...)`` until its first decision; later it keeps its last decided behaviour
  until a new one has held.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgewatch.behaviour.features import BoxFilter, FeatureSpec, cut_sides, track_features, with_scene
from edgewatch.behaviour.predictor import BehaviourModel
from edgewatch.behaviour.verdicts import TrackVerdict, VerdictRules
from edgewatch.config import TemporalConfig
from edgewatch.errors import EdgewatchError
from edgewatch.runtime.session import ModelSession
from edgewatch.scene.model import Scene
from edgewatch.stages.tracktable import TrackTable
from edgewatch.types import UNDECIDED, Behaviour, Frame, Track

MAX_FPS = 60.0  # observations kept per second of history; faster streams keep only the newest ones


def describe_verdicts(stage: TemporalStage) -> str:
    """The stage's cadence and verdict rules in one log line (all in seconds: the same at any frame rate)."""
    rules = stage.rules
    own = "".join(f", {name} {seconds:g} s" for name, seconds in rules.dwell_for.items())
    return (f"temporal: a verdict every {stage.config.stride_seconds:g} s per track ({rules.smoothing} smoothing "
            f"over {rules.smoothing_seconds:g} s); 'undecided' until {rules.min_history:g} s of track, then a "
            f"behaviour is reported once it has led at probability >= {rules.min_confidence:g} for "
            f"{rules.dwell:g} s{own}; times in seconds, independent of the frame rate")


def verdict_rules(config: TemporalConfig) -> VerdictRules:
    """The ``[temporal]`` verdict settings as :class:`VerdictRules`."""
    return VerdictRules(config.smoothing, config.smoothing_seconds, config.min_history_seconds,
                        config.min_confidence, config.dwell_seconds, config.dwell_for)


@dataclass
class TrackHistory:
    """One track's ring of (completed, filtered) observations and its verdict state."""

    times: deque[float]
    boxes: deque[np.ndarray]
    cuts: deque[np.ndarray]
    box_filter: BoxFilter
    verdict: TrackVerdict
    first: float | None = None  # time stamp of the track's first observation (its age counts from it)
    behaviour: Behaviour | None = None

    def observe(self, time: float, box: np.ndarray, cut: np.ndarray, keep_seconds: float) -> None:
        """Filter and append an observation, and drop those older than needed.

        A repeated time stamp is ignored; a time stamp going backwards (a live source that reconnected
        and restarted its clock) starts the history and its filter afresh rather than freezing them.
        """
        if self.times and time == self.times[-1]:
            return
        if self.times and time < self.times[-1]:
            self.times.clear()
            self.boxes.clear()
            self.cuts.clear()
            self.box_filter = BoxFilter(self.box_filter.spec)
            self.verdict = TrackVerdict(self.verdict.rules, self.verdict.behaviours)
            self.first, self.behaviour = None, None
        if self.first is None:
            self.first = time
        self.times.append(time)
        self.boxes.append(self.box_filter.update(time, box, cut))
        self.cuts.append(cut)
        while self.times[0] < time - keep_seconds:
            self.times.popleft()
            self.boxes.popleft()
            self.cuts.popleft()

    @property
    def age(self) -> float:
        """Seconds since the track's first observation."""
        return self.times[-1] - self.first if self.times and self.first is not None else 0.0


class TemporalStage:
    """Behaviour classification of every confirmed track of the covered classes."""

    def __init__(
        self, model: BehaviourModel, class_names: Sequence[str], config: TemporalConfig, evict_after: float,
        scenes: Mapping[int, Scene] | None = None, frame_size: tuple[int, int] | None = None,
    ) -> None:
        where = model.path
        spec: FeatureSpec = model.spec
        self.scenes = dict(scenes or {})
        if config.window is not None and config.window != spec.window:
            raise EdgewatchError(f"{where}: model window is {spec.window} but [temporal] window is {config.window}")
        covered = config.classes or tuple(model.classes)
        unknown = [c for c in covered if spec.class_index(c) is None]
        if unknown:
            raise EdgewatchError(
                f"{where}: [temporal] classes {unknown} are not among the model's {list(spec.classes)}"
            )
        strange = sorted(set(config.dwell_for) - set(model.behaviours))
        if strange:
            raise EdgewatchError(f"{where}: [temporal] dwell-seconds-per-behaviour names {strange}, "
                                 f"not among the model's behaviours {model.behaviours}")
        self.model, self.spec, self.config, self.frame_size = model, spec, config, frame_size
        self.rules = verdict_rules(config)
        # detector class id -> (feature class index, allowed behaviours)
        self.covered = {i: (spec.class_index(n), model.allowed(n)) for i, n in enumerate(class_names) if n in covered}
        if not self.covered:
            raise EdgewatchError(
                f"{where}: none of the detector's classes {list(class_names)[:10]} "
                f"is among the classified {list(covered)}"
            )
        self.keep_seconds = spec.history_seconds + spec.step
        capacity = math.ceil(self.keep_seconds * MAX_FPS) + 1
        self.histories: TrackTable[TrackHistory] = TrackTable(
            lambda: TrackHistory(deque(maxlen=capacity), deque(maxlen=capacity), deque(maxlen=capacity),
                                 BoxFilter(spec), TrackVerdict(self.rules, model.behaviours)),
            evict_after,
        )
        self._slots: dict[int, int] = {}  # stream -> the stride slot of its last frame

    @classmethod
    def from_config(
        cls,
        config: TemporalConfig,
        class_names: Sequence[str],
        evict_after: float,
        open_session: Callable[[Path], ModelSession] | None = None,
        scenes: Mapping[int, Scene] | None = None,
        frame_size: tuple[int, int] | None = None,
    ) -> TemporalStage:
        """The stage ``[temporal]`` describes; the model is loaded and checked against it before any frame.
        ``open_session`` opens the model file (a TensorRT engine beside it under DeepStream); default ONNX Runtime."""
        assert config.onnx_file is not None  # load_config guarantees it when enabled
        model = BehaviourModel.from_file(config.onnx_file) if open_session is None else BehaviourModel(
            open_session(config.onnx_file))
        return cls(model, class_names, config, evict_after, scenes, frame_size)

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        # pass 1, in frame order: grow histories and collect the feature windows due now
        seen: list[tuple[Track, TrackHistory, int | None]] = []  # (track, history, row in the model batch)
        windows: list[tuple[np.ndarray, np.ndarray]] = []
        for frame in frames:
            due = self._due(frame)
            size = (frame.image.shape[1], frame.image.shape[0]) if frame.image is not None else self.frame_size
            for track in frame.tracks:
                if track.class_id not in self.covered:
                    continue
                history = self.histories.get(frame.stream_id, track.track_id, frame.timestamp)
                history.observe(frame.timestamp, track.box, cut_sides(track.box, size)[0], self.keep_seconds)
                row = None
                if due and self._ready(history):
                    row = len(windows)
                    windows.append(
                        track_features(
                            np.array(history.times), np.array(history.boxes), self.covered[track.class_id][0],
                            self._spec_at(frame.stream_id, track.box), smoothed=True, cut=np.array(history.cuts),
                        )
                    )
                seen.append((track, history, row))
            self.histories.evict(frame.stream_id, frame.timestamp)
        # one model call for every due track of the batch
        probs = self._predict(windows)
        # pass 2, in the same order: hold the new verdicts to the rules, attach the reported one to each track
        for track, history, row in seen:
            if row is not None:
                allowed = self.covered[track.class_id][1]
                restricted = np.where(allowed, probs[row], 0.0)
                restricted = restricted / max(float(restricted.sum()), 1e-12)
                label, score = history.verdict.update(history.times[-1], history.age, restricted)
                history.behaviour = Behaviour(label, score)
            track.behaviour = history.behaviour or Behaviour(UNDECIDED, 0.0)
        return frames

    def _due(self, frame: Frame) -> bool:
        """Whether ``frame`` opens a new ``stride-seconds`` slot of its stream's clock."""
        slot = math.floor(frame.timestamp / self.config.stride_seconds + 1e-9)
        due = self._slots.get(frame.stream_id) != slot
        self._slots[frame.stream_id] = slot
        return due

    def _spec_at(self, stream: int, box: np.ndarray) -> FeatureSpec:
        """The feature spec with the lane direction of the stream's scene at the box's foot point."""
        scene = self.scenes.get(stream)
        if scene is None:
            return self.spec
        lane = scene.lane_at(float(box[0] + box[2]) / 2, float(box[3]))
        return self.spec if lane is None else with_scene(self.spec, lane)

    def _ready(self, history: TrackHistory) -> bool:
        return len(history.times) >= 2 and history.age >= self.model.min_history

    def _predict(self, windows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        if not windows:
            return np.zeros((0, len(self.model.behaviours)), np.float32)
        return self.model.predict(np.stack([w[0] for w in windows]), np.stack([w[1] for w in windows]))
