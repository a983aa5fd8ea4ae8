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
    tracker = ByteTracker(TrackerConfig(probation_seconds=0.2, track_buffer_seconds=0.5))
    states = []
    for f in range(3):
        tracks = tracker.update(dets((box_at(10 + 2 * f), 0.9)), f / 10)
        states.append(tracks[0].state)
    assert states == [TrackState.TENTATIVE, TrackState.TENTATIVE, TrackState.CONFIRMED]
    assert tracks[0].track_id == 1
    for f in range(3, 8):  # last matched at 0.2 s: lost until 0.7 s
        tracks = tracker.update(Detections.empty(), f / 10)
        assert [t.state for t in tracks] == [TrackState.LOST]
    assert tracker.update(Detections.empty(), 0.75) == []  # 0.55 s unmatched: removed


def test_lost_tracks_are_kept_the_same_time_at_any_frame_rate() -> None:
    """track-buffer-seconds is a time: at 5 and at 30 fps a track lost at t = 1 s is removed just after 2 s."""
    for fps in (5.0, 30.0):
        tracker = ByteTracker(TrackerConfig(probation_seconds=0.0, track_buffer_seconds=1.0))
        frames = np.arange(0, 3.0, 1 / fps)
        alive = []
        for t in frames:
            seen = dets((box_at(10 + 5 * t), 0.9)) if t <= 1.0 + 1e-9 else Detections.empty()
            alive.append(bool(tracker.update(seen, float(t))))
        last = frames[np.flatnonzero(alive)[-1]]
        assert 2.0 - 1 / fps - 1e-9 <= last <= 2.0 + 1e-9


def test_tentative_track_that_misses_is_dropped_without_an_id() -> None:
    tracker = ByteTracker(TrackerConfig(probation_seconds=0.2))
    tracker.update(dets((box_at(10), 0.9)), 0.0)
    assert tracker.update(Detections.empty(), 0.1) == []
    for f in range(3):
        tracks = tracker.update(dets((box_at(300 + f), 0.9)), 0.2 + f / 10)
    assert tracks[0].track_id == 1  # ids are only handed out on confirmation


def test_id_survives_a_short_occlusion_while_moving() -> None:
    tracker = ByteTracker(TrackerConfig(probation_seconds=0.1, track_buffer_seconds=1.0))
    for f in range(10):
        tracks = tracker.update(dets((box_at(10 + 5 * f), 0.9)), f / 10)
    track_id = by_state(tracks, TrackState.CONFIRMED)[0].track_id
    for f in range(10, 14):  # hidden for 4 frames, keeps moving
        tracker.update(Detections.empty(), f / 10)
    tracks = tracker.update(dets((box_at(10 + 5 * 14), 0.9)), 1.4)
    confirmed = by_state(tracks, TrackState.CONFIRMED)
    assert [t.track_id for t in confirmed] == [track_id]
    np.testing.assert_allclose(confirmed[0].box, box_at(80), atol=3.0)


def test_low_score_detection_keeps_the_track_alive() -> None:
    """ByteTrack's second round: a partly occluded (low-score) detection continues the track."""
    tracker = ByteTracker(TrackerConfig(probation_seconds=0.0))
    tracker.update(dets((box_at(10), 0.9)), 0.0)
    tracks = tracker.update(dets((box_at(12), 0.2)), 0.1)
    assert [(t.track_id, t.state) for t in tracks] == [(1, TrackState.CONFIRMED)]
    tracks = tracker.update(dets((box_at(300), 0.3)), 0.2)  # far away and low: neither matches nor starts a track
    assert [(t.track_id, t.state) for t in tracks] == [(1, TrackState.LOST)]


def test_two_crossing_objects_keep_their_ids() -> None:
    tracker = ByteTracker(TrackerConfig(probation_seconds=0.1))
    ids_left_to_right = None
    for f in range(30):
        a, b = 10 + 8 * f, 250 - 8 * f  # they pass each other around f = 15
        pair = dets((box_at(a, y=100), 0.9), (box_at(b, y=110), 0.9))
        tracks = by_state(tracker.update(pair, f / 10), TrackState.CONFIRMED)
        if len(tracks) == 2:
            by_x = {t.track_id: float(t.box[0]) for t in tracks}
            if ids_left_to_right is None:
                ids_left_to_right = sorted(by_x, key=by_x.get)
            mover_right = min(by_x, key=lambda i: abs(by_x[i] - a))
            assert mover_right == ids_left_to_right[0]
    assert ids_left_to_right == [1, 2]


def test_detector_skipped_frames_predict_without_aging() -> None:
    tracker = ByteTracker(TrackerConfig(probation_seconds=0.0, track_buffer_seconds=0.1))
    for f in range(5):
        tracker.update(dets((box_at(10 + 4 * f), 0.9)), f / 10)
    for f in range(5, 15):
        tracks = tracker.update(None, f / 10)
    assert [t.state for t in tracks] == [TrackState.CONFIRMED]
    assert tracks[0].box[0] > 50  # moved on with its velocity


def test_class_is_the_score_weighted_majority() -> None:
    tracker = ByteTracker(TrackerConfig(probation_seconds=0.0))
    tracker.update(dets((box_at(10), 0.9), class_id=2), 0.0)
    tracker.update(dets((box_at(11), 0.9), class_id=2), 0.1)
    tracks = tracker.update(dets((box_at(12), 0.7), class_id=5), 0.2)
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


def test_kalman_steps_by_the_real_time_between_frames() -> None:
    """predict(frames=k) moves a state k reference frames at once, as k single steps do."""
    kf = KalmanXYAH()
    mean, cov = kf.initiate(np.array([100.0, 50.0, 0.5, 40.0]))
    mean[4] = 2.0  # px per reference frame
    once, _ = kf.predict(mean[None], cov[None], 6.0)
    stepped, stepped_cov = mean[None], cov[None]
    for _ in range(6):
        stepped, stepped_cov = kf.predict(stepped, stepped_cov)
    np.testing.assert_allclose(once, stepped)
    assert once[0, 0] == 112.0
