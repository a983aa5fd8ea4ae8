"""Tracker figures: MOTA, IDF1, HOTA and ID switches of our ByteTracker on real MOT ground truth.

The TUD-Campus and TUD-Stadtmitte ground truth and a published tracker's output (``test.txt``) ship in
the PyPI ``motmetrics`` 1.4.0 wheel. No images come with them, so the tracker is fed the ground truth
through a stated detector-noise model (:data:`NOISE`: box jitter, misses, a false positive per frame,
scores spread over ByteTrack's high and low bands, seeded), and, as a second input, the published
tracker's boxes with their ids removed.

Scoring is TrackEval's (HOTA, CLEAR, Identity: the reference implementations of those metrics), and
it is checked first: on the published tracker's output TrackEval's MOTA and IDF1 must equal
motmetrics' own, and motmetrics' MOTA must equal the value motmetrics publishes for those files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgewatch.config import TrackerConfig
from edgewatch.samples.fetch import MOT_FRAME_RATE, MOT_TRACKS, ensure_assets
from edgewatch.track.bytetrack import ByteTracker
from edgewatch.types import Detections, TrackState

PUBLISHED_MOTA = {"TUD-Campus": 0.526, "TUD-Stadtmitte": 0.564}  # of test.txt, from motmetrics' tests
MIN_IOU = 0.5  # a hypothesis matches a ground-truth box at IoU >= 0.5 (CLEAR-MOT, IDF1; HOTA averages alphas)
SEED = 0

Sequence = dict[int, tuple[np.ndarray, np.ndarray]]  # frame -> (ids [N], xyxy boxes [N, 4])


@dataclass(frozen=True)
class NoiseModel:
    """How ground truth is turned into detector output (all relative to the box size, per frame)."""

    jitter: float = 0.05  # box edges move by N(0, jitter x box width/height)
    miss: float = 0.10  # share of objects not detected in a frame
    false_positives: int = 1  # random boxes per frame
    score_range: tuple[float, float] = (0.2, 0.95)  # uniform: some fall in ByteTrack's low band (0.1..0.5)


NOISE = NoiseModel()


def read_mot(path: Path) -> Sequence:
    """MOTChallenge text (frame, id, left, top, width, height, ...) as per-frame ids and xyxy boxes."""
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    out: Sequence = {}
    for f in np.unique(rows[:, 0]).astype(int):
        r = rows[rows[:, 0] == f]
        out[f] = (r[:, 1].astype(int), np.stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]], axis=1))
    return out


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU ``[len(a), len(b)]`` of xyxy boxes."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def trackeval_data(gt: Sequence, hyp: Sequence) -> dict[str, Any]:
    """One sequence in TrackEval's form: per-frame ids relabelled 0..n-1 and the IoU matrices."""
    frames = range(min(gt), max(max(gt), max(hyp, default=0)) + 1)
    empty = (np.zeros(0, int), np.zeros((0, 4)))
    gt_map = {i: k for k, i in enumerate(sorted({int(i) for ids, _ in gt.values() for i in ids}))}
    hyp_map = {i: k for k, i in enumerate(sorted({int(i) for ids, _ in hyp.values() for i in ids}))}
    gt_ids, hyp_ids, sims = [], [], []
    for f in frames:
        (g, gb), (h, hb) = gt.get(f, empty), hyp.get(f, empty)
        gt_ids.append(np.array([gt_map[int(i)] for i in g], int))
        hyp_ids.append(np.array([hyp_map[int(i)] for i in h], int))
        sims.append(iou(np.asarray(gb, float), np.asarray(hb, float)))
    return {
        "num_timesteps": len(frames), "num_gt_ids": len(gt_map), "num_tracker_ids": len(hyp_map),
        "num_gt_dets": sum(len(i) for i in gt_ids), "num_tracker_dets": sum(len(i) for i in hyp_ids),
        "gt_ids": gt_ids, "tracker_ids": hyp_ids, "similarity_scores": sims,
    }


def trackeval_scores(gt: Sequence, hyp: Sequence) -> dict[str, float | int]:
    """HOTA (mean over TrackEval's IoU thresholds), MOTA, IDF1, ID switches and their error counts."""
    from trackeval.metrics import CLEAR, HOTA, Identity

    data = trackeval_data(gt, hyp)
    config = {"THRESHOLD": MIN_IOU, "PRINT_CONFIG": False}
    hota = HOTA().eval_sequence(data)
    clear = CLEAR(config).eval_sequence(data)
    identity = Identity(config).eval_sequence(data)
    return {
        "hota": round(float(np.mean(hota["HOTA"])), 4),
        "deta": round(float(np.mean(hota["DetA"])), 4),
        "assa": round(float(np.mean(hota["AssA"])), 4),
        "mota": round(float(clear["MOTA"]), 4),
        "idf1": round(float(identity["IDF1"]), 4),
        "id_switches": int(clear["IDSW"]),
        "fn": int(clear["CLR_FN"]),
        "fp": int(clear["CLR_FP"]),
        "gt": int(data["num_gt_dets"]),
    }


