"""Datasets for the temporal model: one in-memory form, several sources.

Every source becomes a :class:`Dataset` (``X [N,T,F]`` float32, ``mask [N,T]``, ``y [N]`` int64, the
``classes`` label names). Sources, as the ``--data`` argument spells them:

* ``tracks.npz``: the generic format (keys ``X``, ``mask``, ``y``, ``classes``; optional
  ``feature_spec`` JSON when X came from :func:`track_features`). Users train on their own tracks here.
* ``sim:N``: ``N`` simulated tracks (seeded; the test split uses another seed, so it is held out).
* ``uea:Name`` or ``Name_TRAIN.ts``: a UEA/UCR archive read with sktime; ``uea:`` names the copies
  sktime ships (BasicMotions...), usable offline. The test split is ``Name_TEST.ts``.
* ``tracks.txt``: MOT-format tracks (``frame,id,x,y,w,h,...``, 1-based frames) with labels in
  ``tracks.labels.csv`` beside it, one row per track (header ``track_id,label[,class]``) or per time
  span of a track (header ``track_id,start,end,label[,class]``: ``start`` and ``end`` are MOT frame
  numbers, inclusive; an empty one is the track's first / last frame). ``class`` defaults to
  ``person``. Unlisted tracks and times outside every span are left out. Frames become seconds
  through the ``frameRate`` of a ``seqinfo.ini`` beside the file (MOTChallenge layout), else the
  scene's frame rate; its ``imWidth``/``imHeight`` say which boxes the frame edge cut. Each track is
  cut into overlapping windows (one sample per second of track), each labelled by the span its
  newest observation falls in.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edgewatch.behaviour.features import FeatureSpec, cut_sides, track_windows
from edgewatch.behaviour.taxonomy import Taxonomy
from edgewatch.errors import EdgewatchError
from edgewatch.track.mot import read_mot

MOT_STRIDE = 1.0  # seconds between the windows a labelled track gives
MOT_MIN_HISTORY = 1.0  # seconds of track before its first window (the youngest the simulator trains on)


@dataclass(frozen=True)
class Dataset:
    """Labelled fixed-length sequences; ``feature_spec`` is None for sequences that are not tracks.

    ``targets [N, K]`` (optional) are label shares where a label is a mix (a simulated speed near a
    behaviour boundary); ``y`` is then the larger share. ``scored [N]`` (optional) marks the windows
    a held-out score counts (a simulated behaviour seen long enough to be told). Training fits the
    shares of all windows; scores count the scored windows whose label is one behaviour (:meth:`definite`).
    """

    X: np.ndarray
    mask: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    feature_spec: FeatureSpec | None = None
    targets: np.ndarray | None = None
    scored: np.ndarray | None = None

    def __post_init__(self) -> None:
        n, t = self.X.shape[:2]
        if self.X.ndim != 3 or self.mask.shape != (n, t) or self.y.shape != (n,):
            raise EdgewatchError(f"dataset: inconsistent shapes X {self.X.shape}, mask {self.mask.shape}, y {self.y.shape}")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.classes)):
            raise EdgewatchError(f"dataset: labels outside 0..{len(self.classes) - 1}")
        if self.targets is not None and self.targets.shape != (n, len(self.classes)):
            raise EdgewatchError(f"dataset: targets {self.targets.shape} do not match {n} windows x {len(self.classes)} classes")

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def subset(self, index: np.ndarray) -> Dataset:
        """The windows at ``index`` (an index array or boolean mask), same classes and spec."""
        targets = None if self.targets is None else self.targets[index]
        scored = None if self.scored is None else self.scored[index]
        return replace(self, X=self.X[index], mask=self.mask[index], y=self.y[index], targets=targets, scored=scored)

    def soft_targets(self) -> np.ndarray:
        """``[N, K]`` label shares (one-hot where no mix is given)."""
        if self.targets is not None:
            return self.targets
        return np.eye(len(self.classes), dtype=np.float32)[self.y]

    def definite(self) -> Dataset:
        """The scored windows whose label is a single behaviour (all of them without ``targets``/``scored``)."""
        keep = np.ones(len(self), bool) if self.scored is None else self.scored
        if self.targets is not None:
            keep = keep & (self.targets.max(axis=1) >= 1.0 - 1e-6)
        return self if keep.all() else self.subset(keep)


def save_npz(dataset: Dataset, path: Path) -> Path:
    """Write the generic ``.npz`` format."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = "" if dataset.feature_spec is None else dataset.feature_spec.to_json()
    extra = {k: v for k, v in (("targets", dataset.targets), ("scored", dataset.scored)) if v is not None}
    np.savez_compressed(path, X=dataset.X, mask=dataset.mask, y=dataset.y, classes=np.array(dataset.classes),
                        feature_spec=np.array(spec), **extra)
    return path


