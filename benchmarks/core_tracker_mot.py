"""The ByteTracker on real MOT ground truth (TUD-Campus, TUD-Stadtmitte), scored with CLEAR-MOT.

The sequences' ground truth and a published tracker's output (``test.txt``) ship inside the PyPI
``motmetrics`` 1.4.0 wheel. Scoring is motmetrics' own CLEAR-MOT (``pip install motmetrics==1.4.0``;
it calls ``np.asfarray``, gone in NumPy 2, hence a one-line shim below), first checked against its
golden MOTA of that tracker (52.6% / 56.4%); then these rows per sequence:

- ``reference``: the published tracker's output as it is (the golden value);
- ``bytetrack on reference boxes``: its boxes with the ids removed, re-tracked by ours;
- ``bytetrack on noisy gt``: ground truth turned into a plausible detector (5% box jitter, 10%
  missed, one false positive per frame, scores spread over the high and low ByteTrack bands).

Run: ``python -m benchmarks.core_tracker_mot``; writes ``out/bench/core_tracker_mot.json`` and ``.png``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

# motmetrics 1.4.0 (the newest release) still calls np.asfarray, which NumPy 2 removed; this is the
# documented replacement (np.asarray with a float dtype). Set before importing motmetrics, here only.
if not hasattr(np, "asfarray"):
    np.asfarray = lambda a, dtype=np.float64: np.asarray(a, dtype=dtype)  # type: ignore[attr-defined]

import motmetrics as mm  # after the shim above

from edgewatch.config import TrackerConfig
from edgewatch.paths import REPO_ROOT
from edgewatch.samples.fetch import MOT_FRAME_RATE, MOT_TRACKS, ensure_assets
from edgewatch.track.bytetrack import ByteTracker
from edgewatch.types import Detections, TrackState

GOLDEN_MOTA = {"TUD-Campus": 0.526, "TUD-Stadtmitte": 0.564}  # motmetrics' tests, for the published tracker
MIN_IOU = 0.5  # a hypothesis covers a ground-truth box at IoU >= 0.5 (motmetrics' max_iou=0.5 distance)
OUT = REPO_ROOT / "out" / "bench"

Sequence = dict[int, tuple[np.ndarray, np.ndarray]]  # frame -> (ids [N], boxes [N, 4] xyxy)


def read_mot(path: Path) -> Sequence:
    """MOTChallenge text (frame, id, left, top, width, height, ...) as per-frame ids and xyxy boxes."""
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    out: Sequence = {}
    for f in np.unique(rows[:, 0]).astype(int):
        r = rows[rows[:, 0] == f]
        out[f] = (r[:, 1].astype(int), np.stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]], axis=1))
    return out


def clear_mot(gt: Sequence, hyp: Sequence) -> dict[str, float]:
    """MOTA and its error counts from motmetrics (the reference CLEAR-MOT implementation), IoU >= 0.5."""
    empty = (np.zeros(0, int), np.zeros((0, 4)))
    acc = mm.MOTAccumulator(auto_id=False)
    for f in sorted(set(gt) | set(hyp)):
        (gid, gbox), (hid, hbox) = gt.get(f, empty), hyp.get(f, empty)
        dist = mm.distances.iou_matrix(_xywh(gbox), _xywh(hbox), max_iou=1 - MIN_IOU)
        acc.update(gid.tolist(), hid.tolist(), dist, frameid=f)
    names = ["mota", "num_misses", "num_false_positives", "num_switches", "num_objects"]
    r = mm.metrics.create().compute(acc, metrics=names, return_dataframe=False)
    return {
        "mota": float(r["mota"]),
        "fn": int(r["num_misses"]),
        "fp": int(r["num_false_positives"]),
        "id_switches": int(r["num_switches"]),
        "gt": int(r["num_objects"]),
    }


def _xywh(boxes: np.ndarray) -> np.ndarray:
    """xyxy -> the x, y, width, height boxes motmetrics' IoU distance takes."""
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


