"""Latency of the temporal model in ONNX Runtime against one detector inference on the same machine.

The temporal stage runs once per frame for every confirmed track; the question is whether it is
cheap next to the detector. Rows: the default behaviour model (``models/behaviour/behaviour*.onnx``)
for a batch of 64 track windows, FP32, FP16 and INT8; and the detector for one 640x640 frame
(``models/sample/detector.onnx`` when present, else a YOLO11n built from its yaml with random weights
and exported by ultralytics into the cache: the same graph cost as the real one). Single-threaded
ONNX Runtime sessions, median of repeated runs after warm-up. Target: temporal < 1/10 of the detector.
Two last rows time what the stage does before the model, in Python, for the same 64 tracks at 30 fps
with the model's own feature spec: the box filter (Kalman when the model was trained with it), one
step per track on every frame, and ``track_features`` over the filtered histories, on every
``stride``-th frame.

Run: ``python -m benchmarks.temporal_latency``; writes ``out/bench/temporal_latency.{json,png}``.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np
import onnxruntime as ort
from edgewatch.export.temporal import onnx_session, read_temporal_metadata

from benchmarks.report import write_report
from benchmarks.timing import latency_ms
from edgewatch.behaviour.features import BoxFilter, FeatureSpec, track_features
from edgewatch.paths import REPO_ROOT, cache_dir
from edgewatch.runtime.onnx import OnnxSession

BEHAVIOUR = REPO_ROOT / "models" / "behaviour"
SAMPLE_DETECTOR = REPO_ROOT / "models" / "sample" / "detector.onnx"
TRACKS = 64
REPEATS = 50


def detector_onnx() -> tuple[Path, str]:
    """The detector to compare with: the sample one, else a yolo11n exported at 640 into the cache."""
    if SAMPLE_DETECTOR.is_file():
        return SAMPLE_DETECTOR, "models/sample/detector.onnx"
    path = cache_dir("bench") / "yolo11n_640.onnx"
    if not path.is_file():
        os.environ.setdefault("YOLO_OFFLINE", "1")
        os.environ.setdefault("YOLO_AUTOINSTALL", "False")
        os.environ.setdefault("YOLO_CONFIG_DIR", str(cache_dir("ultralytics")))
        from ultralytics import YOLO

        exported = Path(YOLO("yolo11n.yaml").export(format="onnx", imgsz=640, dynamic=False, simplify=True))
        exported.replace(path)
    return path, "yolo11n.yaml (random weights) at 640"


def detector_ms(path: Path) -> float:
    """Median ms of one detector frame, in a session built as the pipeline builds it (1 thread;
    random pixels: the cost does not depend on the content)."""
    model = OnnxSession(path, num_threads=1)
    h, w = (d if isinstance(d, int) else 640 for d in model.input_shape[2:])
    frame = np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32)
    return latency_ms(lambda: model.run(frame), runs=10, warmup=2)["median_ms"]


def temporal_ms(path: Path) -> float:
    """Median ms of one batch of ``TRACKS`` windows, in a session built as the pipeline builds it."""
    meta = read_temporal_metadata(path)
    session = onnx_session(path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(TRACKS, meta.window, meta.num_features)).astype(np.float32)
    mask = np.ones((TRACKS, meta.window), np.float32)
    return latency_ms(lambda: session.run(["logits"], {"tracks": x, "mask": mask}), REPEATS, 5)["median_ms"]


def features_ms(spec: FeatureSpec, fps: float = 30.0) -> dict[str, float]:
    """Median ms, for ``TRACKS`` tracks at ``fps`` (a walker with detector jitter: the cost depends on the
    observation count, not on the motion), of one frame's filter steps and of one classification's
    ``track_features`` over full filtered histories."""
    rng = np.random.default_rng(0)
    times = np.arange(0.0, spec.history_seconds + spec.step, 1 / fps)
    centre = np.stack([300 + 40 * times, 400 + 5 * times], axis=1)
    boxes = np.concatenate([centre - [20, 50], centre + [20, 50]], axis=1) + rng.normal(0, 2, (len(times), 4))
    filters = [BoxFilter(spec) for _ in range(TRACKS)]
    clock = iter(np.arange(1_000_000) / fps)

    def filter_frame() -> None:
        now = next(clock)
        for box_filter in filters:
            box_filter.update(now, boxes[0])

    return {"filter_per_frame": latency_ms(filter_frame, REPEATS, 5)["median_ms"],
            "features_per_stride": latency_ms(
                lambda: [track_features(times, boxes, 0, spec, smoothed=True) for _ in range(TRACKS)], 10, 2)["median_ms"]}


def plot(rows: list[dict], detector: float, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = [r["model"] for r in rows] + ["detector (1 frame)"]
    values = [r["ms"] for r in rows] + [detector]
    ax.barh(names, values, color=["tab:blue"] * len(rows) + ["tab:gray"])
    ax.axvline(detector / 10, color="tab:red", linestyle="--", label="target: detector / 10")
    ax.set_xlabel("ms (ONNX Runtime, 1 thread)")
    ax.set_title(f"temporal model, {TRACKS} tracks x 1 window")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> int:
    files = [BEHAVIOUR / f"behaviour{s}.onnx" for s in ("", "_fp16", "_int8")]
    files = [f for f in files if f.is_file()]
    if not files:
        print(f"no temporal model in {BEHAVIOUR}: train one first (see models/behaviour/README.md)")
        return 1
    det_path, det_name = detector_onnx()
    detector = detector_ms(det_path)
    rows = []
    for path in files:
        meta = read_temporal_metadata(path)
        ms = temporal_ms(path)
        rows.append({"model": f"{meta.model} {meta.precision}", "file": path.name, "ms": ms,
                     "per_track_us": ms * 1e3 / TRACKS, "fraction_of_detector": ms / detector})
    spec = read_temporal_metadata(files[0]).feature_spec or FeatureSpec()
    features = features_ms(spec)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, onnxruntime {ort.__version__}, 1 thread")
    print(f"detector: {det_name}: {detector:.1f} ms per frame")
    print(f"{'model':24s} {'64 tracks ms':>13s} {'per track us':>13s} {'/ detector':>11s}")
    for r in rows:
        print(f"{r['model']:24s} {r['ms']:13.2f} {r['per_track_us']:13.1f} {r['fraction_of_detector']:11.3f}")
    for name, ms in features.items():
        print(f"{name + ' (' + spec.smoothing + ')':24s} {ms:13.2f} {ms * 1e3 / TRACKS:13.1f} {ms / detector:11.3f}"
              "   (Python, before the model)")
    result = {"tracks": TRACKS, "detector": {"model": det_name, "ms": detector}, "temporal": rows,
              "features": {"smoothing": spec.smoothing, "fps": 30.0, **{f"{k}_ms": v for k, v in features.items()}},
              "machine": f"{platform.machine()} {os.cpu_count()} cores", "onnxruntime": ort.__version__}
    write_report("temporal_latency", result, lambda png: plot(rows, detector, png))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
