"""End-to-end fps of the CPU graph against the detector alone on the same frames, in the same run.

Target: the graph (decode, scale, batching mux, detector, tracker, temporal, OSD, events, H.264 mp4
encode) costs at most 10% more time per frame than the detector alone. Decoding and encoding run in
GStreamer's threads while the detector runs in the Python loop, so only the stages after the
detector and one frame copy each way should add to it.

1. The clip is decoded once through the graph's own source (same scaling, same RGB frames) into memory.
2. ``YoloDetector`` alone runs over those frames (batch = the config's batch size), timed.
3. The whole graph runs on the clip (``edgewatch.pipeline.app.run``), timed by its own summary.
Steps 2 and 3 alternate for ``--rounds`` rounds; the medians are compared. Both run once with ONNX
Runtime on all cores (decode and encode then compete with inference for them) and once with
inference on one core (the others left to GStreamer, as on a Jetson where NVDEC/NVENC decode and encode).

Run: ``python -m benchmarks.graph_fps [--config configs/demo.txt] [--frames 300] [--rounds 3] [--num-threads 0,1]``;
writes ``out/bench/graph_fps.json`` and ``out/bench/graph_fps.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from edgewatch.config import AppConfig, load_config  # noqa: E402
from edgewatch.detect.detector import YoloDetector  # noqa: E402
from edgewatch.errors import EdgewatchError  # noqa: E402
from edgewatch.paths import REPO_ROOT  # noqa: E402
from edgewatch.pipeline.app import run  # noqa: E402
from edgewatch.pipeline.graph import CpuGraph  # noqa: E402

OUT = REPO_ROOT / "out" / "bench"


def decode_once(config: AppConfig) -> list[np.ndarray]:
    """The clip's frames exactly as the graph hands them to the stages (no sinks attached)."""
    config = dataclasses.replace(config, sinks=())
    images: list[np.ndarray] = []
    with CpuGraph(config, log=lambda _msg: None) as graph:
        for batch in graph.batches():
            images.extend(f.image for f in batch)
    return images


def detector_fps(detector: YoloDetector, images: list[np.ndarray], batch_size: int) -> float:
    """Frames per second of the detector alone (preprocess + inference + decode/NMS), after a warm-up."""
    detector(images[:batch_size])
    start = time.perf_counter()
    for i in range(0, len(images), batch_size):
        detector(images[i : i + batch_size])
    return len(images) / (time.perf_counter() - start)


def graph_run(config: AppConfig) -> dict:
    """One full run of the graph; its summary (fps over the processing, model loading excluded)."""
    result = run(config, log=lambda _msg: None)
    if result.failures:
        raise SystemExit(f"graph run failed: {result.error_line()}")
    return result.summary


def bench_config(path: Path, frames: int) -> AppConfig:
    """The config with the benchmark's outputs (mp4 + events under out/bench), no display, ``frames`` per stream."""
    config = load_config(
        path, output=OUT / "graph_fps.mp4", events=OUT / "graph_fps_events.jsonl", no_display=True
    )
    app = dataclasses.replace(config.application, max_frames=frames, perf_measurement_interval_sec=0)
    return dataclasses.replace(config, application=app)


def plot(results: list[dict], path: Path) -> None:
    """Bars per ONNX Runtime thread setting: ms per frame of the detector alone and of the whole graph."""
    fig, axes = plt.subplots(1, len(results), figsize=(4.5 * len(results), 3.4), squeeze=False)
    for ax, result in zip(axes[0], results, strict=True):
        det_ms, graph_ms = 1e3 / result["detector_fps"], 1e3 / result["graph_fps"]
        ax.bar(["detector alone", "whole graph"], [det_ms, graph_ms], color=["#4c72b0", "#dd8452"])
        ax.axhline(det_ms * 1.1, color="grey", linestyle="--", label="detector + 10% (target)")
        ax.set_ylabel("ms per frame")
        ax.set_title(f"ORT threads {result['num_threads'] or 'all'}: {result['overhead_pct']:+.1f}%")
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def measure(config: AppConfig, images: list[np.ndarray], rounds: int) -> dict:
    """Detector alone and whole graph, alternating for ``rounds`` rounds; medians compared."""
    detector = YoloDetector.from_config(config.detector)
    det, graph, summaries = [], [], []
    for _ in range(rounds):
        det.append(detector_fps(detector, images, config.batch_size))
        summaries.append(graph_run(config))
        graph.append(summaries[-1]["fps"])
    result = {
        "num_threads": config.detector.num_threads,
        "detector_fps_rounds": det,
        "graph_fps_rounds": graph,
        "detector_fps": statistics.median(det),
        "graph_fps": statistics.median(graph),
        "stages": summaries[-1]["stages"],
    }
    result["overhead_pct"] = round(100 * (result["detector_fps"] / result["graph_fps"] - 1), 1)
    result["meets_target"] = result["overhead_pct"] <= 10.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "demo.txt")
    parser.add_argument("--frames", type=int, default=300, help="frames per stream (0: the whole clip)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--num-threads", default="0,1",
        help="ONNX Runtime thread settings to compare (0: all cores, shared with decode/encode; "
        "1: one core for inference, the others left to GStreamer)",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    config = bench_config(args.config, args.frames)
    images = decode_once(config)
    results = [
        measure(dataclasses.replace(config, detector=dataclasses.replace(config.detector, num_threads=int(t))),
                images, args.rounds)
        for t in args.num_threads.split(",")
    ]
    report = {
        "clip": [s.uri for s in config.sources],
        "frames": len(images),
        "batch_size": config.batch_size,
        "detector": str(config.detector.onnx_file),
        "machine": "2-core CPU dev box",
        "command": "python -m benchmarks.graph_fps " + " ".join(sys.argv[1:]),
        "results": results,
    }
    (OUT / "graph_fps.json").write_text(json.dumps(report, indent=2))
    plot(results, OUT / "graph_fps.png")
    print(f"{'ORT threads':<12}{'detector fps':>13}{'graph fps':>10}{'overhead':>10}  rounds (det | graph)")
    for r in results:
        print(f"{r['num_threads'] or 'all':<12}{r['detector_fps']:>13.2f}{r['graph_fps']:>10.2f}"
              f"{r['overhead_pct']:>+9.1f}%  {[round(x, 1) for x in r['detector_fps_rounds']]} | "
              f"{[round(x, 1) for x in r['graph_fps_rounds']]}")
    print(f"{len(images)} frames; target: graph overhead <= +10%. Wrote {OUT / 'graph_fps.json'} and .png")


if __name__ == "__main__":
    try:
        main()
    except EdgewatchError as exc:  # e.g. the sample detector not built yet: one line, not a traceback
        sys.exit(f"graph_fps: {exc}")
