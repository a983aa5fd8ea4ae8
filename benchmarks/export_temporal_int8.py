"""The temporal model's two INT8 placements side by side: ONNX Runtime's ``quantize_static`` and ModelOpt's.

One export of the default checkpoint (``models/behaviour/behaviour.pt``) writes FP32, the ONNX Runtime
INT8 file and ModelOpt's TensorRT INT8 file, both calibrated on the same 512 simulated training
windows. Each is scored on the simulator's held-out test split (macro-F1), for fidelity to FP32 (verdict
agreement and largest probability change, on that split and on real TUD pedestrian tracks, the gate's
inputs), by its Q/DQ node count, and by ONNX Runtime CPU latency for 64 tracks on one thread, through
the uint8-activation view the pipeline loads (measured on a shared machine: compare rows, not hosts).

    python -m benchmarks.export_temporal_int8 [--test-data sim:4000] [--runs 50]

Writes ``out/bench/export_temporal_int8.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgewatch.bench.report import OUT, write_report
from edgewatch.bench.timing import latency_ms
from edgewatch.paths import REPO_ROOT

CHECKPOINT = REPO_ROOT / "models" / "behaviour" / "behaviour.pt"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    parser.add_argument("--test-data", default="sim:4000")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_known_args()[0]


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main() -> int:
    from sklearn.metrics import f1_score

    from edgewatch.behaviour.data import load_dataset
    from edgewatch.behaviour.taxonomy import load_taxonomy
    from edgewatch.bench.export_accuracy import qdq_nodes
    from edgewatch.engines.gate import compare_probabilities, track_windows_for
    from edgewatch.export.temporal import export_temporal
    from edgewatch.runtime.onnx import TEMPORAL_DISABLED_OPTIMIZERS, OnnxSession

    args = parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgewatch-bench-") as tmp:
        paths = export_temporal(args.checkpoint, Path(tmp), ("fp32", "int8"), tensorrt_int8=True)
        sessions = {k: OnnxSession(p, 1, TEMPORAL_DISABLED_OPTIMIZERS) for k, p in paths.items()}
        test = load_dataset(
            args.test_data, "test", load_taxonomy(), seed=0, classes=sessions["fp32"].metadata.behaviours
        )
        real_x, real_mask = track_windows_for(sessions["fp32"])
        batch = [a[:64] for a in (test.X, test.mask)]

        def probs(session: OnnxSession, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
            return softmax(
                np.concatenate([session.run(x[i : i + 256], mask[i : i + 256])[0] for i in range(0, len(x), 256)])
            )

        ref_test, ref_real = probs(sessions["fp32"], test.X, test.mask), probs(sessions["fp32"], real_x, real_mask)
        for name, session in sessions.items():
            p_test, p_real = probs(session, test.X, test.mask), probs(session, real_x, real_mask)
            stats = latency_ms(lambda s=session: s.run(*batch), args.runs, 5)
            row = {
                "file": paths[name].name,
                "placement": {"fp32": None, "int8": "onnxruntime", "int8_trt": "modelopt"}[name],
                "qdq_nodes": qdq_nodes(paths[name]),
                "macro_f1": float(f1_score(test.y, p_test.argmax(1), average="macro")),
                "sim_fidelity": compare_probabilities(ref_test, p_test),
                "real_fidelity": compare_probabilities(ref_real, p_real),
                "cpu_64_tracks_1_thread": stats,
            }
            rows.append(row)
            print(
                f"  {row['file']:26s} Q/DQ {row['qdq_nodes']:3d}  macro-F1 {row['macro_f1']:.4f}  "
                f"agree sim {row['sim_fidelity']['argmax_agreement']:.4f} real {row['real_fidelity']['argmax_agreement']:.4f}  "
                f"max dp real {row['real_fidelity']['max_prob_diff']:.3f}  CPU {stats['median_ms']:.2f} ms",
                flush=True,
            )
    result = {
        "machine": "2-core CPU dev box (shared with other jobs)",
        "checkpoint": str(args.checkpoint.name),
        "test_data": args.test_data,
        "test_windows": int(len(test.y)),
        "real_windows": int(len(real_x)),
        "rows": rows,
        "command": "python -m benchmarks.export_temporal_int8 " + " ".join(sys.argv[1:]),
    }
    write_report("export_temporal_int8", result, lambda png: plot(rows, png), args.out)
    return 0


def plot(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    names = [r["file"].replace(".onnx", "") for r in rows]
    a.bar(names, [r["macro_f1"] for r in rows])
    a.set_ylim(0.8, 1.0)
    a.set_title("macro-F1, held-out simulated tracks", fontsize=9)
    b.bar(names, [r["cpu_64_tracks_1_thread"]["median_ms"] for r in rows])
    b.set_title("ONNX Runtime CPU, 64 tracks, 1 thread (ms)", fontsize=9)
    for ax in (a, b):
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
