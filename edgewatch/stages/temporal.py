"""Temporal stage: per-track history -> one batched behaviour inference every ``stride`` frames.

Public API: ``TemporalStage(model, class_names, TemporalConfig, evict_after, scenes)`` /
``TemporalStage.from_config(TemporalConfig, class_names, evict_after, scenes)``; ``stage(frames)`` sets
``Track.behaviour`` on the CONFIRMED tracks of the frames (in place) and returns the frames.
``class_names`` are the detector's, ``evict_after`` the tracker's ``track-buffer``, ``scenes`` the
streams' scenes: the model's lane direction input is the scene's at the track's foot point (a zone's own
``lane-direction``, else the scene's), per camera; streams without one keep the model's.

- **History**: each (stream, track) keeps a ring of its newest ``(time, box)`` observations, the boxes
  through the feature spec's :class:`BoxFilter` (Kalman, when the model was trained with it) as they
  arrive: one O(1) filter step per track and frame, the same filter training ran from each track's
  first box, instead of re-filtering the whole history at every classification. The
  behaviour features are defined on *time* (``FeatureSpec``: ``window`` points ``step`` seconds
  apart), so the ring holds what ``track_features`` reads, ``history_seconds + step``, trimmed by
  time and capped at :data:`MAX_FPS` observations per second. Histories of tracks unseen for
  ``evict_after`` frames are dropped (:class:`TrackTable`), so memory follows the live tracks only.
- **Cadence**: a track is classified on the frames whose number is a multiple of ``stride``, once
  its history spans the model's ``min_history``; all such tracks of all frames of the batch go
  through the model in ONE call.
- **Smoothing**: probabilities are restricted to the behaviours allowed for the track's class
  (``applies_to``), then smoothed per track: ``ema`` (exponential moving average), ``majority``
  (most frequent verdict of the last ``majority_k``) or ``none``.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgewatch.behaviour.features import BoxFilter, FeatureSpec, track_features, with_scene
from edgewatch.behaviour.predictor import BehaviourModel
from edgewatch.config import TemporalConfig
from edgewatch.errors import EdgewatchError
from edgewatch.runtime.session import ModelSession
from edgewatch.scene.model import Scene
from edgewatch.stages.tracktable import TrackTable
from edgewatch.types import Behaviour, Frame, Track

MAX_FPS = 60.0  # observations kept per second of history; faster streams keep only the newest ones


@dataclass
class TrackHistory:
    """One track's ring of (filtered) observations and its smoothing state."""

    times: deque[float]
    boxes: deque[np.ndarray]
    box_filter: BoxFilter
    votes: deque[np.ndarray]  # the last probabilities (majority) ...
    probs: np.ndarray | None = None  # ... or their running average (ema / none)
    behaviour: Behaviour | None = None

    def observe(self, time: float, box: np.ndarray, keep_seconds: float) -> None:
        """Filter and append an observation, and drop those older than needed.

        A repeated time stamp is ignored; a time stamp going backwards (a live source that reconnected
        and restarted its clock) starts the history and its filter afresh rather than freezing them.
        """
        if self.times and time == self.times[-1]:
            return
        if self.times and time < self.times[-1]:
            self.times.clear()
            self.boxes.clear()
            self.box_filter = BoxFilter(self.box_filter.spec)
        self.times.append(time)
        self.boxes.append(self.box_filter.update(time, box))
        while self.times[0] < time - keep_seconds:
            self.times.popleft()
            self.boxes.popleft()


class TemporalStage:
    """Behaviour classification of every confirmed track of the covered classes."""

    def __init__(
        self, model: BehaviourModel, class_names: Sequence[str], config: TemporalConfig, evict_after: int,
        scenes: Mapping[int, Scene] | None = None,
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
        self.model, self.spec, self.config = model, spec, config
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
            lambda: TrackHistory(deque(maxlen=capacity), deque(maxlen=capacity), BoxFilter(spec),
                                 deque(maxlen=config.majority_k)),
            evict_after,
        )

    @classmethod
    def from_config(
        cls,
        config: TemporalConfig,
        class_names: Sequence[str],
        evict_after: int,
        open_session: Callable[[Path], ModelSession] | None = None,
        scenes: Mapping[int, Scene] | None = None,
    ) -> TemporalStage:
        """The stage ``[temporal]`` describes; the model is loaded and checked against it before any frame.
        ``open_session`` opens the model file (a TensorRT engine beside it under DeepStream); default ONNX Runtime."""
        assert config.onnx_file is not None  # load_config guarantees it when enabled
        model = BehaviourModel.from_file(config.onnx_file) if open_session is None else BehaviourModel(
            open_session(config.onnx_file))
        return cls(model, class_names, config, evict_after, scenes)

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        # pass 1, in frame order: grow histories and collect the feature windows due now
        seen: list[tuple[Track, TrackHistory, int | None]] = []  # (track, history, row in the model batch)
        windows: list[tuple[np.ndarray, np.ndarray]] = []
        for frame in frames:
            due = frame.frame_num % self.config.stride == 0
            for track in frame.tracks:
                if track.class_id not in self.covered:
                    continue
                history = self.histories.get(frame.stream_id, track.track_id, frame.frame_num)
                history.observe(frame.timestamp, track.box, self.keep_seconds)
                row = None
                if due and self._ready(history):
                    row = len(windows)
                    windows.append(
                        track_features(
                            np.array(history.times), np.array(history.boxes), self.covered[track.class_id][0],
                            self._spec_at(frame.stream_id, track.box), smoothed=True,
                        )
                    )
                seen.append((track, history, row))
            self.histories.evict(frame.stream_id, frame.frame_num)
        # one model call for every due track of the batch
        probs = self._predict(windows)
        # pass 2, in the same order: smooth the new verdicts and attach the current one to each track
        for track, history, row in seen:
            if row is not None:
                self._smooth(history, probs[row], self.covered[track.class_id][1])
            track.behaviour = history.behaviour
        return frames

    def _spec_at(self, stream: int, box: np.ndarray) -> FeatureSpec:
        """The feature spec with the lane direction of the stream's scene at the box's foot point."""
        scene = self.scenes.get(stream)
        if scene is None:
            return self.spec
        lane = scene.lane_at(float(box[0] + box[2]) / 2, float(box[3]))
        return self.spec if lane is None else with_scene(self.spec, lane)

    def _ready(self, history: TrackHistory) -> bool:
        return len(history.times) >= 2 and history.times[-1] - history.times[0] >= self.model.min_history

    def _predict(self, windows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        if not windows:
            return np.zeros((0, len(self.model.behaviours)), np.float32)
        return self.model.predict(np.stack([w[0] for w in windows]), np.stack([w[1] for w in windows]))

    def _smooth(self, history: TrackHistory, probs: np.ndarray, allowed: np.ndarray) -> None:
        probs = np.where(allowed, probs, 0.0)
        probs = probs / max(float(probs.sum()), 1e-12)
        if self.config.smoothing == "majority":
            history.votes.append(probs)
            counts = Counter(int(v.argmax()) for v in history.votes)
            mean = np.mean(history.votes, axis=0)
            label = max(counts, key=lambda k: (counts[k], mean[k]))  # ties: the more probable on average
            history.behaviour = Behaviour(self.model.behaviours[label], float(mean[label]))
            return
        alpha = self.config.ema_alpha if self.config.smoothing == "ema" else 1.0
        history.probs = probs if history.probs is None else alpha * probs + (1.0 - alpha) * history.probs
        label = int(history.probs.argmax())
        history.behaviour = Behaviour(self.model.behaviours[label], float(history.probs[label]))
