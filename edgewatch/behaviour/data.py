"""Datasets for the temporal model: one in-memory form, several sources.

Every source becomes a :class:`Dataset` (``X [N,T,F]`` float32, ``mask [N,T]``, ``y [N]`` int64, the
``classes`` label names). Sources, as the ``--data`` argument spells them:

* ``tracks.npz``: the generic format (keys ``X``, ``mask``, ``y``, ``classes``; optional
  ``feature_spec`` JSON when X came from :func:`track_features`). Users train on their own tracks here.
* ``sim:N``: ``N`` simulated tracks (seeded; the test split uses another seed, so it is held out).
* ``uea:Name`` or ``Name_TRAIN.ts``: a UEA/UCR archive read with sktime; ``uea:`` names the copies
  sktime ships (BasicMotions...), usable offline. The test split is ``Name_TEST.ts``.
* ``tracks.txt``: MOT-format tracks (``frame,id,x,y,w,h,...``, 1-based frames) with labels in
  ``tracks.labels.csv`` beside it: header ``track_id,label[,class]``; ``class`` defaults to
  ``person``. Unlisted tracks are ignored; frames become seconds through the scene's frame rate, and
  each track is cut into overlapping windows (one sample per second of track).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edgewatch.behaviour.features import FeatureSpec, track_windows
from edgewatch.behaviour.taxonomy import Taxonomy
from edgewatch.errors import EdgewatchError


@dataclass(frozen=True)
class Dataset:
    """Labelled fixed-length sequences; ``feature_spec`` is None for sequences that are not tracks."""

    X: np.ndarray
    mask: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    feature_spec: FeatureSpec | None = None

    def __post_init__(self) -> None:
        n, t = self.X.shape[:2]
        if self.X.ndim != 3 or self.mask.shape != (n, t) or self.y.shape != (n,):
            raise EdgewatchError(f"dataset: inconsistent shapes X {self.X.shape}, mask {self.mask.shape}, y {self.y.shape}")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.classes)):
            raise EdgewatchError(f"dataset: labels outside 0..{len(self.classes) - 1}")

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def subset(self, index: np.ndarray) -> Dataset:
        """The windows at ``index`` (an index array or boolean mask), same classes and spec."""
        return replace(self, X=self.X[index], mask=self.mask[index], y=self.y[index])


def save_npz(dataset: Dataset, path: Path) -> Path:
    """Write the generic ``.npz`` format."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = "" if dataset.feature_spec is None else dataset.feature_spec.to_json()
    np.savez_compressed(path, X=dataset.X, mask=dataset.mask, y=dataset.y, classes=np.array(dataset.classes),
                        feature_spec=np.array(spec))
    return path


def load_npz(path: Path) -> Dataset:
    """Read the generic ``.npz`` format, naming the missing key when it is incomplete."""
    with np.load(path, allow_pickle=False) as data:
        for key in ("X", "mask", "y", "classes"):
            if key not in data:
                raise EdgewatchError(f"{path}: missing array '{key}' (need X, mask, y, classes)")
        spec = str(data["feature_spec"]) if "feature_spec" in data else ""
        return Dataset(data["X"].astype(np.float32), data["mask"].astype(np.float32), data["y"].astype(np.int64),
                       tuple(str(c) for c in data["classes"]), FeatureSpec.from_json(spec) if spec else None)


def _ts_path(source: str, split: str) -> Path | None:
    """The .ts file of a split: ``uea:Name`` looks in sktime's bundled data, a path swaps TRAIN/TEST."""
    tag = split.upper()
    if source.startswith("uea:"):
        import sktime.datasets

        name = source[4:]
        path = Path(sktime.datasets.__file__).parent / "data" / name / f"{name}_{tag}.ts"
        if not path.is_file():
            raise EdgewatchError(f"{source}: not shipped with sktime for offline use; pass its {name}_TRAIN.ts file")
        return path
    path = Path(source)
    if split == "train":
        return path
    swapped = path.with_name(path.name.replace("_TRAIN", "_TEST"))
    return swapped if swapped != path and swapped.is_file() else None


def load_ts(path: Path, classes: tuple[str, ...] | None = None) -> Dataset:
    """A UEA/UCR ``.ts`` archive as ``[N, length, channels]`` with a full mask."""
    from sktime.datasets import load_from_tsfile

    try:
        X, labels = load_from_tsfile(str(path), return_data_type="numpy3D")
    except Exception as exc:  # noqa: BLE001 - sktime raises assorted types for a malformed file
        raise EdgewatchError(f"{path}: cannot read as a .ts archive ({exc})") from None
    classes = classes or tuple(sorted({str(v) for v in labels}))
    unknown = sorted({str(v) for v in labels} - set(classes))
    if unknown:
        raise EdgewatchError(f"{path}: labels {unknown} not among the training classes {list(classes)}")
    X = np.nan_to_num(np.transpose(X, (0, 2, 1)).astype(np.float32))
    return Dataset(X, np.ones(X.shape[:2], np.float32), np.array([classes.index(str(v)) for v in labels]), classes)