def load_npz(path: Path) -> Dataset:
    """Read the generic ``.npz`` format, naming the missing key when it is incomplete."""
    with np.load(path, allow_pickle=False) as data:
        for key in ("X", "mask", "y", "classes"):
            if key not in data:
                raise EdgewatchError(f"{path}: missing array '{key}' (need X, mask, y, classes)")
        spec = str(data["feature_spec"]) if "feature_spec" in data else ""
        return Dataset(data["X"].astype(np.float32), data["mask"].astype(np.float32), data["y"].astype(np.int64),
                       tuple(str(c) for c in data["classes"]), FeatureSpec.from_json(spec) if spec else None,
                       data["targets"].astype(np.float32) if "targets" in data else None,
                       data["scored"].astype(bool) if "scored" in data else None)


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
    """A UEA/UCR ``.ts`` archive as ``[N, length, channels]``; series of unequal length (JapaneseVowels)
    are padded at their oldest end to the longest, with mask 0 there, as a young track is."""
    from sktime.datasets import load_from_tsfile

    try:
        nested, labels = load_from_tsfile(str(path), return_data_type="nested_univ")
    except Exception as exc:  # noqa: BLE001 - sktime raises assorted types for a malformed file
        raise EdgewatchError(f"{path}: cannot read as a .ts archive ({exc})") from None
    classes = classes or tuple(sorted({str(v) for v in labels}))
    unknown = sorted({str(v) for v in labels} - set(classes))
    if unknown:
        raise EdgewatchError(f"{path}: labels {unknown} not among the training classes {list(classes)}")
    series = [np.stack([np.asarray(cell, np.float32) for cell in row], axis=1) for row in nested.itertuples(index=False)]
    length = max(len(x) for x in series)
    X = np.zeros((len(series), length, series[0].shape[1]), np.float32)
    mask = np.zeros((len(series), length), np.float32)
    for i, x in enumerate(series):
        X[i, length - len(x):], mask[i, length - len(x):] = np.nan_to_num(x), 1.0
    return Dataset(X, mask, np.array([classes.index(str(v)) for v in labels]), classes)


def fit_window(data: Dataset, window: int) -> Dataset:
    """Sequences cut to their newest ``window`` steps or padded at the oldest end to it (mask 0), as the
    live stage does with a track's history: any data trains and evaluates at any model window."""
    if window < 1:
        raise EdgewatchError(f"--window must be >= 1, got {window}")
    steps = data.X.shape[1]
    if steps >= window:
        return replace(data, X=data.X[:, steps - window:], mask=data.mask[:, steps - window:])
    pad = window - steps
    return replace(data, X=np.pad(data.X, ((0, 0), (pad, 0), (0, 0))), mask=np.pad(data.mask, ((0, 0), (pad, 0))))


@dataclass(frozen=True)
class LabelledTrack:
    """One real track with its behaviour per time span (seconds, inclusive)."""

    track_id: int
    times: np.ndarray  # [T] seconds
    boxes: np.ndarray  # [T, 4] xyxy
    cut: np.ndarray  # [T, 4] bool: sides the frame edge cut
    class_name: str
    spans: tuple[tuple[float, float, str], ...]

    def label_at(self, times: np.ndarray) -> list[str | None]:
        """The span label at each time (None outside every span)."""
        out: list[str | None] = [None] * len(times)
        for start, end, label in self.spans:
            for i in np.flatnonzero((times >= start - 1e-9) & (times <= end + 1e-9)):
                out[i] = label
        return out


