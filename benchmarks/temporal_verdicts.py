"""How the ``[temporal]`` verdict settings trade stability against accuracy and delay, on the tuning
split of the labelled real tracks (``data/real_tracks/vtest/train``; the test files are never used here).

The default model's raw verdicts (every ``stride-seconds``) are computed once per track, then held to
each combination of dwell, minimum confidence, smoothing time and minimum history; per combination:
reported accuracy and macro-F1 where decided, the share of labelled time decided, behaviour changes
per track-minute and the median time to a track's first decision. The defaults in
``edgewatch/config.py`` ``TemporalConfig`` are the combination this run marks "chosen": the most
accurate among those with at most 1 change per track-minute (half the target of 2, leaving room for
other scenes and rates) and a first decision within 3 s.

Run: ``python -m benchmarks.temporal_verdicts``; writes ``out/bench/temporal_verdicts.{json,png}``.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from edgewatch.behaviour.data import read_labelled_tracks
from edgewatch.behaviour.evaluate import load_model, predict_tracks, replay_tracks, softmax, track_metrics
from edgewatch.behaviour.verdicts import VerdictRules
from edgewatch.bench.report import write_report
from edgewatch.config import TemporalConfig
from edgewatch.paths import REPO_ROOT

MODEL = REPO_ROOT / "models" / "behaviour" / "behaviour.onnx"
TUNING = REPO_ROOT / "data" / "real_tracks" / "vtest" / "train.txt"
GRID = {"dwell": (0.5, 1.0, 1.5, 2.0, 3.0), "min_confidence": (0.5, 0.6, 0.7),
        "smoothing_seconds": (0.5, 1.0, 2.0), "min_history": (1.0, 1.5, 2.0),
        "slow_dwell": (0.0, 3.0)}  # pacing and loitering's own dwell (0: the common one): they need long evidence
SLOW = ("pacing", "loitering")
MAX_CHANGES, MAX_FIRST = 1.0, 3.0  # per track-minute, seconds


def chosen(rows: list[dict]) -> dict:
    """The most accurate row within the stability and delay limits (ties: fewer changes, then sooner)."""
    def first(r: dict) -> float:
        return float("inf") if r["first_decision_s"] is None else r["first_decision_s"]

    fine = [r for r in rows if r["changes_per_track_minute"] <= MAX_CHANGES and first(r) <= MAX_FIRST]
    return max(fine or rows, key=lambda r: (round(r["reported_accuracy"] or 0.0, 3), -r["changes_per_track_minute"],
                                           -first(r)))


def plot(rows: list[dict], best: dict, default: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    points = ax.scatter([r["changes_per_track_minute"] for r in rows], [r["reported_accuracy"] or 0.0 for r in rows],
                        c=[r["first_decision_s"] or 0.0 for r in rows], cmap="viridis", s=14)
    fig.colorbar(points, ax=ax, label="first decision after (s)")
    for row, name, marker in ((best, "chosen", "*"), (default, "defaults", "x")):
        ax.scatter([row["changes_per_track_minute"]], [row["reported_accuracy"]], marker=marker, s=160, c="tab:red",
                   label=name)
    ax.axvline(MAX_CHANGES, color="tab:gray", linestyle="--", linewidth=1)
    ax.set_xlabel("behaviour changes per track-minute")
    ax.set_ylabel("reported accuracy where decided")
    ax.set_title("verdict settings on the tuning tracks (vtest train)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> int:
    if not MODEL.is_file():
        print(f"{MODEL} missing: train the default model first (make behaviour-model)")
        return 1
    model = load_model(MODEL)
    assert model.feature_spec is not None
    defaults = TemporalConfig()
    tracks = read_labelled_tracks(TUNING, 10.0, model.classes)
    probs = predict_tracks(lambda X, m: softmax(model.logits(X, m)), tracks, model.feature_spec, model.classes,
                           model.applies_to, defaults.stride_seconds, model.min_history)
    rows = []
    for values in itertools.product(*GRID.values()):
        settings = dict(zip(GRID, values))
        own = {b: settings["slow_dwell"] for b in SLOW} if settings["slow_dwell"] else {}
        rules = VerdictRules("ema", settings["smoothing_seconds"], settings["min_history"], settings["min_confidence"],
                             settings["dwell"], own)
        metrics = track_metrics(replay_tracks(probs, rules, model.classes))
        rows.append({**settings, **{k: metrics[k] for k in ("reported_accuracy", "reported_macro_f1",
                                                            "reported_coverage", "changes_per_track_minute",
                                                            "first_decision_s")}})
    best = chosen(rows)
    slow = defaults.dwell_for.get(SLOW[0], 0.0)
    default = next(r for r in rows if (r["dwell"], r["min_confidence"], r["smoothing_seconds"], r["min_history"],
                                       r["slow_dwell"]) == (defaults.dwell_seconds, defaults.min_confidence,
                                                            defaults.smoothing_seconds, defaults.min_history_seconds, slow))
    header = (f"{'dwell':>5s} {'conf':>5s} {'smooth':>6s} {'hist':>5s} {'slow':>5s} {'acc':>6s} {'F1':>6s} {'cover':>6s} "
              f"{'chg/min':>7s} {'first':>6s}")
    print(header)
    for row in sorted(rows, key=lambda r: -r["reported_accuracy"])[:15] + [default, best]:
        mark = " <- chosen" if row is best else " <- defaults" if row is default else ""
        print(f"{row['dwell']:5.1f} {row['min_confidence']:5.2f} {row['smoothing_seconds']:6.1f} {row['min_history']:5.1f} "
              f"{row['slow_dwell']:5.1f} "
              f"{row['reported_accuracy']:6.3f} {row['reported_macro_f1']:6.3f} {row['reported_coverage']:6.2f} "
              f"{row['changes_per_track_minute']:7.2f} {row['first_decision_s']:6.1f}{mark}")
    write_report("temporal_verdicts", {"model": str(MODEL.relative_to(REPO_ROOT)), "tracks": str(TUNING.relative_to(REPO_ROOT)),
                                       "limits": {"changes_per_track_minute": MAX_CHANGES, "first_decision_s": MAX_FIRST},
                                       "chosen": best, "defaults": default, "rows": rows},
                 lambda png: plot(rows, best, default, png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
