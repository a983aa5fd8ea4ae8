"""What each precision costs: held-out mAP of FP32 / FP16 / INT8 exports, and INT8 calibration choices.

Exports one detector checkpoint in every variant with the project's exporter, calibrating INT8 on the
dataset's *training* images and scoring on its held-out split (COCO mAP with pycocotools, through
``edgewatch.detect.evaluate``), plus each variant's fidelity to FP32 (mAP against the FP32 model's
own detections at conf >= 0.25). Variants: FP16; INT8 with min-max / entropy / percentile
calibration with the whole Detect layer in float (the default ``--int8-keep detect``) and with only
its last layers in float (``head``); INT8 min-max keeping only the box decode in float, and with
everything quantized (the controls for the ``--int8-keep`` policy). Then the TensorRT placement:
ModelOpt's INT8 file (``--tensorrt-int8``) with max and entropy calibration on the same frames, which
ONNX Runtime runs with the same Q/DQ arithmetic TensorRT applies (the kernels differ, the quantised
values do not). Each row also counts the Q/DQ nodes of its file.

    python -m benchmarks.export_accuracy [--weights models/sample/detector.pt] [--data DATA.yaml]

Writes ``out/bench/export_accuracy.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")

from edgewatch.bench.report import OUT, run, write_report
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT, cache_dir


@dataclass(frozen=True)
class Variant:
    name: str
    precision: str
    calib_method: str = "minmax"
    int8_keep: str = "detect"
    modelopt: bool = False  # the TensorRT placement (<stem>_int8_trt.onnx) instead of ONNX Runtime's


VARIANTS = (
    Variant("fp32", "fp32"),
    Variant("fp16", "fp16"),
    Variant("int8 minmax", "int8", "minmax", "detect"),
    Variant("int8 entropy", "int8", "entropy", "detect"),
    Variant("int8 percentile", "int8", "percentile", "detect"),
    Variant("int8 minmax, head float", "int8", "minmax", "head"),
    Variant("int8 entropy, head float", "int8", "entropy", "head"),
    Variant("int8 percentile, head float", "int8", "percentile", "head"),
    Variant("int8 minmax, decode float", "int8", "minmax", "decode"),
    Variant("int8 minmax, all quantized", "int8", "minmax", "none"),
    Variant("int8 modelopt max", "int8", "minmax", "detect", modelopt=True),
    Variant("int8 modelopt entropy", "int8", "entropy", "detect", modelopt=True),
    Variant("int8 modelopt max, head float", "int8", "minmax", "head", modelopt=True),
)


def qdq_nodes(path: Path) -> int:
    """QuantizeLinear + DequantizeLinear nodes of an ONNX file (how much of the graph is quantized)."""
    import onnx

    return sum(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in onnx.load(str(path)).graph.node)


def default_weights() -> Path:
    """The committed sample detector, else SAMPLES' latest student run in the cache."""
    committed = REPO_ROOT / "models" / "sample" / "detector.pt"
    runs = sorted(cache_dir("samples", "student").glob("*/weights/last.pt"), key=lambda p: p.stat().st_mtime)
    return committed if committed.is_file() else (runs[-1] if runs else committed)


