"""Verdict stability on the real campus clip at several frame rates: what a person watching the demo sees.

The demo config's detector, tracker and temporal stages (``edgewatch.stages.replay.replay_clip``) run
over the PETS09 campus clip (10 fps) re-timed the way GStreamer's ``videorate`` does it: 25 and 30 fps
repeat frames, 5 fps drops every other one, so the scene is the same and only the stream's rate differs.
Per rate: reported behaviour changes per track-minute (the first decision is not a change), the share
of person time per behaviour (and undecided), and the median time to a track's first decision.
Nobody runs in this clip; pacing and loitering are not seen either (labelled tracks: walking and
standing only, see data/real_tracks).

Run: ``python -m benchmarks.temporal_stability [--fps 5 10 25 30] [--seconds S]``; writes
``out/bench/temporal_stability.{json,png}``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from edgewatch.behaviour.evaluate import live_metrics
from edgewatch.bench.report import write_report
from edgewatch.config import load_config
from edgewatch.paths import REPO_ROOT
from edgewatch.samples.fetch import sample_clip
from edgewatch.stages.replay import replay_clip

CONFIG = REPO_ROOT / "configs" / "demo.txt"


def measure(fps_list: list[float], seconds: float | None) -> dict[str, dict]:
    """``{fps: live_metrics(...)["person"]}`` for the campus clip at each rate."""
    cfg = load_config(CONFIG)
    clip = sample_clip("vtest")
    return {f"{fps:g}": live_metrics(replay_clip(cfg, clip, fps, seconds), fps)["person"] for fps in fps_list}


def plot(results: dict[str, dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted({lb for r in results.values() for lb in r["time_shares"]})
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1, 2]})
    rates = list(results)
    ax0.bar(rates, [r["changes_per_track_minute"] for r in results.values()], color="tab:blue")
    ax0.axhline(2.0, color="tab:red", linestyle="--", label="target: at most 2")
    ax0.set_xlabel("stream fps")
    ax0.set_ylabel("behaviour changes per track-minute")
    ax0.legend(fontsize=7)
    left = np.zeros(len(rates))
    for label in labels:
        values = np.array([r["time_shares"].get(label, 0.0) for r in results.values()])
        ax1.barh(rates, values, left=left, label=label)
        left += values
    ax1.set_xlabel("share of person time")
    ax1.set_ylabel("stream fps")
    ax1.legend(fontsize=7, ncol=len(labels), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.suptitle("campus clip, re-timed: reported person behaviours", y=1.02)
    fig.tight_layout()
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, nargs="*", default=[5.0, 10.0, 25.0, 30.0])
    parser.add_argument("--seconds", type=float, default=None, help="only the first seconds of the clip")
    args = parser.parse_args(argv)
    results = measure(args.fps, args.seconds)
    print(f"{'fps':>5s} {'tracks':>6s} {'changes/track-min':>18s} {'first decision s':>17s}  time shares")
    for fps, r in results.items():
        shares = ", ".join(f"{k} {v:.2f}" for k, v in r["time_shares"].items())
        first = "-" if r["first_decision_s"] is None else f"{r['first_decision_s']:.1f}"
        print(f"{fps:>5s} {r['tracks']:6d} {r['changes_per_track_minute']:18.2f} {first:>17s}  {shares}")
    write_report("temporal_stability", {"config": str(CONFIG.relative_to(REPO_ROOT)), "clip": "vtest",
                                        "seconds": args.seconds, "results": results},
                 lambda png: plot(results, png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
