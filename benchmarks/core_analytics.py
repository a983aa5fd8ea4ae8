"""What the scene analytics stage costs per frame against one detector inference on the same machine.

The stage runs on every frame for every track of a stream with a scene. The case the target is set on:
64 tracks walking through a calibrated scene of 16 rules (10 zones: dwell limits, speed limits,
overcrowding; 6 counting lines), so every per-track rule, the ground speed fit and the events are
exercised. Rows for 8 to 128 tracks show how the cost grows. The detector is timed as in
``benchmarks.temporal_latency`` (one frame, single-threaded ONNX Runtime). Target: the stage costs at
most a twentieth of the detector.

Run: ``python -m benchmarks.core_analytics``; writes ``out/bench/core_analytics.{json,png}``.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.report import write_report
from benchmarks.temporal_latency import detector_ms, detector_onnx
from benchmarks.timing import latency_ms
from edgewatch.scene.load import parse_scene
from edgewatch.scene.model import Scene
from edgewatch.stages.analytics import AnalyticsStage
from edgewatch.types import Frame, Track, TrackState

TRACKS = 64
CROWDS = (8, 32, 64, 128)
SIZE = (1280, 720)
FPS = 30.0
REPEATS = 300


def bench_scene() -> Scene:
    """10 zones (a 5 x 2 grid) and 6 vertical lines over a 1280 x 720 frame, calibrated at 2 cm per pixel."""
    w, h = SIZE
    zones = [{"name": f"z{i}{j}", "polygon": [[i * w / 5, j * h / 2], [(i + 1) * w / 5, j * h / 2],
                                              [(i + 1) * w / 5, (j + 1) * h / 2], [i * w / 5, (j + 1) * h / 2]],
              "dwell-limit": 5, "speed-limit": 12, "overcrowding": {"object-threshold": 8, "time-threshold": 1}}
             for i in range(5) for j in range(2)]
    lines = [{"name": f"l{k}", "line": [[(k + 1) * w / 7, 0], [(k + 1) * w / 7, h]],
              "direction": [[(k + 1) * w / 7 - 20, h / 2], [(k + 1) * w / 7 + 20, h / 2]]} for k in range(6)]
    ground = [[0, 0], [w * 0.02, 0], [w * 0.02, h * 0.02], [0, h * 0.02]]
    return parse_scene({"calibration": {"image": [[0, 0], [w, 0], [w, h], [0, h]], "ground": ground},
                        "zones": zones, "lines": lines}, "benchmark")


def crowd(n_tracks: int, rng: np.random.Generator) -> Iterator[Frame]:
    """Frames of ``n_tracks`` people walking at about 1.4 m/s (70 px/s here) and bouncing off the edges,
    with 1 px of box noise: they cross lines and zones all the time."""
    w, h = SIZE
    pos = rng.uniform([0, 100], [w, h], (n_tracks, 2))
    angle = rng.uniform(0, 2 * np.pi, n_tracks)
    vel = 70.0 * np.c_[np.cos(angle), np.sin(angle)] / FPS
    n = 0
    while True:
        pos += vel
        out = (pos < [0, 100]) | (pos > [w, h])
        vel[out] *= -1
        boxes = np.c_[pos[:, 0] - 20, pos[:, 1] - 90, pos[:, 0] + 20, pos[:, 1]] + rng.normal(0, 1, (n_tracks, 4))
        yield Frame(0, n, n / FPS, tracks=[Track(i, b.astype(np.float32), 0.9, 0, TrackState.CONFIRMED)
                                          for i, b in enumerate(boxes)])
        n += 1


def stage_ms(n_tracks: int, scene: Scene) -> dict[str, float]:
    """Median / p95 ms of one stage call on one frame, after 2 s of warm-up (rings full, states set);
    the frames are made beforehand, so only the stage is timed."""
    stage = AnalyticsStage({0: scene}, ["person"], 30)
    warmup = int(2 * FPS)
    made = crowd(n_tracks, np.random.default_rng(0))
    frames = iter([next(made) for _ in range(warmup + REPEATS)])
    return latency_ms(lambda: stage([next(frames)]), REPEATS, warmup)


def plot(rows: list[dict], detector: float, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([r["tracks"] for r in rows], [r["median_ms"] for r in rows], marker="o", label="analytics stage")
    ax.axhline(detector / 20, color="tab:red", linestyle="--", label="target: detector / 20")
    ax.set_xlabel("tracks per frame (16 zones / lines)")
    ax.set_ylabel("ms per frame (median)")
    ax.set_title("scene analytics stage")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> int:
    det_path, det_name = detector_onnx()
    detector = detector_ms(det_path)
    scene = bench_scene()
    rows = [{"tracks": n, **stage_ms(n, scene)} for n in CROWDS]
    load = os.getloadavg()[0]
    print(f"load average (1 min) {load:.1f}: timings are inflated when the machine is busy")
    print(f"detector ({det_name}, 1 thread): {detector:.2f} ms per frame")
    print(f"{'tracks':>7} {'median ms':>10} {'p95 ms':>8} {'of detector':>12}")
    for row in rows:
        print(f"{row['tracks']:>7} {row['median_ms']:>10.3f} {row['p95_ms']:>8.3f} {row['median_ms'] / detector:>12.3f}")
    main_row = next(r for r in rows if r["tracks"] == TRACKS)
    share = main_row["median_ms"] / detector
    print(f"{TRACKS} tracks, 16 zones / lines: {share:.3f} of one detector inference (target <= 0.05): "
          f"{'met' if share <= 0.05 else 'NOT met'}")
    result = {
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores",
        "load_average_1min": load,
        "detector": det_name,
        "detector_ms": detector,
        "zones": 10,
        "lines": 6,
        "rows": rows,
        "share_of_detector_64_tracks": share,
    }
    write_report("core_analytics", result, lambda out: plot(rows, detector, out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
