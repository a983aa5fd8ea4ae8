"""What the core stages cost next to the detector: the budget behind "the graph costs <= 10% more".

Two measurements, no GStreamer (frames are read with OpenCV, so only the stages are timed):

1. **Real clip**: the sample detector, the tracker, the temporal model, events and OSD over the first
   ``--frames`` frames of a sample clip, batch 1; per-stage median/p95 ms and each stage's share of
   the detector's time.
2. **Scaling**: tracker + temporal + events + OSD for 5..100 synthetic moving objects per frame
   (no detector), to show how the per-track work grows with crowd size.

Run: ``python -m benchmarks.core_stages [--clip vtest] [--frames 200]``; writes
``out/bench/core_stages.json`` and ``out/bench/core_stages.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from edgewatch.config import (
    AppConfig,
    DetectorConfig,
    EventsConfig,
    OsdConfig,
    SourceConfig,
    TemporalConfig,
    TrackerConfig,
    Uri,
)
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT
from edgewatch.stages.chain import Stage, StageChain
from edgewatch.stages.events import EventWriter
from edgewatch.stages.osd import OsdStage
from edgewatch.stages.stats import RunStats
from edgewatch.stages.temporal import TemporalStage
from edgewatch.stages.tracker import TrackerStage
from edgewatch.types import Detections, Frame

OUT = REPO_ROOT / "out" / "bench"
CROWDS = (5, 20, 50, 100)


def read_frames(path: Path, count: int) -> tuple[list[np.ndarray], float]:
    """The first ``count`` frames as RGB, and the clip's frame rate."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while len(frames) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames:
        raise EdgewatchError(f"{path}: no frames could be read")
    return frames, fps


def real_clip(clip: Path, detector: Path, behaviour: Path | None, count: int, events: Path) -> dict:
    """The full CPU chain over real frames; returns the run summary."""
    images, fps = read_frames(clip, count)
    cfg = AppConfig(
        path=Path("benchmark"),
        sources=(SourceConfig(Uri(str(clip))),),
        detector=DetectorConfig(onnx_file=detector),
        temporal=TemporalConfig(enable=behaviour is not None, onnx_file=behaviour),
        events=EventsConfig(True, events),
    )
    stats = RunStats([str(clip)])
    with StageChain.from_config(cfg, stats) as chain:
        for n, image in enumerate(images):
            chain([Frame(0, n, n / fps, image.copy())])
    return stats.summary(chain.events_written)


def synthetic_detections(
    n_objects: int, count: int, size: tuple[int, int], rng: np.random.Generator
) -> list[Detections]:
    """``n_objects`` boxes walking in straight lines and bouncing off the frame edges."""
    h, w = size
    pos = rng.uniform([0, 0], [w - 40, h - 100], (n_objects, 2))
    vel = rng.uniform(-4, 4, (n_objects, 2))
    out = []
    for _ in range(count):
        pos += vel
        bounce = (pos < 0) | (pos > [w - 40, h - 100])
        vel[bounce] *= -1
        pos = pos.clip(0, [w - 40, h - 100])
        boxes = np.concatenate([pos, pos + [40, 100]], axis=1).astype(np.float32)
        out.append(Detections(boxes, np.full(n_objects, 0.9, np.float32), np.zeros(n_objects, np.int64)))
    return out


def scaling(behaviour: Path | None, count: int, events: Path) -> dict[int, dict]:
    """Per-stage ms of the post-detector stages for growing crowds."""
    rng = np.random.default_rng(0)
    size = (576, 768)
    results = {}
    for n_objects in CROWDS:
        dets = synthetic_detections(n_objects, count, size, rng)
        stats = RunStats(["synthetic"])
        names = ["person"]
        with EventWriter(events, names, 3.0) as writer:
            stages: list[tuple[str, Stage]] = [("tracker", TrackerStage(TrackerConfig(probation_seconds=0.1)))]
            if behaviour is not None:
                stages.append(
                    ("temporal", TemporalStage.from_config(TemporalConfig(enable=True, onnx_file=behaviour), names, 30))
                )
            stages += [("events", writer), ("osd", OsdStage(OsdConfig(), names))]
            chain = StageChain(stages, stats)
            for n, d in enumerate(dets):
                chain([Frame(0, n, n / 10.0, np.zeros((*size, 3), np.uint8), d)])
        results[n_objects] = stats.summary(writer.lines)["stages"]
    return results


