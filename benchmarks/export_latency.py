"""ONNX Runtime CPU latency of the detector's FP32, FP16 and INT8 exports at the same input size.

Exports one checkpoint (the sample detector when present, else a yolo11n built from yaml) in all
three precisions, then times single-image inference with 1 intra-op thread and with ORT's default
thread count: median and p95 over ``--runs`` after warm-up. The target is INT8 >= 1.3x faster than
FP32. INT8 is timed twice: the TensorRT file as written (int8 activations, which ONNX Runtime's x86
kernels cannot fuse) and its lossless uint8-activation rewrite (``with_uint8_activations``), which
is what a CPU session should load. FP16 is exported for TensorRT; ONNX Runtime's CPU provider has
few float16 kernels, so its CPU figure only shows that the file runs, not how fast it is on a GPU.
With ``--tensorrt-int8`` the ModelOpt file (TensorRT's Q/DQ placement) is timed too, through the same
uint8 view: whether the CPU can run the TensorRT INT8 file or needs its own.

    python -m benchmarks.export_latency [--weights W.pt] [--imgsz 384] [--runs 50] [--tensorrt-int8]

Writes ``out/bench/export_latency.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")

from benchmarks.report import OUT, write_report
from benchmarks.timing import latency_ms
from edgewatch.paths import REPO_ROOT

PRECISIONS = ("fp32", "fp16", "int8")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=REPO_ROOT / "models" / "sample" / "detector.pt",
                        help="ultralytics .pt (default: the sample detector; a yolo11n from yaml if absent)")
    parser.add_argument("--imgsz", type=int, default=384)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--calib-frames", type=int, default=32)
    parser.add_argument("--tensorrt-int8", action="store_true", help="also time ModelOpt's INT8 file (TensorRT placement)")
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args()


def checkpoint(weights: Path, tmp: Path) -> Path:
    """``weights`` if it exists; else a yolo11n (80 classes, random init) saved as an ultralytics .pt."""
    if weights.is_file():
        return weights
    import torch
    from ultralytics.nn.tasks import DetectionModel

    path = tmp / "yolo11n.pt"
    torch.save({"model": DetectionModel("yolo11n.yaml", verbose=False), "train_args": {}}, path)
    return path


def calibration_frames(count: int, imgsz: int) -> list[dict[str, np.ndarray]]:
    """Frames of the real campus clip when it is cached, else noise (latency does not depend on them)."""
    from edgewatch.export.calibration import calibration_set

    from edgewatch.errors import EdgewatchError
    from edgewatch.samples.fetch import sample_clip

    try:
        clip = sample_clip("vtest")
    except EdgewatchError:  # no clip and no network: the figures below do not depend on the frames
        rng = np.random.default_rng(0)
        return [{"input": rng.random((1, 3, imgsz, imgsz), dtype=np.float32)} for _ in range(count)]
    feeds = calibration_set(clip, (imgsz, imgsz), count)
    return [feeds[i] for i in range(len(feeds))]


def time_session(model: bytes, threads: int, x: np.ndarray, runs: int, warmup: int) -> dict[str, float]:
    """Median and p95 latency (ms) of one batch-1 run; ``threads`` 0 is ONNX Runtime's default."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return latency_ms(lambda: session.run(None, {"input": x}), runs, warmup)


def main() -> int:
    import onnx
    from edgewatch.export.exporter import export
    from edgewatch.export.yolo import YoloExportable

    from edgewatch.runtime.int8 import with_uint8_activations

    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="edgewatch-bench-") as tmp:
        weights = checkpoint(args.weights, Path(tmp))
        feeds = calibration_frames(args.calib_frames, args.imgsz)
        paths = export(YoloExportable(weights, (args.imgsz, args.imgsz), stem="det"), Path(tmp) / "onnx", PRECISIONS,
                       lambda: feeds, tensorrt_int8=args.tensorrt_int8)
        models = {p: paths[p].read_bytes() for p in PRECISIONS}
        models["int8 u8-act"] = with_uint8_activations(onnx.load(str(paths["int8"]))).SerializeToString()
        if args.tensorrt_int8:
            models["int8_trt u8-act"] = with_uint8_activations(onnx.load(str(paths["int8_trt"]))).SerializeToString()
        sizes = {p: len(m) for p, m in models.items()}
    x = feeds[0]["input"]
    rows = []
    for threads in (1, 0):
        for name in models:
            stats = time_session(models[name], threads, x, args.runs, args.warmup)
            rows.append({"precision": name, "threads": threads or "default", **stats})
            print(f"  {name} threads={threads or 'default'}: median {stats['median_ms']:.1f} ms  p95 {stats['p95_ms']:.1f} ms", flush=True)
    for r in rows:
        fp32 = next(q for q in rows if q["precision"] == "fp32" and q["threads"] == r["threads"])
        r["speedup_vs_fp32"] = fp32["median_ms"] / r["median_ms"]
    print(f"\n{'model':12s} {'threads':>8s} {'median ms':>10s} {'p95 ms':>8s} {'x FP32':>7s}")
    for r in rows:
        print(f"{r['precision']:12s} {r['threads']!s:>8s} {r['median_ms']:10.1f} {r['p95_ms']:8.1f} {r['speedup_vs_fp32']:7.2f}")
    result = {
        "machine": "2-core CPU dev box (shared with other jobs)", "weights": str(weights.name), "imgsz": args.imgsz,
        "runs": args.runs, "onnx_bytes": sizes, "rows": rows,
        "command": "python -m benchmarks.export_latency " + " ".join(sys.argv[1:]),
    }
    title = f"{weights.name} @ {args.imgsz}px, ONNX Runtime CPU"
    write_report("export_latency", result, lambda png: plot(rows, list(models), png, title), args.out)
    return 0


def plot(rows: list[dict], names: list[str], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    groups = sorted({str(r["threads"]) for r in rows}, key=lambda t: t != "1")
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [next(r["median_ms"] for r in rows if r["precision"] == name and str(r["threads"]) == g) for g in groups]
        bars = ax.bar(np.arange(len(groups)) + (i - (len(names) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.set_xticks(np.arange(len(groups)), [f"{g} thread(s)" for g in groups])
    ax.set_ylabel("median latency, ms (batch 1)")
    ax.set_title(title, fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
