"""Datasets: the generic .npz format, MOT tracks with labels, UEA archives, and the simulator."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgewatch.behaviour.data import Dataset, has_test_split, load_dataset, load_npz, save_npz
from edgewatch.behaviour.simulate import simulate_tracks, tracks_to_arrays
from edgewatch.behaviour.taxonomy import load_taxonomy
from edgewatch.errors import EdgewatchError

TAXONOMY = load_taxonomy()


def test_npz_round_trip_keeps_the_feature_spec(tmp_path: Path) -> None:
    data = load_dataset("sim:30", "train", TAXONOMY, seed=3)
    again = load_npz(save_npz(data, tmp_path / "d.npz"))
    np.testing.assert_array_equal(again.X, data.X)
    np.testing.assert_array_equal(again.y, data.y)
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
    assert TAXONOMY.scene.frame_rate == 10.0  # 100 frames = 9.9 s: a window per second from 2 s on
    assert len(data) == 2 * 8
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
    X, mask, _ = tracks_to_arrays(a, TAXONOMY.features, TAXONOMY.behaviours)
    assert X.shape == (150, TAXONOMY.features.window, TAXONOMY.features.num_features)
    assert np.isfinite(X).all() and mask[:, -1].all()


def test_simulated_motion_matches_its_label() -> None:
    X, _, y = tracks_to_arrays(simulate_tracks(TAXONOMY, 400, seed=1), TAXONOMY.features, TAXONOMY.behaviours)
    speed = {b: np.median(X[y == i][:, -4:, 6]) for i, b in enumerate(TAXONOMY.behaviours)}
    assert speed["standing"] < speed["walking"] < speed["running"]
    assert speed["stopped"] < speed["moving"] < speed["speeding"]
