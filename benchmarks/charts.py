"""The report's PNG charts, drawn from ``report.json`` alone (so a committed report can be re-drawn).

matplotlib is imported by this module before anything loads GStreamer: with ``onnx`` and PyGObject's
GStreamer already loaded, importing matplotlib's font module aborts the process (a clash of the
native libraries they bring), so the harness imports this module first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

PRECISIONS = ("fp32", "fp16", "int8", "int8_trt")  # the model rows' variants, in chart order
SIZES = ("small", "medium", "large")


def _ok(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("status") == "ok"]


def _err(stats: dict[str, Any]) -> list[float]:
    return [stats["median_ms"] - stats["p5_ms"], stats["p95_ms"] - stats["median_ms"]]


def latency_by_precision(report: dict[str, Any], ax_pair: Any) -> None:
    """Detector batch-1 latency per precision and thread setting; behaviour model for 64 tracks."""
    det, beh = ax_pair
    rows = _ok(report["detector"]["rows"])
    settings = sorted({(r["runtime"], r["threads"]) for r in rows})
    width = 0.8 / max(len(settings), 1)
    for i, (runtime, threads) in enumerate(settings):
        sel = [next((r for r in rows if (r["runtime"], r["threads"], r["precision"]) == (runtime, threads, p)), None)
               for p in PRECISIONS]
        xs = [k + (i - (len(settings) - 1) / 2) * width for k, r in enumerate(sel) if r]
        stats = [r["batch1"] for r in sel if r]
        ax = det.bar(xs, [s["median_ms"] for s in stats], width, yerr=list(zip(*[_err(s) for s in stats])) or None,
                     capsize=3, label=f"{runtime}, {threads or 'all'} thread(s)")
        det.bar_label(ax, fmt="%.1f", fontsize=7)
    det.set_xticks(range(len(PRECISIONS)), PRECISIONS)
    det.set_ylabel("detector ms per frame, batch 1 (median, p5-p95)")
    det.set_title("detector")
    det.legend(fontsize=7)
    brows = _ok(report.get("behaviour", {}).get("rows", []))
    if brows:
        bars = beh.bar([r["precision"] for r in brows], [r["tracks64"]["median_ms"] for r in brows],
                       yerr=list(zip(*[_err(r["tracks64"]) for r in brows])), capsize=3, color="tab:orange")
        beh.bar_label(bars, fmt="%.2f", fontsize=7)
    beh.set_ylabel("behaviour model ms, 64 tracks, 1 thread")
    beh.set_title("behaviour model")


def accuracy_by_precision(report: dict[str, Any], ax_pair: Any) -> None:
    """Detector mAP against labels and fidelity to FP32; behaviour macro-F1 per data set."""
    det, beh = ax_pair
    rows = {r["precision"]: r for r in _ok(report["detector"]["rows"]) if "fidelity_mAP50_95" in r}
    keys = [("mAP50_95", "mAP50-95 vs labels"), ("mAP50", "mAP50 vs labels"), ("fidelity_mAP50_95", "mAP50-95 vs FP32")]
    shown = [p for p in PRECISIONS if p in rows]
    for i, (key, label) in enumerate(keys):
        values = [rows[p].get(key) or 0.0 for p in shown]
        bars = det.bar([k + (i - 1) * 0.27 for k in range(len(values))], values, 0.27, label=label)
        det.bar_label(bars, fmt="%.3f", fontsize=6)
    det.set_xticks(range(len(shown)), shown)
    det.set_ylim(0, 1.1)
    det.set_title("detector accuracy")
    det.legend(fontsize=7)
    brows = _ok(report.get("behaviour", {}).get("rows", []))
    names = sorted({n for r in brows for n in r.get("macro_f1", {})})
    for i, name in enumerate(names):
        values = [r["macro_f1"].get(name, 0.0) for r in brows]
        bars = beh.bar([k + i * 0.35 for k in range(len(brows))], values, 0.35, label=name[:40])
        beh.bar_label(bars, fmt="%.3f", fontsize=6)
    beh.set_xticks(range(len(brows)), [r["precision"] for r in brows])
    beh.set_ylim(0, 1.1)
    beh.set_title("behaviour macro-F1")
    beh.legend(fontsize=7)


def accuracy_vs_latency(report: dict[str, Any], ax: Any) -> None:
    """mAP50-95 against batch-1 latency: each precision (all cores) and each input size of the sweep."""
    cores = report["machine"]["cores"]
    for r in _ok(report["detector"]["rows"]):
        if r["threads"] in (0, cores) and r.get("mAP50_95") is not None:
            ax.scatter(r["batch1"]["median_ms"], r["mAP50_95"], s=50)
            ax.annotate(r["precision"], (r["batch1"]["median_ms"], r["mAP50_95"]), fontsize=8, xytext=(4, 4),
                        textcoords="offset points")
    sweep = [r for r in report["detector"].get("sweep", []) if r.get("mAP50_95") is not None]
    if sweep:
        ax.plot([r["batch1"]["median_ms"] for r in sweep], [r["mAP50_95"] for r in sweep], "o--", color="grey",
                label="fp32 by input size")
        for r in sweep:
            ax.annotate(f"{r['input']} px", (r["batch1"]["median_ms"], r["mAP50_95"]), fontsize=7, xytext=(4, -10),
                        textcoords="offset points")
        ax.legend(fontsize=7)
    ax.set_xlabel("detector ms per frame, batch 1 (median)")
    ax.set_ylabel("mAP50-95 vs labels")
    ax.set_title("accuracy against latency")


def speed_vs_input_size(report: dict[str, Any], ax: Any) -> None:
    """Detector fps (batch 1, all cores) against the input size."""
    sweep = report["detector"].get("sweep", [])
    ax.plot([r["input"] for r in sweep], [r["fps"] for r in sweep], "o-")
    for r in sweep:
        ax.annotate(f"{r['fps']:.0f}", (r["input"], r["fps"]), fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("input size, px (square)")
    ax.set_ylabel("detector fps, batch 1")
    ax.set_title("speed against input size (FP32)")


def accuracy_by_object_size(report: dict[str, Any], ax_pair: Any) -> None:
    """mAP50-95 per COCO object size: by input size (sweep) and by precision."""
    by_input, by_precision = ax_pair
    for axis, rows, key in ((by_input, report["detector"].get("sweep", []), "input"),
                            (by_precision, [r for r in _ok(report["detector"]["rows"]) if r.get("by_size")], "precision")):
        seen: dict[Any, dict[str, Any]] = {}
        for r in rows:
            if r.get("by_size"):
                seen.setdefault(r[key], r["by_size"])
        for i, size in enumerate(SIZES):
            values = [(s.get(size) or {}).get("mAP50_95") or 0.0 for s in seen.values()]
            axis.bar([k + (i - 1) * 0.27 for k in range(len(values))], values, 0.27,
                     label=f"{size} ({next(iter(seen.values()), {}).get(size, {}).get('instances', 0)} objects)")
        axis.set_xticks(range(len(seen)), [str(k) for k in seen])
        axis.set_ylabel("mAP50-95 vs labels")
        axis.margins(y=0.35)  # room above the bars for the legend
        axis.legend(fontsize=7, loc="upper right")
    by_input.set_title("by input size (px), FP32")
    by_precision.set_title("by precision")


def fps_vs_streams(report: dict[str, Any], ax: Any) -> None:
    """Total and per-stream fps of the whole pipeline against the number of streams."""
    rows = report["end_to_end"]["streams"]
    ax.plot([r["streams"] for r in rows], [r["fps"] for r in rows], "o-", label="all streams")
    ax.plot([r["streams"] for r in rows], [r["fps_per_stream"] for r in rows], "s--", label="per stream")
    ax.set_xticks([r["streams"] for r in rows])
    ax.set_xlabel("streams")
    ax.set_ylabel("fps (whole pipeline, video written)")
    ax.set_title("fps against number of streams")
    ax.legend(fontsize=8)


DRAW = {
    "latency_by_precision": (latency_by_precision, 2, ("detector",)),
    "accuracy_by_precision": (accuracy_by_precision, 2, ("detector",)),
    "accuracy_vs_latency": (accuracy_vs_latency, 1, ("detector",)),
    "speed_vs_input_size": (speed_vs_input_size, 1, ("detector",)),
    "accuracy_by_object_size": (accuracy_by_object_size, 2, ("detector",)),
    "fps_vs_streams": (fps_vs_streams, 1, ("end_to_end",)),
}


def draw_all(report: dict[str, Any], out: Path) -> list[str]:
    """Every chart whose section the report has, as ``<out>/<name>.png``; returns the names drawn."""
    drawn = []
    for name, (draw, panels, needs) in DRAW.items():
        if not all(k in report for k in needs):
            continue
        fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4))
        draw(report, axes)
        fig.suptitle(f"{report['machine']['cpu']} ({report['machine']['cores']} cores)", fontsize=8)
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=100)
        plt.close(fig)
        drawn.append(name)
    return drawn
