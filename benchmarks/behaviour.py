"""Behaviour-model figures per runtime x precision: latency for 1 and 64 tracks, macro-F1 per data set.

The model runs through the pipeline's own :class:`~edgewatch.behaviour.predictor.BehaviourModel`
on one thread (as the temporal stage runs it). Accuracy is macro-F1 (scikit-learn) on simulated
tracks held out from training (the simulator seeded with the training seed + 1) and, where a
labelled set of real tracks is given (default: the campus clip's held-out labelled tracks in
data/real_tracks when present), on those; a data set that is not there is reported as skipped with
the reason. Macro-F1 averages over the behaviours a set contains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from edgewatch.behaviour.data import Dataset, load_dataset
from edgewatch.behaviour.features import BoxFilter, FeatureSpec, track_features
from edgewatch.behaviour.predictor import BehaviourModel
from edgewatch.behaviour.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from edgewatch.bench.detector import inference_job
from edgewatch.bench.runtimes import VARIANTS, Runtime, row_model
from edgewatch.bench.timing import Job, Schedule, timed
from edgewatch.errors import EdgewatchError

Progress = Callable[[str], None]
TRACK_COUNTS = (1, 64)
THREADS = 1  # as the temporal stage runs it: one core, the rest left to the detector
TRAINING_SEED = 0  # the default model's (make behaviour-model); its held-out simulation uses seed + 1


@dataclass(frozen=True)
class TrackSet:
    """A labelled set of track windows to score on, or the reason there is none."""

    name: str
    data: Dataset | None
    skipped: str | None = None


def track_sets(simulated: int, real: str | None, classes: tuple[str, ...]) -> list[TrackSet]:
    """Held-out simulated tracks, and the real labelled tracks ``real`` names (any ``--data`` the
    data readers take: a MOT ``tracks.txt`` with its ``tracks.labels.csv``, an ``.npz``); the windows
    scored as training and ``edgewatch eval temporal`` score them (:meth:`Dataset.definite`: one behaviour,
    marked scored)."""
    taxonomy = load_taxonomy(DEFAULT_TAXONOMY)
    sets = [TrackSet(f"simulated held-out ({simulated} tracks, seed {TRAINING_SEED + 1})",
                     load_dataset(f"sim:{simulated}", "test", taxonomy, TRAINING_SEED, classes).definite())]
    if real is None:
        sets.append(TrackSet("real labelled tracks", None, "no labelled real tracks given (--real-tracks DATA)"))
        return sets
    try:
        sets.append(TrackSet(f"real labelled tracks ({Path(real).name})", load_dataset(real, "test", taxonomy, 0, classes).definite()))
    except EdgewatchError as exc:
        sets.append(TrackSet("real labelled tracks", None, str(exc)))
    return sets


def features_ms(spec: FeatureSpec, tracks: int, runs: int, fps: float = 30.0,
                schedule: Schedule | None = None) -> dict[str, Any]:
    """What the temporal stage does in Python before the model, for ``tracks`` tracks at ``fps``: one box
    filter step per track on every frame, and :func:`track_features` over the filtered histories on
    every ``stride``-th frame (a walker with detector jitter: the cost depends on the number of
    observations, not on the motion). The latencies are in the dict once ``schedule`` finishes."""
    rng = np.random.default_rng(0)
    times = np.arange(0.0, spec.history_seconds + spec.step, 1 / fps)
    centre = np.stack([300 + 40 * times, 400 + 5 * times], axis=1)
    boxes = np.concatenate([centre - [20, 50], centre + [20, 50]], axis=1) + rng.normal(0, 2, (len(times), 4))
    filters = [BoxFilter(spec) for _ in range(tracks)]
    clock = iter(np.arange(1_000_000) / fps)

    def filter_frame() -> None:
        now = next(clock)
        for box_filter in filters:
            box_filter.update(now, boxes[0])

    out: dict[str, Any] = {"tracks": tracks, "fps": fps, "smoothing": spec.smoothing}
    timed({
        "filter_per_frame": Job(filter_frame, runs, 5),
        "features_per_stride": Job(
            lambda: [track_features(times, boxes, 0, spec, smoothed=True) for _ in range(tracks)], max(5, runs // 5), 2),
    }, out.update, schedule)
    return out


def behaviour_rows(
    models: dict[str, Path], runtimes: Sequence[Runtime], simulated: int, real: str | None,
    runs: int, warmup: int, progress: Progress, detector: Path | None = None, schedule: Schedule | None = None,
) -> dict[str, Any]:
    """Rows per runtime x precision, and the data sets scored (with the skipped ones and why); with
    ``detector``, its 1-thread inference timed at the same moments, the reference of the model's share.
    The latencies are in the rows once ``schedule`` finishes when one is given."""
    if "fp32" not in models:
        raise EdgewatchError("no behaviour model (behaviour.onnx) to benchmark")
    classes = tuple(BehaviourModel(runtimes[0].open(models["fp32"], THREADS, temporal=True)).behaviours)
    progress("behaviour: simulating the held-out tracks")
    sets = track_sets(simulated, real, classes)
    rows: list[dict[str, Any]] = []
    jobs: dict[tuple[int, str], Job] = {}
    for runtime in runtimes:
        for precision in VARIANTS:
            base = {"runtime": runtime.name, "precision": precision}
            path, reason = row_model(runtime, models, precision, "temporal")
            if path is None:
                rows.append({**base, "status": "skipped", "reason": reason})
                continue
            progress(f"behaviour {runtime.name} {precision}: macro-F1")
            model = BehaviourModel(runtime.open(path, THREADS, temporal=True))
            row: dict[str, Any] = {**base, "status": "ok", "file": path.name, "threads": THREADS,
                                   "size_mb": round(path.stat().st_size / 1e6, 3)}
            rng = np.random.default_rng(0)
            for n in TRACK_COUNTS:
                x = rng.normal(size=(n, model.spec.window, model.spec.num_features)).astype(np.float32)
                mask = np.ones((n, model.spec.window), np.float32)
                jobs[(len(rows), f"tracks{n}")] = Job(lambda x=x, mask=mask, model=model: model.predict(x, mask),
                                                      runs, warmup)
            for track_set in sets:
                if track_set.data is not None:
                    y = track_set.data.y
                    pred = model.predict(track_set.data.X, track_set.data.mask).argmax(1)
                    # over the behaviours the set has (a campus has no speeding cars to score)
                    f1 = f1_score(y, pred, labels=np.unique(y), average="macro", zero_division=0)
                    row.setdefault("macro_f1", {})[track_set.name] = round(float(f1), 4)
                    row.setdefault("accuracy", {})[track_set.name] = round(float((pred == y).mean()), 4)
            rows.append(row)
    if detector is not None:
        jobs[(-1, "detector")] = inference_job(detector, runs)
    section: dict[str, Any] = {"rows": rows}

    def fill(latencies: dict[tuple[int, str], dict[str, float]]) -> None:
        for (i, name), latency in latencies.items():
            if i < 0:
                section["detector_inference_1_thread"] = latency
            else:
                rows[i][name] = latency

    progress("behaviour: latency of every model, timed together")
    timed(jobs, fill, schedule)
    spec = BehaviourModel(runtimes[0].open(models["fp32"], THREADS, temporal=True)).spec
    progress("behaviour: the box filter and the features, in Python")
    section["features"] = features_ms(spec, TRACK_COUNTS[-1], runs, schedule=schedule)
    section["data_sets"] = [{"name": s.name, "windows": len(s.data) if s.data is not None else 0, "skipped": s.skipped}
                            for s in sets]
    return section
