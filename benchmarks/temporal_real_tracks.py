"""Sanity check of the default behaviour model on real pedestrian tracks (it was trained on simulation).

Real tracks: TUD-Campus and TUD-Stadtmitte (25 fps, static camera, people walking past) from the
PyPI ``motmetrics`` 1.4.0 wheel, both the ground truth and a published tracker's output (real
tracker noise, identity switches); and vtest (PETS09 campus, 10 fps, static camera): the SSD
teacher's detections of every second frame (cached by ``edgewatch sample-model``) tracked by our
ByteTracker, i.e. a real detector and tracker at an effective 5 fps. Every track gives one verdict per second once it is 1 s old, as
the pipeline would; the model runs through the pipeline's own :class:`BehaviourModel`, restricted
to the behaviours that apply to a person. Pedestrians crossing a campus should come out mostly
``walking`` (some ``standing``), rarely ``running``.

Run: ``python -m benchmarks.temporal_real_tracks``; writes ``out/bench/temporal_real_tracks.{json,png}``.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from edgewatch.behaviour.features import track_windows
from edgewatch.behaviour.predictor import BehaviourModel
from edgewatch.bench.report import write_report
from edgewatch.config import TrackerConfig
from edgewatch.paths import REPO_ROOT
from edgewatch.samples.fetch import MOT_FRAME_RATE, MOT_TRACKS, ensure_assets
from edgewatch.samples.teacher import TeacherSettings, dataset_dir
from edgewatch.track.bytetrack import ByteTracker
from edgewatch.track.mot import read_mot
from edgewatch.types import Detections, TrackState

MODEL = REPO_ROOT / "models" / "behaviour" / "behaviour.onnx"
VTEST = (768, 576, 10.0)  # width, height, fps


def vtest_tracks() -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
    """Person tracks of vtest from the cached teacher labels (None when they are not cached)."""
    labels = sorted(dataset_dir(TeacherSettings()).glob("labels/*/vtest_*.txt"), key=lambda p: p.stem)
    if not labels:
        return None
    width, height, fps = VTEST
    tracker = ByteTracker(TrackerConfig())
    tracks: dict[int, list[tuple[float, np.ndarray]]] = {}
    for label in labels:
        rows = np.loadtxt(label, ndmin=2).reshape(-1, 5)
        rows = rows[rows[:, 0] == 0]  # persons
        cx, cy, w, h = rows[:, 1] * width, rows[:, 2] * height, rows[:, 3] * width, rows[:, 4] * height
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
        dets = Detections(boxes, np.full(len(rows), 0.9, np.float32), np.zeros(len(rows), np.int64))
        time = int(label.stem.rsplit("_", 1)[1]) / fps
        for track in tracker.update(dets, time):
            if track.state == TrackState.CONFIRMED:
                tracks.setdefault(track.track_id, []).append((time, track.box.copy()))
    return {k: (np.array([t for t, _ in v]), np.array([b for _, b in v])) for k, v in tracks.items()}


def verdicts(model: BehaviourModel, tracks: dict[int, tuple[np.ndarray, np.ndarray]]) -> Counter:
    """Behaviour counts over every track's once-per-second windows."""
    spec = model.spec
    allowed = model.allowed("person")
    counts: Counter = Counter()
    for times, boxes in tracks.values():
        if len(times) < 2:
            continue
        X, mask, _ = track_windows(times, boxes, spec.class_index("person"), spec, stride=1.0, min_history=1.0)
        if len(X) == 0:
            continue
        probs = model.predict(X, mask) * allowed
        counts.update(model.behaviours[i] for i in probs.argmax(1))
    return counts


def plot(results: dict[str, dict[str, float]], labels: list[str], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    left = np.zeros(len(results))
    for label in labels:
        values = np.array([r.get(label, 0.0) for r in results.values()])
        ax.barh(list(results), values, left=left, label=label)
        left += values
    ax.set_xlabel("share of per-second verdicts")
    ax.set_title("default behaviour model on real pedestrian tracks")
    ax.legend(loc="lower right", fontsize=7, ncol=len(labels))
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> int:
    if not MODEL.is_file():
        print(f"{MODEL} missing: train the default model first (models/behaviour/README.md)")
        return 1
    model = BehaviourModel.from_file(MODEL)
    people = [b for b in model.behaviours if model.allowed("person")[model.behaviours.index(b)]]
    sources = {}
    for name, tracks in MOT_TRACKS.items():
        gt_path, test_path = ensure_assets(tracks)
        for what, path in (("ground truth", gt_path), ("tracker output", test_path)):
            sequence = read_mot(path, MOT_FRAME_RATE)
            sources[f"{name} {what}"] = {i: (sequence.times(i), sequence.boxes(i)) for i in sequence.tracks}
    vtest = vtest_tracks()
    if vtest is None:
        print("vtest skipped: no cached teacher labels (run `edgewatch sample-model` once)")
    else:
        sources["vtest SSD + ByteTrack (5 fps)"] = vtest
    results, counts_out = {}, {}
    for key, tracks in sources.items():
        counts = verdicts(model, tracks)
        total = max(sum(counts.values()), 1)
        results[key] = {b: counts[b] / total for b in people}
        counts_out[key] = {"verdicts": sum(counts.values()), **{b: counts[b] for b in people}}
    print(f"{'tracks':34s} {'verdicts':>8s} " + " ".join(f"{b:>10s}" for b in people))
    for key, shares in results.items():
        print(f"{key:34s} {counts_out[key]['verdicts']:8d} " + " ".join(f"{shares[b]:10.2f}" for b in people))
    result = {"model": str(MODEL.relative_to(REPO_ROOT)), "frame_rate": MOT_FRAME_RATE, "counts": counts_out}
    write_report("temporal_real_tracks", result, lambda png: plot(results, people, png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
