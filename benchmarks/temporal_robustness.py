"""Robustness of the behaviour model (and of the kinematic rule baseline) on simulated tracks, one factor
at a time: frame rate, box jitter, missed detections, camera height, history length.

Each row simulates held-out tracks (seeds apart from training's) with every range of
:class:`~edgewatch.behaviour.simulate.SimSettings` as in training except the one factor, fixed at the
row's level, and scores the default model (``models/behaviour/behaviour.onnx``, ONNX Runtime) and the
rule baseline written beside it (``rules.json``) by macro-F1 over the tracks whose label is one
behaviour (those in the margin of a speed boundary carry a mixed label and are not scored).

Run: ``python -m benchmarks.temporal_robustness [--tracks N]``; writes ``out/bench/temporal_robustness.{json,png}``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from edgewatch.behaviour.evaluate import LoadedModel, load_model
from edgewatch.behaviour.rules import RuleBaseline
from edgewatch.behaviour.simulate import SimSettings, simulate_tracks, tracks_to_dataset
from edgewatch.behaviour.taxonomy import load_taxonomy
from edgewatch.behaviour.train import macro_f1
from edgewatch.bench.report import write_report
from edgewatch.paths import REPO_ROOT

MODEL = REPO_ROOT / "models" / "behaviour" / "behaviour.onnx"
RULES = MODEL.parent / "rules.json"
BASE = SimSettings()
FACTORS: dict[str, list[tuple[str, SimSettings]]] = {
    "frame rate (fps)": [(f"{f:g}", replace(BASE, frame_rates=(f,))) for f in (5.0, 10.0, 25.0, 30.0)],
    "box jitter (x height)": [(f"{j:g}", replace(BASE, jitter=(j, j))) for j in (0.005, 0.02, 0.05)],
    "missed detections": [(f"{m:.0%}", replace(BASE, missed=(m, m))) for m in (0.0, 0.15, 0.3)],
    "camera height (m)": [(f"{h:g}", replace(BASE, camera_height=(h, h))) for h in (3.0, 6.0, 10.0)],
    "history (s)": [(f"{a:g}-{b:g}", replace(BASE, history=(a, b))) for a, b in ((1, 2), (2, 4), (4, 8), (8, 12))],
}


def score(settings: SimSettings, n: int, seed: int, model: LoadedModel, rules: RuleBaseline) -> dict[str, float]:
    """Macro-F1 of the model and the rules on ``n`` simulated tracks drawn with ``settings``."""
    taxonomy = load_taxonomy()
    data = tracks_to_dataset(simulate_tracks(taxonomy, n, seed, settings), taxonomy.features, taxonomy.behaviours)
    data = replace(data, scored=None).definite()  # every track outside the speed margins: short ones too
    k = len(taxonomy.behaviours)
    return {"tracks": len(data),
            "model": macro_f1(data.y, model.logits(data.X, data.mask).argmax(1), k),
            "rules": macro_f1(data.y, rules.predict_proba(data.X, data.mask).argmax(1), k)}


def plot(results: dict[str, dict[str, dict[str, float]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(3.0 * len(results), 3.2), sharey=True)
    for ax, (factor, rows) in zip(axes, results.items()):
        levels = list(rows)
        ax.plot(levels, [r["model"] for r in rows.values()], marker="o", label="model")
        ax.plot(levels, [r["rules"] for r in rows.values()], marker="s", label="rule baseline")
        ax.set_xlabel(factor)
        ax.set_ylim(0.5, 1.0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("macro-F1 (simulated, held out)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=1000, help="simulated tracks per row")
    args = parser.parse_args(argv)
    if not MODEL.is_file() or not RULES.is_file():
        print(f"{MODEL} or {RULES} missing: train the default model first (make behaviour-model)")
        return 1
    model, rules = load_model(MODEL), RuleBaseline.load(RULES)
    results: dict[str, dict[str, dict[str, float]]] = {}
    print(f"{'factor':24s} {'level':>8s} {'tracks':>6s} {'model':>7s} {'rules':>7s}")
    for i, (factor, levels) in enumerate(FACTORS.items()):
        results[factor] = {}
        for j, (level, settings) in enumerate(levels):
            row = score(settings, args.tracks, 1000 + 10 * i + j, model, rules)
            results[factor][level] = row
            print(f"{factor:24s} {level:>8s} {row['tracks']:6d} {row['model']:7.3f} {row['rules']:7.3f}")
    write_report("temporal_robustness", {"model": str(MODEL.relative_to(REPO_ROOT)), "tracks": args.tracks,
                                         "results": results}, lambda png: plot(results, png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