def read_mot_tracks(path: Path, frame_rate: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """MOT ``frame,id,x,y,w,h,...`` rows -> ``{track_id: (times [T] s, boxes [T, 4] xyxy)}`` in time order."""
    try:
        table = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as exc:
        raise EdgewatchError(f"{path}: not a MOT text file ({exc})") from None
    if table.shape[1] < 6:
        raise EdgewatchError(f"{path}: MOT rows need at least frame,id,x,y,w,h")
    tracks = {}
    for track_id in np.unique(table[:, 1]).astype(int):
        track = table[table[:, 1] == track_id]
        track = track[np.argsort(track[:, 0])]
        boxes = np.concatenate([track[:, 2:4], track[:, 2:4] + track[:, 4:6]], axis=1)
        tracks[int(track_id)] = ((track[:, 0] - 1) / frame_rate, boxes)
    return tracks


def load_mot(path: Path, spec: FeatureSpec, frame_rate: float, classes: tuple[str, ...]) -> Dataset:
    """MOT tracks with a ``<stem>.labels.csv`` beside them, cut into 1 s-stride windows."""
    labels_path = path.with_suffix(".labels.csv")
    if not labels_path.is_file():
        raise EdgewatchError(f"{path}: labels file {labels_path.name} not found (header track_id,label[,class])")
    with labels_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"track_id", "label"} <= set(rows[0]):
        raise EdgewatchError(f"{labels_path}: need a header with track_id,label[,class]")
    unknown = sorted({r["label"] for r in rows} - set(classes))
    if unknown:
        raise EdgewatchError(f"{labels_path}: labels {unknown} not in the taxonomy")
    tracks = read_mot_tracks(path, frame_rate)
    parts = []
    for row in rows:
        if int(row["track_id"]) not in tracks:
            raise EdgewatchError(f"{labels_path}: track {row['track_id']} not in {path.name}")
        times, boxes = tracks[int(row["track_id"])]
        class_id = spec.class_index(row.get("class") or "person")
        if class_id is None:
            raise EdgewatchError(f"{labels_path}: class {row.get('class')!r} unknown to the feature spec")
        X, mask, _ = track_windows(times, boxes, class_id, spec, stride=1.0, min_history=min(2.0, times[-1] - times[0]))
        parts.append((X, mask, np.full(len(X), classes.index(row["label"]))))
    return Dataset(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                   np.concatenate([p[2] for p in parts]).astype(np.int64), classes, spec)


def simulated(taxonomy: Taxonomy, n: int, seed: int) -> Dataset:
    """``n`` simulated tracks' final windows, labelled over the whole taxonomy."""
    from edgewatch.behaviour.simulate import simulate_tracks, tracks_to_arrays

    X, mask, y = tracks_to_arrays(simulate_tracks(taxonomy, n, seed), taxonomy.features, taxonomy.behaviours)
    return Dataset(X, mask, y, taxonomy.behaviours, taxonomy.features)


def has_test_split(source: str) -> bool:
    """Whether a source has its own held-out part (simulated with another seed, or a _TEST.ts file)."""
    return source.startswith(("sim:", "uea:")) or (source.endswith(".ts") and _ts_path(source, "test") is not None)


def load_dataset(source: str, split: str, taxonomy: Taxonomy, seed: int = 0,
                 classes: tuple[str, ...] | None = None) -> Dataset:
    """Resolve a ``--data`` string; ``split`` ("train" | "test") picks the part of a source that has two
    (see :func:`has_test_split`); a single file is the same data for both.

    ``classes`` pins the label order of a test split to the training one.
    """
    if source.startswith("sim:"):
        try:
            n = int(source[4:])
        except ValueError:
            raise EdgewatchError(f"--data {source}: expected sim:N with N a number of tracks") from None
        return simulated(taxonomy, n, seed if split == "train" else seed + 1)
    if source.startswith("uea:") or source.endswith(".ts"):
        path = _ts_path(source, split) or Path(source)
        if not path.is_file():
            raise EdgewatchError(f"--data: file not found: {path}")
        return load_ts(path, classes)
    path = Path(source)
    if not path.is_file():
        raise EdgewatchError(f"--data: file not found: {path}")
    if path.suffix == ".npz":
        return load_npz(path)
    if path.suffix == ".txt":
        return load_mot(path, taxonomy.features, taxonomy.scene.frame_rate, classes or taxonomy.behaviours)
    raise EdgewatchError(f"--data {source}: expected .npz, .ts, uea:NAME, sim:N or a MOT .txt with labels")
