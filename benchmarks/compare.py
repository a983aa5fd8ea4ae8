"""Compare two reports of the harness: the same accuracy figures, and latency medians within the spread.

The reproducibility check of the benchmark: run ``make bench QUICK=1`` twice on one machine, then

    python -m edgewatch.bench.compare FIRST/report.json SECOND/report.json

Accuracy figures (mAP, fidelity, macro-F1, HOTA / MOTA / IDF1, ID switches, event agreement, counts)
must be equal; each latency median of one report must lie within the other's p5-p95 spread of the same
measurement. Throughput and fps are not compared (they depend on the load, which the report records).
Exits 1 when anything differs, listing it.

Each report also times a fixed workload before each section and at its end (``run.speed_probe``): how
far the machine's own speed moved during the run (its drift: the slowest probe over the fastest). The
comparison gives both counts: medians within the other's p5-p95 as timed, and within it widened by the
larger of the two drifts (a median moved by no more than the machine itself moved). The plain count alone
sets the exit status. The speed targets of both runs (``targets``: ratios of the latencies and rates above)
are listed side by side, for the reader; they do not set it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# keys whose values are accuracy figures or counts: deterministic, so they must match exactly
EXACT = ("mAP50_95", "mAP50", "fidelity_mAP50_95", "fidelity_mAP50", "macro_f1", "hota", "deta", "assa", "mota",
         "idf1", "id_switches", "fn", "fp", "gt", "instances", "events", "matched", "reference_events",
         "precision", "recall", "f1", "passed", "images", "windows")
SECTIONS = ("detector", "behaviour", "tracker", "analytics", "end_to_end")


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) of a JSON tree; list items are named by their identifying fields when they have them."""
    if isinstance(node, dict):
        if "median_ms" in node and "p5_ms" in node:  # a latency block with its spread
            yield path, node
            return
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            name = _item_name(item) or str(i)
            yield from _walk(item, f"{path}[{name}]")
    else:
        yield path, node


def _item_name(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    keys = ("runtime", "precision", "threads", "input", "streams", "detector", "behaviour", "name", "comparison")
    parts = [f"{k}={item[k]}" for k in keys if k in item and not isinstance(item[k], dict)]
    return ",".join(parts) or None


def _within(va: dict[str, float], vb: dict[str, float], drift: float = 0.0) -> bool:
    """Each median inside the other's p5-p95, each spread widened by ``drift`` (a fraction) both ways."""
    def inside(median: float, spread: dict[str, float]) -> bool:
        return spread["p5_ms"] / (1 + drift) <= median <= spread["p95_ms"] * (1 + drift)

    return inside(vb["median_ms"], va) and inside(va["median_ms"], vb)


def drift(report: dict[str, Any]) -> float | None:
    """How far the machine's speed moved during the run: the slowest speed probe's median over the
    fastest's, less one; None without two probes."""
    medians = [p["median_ms"] for p in report.get("run", {}).get("speed_probe", {}).values()]
    return max(medians) / min(medians) - 1 if len(medians) >= 2 else None


def compare(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Equal accuracy figures and mutually-within-spread latency medians, section by section."""
    a = {p: v for s in SECTIONS if s in first for p, v in _walk(first[s], s)}
    b = {p: v for s in SECTIONS if s in second for p, v in _walk(second[s], s)}
    drifts = [d for d in (drift(first), drift(second)) if d is not None]
    band = max(drifts) if len(drifts) == 2 else None
    exact, latency, problems, drifted = 0, 0, [], 0
    for path in sorted(set(a) & set(b)):
        va, vb = a[path], b[path]
        if isinstance(va, dict) and isinstance(vb, dict):
            latency += 1
            if not _within(va, vb):
                problems.append(f"{path}: median {va['median_ms']} (p5-p95 {va['p5_ms']}-{va['p95_ms']}) vs "
                                f"{vb['median_ms']} ({vb['p5_ms']}-{vb['p95_ms']})")
                drifted += band is None or not _within(va, vb, band)
        elif path.rsplit(".", 1)[-1] in EXACT:
            exact += 1
            if va != vb:
                problems.append(f"{path}: {va} vs {vb}")
                drifted += 1
    missing = sorted(set(a) ^ set(b))
    return {"accuracy_figures": exact, "latency_figures": latency, "differences": problems, "only_in_one": missing,
            "drift": band, "differences_beyond_drift": drifted}


def targets_side_by_side(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """One line per speed target both reports have: its value in each, and whether each run met it."""
    ta, tb = first.get("targets", {}), second.get("targets", {})
    def met(target: dict[str, Any]) -> str:
        return "met" if target["met"] else "not met"

    return [f"{name}: {ta[name]['value']} vs {tb[name]['value']} (target {ta[name]['target']}: "
            f"{met(ta[name])} / {met(tb[name])})" for name in ta if name in tb]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    first, second = json.loads(args.first.read_text()), json.loads(args.second.read_text())
    result = compare(first, second)
    for line in result["differences"]:
        print(f"differs: {line}")
    for path in result["only_in_one"]:
        print(f"only in one report: {path}")
    print(f"{result['accuracy_figures']} accuracy figures compared, {result['latency_figures']} latency medians "
          f"checked against the other report's p5-p95: {len(result['differences'])} differ")
    if result["drift"] is not None:
        print(f"speed probes: the machine's own speed moved by up to {100 * result['drift']:.1f}% during a run; "
              f"medians within the other's p5-p95 widened by that: {result['differences_beyond_drift']} differ")
    for line in targets_side_by_side(first, second):
        print(f"target {line}")
    return 1 if result["differences"] else 0


if __name__ == "__main__":
    sys.exit(main())