def track(detections: dict[int, Detections], frames: range, config: TrackerConfig) -> Sequence:
    """Run one ByteTracker over the frames; the confirmed tracks form the hypothesis."""
    tracker = ByteTracker(config)
    out: Sequence = {}
    for f in frames:
        seen = tracker.update(detections.get(f, Detections.empty()), f / MOT_FRAME_RATE)  # frame numbers -> seconds
        tracks = [t for t in seen if t.state is TrackState.CONFIRMED]
        if tracks:
            out[f] = (np.array([t.track_id for t in tracks]), np.stack([t.box for t in tracks]).astype(np.float64))
    return out


def as_detections(seq: Sequence, scores: dict[int, np.ndarray] | None = None) -> dict[int, Detections]:
    """Boxes of a sequence with their ids dropped, as detector output (score 0.9 unless given)."""
    return {
        f: Detections(
            boxes.astype(np.float32),
            (scores[f] if scores else np.full(len(ids), 0.9)).astype(np.float32),
            np.zeros(len(ids), np.int64),
        )
        for f, (ids, boxes) in seq.items()
    }


def noisy_detector(gt: Sequence, rng: np.random.Generator) -> dict[int, Detections]:
    """Ground truth degraded like a real detector: jitter, misses, false positives, spread scores."""
    out = {}
    for f, (ids, boxes) in gt.items():
        wh = boxes[:, 2:] - boxes[:, :2]
        jitter = rng.normal(0, 0.05, boxes.shape) * np.concatenate([wh, wh], axis=1)
        keep = rng.uniform(size=len(ids)) > 0.10
        det = (boxes + jitter)[keep]
        scores = rng.uniform(0.2, 0.95, keep.sum())  # some fall in ByteTrack's low band (0.1..0.5)
        xy = rng.uniform([0, 0], [600, 400])
        false_positive = np.array([[*xy, *(xy + rng.uniform([30, 60], [80, 200]))]])
        det = np.concatenate([det, false_positive])
        scores = np.concatenate([scores, rng.uniform(0.1, 0.7, 1)])
        out[f] = Detections(det.astype(np.float32), scores.astype(np.float32), np.zeros(len(det), np.int64))
    return out


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(next(iter(results.values()))["rows"])
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(labels)
    for k, label in enumerate(labels):
        xs = [i + k * width for i in range(len(results))]
        ax.bar(xs, [100 * r["rows"][label]["mota"] for r in results.values()], width, label=label)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(results))], list(results))
    ax.set_ylabel("MOTA %")
    ax.set_title("ByteTracker on TUD sequences (CLEAR-MOT, IoU >= 0.5)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    rng = np.random.default_rng(0)
    config = TrackerConfig()
    results = {}
    print(f"{'sequence':<16} {'hypothesis':<32} {'MOTA':>6} {'FN':>5} {'FP':>5} {'IDSW':>5}")
    for name, golden in GOLDEN_MOTA.items():
        gt_path, test_path = ensure_assets(MOT_TRACKS[name])
        gt, reference = read_mot(gt_path), read_mot(test_path)
        frames = range(min(gt), max(gt) + 1)
        rows = {
            "reference (published tracker)": clear_mot(gt, reference),
            "bytetrack on reference boxes": clear_mot(gt, track(as_detections(reference), frames, config)),
            "bytetrack on noisy gt": clear_mot(gt, track(noisy_detector(gt, rng), frames, config)),
            "bytetrack on noisy gt, no probation": clear_mot(
                gt, track(noisy_detector(gt, np.random.default_rng(0)), frames, replace(config, probation_seconds=0.0))
            ),
        }
        check = abs(rows["reference (published tracker)"]["mota"] - golden) < 0.001
        for label, r in rows.items():
            print(f"{name:<16} {label:<32} {100 * r['mota']:>5.1f}% {r['fn']:>5} {r['fp']:>5} {r['id_switches']:>5}")
        print(f"{name:<16} scorer check: golden MOTA {100 * golden:.1f}% {'reproduced' if check else 'NOT reproduced'}")
        results[name] = {"golden_mota": golden, "scorer_reproduces_golden": check, "rows": rows}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "core_tracker_mot.json").write_text(json.dumps({"machine": "2-core CPU dev box", **results}, indent=2))
    plot(results, OUT / "core_tracker_mot.png")
    print(f"wrote {OUT / 'core_tracker_mot.json'} and {OUT / 'core_tracker_mot.png'}")
    return 0 if all(r["scorer_reproduces_golden"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