def default_data() -> Path:
    """The newest sample dataset in the cache (the one the sample detector was trained on)."""
    found = sorted(cache_dir("samples", "dataset").glob("*/data.yaml"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise EdgewatchError("no sample dataset in the cache: run `edgewatch sample-model` or pass --data")
    return found[-1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=None, help="ultralytics .pt (default: the sample detector)")
    parser.add_argument("--data", type=Path, default=None, help="YOLO data.yaml with train/val splits")
    parser.add_argument("--imgsz", type=int, default=None, help="input size (default: the checkpoint's training size)")
    parser.add_argument("--calib-frames", type=int, default=256)
    parser.add_argument("--variants", default="all", help="';'-separated variant names, or all")
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args()


def training_imgsz(weights: Path) -> int:
    """The checkpoint's training input size: scoring at another size would measure a different model."""
    import torch

    ckpt = torch.load(weights, map_location="cpu", weights_only=False)
    return int((ckpt.get("train_args") or {}).get("imgsz", 640))


def main() -> int:
    import yaml

    from edgewatch.detect.evaluate import REFERENCE_CONF, coco_map, load_eval_set, run_model
    from edgewatch.export.calibration import calibration_set
    from edgewatch.export.exporter import export
    from edgewatch.export.yolo import YoloExportable

    args = parse_args()
    weights = args.weights or default_weights()
    data = args.data or default_data()
    imgsz = args.imgsz or training_imgsz(weights)
    spec = yaml.safe_load(data.read_text())
    train_images = Path(spec.get("path") or data.parent) / spec["train"]
    wanted = VARIANTS if args.variants == "all" else [v for v in VARIANTS if v.name in args.variants.split(";")]
    models = args.out / "export_accuracy_models"
    print(f"weights {weights}\ndata {data} (INT8 calibrated on {args.calib_frames} frames of {train_images})\nimgsz {imgsz}")

    feeds = calibration_set(train_images, (imgsz, imgsz), args.calib_frames)
    fp32 = export(YoloExportable(weights, (imgsz, imgsz), stem="fp32"), models, ("fp32",))["fp32"]
    dataset = load_eval_set(data)
    _, reference, _ = run_model(fp32, dataset.images, REFERENCE_CONF)  # FP32's detections: the fidelity truth
    rows = []
    for v in wanted:
        start = time.perf_counter()
        if v.precision == "fp32":
            path = fp32
        else:
            stem = v.name.replace(" ", "_").replace(",", "")
            exportable = YoloExportable(weights, (imgsz, imgsz), int8_keep=v.int8_keep, stem=stem)
            paths = export(exportable, models / stem, (v.precision,), lambda: feeds, v.calib_method, v.modelopt,
                           v.calib_method)
            path = paths["int8_trt" if v.modelopt else v.precision]
        export_s = time.perf_counter() - start
        detector, predictions, shapes = run_model(path, dataset.images)  # one pass, scored two ways
        labels = coco_map(dataset.truth, predictions, shapes, detector.names)
        fidelity = coco_map(reference, predictions, shapes, detector.names)
        rows.append({
            "variant": v.name, "precision": v.precision, "calib_method": v.calib_method if v.precision == "int8" else None,
            "int8_keep": v.int8_keep if v.precision == "int8" else None, "export_s": round(export_s, 1),
            "placement": ("modelopt" if v.modelopt else "onnxruntime") if v.precision == "int8" else None,
            "qdq_nodes": qdq_nodes(path),
            "mAP50_95": labels["mAP50_95"], "mAP50": labels["mAP50"],
            "fidelity_mAP50_95": fidelity["mAP50_95"], "fidelity_mAP50": fidelity["mAP50"],
        })
        print(f"  {v.name:30s} mAP50-95 {labels['mAP50_95']:.4f}  mAP50 {labels['mAP50']:.4f}  "
              f"vs FP32: {fidelity['mAP50_95']:.4f}  ({export_s:.0f} s export)", flush=True)

    base = next((r for r in rows if r["precision"] == "fp32"), None)
    print(f"\n{'variant':30s} {'Q/DQ':>5s} {'mAP50-95':>9s} {'d vs FP32':>10s} {'mAP50':>7s} {'fidelity':>9s}")
    for r in rows:
        delta = f"{100 * (r['mAP50_95'] - base['mAP50_95']):+.2f} pt" if base else ""
        print(f"{r['variant']:30s} {r['qdq_nodes']:5d} {r['mAP50_95']:9.4f} {delta:>10s} {r['mAP50']:7.4f} "
              f"{r['fidelity_mAP50_95']:9.4f}")
    result = {
        "machine": "2-core CPU dev box", "weights": str(weights), "data": str(data), "imgsz": imgsz,
        "calib_frames": args.calib_frames, "calib_source": str(train_images), "rows": rows,
        "command": "python -m benchmarks.export_accuracy " + " ".join(sys.argv[1:]),
    }
    title = f"{weights.name} @ {imgsz}, held-out {data.parent.name}"
    write_report("export_accuracy", result, lambda png: plot(rows, png, title), args.out)
    return 0


def plot(rows: list[dict], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(10, 1.1 * len(rows)), 4.5))
    ax.bar(x - 0.2, [r["mAP50_95"] for r in rows], 0.4, label="mAP50-95 vs labels")
    ax.bar(x + 0.2, [r["fidelity_mAP50_95"] for r in rows], 0.4, label="mAP50-95 vs FP32 detections")
    for i, r in enumerate(rows):
        ax.text(i - 0.2, r["mAP50_95"] + 0.01, f"{r['mAP50_95']:.3f}", ha="center", fontsize=8)
    ax.set_xticks(x, [r["variant"].replace(", ", "\n").replace("int8 modelopt", "int8 ModelOpt\n") for r in rows],
                  fontsize=7)
    ax.set_ylim(0, 1.08)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    run("export_accuracy", main)
