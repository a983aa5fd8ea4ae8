"""The benchmark report: ``report.json`` (every figure, its unit in its key), ``report.md`` (the tables).

Units are in the key names (:data:`UNITS`), so every figure in the JSON says what it is measured in.
The Markdown tables are rendered from the JSON by :data:`TABLES`, the same functions the README's
generated sections use (:mod:`edgewatch.bench.readme`), so the README can only show what a report holds.
:func:`write_report` is the small writer the standalone studies (``python -m edgewatch.bench.<study>``)
share.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT

OUT = REPO_ROOT / "out" / "bench"
UNITS = {
    "_ms": "milliseconds", "_s": "seconds", "_fps": "frames per second (fps: the same)", "_mb": "megabytes (10^6 bytes)",
    "_gib": "gibibytes", "_pct": "percent", "mAP": "COCO mAP, 0..1", "f1": "F1, 0..1", "mota/idf1/hota": "0..1",
}


def write_report(name: str, result: dict, draw: Callable[[Path], None], out: Path = OUT) -> Path:
    """Write ``<out>/<name>.json``, let ``draw`` save ``<out>/<name>.png``, print where; returns the JSON path.

    The JSON is written before the plot so a plotting failure still leaves the numbers behind.
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    draw(out / f"{name}.png")
    print(f"wrote {path} and .png")
    return path


def run(name: str, main: Callable[[], int]) -> None:
    """A benchmark's ``__main__``: exit with ``main()``'s code, bad input as one ``name: error:`` line."""
    try:
        sys.exit(main())
    except EdgewatchError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        sys.exit(2)


# ---------------------------------------------------------------- Markdown tables


def _f(value: Any, digits: int = 1) -> str:
    """A number for a table cell; a dash when absent."""
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _ms(stats: dict[str, Any] | None) -> str:
    """``median (p5-p95)`` of a latency block."""
    if not stats:
        return "-"
    return f"{stats['median_ms']:.2f} ({stats['p5_ms']:.2f}-{stats['p95_ms']:.2f})"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _threads(n: int, cores: int) -> str:
    return f"{cores} (all)" if n in (0, cores) else str(n)


def under_load(report: dict[str, Any]) -> bool:
    """Whether other work already kept half a core busy when the run started (its speed figures are then
    inflated and its speed verdicts not conclusive)."""
    return bool(report["run"]["load_average_1min"]["start"] >= 0.5)


def machine_table(report: dict[str, Any]) -> str:
    """Where and with what the figures were measured, and how busy the machine was."""
    m, v, run = report["machine"], report["versions"], report["run"]
    load = run["load_average_1min"]
    rows = [
        ["machine", f"{m['cpu']}, {m['cores']} cores, {_f(m['memory_gib'])} GiB, {m['os']}, no GPU used"],
        ["software", (f"Python {v['python']}, ONNX Runtime {v['onnxruntime']}, NumPy {v['numpy']}, "
                      f"OpenCV {v['opencv-python-headless']}, GStreamer {v['gstreamer']}, torch {v['torch']}")],
        ["commit", f"{(report['git']['commit'] or '?')[:10]}{' (uncommitted changes)' if report['git']['dirty'] else ''}"],
        ["run", f"`{run['command']}`: {'--quick, ' if run['quick'] else ''}{run['wall_s']:.0f} s, "
                f"load average {load['start']} at the start, {load['end']} at the end"
                + (" (other jobs shared the cores: latency and fps are inflated)" if under_load(report) else "")],
    ]
    return _table(["", ""], rows)


