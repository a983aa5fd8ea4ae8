"""ByteTracker: life-cycle, id persistence through occlusion, crossing objects, low-score revival."""

from __future__ import annotations

import numpy as np

from edgewatch.config import TrackerConfig
from edgewatch.track.bytetrack import ByteTracker
from edgewatch.track.kalman import KalmanXYAH, xyah_to_xyxy, xyxy_to_xyah
from edgewatch.types import Detections, TrackState


def dets(*boxes_scores: tuple[tuple[float, float, float, float], float], class_id: int = 0) -> Detections:
    if not boxes_scores:
        return Detections.empty()
    return Detections(
        np.array([b for b, _ in boxes_scores], np.float32),
        np.array([s for _, s in boxes_scores], np.float32),
        np.full(len(boxes_scores), class_id, np.int64),
    )


def box_at(x: float, y: float = 100.0, w: float = 20.0, h: float = 50.0) -> tuple[float, float, float, float]:
    return (x, y, x + w, y + h)


def by_state(tracks: list, state: TrackState) -> list:
    return [t for t in tracks if t.state is state]


def test_life_cycle_tentative_confirmed_lost_removed() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=3, track_buffer=5))
    states = []
    for f in range(3):
        tracks = tracker.update(dets((box_at(10 + 2 * f), 0.9)))
        states.append(tracks[0].state)
    assert states == [TrackState.TENTATIVE, TrackState.TENTATIVE, TrackState.CONFIRMED]
    assert tracks[0].track_id == 1
    for _ in range(5):
        tracks = tracker.update(Detections.empty())
        assert [t.state for t in tracks] == [TrackState.LOST]
    assert tracker.update(Detections.empty()) == []  # sixth miss: removed


def test_tentative_track_that_misses_is_dropped_without_an_id() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=3))
    tracker.update(dets((box_at(10), 0.9)))
    assert tracker.update(Detections.empty()) == []
    for f in range(3):
        tracks = tracker.update(dets((box_at(300 + f), 0.9)))
    assert tracks[0].track_id == 1  # ids are only handed out on confirmation


def test_id_survives_a_short_occlusion_while_moving() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=2, track_buffer=10))
    for f in range(10):
        tracks = tracker.update(dets((box_at(10 + 5 * f), 0.9)))
    track_id = by_state(tracks, TrackState.CONFIRMED)[0].track_id
    for _ in range(4):  # hidden for 4 frames, keeps moving
        tracker.update(Detections.empty())
    tracks = tracker.update(dets((box_at(10 + 5 * 14), 0.9)))
    confirmed = by_state(tracks, TrackState.CONFIRMED)
    assert [t.track_id for t in confirmed] == [track_id]
    np.testing.assert_allclose(confirmed[0].box, box_at(80), atol=3.0)


def test_low_score_detection_keeps_the_track_alive() -> None:
    """ByteTrack's second round: a partly occluded (low-score) detection continues the track."""
    tracker = ByteTracker(TrackerConfig(min_hits=1))
    tracker.update(dets((box_at(10), 0.9)))
    tracks = tracker.update(dets((box_at(12), 0.2)))
    assert [(t.track_id, t.state) for t in tracks] == [(1, TrackState.CONFIRMED)]
    tracks = tracker.update(dets((box_at(300), 0.3)))  # far away and low: neither matches nor starts a track
    assert [(t.track_id, t.state) for t in tracks] == [(1, TrackState.LOST)]


def test_two_crossing_objects_keep_their_ids() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=2))
    ids_left_to_right = None
    for f in range(30):
        a, b = 10 + 8 * f, 250 - 8 * f  # they pass each other around f = 15
        tracks = by_state(tracker.update(dets((box_at(a, y=100), 0.9), (box_at(b, y=110), 0.9))), TrackState.CONFIRMED)
        if len(tracks) == 2:
            by_x = {t.track_id: float(t.box[0]) for t in tracks}
            if ids_left_to_right is None:
                ids_left_to_right = sorted(by_x, key=by_x.get)
            mover_right = min(by_x, key=lambda i: abs(by_x[i] - a))
            assert mover_right == ids_left_to_right[0]
    assert ids_left_to_right == [1, 2]


def test_detector_skipped_frames_predict_without_aging() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=1, track_buffer=1))
    for f in range(5):
        tracker.update(dets((box_at(10 + 4 * f), 0.9)))
    for _ in range(10):
        tracks = tracker.update(None)
    assert [t.state for t in tracks] == [TrackState.CONFIRMED]
    assert tracks[0].box[0] > 50  # moved on with its velocity


def test_class_is_the_score_weighted_majority() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=1))
    tracker.update(dets((box_at(10), 0.9), class_id=2))
    tracker.update(dets((box_at(11), 0.9), class_id=2))
    tracks = tracker.update(dets((box_at(12), 0.7), class_id=5))
    assert tracks[0].class_id == 2


def test_kalman_conversions_and_constant_velocity() -> None:
    box = np.array([10.0, 20.0, 30.0, 60.0])
    np.testing.assert_allclose(xyah_to_xyxy(xyxy_to_xyah(box)), box)
    kf = KalmanXYAH()
    mean, cov = kf.initiate(xyxy_to_xyah(box))
    for step in range(1, 20):
        means, covs = kf.predict(mean[None], cov[None])
        means, covs = kf.update(means, covs, xyxy_to_xyah(box + [3 * step, 0, 3 * step, 0])[None])
        mean, cov = means[0], covs[0]
    assert abs(mean[4] - 3.0) < 0.2  # learned the velocity in x
