"""ByteTrack-style multi-object tracker for one stream (Zhang et al., 2022), numpy + scipy only.

Public API: ``ByteTracker(TrackerConfig)``; ``tracker.update(detections, time)`` once per frame
(``time``: the frame's time stamp, seconds) returns the live tracks (TENTATIVE, CONFIRMED, LOST) as
fresh :class:`~edgewatch.types.Track` objects; ``tracker.update(None, time)`` on a frame the detector
skipped (``interval``) only moves tracks by their motion model. Ids are given when a track is
confirmed, so the ids a user sees count 1, 2, 3...

Why our own instead of a library: ``supervision``'s ByteTrack hides the life-cycle states and pulls
its own dependency tree, ultralytics' tracker imports torch; both are too heavy for the light CPU
runtime. The algorithm is small:

1. Predict every track to this frame's time (constant-velocity Kalman on cx, cy, aspect, height,
   stepped by the real time since the last frame: the same motion model at any frame rate).
2. Match high-score detections to confirmed and lost tracks by IoU (Hungarian assignment).
3. Match the *low*-score detections to the confirmed tracks still unmatched: occluded objects
   score low, and this second round keeps their ids instead of dropping them (ByteTrack's idea).
4. Match the remaining high-score detections to tentative tracks; a tentative track that misses is
   dropped, one matched on every frame for ``probation_seconds`` is confirmed (a time: a stream
   re-timed to 25 fps by repeating frames repeats a spurious detection too, which a count of frames
   would confirm).
5. Unmatched high-score detections above ``new_track_thresh`` start tentative tracks; confirmed
   tracks that missed become LOST and are removed after ``track_buffer_seconds`` without a match:
   a time, not a frame count, so a lost track is kept as long at 5 fps as at 30 fps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from edgewatch.config import TrackerConfig
from edgewatch.detect.nms import box_iou
from edgewatch.track.kalman import REFERENCE_FPS, KalmanXYAH, xyah_to_xyxy, xyxy_to_xyah
from edgewatch.types import Detections, Track, TrackState

LOW_SCORE_MIN_IOU = 0.5  # second round: low-score boxes are ambiguous, demand a clear overlap (ByteTrack)
TENTATIVE_MIN_IOU = 0.3  # a new track's velocity is unknown yet, so allow more motion (ByteTrack)


@dataclass
class _Tracklet:
    """The tracker's private state of one object."""

    mean: np.ndarray
    cov: np.ndarray
    box: np.ndarray  # xyxy of ``mean``, kept in step with it
    score: float
    state: TrackState = TrackState.TENTATIVE
    track_id: int = 0  # 0 until confirmed
    started: float = 0.0  # time stamp of the first detection
    seen: float = 0.0  # time stamp of the last matched detection
    class_votes: dict[int, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def class_id(self) -> int:
        """Score-weighted majority over the track's detections: one misclassified frame does not flip it."""
        return max(self.class_votes, key=self.class_votes.__getitem__)


class ByteTracker:
    """Tracks of one stream; create one per source."""

    def __init__(self, config: TrackerConfig) -> None:
        self.config = config
        self.kalman = KalmanXYAH()
        self.tracklets: list[_Tracklet] = []
        self._next_id = 1
        self._time: float | None = None  # time stamp of the last frame

    def update(self, detections: Detections | None, time: float) -> list[Track]:
        """Advance one frame with this frame's detections (None: the detector skipped the frame) at ``time`` s."""
        # a first frame, or a clock that went back (a reconnected source), steps one reference frame
        elapsed = time - self._time if self._time is not None and time > self._time else 1.0 / REFERENCE_FPS
        self._time = time
        self._predict(elapsed * REFERENCE_FPS)
        if detections is not None:
            self._associate(detections, time)
        return [Track(t.track_id, t.box, t.score, t.class_id, t.state) for t in self.tracklets]

    def _predict(self, frames: float) -> None:
        if not self.tracklets:
            return
        means, covs = self.kalman.predict(
            np.stack([t.mean for t in self.tracklets]), np.stack([t.cov for t in self.tracklets]), frames
        )
        self._set_states(self.tracklets, means, covs)

    @staticmethod
    def _set_states(tracklets: list[_Tracklet], means: np.ndarray, covs: np.ndarray) -> None:
        boxes = xyah_to_xyxy(means[:, :4]).astype(np.float32)
        for t, mean, cov, box in zip(tracklets, means, covs, boxes, strict=True):
            t.mean, t.cov, t.box = mean, cov, box

    def _associate(self, dets: Detections, time: float) -> None:
        cfg = self.config
        high = np.flatnonzero(dets.scores >= cfg.track_high_thresh)
        low = np.flatnonzero((dets.scores >= cfg.track_low_thresh) & (dets.scores < cfg.track_high_thresh))
        by_state = lambda *states: [t for t in self.tracklets if t.state in states]  # noqa: E731
        confirmed_or_lost = by_state(TrackState.CONFIRMED, TrackState.LOST)
        tentative = by_state(TrackState.TENTATIVE)

        left_tracks, left_high = self._match(confirmed_or_lost, dets, high, cfg.match_iou_threshold, time)
        still_confirmed = [t for t in left_tracks if t.state is TrackState.CONFIRMED]
        unmatched_confirmed, _ = self._match(still_confirmed, dets, low, LOW_SCORE_MIN_IOU, time)
        unmatched_tentative, new = self._match(tentative, dets, left_high, TENTATIVE_MIN_IOU, time)

        for t in unmatched_confirmed + [t for t in left_tracks if t.state is TrackState.LOST]:
            t.state = TrackState.LOST
            if time - t.seen > cfg.track_buffer_seconds:
                t.state = TrackState.REMOVED
        for t in unmatched_tentative:
            t.state = TrackState.REMOVED
        for i in new[dets.scores[new] >= cfg.new_track_thresh]:
            self._start(dets, int(i), time)
        self.tracklets = [t for t in self.tracklets if t.state is not TrackState.REMOVED]

    def _match(
        self, tracks: list[_Tracklet], dets: Detections, idx: np.ndarray, min_iou: float, time: float
    ) -> tuple[list[_Tracklet], np.ndarray]:
        """Hungarian IoU matching of ``tracks`` to ``dets[idx]``; updates the matched, returns the unmatched of both."""
        if not tracks or idx.size == 0:
            return tracks, idx
        iou = box_iou(np.stack([t.box for t in tracks]), dets.boxes[idx])
        rows, cols = linear_sum_assignment(-iou)
        good = iou[rows, cols] >= min_iou
        if good.any():
            self._hit([tracks[r] for r in rows[good]], dets, idx[cols[good]], time)
        matched = set(rows[good].tolist())
        return [t for i, t in enumerate(tracks) if i not in matched], np.delete(idx, cols[good])

    def _hit(self, tracks: list[_Tracklet], dets: Detections, det_idx: np.ndarray, time: float) -> None:
        """Correct matched tracks with their detections (one vectorised Kalman update); advance their life-cycle."""
        means, covs = self.kalman.update(
            np.stack([t.mean for t in tracks]),
            np.stack([t.cov for t in tracks]),
            xyxy_to_xyah(dets.boxes[det_idx].astype(np.float64)),
        )
        self._set_states(tracks, means, covs)
        for t, i in zip(tracks, det_idx.tolist(), strict=True):
            t.score, t.seen = float(dets.scores[i]), time
            t.class_votes[int(dets.class_ids[i])] += float(dets.scores[i])
            if t.state is TrackState.LOST:
                t.state = TrackState.CONFIRMED
            elif t.state is TrackState.TENTATIVE and time - t.started >= self.config.probation_seconds - 1e-9:
                self._confirm(t)

    def _start(self, dets: Detections, i: int, time: float) -> None:
        mean, cov = self.kalman.initiate(xyxy_to_xyah(dets.boxes[i].astype(np.float64)))
        t = _Tracklet(mean, cov, dets.boxes[i].astype(np.float32), float(dets.scores[i]), started=time, seen=time)
        t.class_votes[int(dets.class_ids[i])] += float(dets.scores[i])
        self.tracklets.append(t)
        if self.config.probation_seconds <= 0:
            self._confirm(t)

    def _confirm(self, t: _Tracklet) -> None:
        t.state, t.track_id = TrackState.CONFIRMED, self._next_id
        self._next_id += 1