def _frame(value: str | None, default: int, where: str) -> int:
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise EdgewatchError(f"{where}: start/end must be MOT frame numbers, got {value!r}") from None


def read_labelled_tracks(path: Path, frame_rate: float, behaviours: tuple[str, ...]) -> list[LabelledTrack]:
    """The labelled tracks of a MOT file and its ``<stem>.labels.csv`` (see the module docstring)."""
    path = Path(path)
    labels_path = path.with_suffix(".labels.csv")
    if not labels_path.is_file():
        raise EdgewatchError(f"{path}: labels file {labels_path.name} not found "
                             "(header track_id,label[,class] or track_id,start,end,label[,class])")
    with labels_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"track_id", "label"} <= set(rows[0]):
        raise EdgewatchError(f"{labels_path}: need a header with track_id,label[,class] or track_id,start,end,label[,class]")
    unknown = sorted({r["label"] for r in rows} - set(behaviours))
    if unknown:
        raise EdgewatchError(f"{labels_path}: labels {unknown} not in the taxonomy")
    sequence = read_mot(path, frame_rate)
    spans: dict[int, list[tuple[float, float, str]]] = {}
    classes: dict[int, str] = {}
    for number, row in enumerate(rows, start=2):
        where = f"{labels_path}:{number}"
        try:
            track_id = int(row["track_id"])
        except ValueError:
            raise EdgewatchError(f"{where}: track_id must be a number, got {row['track_id']!r}") from None
        if track_id not in sequence.tracks:
            raise EdgewatchError(f"{where}: track {track_id} not in {path.name}")
        frames = sequence.tracks[track_id][0]
        first, last = _frame(row.get("start"), int(frames[0]), where), _frame(row.get("end"), int(frames[-1]), where)
        if last < first:
            raise EdgewatchError(f"{where}: end frame {last} is before start frame {first}")
        name = row.get("class") or "person"
        if classes.setdefault(track_id, name) != name:
            raise EdgewatchError(f"{where}: track {track_id} is labelled with two classes")
        spans.setdefault(track_id, []).append(((first - 1) / sequence.frame_rate, (last - 1) / sequence.frame_rate,
                                               row["label"]))
    return [LabelledTrack(i, sequence.times(i), sequence.boxes(i), cut_sides(sequence.boxes(i), sequence.size),
                          classes[i], tuple(sorted(spans[i]))) for i in sorted(spans)]


def load_mot(path: Path, spec: FeatureSpec, frame_rate: float, classes: tuple[str, ...]) -> Dataset:
    """Labelled MOT tracks cut into windows every :data:`MOT_STRIDE` seconds, labelled per span."""
    parts = []
    for track in read_labelled_tracks(path, frame_rate, classes):
        class_id = spec.class_index(track.class_name)
        if class_id is None:
            raise EdgewatchError(f"{path}: class {track.class_name!r} of track {track.track_id} is unknown "
                                 "to the feature spec")
        history = min(MOT_MIN_HISTORY, track.times[-1] - track.times[0])
        X, mask, ends = track_windows(track.times, track.boxes, class_id, spec, MOT_STRIDE, history, track.cut)
        labels = track.label_at(ends)
        keep = np.array([label is not None for label in labels], bool)
        parts.append((X[keep], mask[keep], np.array([classes.index(str(lb)) for lb in labels if lb is not None])))
    if not parts or not sum(len(p[2]) for p in parts):
        raise EdgewatchError(f"{path}: no labelled window (are the spans inside the tracks?)")
    return Dataset(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                   np.concatenate([p[2] for p in parts]).astype(np.int64), classes, spec)


def simulated(taxonomy: Taxonomy, n: int, seed: int) -> Dataset:
    """``n`` simulated tracks' final windows, labelled over the whole taxonomy."""
    from edgewatch.behaviour.simulate import simulate_tracks, tracks_to_dataset

    return tracks_to_dataset(simulate_tracks(taxonomy, n, seed), taxonomy.features, taxonomy.behaviours)


def is_track_source(source: str) -> bool:
    """Whether ``--data`` makes feature windows from tracks (simulated or MOT), so a window is a feature setting."""
    return source.startswith("sim:") or source.endswith(".txt")


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