def detector_table(report: dict[str, Any]) -> str:
    """ultralytics' benchmark table (format, status, size, mAP, inference ms, FPS) with accuracy columns."""
    cores = report["machine"]["cores"]
    section = report["detector"]
    side = any("side_by_side_fps" in r for r in section["rows"])  # absent from reports made before it was measured
    n = next((r["batch_n"] for r in section["rows"] if r["status"] == "ok"), "N")
    header = ["runtime", "precision", "status", "size MB", "threads", "mAP50-95", "mAP50", "fidelity to FP32",
              "mAP50-95 small / medium / large", "inference ms, batch 1", "detector ms, batch 1",
              f"ms/image, batch {n}", f"fps, batch {n}",
              *([f"fps, {cores} frames at once (1 thread each)"] if side else []), "load s"]
    rows = []
    for r in section["rows"]:
        if r["status"] != "ok":
            rows.append([r["runtime"], r["precision"], f"skipped: {r['reason']}"] + ["-"] * (len(header) - 3))
            continue
        sizes = r.get("by_size") or {}
        rows.append([
            r["runtime"], r["precision"], "ok", _f(r["size_mb"], 1), _threads(r["threads"], cores),
            _f(r.get("mAP50_95"), 4), _f(r.get("mAP50"), 4), _f(r.get("fidelity_mAP50_95"), 3),
            " / ".join(_f((sizes.get(s) or {}).get("mAP50_95"), 3) for s in ("small", "medium", "large")),
            _ms(r["inference_batch1"]), _ms(r["batch1"]), _f(r["per_image_batch_n_ms"], 2), _f(r["throughput_fps"], 1),
            *([_f(r.get("side_by_side_fps"), 1)] if side else []), _f(r["load_s"], 2),
        ])
    return _table(header, rows)


def sweep_table(report: dict[str, Any]) -> str:
    """Speed and accuracy by object size against the input size (FP32)."""
    sweep = report["detector"].get("sweep") or []
    if not sweep:
        return f"_input-size sweep skipped: {report['detector'].get('sweep_skipped', 'not run')}_"
    rows = []
    for r in sweep:
        sizes = r.get("by_size") or {}
        rows.append([str(r["input"]), _ms(r["batch1"]), _f(r["fps"], 1), _f(r.get("mAP50_95"), 4), _f(r.get("mAP50"), 4)]
                    + [_f((sizes.get(s) or {}).get("mAP50_95"), 3) for s in ("small", "medium", "large")])
    return _table(["input px", "detector ms, batch 1", "fps", "mAP50-95", "mAP50", "small", "medium", "large"], rows)


def behaviour_table(report: dict[str, Any]) -> str:
    """Latency for 1 and 64 tracks and macro-F1 per data set, per runtime x precision."""
    section = report["behaviour"]
    names = [s["name"] for s in section["data_sets"] if not s["skipped"]]
    rows = []
    for r in section["rows"]:
        if r["status"] != "ok":
            rows.append([r["runtime"], r["precision"], f"skipped: {r['reason']}", "-"] + ["-"] * len(names))
            continue
        rows.append([r["runtime"], r["precision"], _ms(r["tracks1"]), _ms(r["tracks64"])]
                    + [_f(r["macro_f1"].get(n), 4) for n in names])
    table = _table(["runtime", "precision", "1 track ms", "64 tracks ms"] + [f"macro-F1, {n}" for n in names], rows)
    f = section["features"]
    note = (f"Before the model, in Python, for {f['tracks']} tracks at {f['fps']:.0f} fps ({f['smoothing']} smoothing): "
            f"box filter {_ms(f['filter_per_frame'])} ms every frame, features {_ms(f['features_per_stride'])} ms "
            "every stride frames.")
    skipped = [f"{s['name']}: skipped ({s['skipped']})" for s in section["data_sets"] if s["skipped"]]
    return table + "\n\n" + note + ("\n\n" + "; ".join(skipped) + "." if skipped else "")


def tracker_table(report: dict[str, Any]) -> str:
    """HOTA / MOTA / IDF1 / ID switches per sequence and input, and the scorer check."""
    section = report["tracker"]
    rows, checks = [], []
    for name, seq in section["sequences"].items():
        for label, r in seq["rows"].items():
            rows.append([name, label, _f(100 * r["hota"], 1), _f(100 * r["mota"], 1), _f(100 * r["idf1"], 1),
                         str(r["id_switches"]), str(r["fn"]), str(r["fp"])])
        c = seq["scorer_check"]
        checks.append(f"{name} {100 * c['published_mota']:.1f}% published, motmetrics {100 * c['motmetrics']['mota']:.2f}%, "
                      f"TrackEval {100 * c['trackeval']['mota']:.2f}% ({'passed' if c['passed'] else 'FAILED'})")
    noise = section["noise_model"]
    note = (f"Noise model: box jitter {noise['jitter']:.0%} of the box size, {noise['miss']:.0%} missed, "
            f"{noise['false_positives']} false positive per frame, scores uniform in {noise['score_range']}, seed "
            f"{noise['seed']}. Scorer check (MOTA of the published tracker): " + "; ".join(checks) + ".")
    return _table(["sequence", "input", "HOTA %", "MOTA %", "IDF1 %", "ID switches", "FN", "FP"], rows) + "\n\n" + note