def plot(summary: dict, crowd: dict[int, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(summary["stages"])
    a.bar(names, [summary["stages"][s]["mean_ms"] for s in names], color="tab:blue")
    a.set_ylabel("mean ms per frame")
    a.set_title("real clip, batch 1")
    for stage in next(iter(crowd.values())):
        b.plot(list(crowd), [crowd[n][stage]["mean_ms"] for n in crowd], marker="o", label=stage)
    b.set_xlabel("objects per frame")
    b.set_ylabel("mean ms per frame")
    b.set_title("post-detector stages vs crowd size")
    b.legend()
    fig.suptitle("edgewatch core stages (2-core CPU dev box)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="vtest", help="sample clip name or a video path")
    parser.add_argument("--detector", type=Path, default=REPO_ROOT / "models" / "sample" / "detector.onnx")
    parser.add_argument("--behaviour", type=Path, default=REPO_ROOT / "models" / "behaviour" / "behaviour.onnx")
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    try:
        if not args.detector.is_file():
            raise EdgewatchError(f"{args.detector}: no detector (run `make sample-model` or pass --detector)")
        clip = Path(args.clip)
        if not clip.is_file():
            from edgewatch.samples.fetch import sample_clip

            clip = sample_clip(args.clip)
        behaviour = args.behaviour if args.behaviour.is_file() else None
        OUT.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            summary = real_clip(clip, args.detector, behaviour, args.frames, Path(tmp) / "events.jsonl")
            crowd = scaling(behaviour, args.frames, Path(tmp) / "events.jsonl")
    except EdgewatchError as exc:
        print(f"core_stages: error: {exc}", file=sys.stderr)
        return 2

    det = summary["stages"]["detector"]["mean_ms"]
    print(f"load average (1 min) {os.getloadavg()[0]:.1f}: timings are inflated when the machine is busy")
    print(
        f"real clip {clip.name}: {summary['frames']} frames, {summary['fps']} fps through the stages, "
        f"{summary['tracks']} tracks, {summary['events']} events; temporal model: {behaviour or 'none (skipped)'}"
    )
    print(f"{'stage':<10} {'median ms':>10} {'p95 ms':>8} {'mean ms':>8} {'mean, % of detector':>20}")
    for name, s in summary["stages"].items():
        share = 100 * s["mean_ms"] / det
        print(f"{name:<10} {s['median_ms']:>10.2f} {s['p95_ms']:>8.2f} {s['mean_ms']:>8.2f} {share:>19.1f}%")
    others = sum(s["mean_ms"] for n, s in summary["stages"].items() if n != "detector")
    print(f"post-detector stages together: {others:.2f} ms = {100 * others / det:.1f}% of the detector")
    print(f"\n{'objects':>8} " + " ".join(f"{s:>10}" for s in next(iter(crowd.values()))) + "   (mean ms per frame)")
    for n_objects, stages in crowd.items():
        print(f"{n_objects:>8} " + " ".join(f"{s['mean_ms']:>10.2f}" for s in stages.values()))
    result = {
        "machine": "2-core CPU dev box",
        "load_average_1min": os.getloadavg()[0],
        "clip": str(clip),
        "detector": str(args.detector),
        "behaviour": str(behaviour) if behaviour else None,
        "real_clip": summary,
        "post_detector_share": others / det,
        "crowd": {str(k): v for k, v in crowd.items()},
    }
    (OUT / "core_stages.json").write_text(json.dumps(result, indent=2))
    plot(summary, crowd, OUT / "core_stages.png")
    print(f"wrote {OUT / 'core_stages.json'} and {OUT / 'core_stages.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
