"""What the scene analytics stage costs per frame against one detector inference on the same machine.

The stage runs on every frame for every track of a stream with a scene. The case the target is set on:
64 tracks walking through a calibrated scene of 16 rules (10 zones: dwell limits, speed limits,
overcrowding; 6 counting lines), so every per-track rule, the ground speed fit and the events are
exercised. Rows for 8 to 128 tracks show how the cost grows. The detector reference is one frame of
the config's detector, inference alone on one ONNX Runtime thread. Target: the stage costs at most a
twentieth of the detector.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from edgewatch.bench.detector import inference_job
from edgewatch.bench.timing import Job, Schedule, timed
from edgewatch.scene.load import parse_scene
from edgewatch.scene.model import Scene
from edgewatch.stages.analytics import AnalyticsStage
from edgewatch.types import Frame, Track, TrackState

TRACKS = 64
CROWDS = (8, 32, 64, 128)
SIZE = (1280, 720)
FPS = 30.0
TARGET = 0.05  # of one detector inference


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


def stage_job(n_tracks: int, scene: Scene, runs: int) -> Job:
    """One stage call on the crowd's next frame, after 2 s of warm-up (rings full, states set); each frame
    is made before its call, untimed, so only the stage is timed."""
    stage = AnalyticsStage({0: scene}, ["person"], 30)
    made = crowd(n_tracks, np.random.default_rng(0))
    frame: list[Frame] = []

    def prepare() -> None:
        frame[:] = [next(made)]

    return Job(lambda: stage(frame), runs, int(2 * FPS), prepare)


def analytics_section(detector: Path, runs: int, schedule: Schedule | None = None) -> dict[str, Any]:
    """The stage's latency (median / p95 ms) per crowd size and its share of one detector inference,
    timed together with it (at ``schedule``'s ticks when given: the figures are in once it finishes)."""
    scene = bench_scene()
    jobs = {"detector": inference_job(detector, max(5, runs // 10))} | {n: stage_job(n, scene, runs) for n in CROWDS}
    section: dict[str, Any] = {"zones": 10, "lines": 6, "detector": detector.name, "target_share": TARGET}

    def fill(latencies: dict[Any, dict[str, float]]) -> None:
        reference = latencies["detector"]
        rows = [{"tracks": n, **latencies[n], "share_of_detector": round(latencies[n]["median_ms"] / reference["median_ms"], 4)}
                for n in CROWDS]
        section.update(detector_inference_1_thread=reference, rows=rows,
                       share_of_detector_64_tracks=next(r["share_of_detector"] for r in rows if r["tracks"] == TRACKS))

    timed(jobs, fill, schedule)
    return section