def analytics_table(report: dict[str, Any]) -> str:
    """The scene analytics stage per crowd size, against one detector inference (target: a twentieth)."""
    a = report["analytics"]
    ref = a["detector_inference_1_thread"]
    rows = [[str(r["tracks"]), _ms(r), f"{r['share_of_detector']:.3f}"] for r in a["rows"]]
    share = a["share_of_detector_64_tracks"]
    note = (f"{a['zones']} zones and {a['lines']} lines, calibrated; detector reference {a['detector']}, inference "
            f"alone, 1 thread: {_ms(ref)} ms. 64 tracks: {share:.3f} of it (target <= {a['target_share']}: "
            f"{'met' if share <= a['target_share'] else 'not met'}).")
    return _table(["tracks", "analytics stage ms per frame", "share of one detector inference"], rows) + "\n\n" + note


def streams_table(report: dict[str, Any]) -> str:
    """fps, peak memory and per-stage latency against the number of streams."""
    rows = []
    for r in report["end_to_end"]["streams"]:
        st = r["stages"]
        rows.append([str(r["streams"]), _f(r["fps"], 1), _f(r["fps_per_stream"], 1), _f(r["peak_rss_mb"], 0)]
                    + [_f(st.get(s, {}).get("mean_ms"), 2) for s in ("detector", "tracker", "temporal", "events", "osd")])
    return _table(["streams", "fps (all streams)", "fps per stream", "peak memory MB", "detector ms", "tracker ms",
                   "temporal ms", "events ms", "OSD ms"], rows) + "\n\nStage times are means per batch (one frame of each stream)."


def combinations_table(report: dict[str, Any]) -> str:
    """Each detector x behaviour precision: fps and how its events agree with FP32 x FP32's."""
    rows = []
    for r in report["end_to_end"]["combinations"]:
        a = r["agreement_with_fp32"]
        rows.append([r["detector"], r["behaviour"], _f(r["fps"], 1), str(a["events"]),
                     f"{a['f1']:.3f} ({a['precision']:.3f} / {a['recall']:.3f})"])
    return _table(["detector", "behaviour", "fps", "events", "agreement with FP32 x FP32: F1 (precision / recall)"], rows)


def graph_table(report: dict[str, Any]) -> str:
    """The whole graph against the detector alone (target: at most +10%), the detector alone run one
    batch after the other on all cores (the target's reference) and with the graph's own schedule."""
    g = report["end_to_end"]["graph_vs_detector"]
    verdict = "met" if g["overhead_pct"] <= g["target_pct"] else "not met"
    s = g["schedule"]
    rows = [
        [f"all {g['threads']} threads on one inference at a time", _f(g["detector_fps"], 1), _f(g["graph_fps"], 1),
         f"{g['overhead_pct']:+.1f}% (target <= +{g['target_pct']:.0f}%: {verdict})",
         f"{g['detector_fps_rounds']} / {g['graph_fps_rounds']}"],
        [f"the graph's schedule: {s['parallel_batches']} inferences at once, {s['threads_per_inference']} thread(s) each",
         _f(g["detector_same_schedule_fps"], 1), _f(g["graph_fps"], 1), f"{g['overhead_vs_same_schedule_pct']:+.1f}%",
         f"{g['detector_same_schedule_fps_rounds']} / {g['graph_fps_rounds']}"],
    ]
    return _table(["detector alone", "detector alone fps", "whole graph fps", "graph costs",
                   "rounds: detector / graph fps"], rows) + (
        f"\n\n{g['frames']} frames, batch {g['batch_size']}, video written and events on; each round times the detector "
        "one inference at a time on half the frames, then the graph, then the detector on the other half (its rate "
        "over both halves), then the detector on the graph's schedule. The fps are the rounds' "
        "medians, what the graph costs the median of each round's own ratio.")