def motmetrics_scores(gt: Sequence, hyp: Sequence) -> dict[str, float]:
    """MOTA and IDF1 from motmetrics, the check on TrackEval's figures."""
    if not hasattr(np, "asfarray"):  # motmetrics 1.4.0 still calls np.asfarray, removed in NumPy 2
        np.asfarray = lambda a, dtype=np.float64: np.asarray(a, dtype=dtype)  # type: ignore[attr-defined]
    import motmetrics as mm

    empty = (np.zeros(0, int), np.zeros((0, 4)))
    acc = mm.MOTAccumulator(auto_id=False)
    for f in sorted(set(gt) | set(hyp)):
        (gid, gbox), (hid, hbox) = gt.get(f, empty), hyp.get(f, empty)
        dist = mm.distances.iou_matrix(_xywh(gbox), _xywh(hbox), max_iou=1 - MIN_IOU)
        acc.update(gid.tolist(), hid.tolist(), dist, frameid=f)
    r = mm.metrics.create().compute(acc, metrics=["mota", "idf1"], return_dataframe=False)
    return {"mota": round(float(r["mota"]), 4), "idf1": round(float(r["idf1"]), 4)}


def _xywh(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


def track(detections: dict[int, Detections], frames: range, config: TrackerConfig) -> Sequence:
    """Run one ByteTracker over the frames (time stamps from the sequences' frame rate); the confirmed
    tracks form the hypothesis."""
    tracker = ByteTracker(config)
    out: Sequence = {}
    for f in frames:
        seen = tracker.update(detections.get(f, Detections.empty()), f / MOT_FRAME_RATE)
        tracks = [t for t in seen if t.state is TrackState.CONFIRMED]
        if tracks:
            out[f] = (np.array([t.track_id for t in tracks]), np.stack([t.box for t in tracks]).astype(np.float64))
    return out


def without_ids(seq: Sequence) -> dict[int, Detections]:
    """Boxes of a sequence with their ids dropped, as detector output (score 0.9)."""
    return {
        f: Detections(boxes.astype(np.float32), np.full(len(ids), 0.9, np.float32), np.zeros(len(ids), np.int64))
        for f, (ids, boxes) in seq.items()
    }


def noisy_detector(gt: Sequence, noise: NoiseModel, rng: np.random.Generator) -> dict[int, Detections]:
    """Ground truth degraded like a real detector by ``noise``."""
    out = {}
    for f, (ids, boxes) in gt.items():
        wh = boxes[:, 2:] - boxes[:, :2]
        jitter = rng.normal(0, noise.jitter, boxes.shape) * np.concatenate([wh, wh], axis=1)
        keep = rng.uniform(size=len(ids)) > noise.miss
        det = (boxes + jitter)[keep]
        scores = rng.uniform(*noise.score_range, keep.sum())
        xy = rng.uniform([0, 0], [600, 400], (noise.false_positives, 2))
        false = np.concatenate([xy, xy + rng.uniform([30, 60], [80, 200], (noise.false_positives, 2))], axis=1)
        det = np.concatenate([det, false])
        scores = np.concatenate([scores, rng.uniform(0.1, 0.7, noise.false_positives)])
        out[f] = Detections(det.astype(np.float32), scores.astype(np.float32), np.zeros(len(det), np.int64))
    return out


def tracker_section() -> dict[str, Any]:
    """The scorer check and our tracker's scores (default ``[tracker]`` settings) on both sequences and both inputs."""
    config = TrackerConfig()
    sequences = {}
    for name, published in PUBLISHED_MOTA.items():
        gt_path, test_path = ensure_assets(MOT_TRACKS[name])
        gt, reference = read_mot(gt_path), read_mot(test_path)
        frames = range(min(gt), max(gt) + 1)
        ours = trackeval_scores(gt, reference)
        theirs = motmetrics_scores(gt, reference)
        check = {
            "published_mota": published,
            "motmetrics": theirs,
            "trackeval": {"mota": ours["mota"], "idf1": ours["idf1"]},
            # published to three decimals; TrackEval must agree with motmetrics to the rounding of the report
            "passed": round(theirs["mota"], 3) == published
            and abs(theirs["mota"] - ours["mota"]) < 1e-4 and abs(theirs["idf1"] - ours["idf1"]) < 1e-4,
        }
        rows = {
            "published tracker (test.txt)": ours,
            "ours on its boxes, ids removed": trackeval_scores(gt, track(without_ids(reference), frames, config)),
            "ours on noisy ground truth": trackeval_scores(
                gt, track(noisy_detector(gt, NOISE, np.random.default_rng(SEED)), frames, config)),
        }
        sequences[name] = {"frames": len(frames), "scorer_check": check, "rows": rows}
    return {"noise_model": {**NOISE.__dict__, "seed": SEED}, "min_iou": MIN_IOU, "sequences": sequences}
