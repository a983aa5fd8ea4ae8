"""Track features: frame-rate and scale invariance, causality, padding, smoothing, validation."""

from __future__ import annotations

import numpy as np
import pytest

from edgewatch.behaviour.features import (
    MOTION_FEATURES,
    BoxFilter,
    ConstantVelocityFilter,
    FeatureSpec,
    cut_sides,
    track_features,
    track_windows,
    with_scene,
)
from edgewatch.errors import EdgewatchError

SPEC = FeatureSpec(window=16, step=0.25)
SPEED = MOTION_FEATURES.index("speed")
VEL_X = MOTION_FEATURES.index("vel_x")
ALONG = MOTION_FEATURES.index("vel_along")


def walk(fps: float, height: float, seconds: float = 6.0, speed: float = 0.8, drop: float = 0.0,
         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A person of ``height`` px walking right at ``speed`` heights per second, seen at ``fps``."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, seconds, 1 / fps)
    keep = rng.random(len(t)) >= drop
    keep[[0, -1]] = True
    t = t[keep]
    cx = 100 + speed * height * t
    return t, np.stack([cx - height / 4, 300 - height + 0 * t, cx + height / 4, 300 + 0 * t], axis=1)


def test_same_walk_gives_same_features_at_any_frame_rate_and_distance() -> None:
    reference, _ = track_features(*walk(30, 120), 0, SPEC)
    for fps, height, drop in [(7.5, 40, 0.0), (10, 300, 0.0), (25, 60, 0.4)]:
        x, mask = track_features(*walk(fps, height, drop=drop), 0, SPEC)
        assert mask.all()
        np.testing.assert_allclose(x, reference, atol=1e-4)
    assert reference[-1, SPEED] == pytest.approx(0.8, rel=1e-4)


def test_dropped_frames_do_not_fake_speed() -> None:
    t, boxes = walk(10, 100)
    keep = np.ones(len(t), bool)
    keep[30:45] = False  # a 1.5 s occlusion
    x, _ = track_features(t[keep], boxes[keep], 0, SPEC)
    np.testing.assert_allclose(x[:, SPEED], 0.8, rtol=1e-4)


def test_young_track_is_padded_at_the_oldest_end() -> None:
    t, boxes = walk(10, 100, seconds=1.0)
    x, mask = track_features(t, boxes, 0, SPEC)
    valid = int(mask.sum())
    assert valid == 4  # t = 0.15, 0.4, 0.65, 0.9 on the 0.25 s grid ending at 0.9
    assert not mask[:-valid].any() and mask[-valid:].all()
    assert not x[:-valid].any()
    assert x[-1, len(MOTION_FEATURES)] == 1.0  # class one-hot on valid steps


def test_single_observation_is_valid_and_still() -> None:
    x, mask = track_features(np.array([3.0]), np.array([[0, 0, 10, 20]], float), 2, SPEC)
    assert mask.sum() == 1
    assert not x[-1, :SPEED + 1].any()
    assert x[-1, len(MOTION_FEATURES) + 2] == 1.0


def test_features_are_causal_and_windows_match_live_calls() -> None:
    t, boxes = walk(10, 100, seconds=8, speed=1.5)
    X, _, ends = track_windows(t, boxes, 0, SPEC, stride=1.0, min_history=1.0)
    assert len(X) == len(ends) == 7
    for window, end in zip(X, ends):
        n = int(np.searchsorted(t, end, side="right"))
        live, _ = track_features(t[:n], boxes[:n], 0, SPEC)
        np.testing.assert_array_equal(window, live)
    later = boxes.copy()
    later[-10:] += np.array([50, 0, 50, 0])  # what happens later must not change earlier windows
    np.testing.assert_array_equal(track_windows(t, later, 0, SPEC, stride=1.0, min_history=1.0)[0][:6], X[:6])


def test_lane_direction_projects_velocity() -> None:
    t, boxes = walk(10, 100)
    along, _ = track_features(t, boxes, 0, with_scene(SPEC, (1.0, 0.0)))
    against, _ = track_features(t, boxes, 0, with_scene(SPEC, (-2.0, 0.0)))
    unknown, _ = track_features(t, boxes, 0, SPEC)
    assert along[-1, ALONG] == pytest.approx(0.8, rel=1e-4)
    assert against[-1, ALONG] == pytest.approx(-0.8, rel=1e-4)
    assert unknown[-1, ALONG] == 0.0


def test_a_box_the_frame_edge_cuts_is_not_read_as_motion() -> None:
    """A person walking along the bottom of the view, their feet going in and out of it: the visible box
    shrinks and grows. Known as cut and completed on the cut side, the features are those of the whole
    person; without that, the changing height reads as motion towards and away from the camera."""
    t = np.arange(0, 6, 0.1)
    feet = 300 + 20 * np.sin(2 * np.pi * t / 3)  # the frame is 300 px high
    x = 100 + 80 * t
    whole = np.stack([x, feet - 100, x + 40, feet], axis=1)
    seen = whole.copy()
    seen[:, 3] = np.minimum(feet, 300)
    cut = cut_sides(seen, (1000, 300))
    assert cut[:, 3].any() and not cut[:, 3].all()
    aware, _ = track_features(t, seen, 0, SPEC, cut=cut)
    truth, _ = track_features(t, whole, 0, SPEC)
    blind, _ = track_features(t, seen, 0, SPEC)
    motion = slice(0, MOTION_FEATURES.index("cut_x"))
    np.testing.assert_allclose(aware[:, motion], truth[:, motion], atol=1e-4)
    growth = MOTION_FEATURES.index("growth")
    assert np.abs(blind[:, growth] - truth[:, growth]).max() > 0.1
    assert aware[:, MOTION_FEATURES.index("cut_y")].max() == 1.0


def test_box_completion_uses_the_last_full_size_and_keeps_the_real_sides() -> None:
    box_filter = BoxFilter(SPEC)
    np.testing.assert_allclose(box_filter.update(0.0, np.array([10, 20, 30, 120.0])), [10, 20, 30, 120])
    # cut at the left edge (x1 = 0) and at the bottom: both extend from the real sides to the full size
    cut = np.array([True, False, False, True])
    np.testing.assert_allclose(box_filter.update(0.1, np.array([0, 50, 15, 100.0]), cut), [-5, 50, 15, 150])
    assert cut_sides(np.array([[1, 1, 50, 50]]), None).sum() == 0  # frame size unknown: nothing is cut


def test_kalman_smoothing_reduces_jitter_and_keeps_the_speed() -> None:
    t, boxes = walk(30, 100, seconds=8)
    kalman = FeatureSpec(window=16, step=0.25, smoothing="kalman")
    raw_std, smooth_std = [], []
    for seed in range(5):
        noisy = boxes + np.random.default_rng(seed).normal(0, 4, boxes.shape)
        raw, _ = track_features(t, noisy, 0, SPEC)
        smooth, _ = track_features(t, noisy, 0, kalman)
        raw_std.append(raw[4:, VEL_X].std())
        smooth_std.append(smooth[4:, VEL_X].std())
        assert smooth[4:, VEL_X].mean() == pytest.approx(0.8, abs=0.1)
    assert np.mean(smooth_std) < 0.6 * np.mean(raw_std)


def test_kalman_tracks_a_noiseless_constant_velocity_exactly() -> None:
    t = np.cumsum(np.random.default_rng(0).uniform(0.03, 0.3, 50))
    values = np.stack([5 + 3 * t, 1 - 2 * t], axis=1)
    kalman = ConstantVelocityFilter(0.05, 2.0)
    out = np.array([kalman.update(ti, zi, 1.0) for ti, zi in zip(t.tolist(), values.tolist())])
    np.testing.assert_allclose(out[10:], values[10:], atol=1e-3)


def test_spec_round_trips_through_json() -> None:
    spec = FeatureSpec(window=20, step=0.2, classes=("person", "car"), smoothing="kalman", lane_direction=(0.0, 1.0))
    assert FeatureSpec.from_json(spec.to_json()) == spec
    assert spec.num_features == len(MOTION_FEATURES) + 2
    assert spec.class_index("car") == 1 and spec.class_index("dog") is None


@pytest.mark.parametrize(("times", "boxes", "class_id", "message"), [
    (np.array([0.0, 0.0]), np.zeros((2, 4)), 0, "strictly increasing"),
    (np.array([0.0, 1.0]), np.zeros((3, 4)), 0, "expected times"),
    (np.array([0.0]), np.zeros((1, 4)), 9, "class_id 9"),
    (np.zeros(0), np.zeros((0, 4)), 0, "empty track"),
])
def test_bad_input_is_one_clear_error(times: np.ndarray, boxes: np.ndarray, class_id: int, message: str) -> None:
    with pytest.raises(EdgewatchError, match=message):
        track_features(times, boxes, class_id, SPEC)


def test_bad_spec_is_rejected() -> None:
    with pytest.raises(EdgewatchError, match="smoothing"):
        FeatureSpec(smoothing="median")
    with pytest.raises(EdgewatchError, match="window"):
        FeatureSpec(window=1)