def ultralytics_table(report: dict[str, Any]) -> str:
    """edgewatch against ultralytics' own loops on the same clip, weights, thread budget and work."""
    u = report["ultralytics"]
    if "skipped" in u:
        return f"_ultralytics comparison skipped: {u['skipped']}_"
    def hw(shape: list[int] | None) -> str:
        return "x".join(map(str, reversed(shape))) if shape else "-"

    rows = [[r["comparison"], hw(r.get("edgewatch_input_hw")), hw(r.get("ultralytics_input_hw")), _f(r["edgewatch_fps"], 1),
             _f(r["ultralytics_fps"], 1), str(r.get("ultralytics_threads", "-")), f"**{r['ratio']:.2f}x**"] for r in u["rows"]]
    v = u["ultralytics_versions"]
    note = (f"{u['weights']} in ultralytics {v['ultralytics']} (torch {v['torch']}, {u['threads']} threads; ultralytics "
            f"alone would pick {u['ultralytics_default_threads']}) against the same weights in edgewatch ({u['edgewatch_detector']}, "
            f"exported at the input ultralytics letterboxes this clip to; the config's own {u.get('config_detector', '-')} "
            f"where the row says so; ONNX Runtime, {u['threads']} threads), imgsz {u['detector']['imgsz']}, conf {u['detector']['conf']}, "
            f"{u['rows'][0]['frames']} frames of {Path(u['clip']).name}. edgewatch's graph also runs the behaviour model and writes events. "
            f"The two loops run in turn, {len(u['rows'][0]['edgewatch_fps_rounds'])} rounds: the fps are the "
            "rounds' medians, the ratio the median of each round's own ratio.")
    header = ["loop", "edgewatch input", "ultralytics input", "edgewatch fps", "ultralytics fps", "torch threads",
              "edgewatch / ultralytics"]
    return _table(header, rows) + "\n\n" + note


def targets_table(report: dict[str, Any]) -> str:
    """The speed targets and whether this report meets them."""
    names = {"graph_overhead_pct": "graph costs at most 10% more than the detector alone (ORT on all cores, one inference at a time)",
             "ultralytics_track_ratio": "edgewatch's graph at least 1.5x ultralytics' track loop (the least of the track rows at the same network input)",
             "behaviour_share_of_detector": "behaviour model, 64 tracks, at most a tenth of one detector inference (1 thread)",
             "analytics_share_of_detector": "scene analytics, 64 tracks, at most a twentieth of one detector inference"}
    caveat = " (measured under load: not conclusive)" if under_load(report) else ""
    shown = {"pct": lambda v: f"{v:+.1f}%", "ratio": lambda v: f"{v:.2f}x", "detector": lambda v: f"{v:.3f}"}
    rows = [[names[k], shown[k.rsplit("_", 1)[-1]](t["value"]),
             ("met" if t["met"] else "**not met**") + caveat]
            for k, t in report.get("targets", {}).items()]
    return _table(["target", "measured", ""], rows)


TABLES: dict[str, Callable[[dict[str, Any]], str]] = {
    "machine": machine_table, "detector": detector_table, "sweep": sweep_table, "behaviour": behaviour_table,
    "tracker": tracker_table, "analytics": analytics_table, "streams": streams_table, "combinations": combinations_table, "graph": graph_table,
    "ultralytics": ultralytics_table, "targets": targets_table,
}
TITLES = {
    "machine": "Machine and run", "detector": "Detector by runtime and precision", "sweep": "Detector input-size sweep",
    "behaviour": "Behaviour model", "tracker": "Tracker on real MOT ground truth", "analytics": "Scene analytics stage", "streams": "End to end: streams",
    "combinations": "End to end: detector x behaviour precision", "graph": "Graph against the detector alone",
    "ultralytics": "Against ultralytics' own loops", "targets": "Targets",
}


def render(name: str, report: dict[str, Any]) -> str:
    """One table of the report, or a line saying why its section is missing."""
    key = {"sweep": "detector", "streams": "end_to_end", "combinations": "end_to_end", "graph": "end_to_end"}.get(name, name)
    if key not in report:
        return f"_not measured in this report ({report['run'].get('skipped', {}).get(key, 'section not run')})_"
    try:
        return TABLES[name](report)
    except KeyError as exc:  # a section run only in part (e.g. --only)
        return f"_not measured in this report (missing {exc})_"


def markdown(report: dict[str, Any]) -> str:
    """The whole ``report.md``: every table, then the charts."""
    parts = ["# edgewatch benchmark report", ""]
    for name in TABLES:
        parts += [f"## {TITLES[name]}", "", render(name, report), ""]
    parts += ["## Charts", ""] + [f"![{c}]({c}.png)" for c in report.get("charts", [])]
    return "\n".join(parts) + "\n"


def save(report: dict[str, Any], out: Path) -> Path:
    """Write ``report.json`` and ``report.md`` into ``out``; returns the JSON's path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    (out / "report.md").write_text(markdown(report))
    return path
