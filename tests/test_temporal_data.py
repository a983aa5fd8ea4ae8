"""Datasets: the generic .npz format, MOT tracks with labels, UEA archives, and the simulator."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgewatch.behaviour.data import (
    Dataset,
    fit_window,
    has_test_split,
    load_dataset,
    load_npz,
    read_labelled_tracks,
    save_npz,
)
from edgewatch.behaviour.features import MOTION_FEATURES
from edgewatch.behaviour.simulate import BOUNDARIES, SCORED_AFTER, SimSettings, simulate_track, simulate_tracks, tracks_to_dataset
from edgewatch.behaviour.taxonomy import load_taxonomy
from edgewatch.errors import EdgewatchError

TAXONOMY = load_taxonomy()


def test_npz_round_trip_keeps_the_feature_spec(tmp_path: Path) -> None:
    data = load_dataset("sim:30", "train", TAXONOMY, seed=3)
    again = load_npz(save_npz(data, tmp_path / "d.npz"))
    np.testing.assert_array_equal(again.X, data.X)
    np.testing.assert_array_equal(again.y, data.y)
    np.testing.assert_array_equal(again.soft_targets(), data.soft_targets())
    assert again.classes == data.classes and again.feature_spec == data.feature_spec


def test_npz_without_a_required_array_names_it(tmp_path: Path) -> None:
    np.savez(tmp_path / "bad.npz", X=np.zeros((2, 4, 3)), y=np.zeros(2), classes=np.array(["a"]))
    with pytest.raises(EdgewatchError, match="missing array 'mask'"):
        load_dataset(str(tmp_path / "bad.npz"), "train", TAXONOMY)


def test_inconsistent_shapes_are_rejected() -> None:
    with pytest.raises(EdgewatchError, match="inconsistent shapes"):
        Dataset(np.zeros((2, 4, 3), np.float32), np.ones((2, 5), np.float32), np.zeros(2, np.int64), ("a",))


def write_mot(tmp_path: Path) -> Path:
    """Two 100-frame tracks: id 1 walks, id 2 stands; id 3 is unlabelled."""
    rows = []
    for frame in range(1, 101):
        rows.append((frame, 1, 100 + 2.0 * frame, 200, 40, 100))
        rows.append((frame, 2, 400, 200, 40, 100))
        rows.append((frame, 3, 600, 100, 40, 100))
    path = tmp_path / "gt.txt"
    path.write_text("".join(f"{f},{i},{x},{y},{w},{h},1,1,1\n" for f, i, x, y, w, h in rows))
    (tmp_path / "gt.labels.csv").write_text("track_id,label,class\n1,walking,person\n2,standing\n")
    return path


def test_mot_tracks_become_windows_in_real_seconds(tmp_path: Path) -> None:
    path = write_mot(tmp_path)
    raw = replace(TAXONOMY, features=replace(TAXONOMY.features, smoothing="none"))  # exact speeds
    data = load_dataset(str(path), "train", raw)
    walking, standing = TAXONOMY.behaviours.index("walking"), TAXONOMY.behaviours.index("standing")
    assert set(data.y.tolist()) == {walking, standing}
    assert TAXONOMY.scene.frame_rate == 10.0  # 100 frames = 9.9 s: a window per second from 1 s on
    assert len(data) == 2 * 9
    speed = data.X[data.y == walking][:, -1, 6]  # 2 px/frame * 10 fps / 100 px = 0.2 heights/s
    np.testing.assert_allclose(speed, 2.0 * TAXONOMY.scene.frame_rate / 100, rtol=1e-4)


def test_mot_labels_must_exist_and_be_known(tmp_path: Path) -> None:
    path = write_mot(tmp_path)
    (tmp_path / "gt.labels.csv").write_text("track_id,label\n1,dancing\n")
    with pytest.raises(EdgewatchError, match="dancing"):
        load_dataset(str(path), "train", TAXONOMY)
    (tmp_path / "gt.labels.csv").unlink()
    with pytest.raises(EdgewatchError, match="gt.labels.csv not found"):
        load_dataset(str(path), "train", TAXONOMY)


def test_labels_per_time_span_and_seqinfo(tmp_path: Path) -> None:
    """track_id,start,end,label rows label spans (MOT frames, inclusive; empty = the track's end); a
    seqinfo.ini gives the real frame rate and the frame size, so boxes at the frame edge are known."""
    path = write_mot(tmp_path)
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nframeRate=20\nimWidth=700\nimHeight=300\n")
    (tmp_path / "gt.labels.csv").write_text("track_id,start,end,label\n1,1,40,walking\n1,61,,standing\n3,,,standing\n")
    tracks = {t.track_id: t for t in read_labelled_tracks(path, 10.0, TAXONOMY.behaviours)}
    assert set(tracks) == {1, 3}
    assert tracks[1].spans == ((0.0, 39 / 20, "walking"), (3.0, 99 / 20, "standing"))
    assert tracks[1].label_at(np.array([0.5, 2.5, 4.0])) == ["walking", None, "standing"]
    assert tracks[1].cut[:, 3].all() and not tracks[3].cut.any()  # track 1's boxes reach the bottom edge (y=300)
    data = load_dataset(str(path), "train", TAXONOMY)
    # 20 fps: 100 frames = 4.95 s; windows every second from 1 s: track 1 at 1 s (walking), 3 and 4 s
    # (standing; 2 s is between the spans), track 3 at 1..4 s
    assert len(data) == 3 + 4
    (tmp_path / "gt.labels.csv").write_text("track_id,start,end,label\n1,50,20,walking\n")
    with pytest.raises(EdgewatchError, match="end frame 20 is before start frame 50"):
        load_dataset(str(path), "train", TAXONOMY)


def test_short_and_long_sequences_fit_any_window() -> None:
    data = Dataset(np.arange(2 * 5 * 1, dtype=np.float32).reshape(2, 5, 1) + 1, np.ones((2, 5), np.float32),
                   np.zeros(2, np.int64), ("a",))
    cut, padded = fit_window(data, 3), fit_window(data, 8)
    np.testing.assert_array_equal(cut.X[0, :, 0], [3, 4, 5])  # the newest steps stay
    np.testing.assert_array_equal(padded.mask[0], [0, 0, 0, 1, 1, 1, 1, 1])  # padding at the oldest end
    np.testing.assert_array_equal(padded.X[0, 3:, 0], data.X[0, :, 0])


def test_uea_series_of_unequal_length_are_padded_at_the_oldest_end() -> None:
    pytest.importorskip("sktime", reason="sktime reads the UEA .ts archives")
    data = load_dataset("uea:JapaneseVowels", "train", TAXONOMY)
    lengths = data.mask.sum(axis=1)
    assert data.X.shape[1] == lengths.max() and lengths.min() < lengths.max()
    shortest = int(lengths.argmin())
    assert not data.mask[shortest, 0] and data.mask[shortest, -1]
    assert not data.X[shortest, 0].any()


def test_uea_basic_motions_loads_offline() -> None:
    pytest.importorskip("sktime", reason="sktime reads the UEA .ts archives")
    train, test = (load_dataset("uea:BasicMotions", split, TAXONOMY) for split in ("train", "test"))
    assert train.X.shape == (40, 100, 6) and test.X.shape == (40, 100, 6)
    assert train.classes == ("badminton", "running", "standing", "walking")
    assert train.mask.all() and train.feature_spec is None
    assert has_test_split("uea:BasicMotions") and not has_test_split("x.npz")


def test_unknown_sources_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EdgewatchError, match="sim:N"):
        load_dataset("sim:many", "train", TAXONOMY)
    with pytest.raises(EdgewatchError, match="file not found"):
        load_dataset(str(tmp_path / "none.npz"), "train", TAXONOMY)
    (tmp_path / "x.csv").write_text("1")
    with pytest.raises(EdgewatchError, match="expected .npz"):
        load_dataset(str(tmp_path / "x.csv"), "train", TAXONOMY)


def test_simulator_is_seeded_and_covers_every_behaviour() -> None:
    a, b = simulate_tracks(TAXONOMY, 150, seed=7), simulate_tracks(TAXONOMY, 150, seed=7)
    assert all(np.array_equal(x.boxes, y.boxes) and x.label == y.label for x, y in zip(a, b))
    assert {t.label for t in a} == set(TAXONOMY.behaviours)
    for track in a:
        assert np.all(np.diff(track.times) > 0)
        assert np.all(track.boxes[:, 2] > track.boxes[:, 0]) and np.all(track.boxes[:, 3] > track.boxes[:, 1])
        group = TAXONOMY.group_of(track.class_name)
        assert track.label in group.behaviours
    data = tracks_to_dataset(a, TAXONOMY.features, TAXONOMY.behaviours)
    X, mask = data.X, data.mask
    assert X.shape == (150, TAXONOMY.features.window, TAXONOMY.features.num_features)
    assert np.isfinite(X).all() and mask[:, -1].all()


def test_simulated_motion_matches_its_label() -> None:
    data = tracks_to_dataset(simulate_tracks(TAXONOMY, 400, seed=1), TAXONOMY.features, TAXONOMY.behaviours)
    X, y = data.X, data.y
    speed = {b: np.median(X[y == i][:, -4:, 6]) for i, b in enumerate(TAXONOMY.behaviours)}
    assert speed["standing"] < speed["walking"] < speed["running"]
    assert speed["stopped"] < speed["moving"] < speed["speeding"]


def reversals(track, seconds: float = 7.75) -> int:  # type: ignore[no-untyped-def]
    """Turns back along the main axis of motion in the newest ``seconds``: sign changes of the 0.5 s
    displacement of the box centre, counting moves longer than 5% of the box height only."""
    keep = track.times >= track.times[-1] - seconds
    centre = (track.boxes[keep, :2] + track.boxes[keep, 2:]) / 2
    height = float(np.median(track.boxes[keep, 3] - track.boxes[keep, 1]))
    axis = np.linalg.svd(centre - centre.mean(axis=0), full_matrices=False)[2][0]
    grid = np.arange(track.times[keep][0], track.times[-1], 0.5)
    along = np.interp(grid, track.times[keep], centre @ axis)
    steps = np.diff(along)
    signs = np.sign(steps[np.abs(steps) > 0.05 * height])
    return int(np.count_nonzero(np.diff(signs)))


def test_pacing_turns_back_at_least_twice_and_a_walker_at_most_once() -> None:
    clean = SimSettings(jitter=(0.001, 0.001), missed=(0.0, 0.0), edge_share=0.0, occlusion_share=0.0,
                        switch_share=0.0, change_share=0.0, repeat_share=0.0)
    people = replace(TAXONOMY, groups=TAXONOMY.groups[:1])
    tracks = [t for t in simulate_tracks(people, 300, seed=5, settings=clean) if not t.cut.any()]  # whole boxes
    pacing = [reversals(t) for t in tracks if t.label == "pacing"]
    walking = [reversals(t) for t in tracks if t.label == "walking"]
    assert pacing and min(pacing) >= 2
    assert walking and max(walking) <= 1 and any(r == 1 for r in walking)  # some walkers U-turn once


def test_simulated_boxes_stay_in_the_frame_and_know_their_cut_sides() -> None:
    edge = SimSettings(edge_share=1.0, occlusion_share=0.0)
    for track in simulate_tracks(TAXONOMY, 80, seed=2, settings=edge):
        assert track.boxes.min() >= 0 and track.boxes[:, 2].max() <= 1280 and track.boxes[:, 3].max() <= 720
        assert track.cut[-1].any()  # the newest box is the one the edge cuts
        np.testing.assert_array_equal(track.cut[:, 3], track.boxes[:, 3] >= 720 - 2)


def test_a_stopped_vehicle_faces_any_way_and_a_moving_one_drives_across_the_view() -> None:
    """Box width per height of a car (1.5 m high, 4.5 m long, 1.8 m wide): 1.2 seen from behind,
    3 from the side; a road within 25 degrees of crossing the view keeps a moving car above 2.5."""
    clean = SimSettings(jitter=(0.001, 0.001), missed=(0.0, 0.0), edge_share=0.0, occlusion_share=0.0,
                        switch_share=0.0, change_share=0.0, repeat_share=0.0)
    rng = np.random.default_rng(3)

    def aspects(label: str) -> np.ndarray:
        tracks = [simulate_track(rng, label, "car", (), clean) for _ in range(120)]
        boxes = [t.boxes[-1] for t in tracks if not t.cut[-1].any()]  # whole boxes (a car drives out of view)
        return np.array([(b[2] - b[0]) / (b[3] - b[1]) for b in boxes])

    stopped, moving = aspects("stopped"), aspects("moving")
    assert stopped.min() < 1.5 and stopped.max() > 2.8  # parked end-on and side-on
    assert moving.min() > 2.5


def test_labels_mix_only_near_a_speed_boundary_and_short_histories_are_drawn() -> None:
    tracks = simulate_tracks(TAXONOMY, 600, seed=4)
    mixed = [t for t in tracks if len(t.shares) > 1]
    pairs = [set(pair) for pair in BOUNDARIES] + [{"lane_change", "moving"}]  # near a speed boundary, or a lane
    assert mixed and all(set(t.shares) in pairs for t in mixed)  # change seen only in part
    assert all(abs(sum(t.shares.values()) - 1) < 1e-6 for t in tracks)
    data = tracks_to_dataset(tracks, TAXONOMY.features, TAXONOMY.behaviours)
    X = data.X
    scored = [t for t in tracks if len(t.shares) == 1 and t.current_for >= SCORED_AFTER - 1e-9]
    assert len(data.definite()) == len(scored) < len(tracks)
    young = [t.times[-1] - t.times[0] for t in tracks if t.label in ("standing", "walking", "running")]
    assert min(young) < 1.5 and np.mean(np.array(young) < 4.0) > 0.3
    cut_columns = [MOTION_FEATURES.index("cut_x"), MOTION_FEATURES.index("cut_y")]
    assert X[:, :, cut_columns].max() == 1.0  # some windows see boxes the frame edge cut
