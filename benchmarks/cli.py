"""``edgewatch bench -c CONFIG --out DIR [--quick]``: one report of accuracy and latency per precision,
per model and end to end, against what users run instead.

Sections (each can be run alone with ``--only``): ``detector`` (runtime x precision rows and the
input-size sweep), ``behaviour``, ``tracker``, ``analytics`` (the scene stage), ``end_to_end`` (streams, precision combinations, graph
against detector) and ``ultralytics``. A section that cannot run here is recorded in the report with
the reason (``run.skipped``) and the others still run. Writes ``report.json``, ``report.md`` and the
PNG charts into ``--out``; the README's benchmark tables are generated from a committed report by
``python -m edgewatch.bench.readme``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgewatch.paths import REPO_ROOT

if TYPE_CHECKING:
    from edgewatch.bench.timing import Schedule

SECTIONS = ("detector", "behaviour", "tracker", "analytics", "end_to_end", "ultralytics")
DEFAULT_OUT = REPO_ROOT / "out" / "bench"
REAL_TRACKS = REPO_ROOT / "data" / "real_tracks" / "vtest" / "test.txt"


@dataclass(frozen=True)
class Settings:
    """How much of everything is measured: ``--quick`` (within 10 minutes on 2 cores) or the full run."""

    runs: int
    warmup: int
    batch: int
    sizes: tuple[int, ...]
    simulated_tracks: int
    frames: int  # per stream in the end-to-end runs; 0: the whole clip
    graph_frames: int
    graph_rounds: int
    ultralytics_frames: int
    ultralytics_rounds: int
    timeout_s: float


QUICK = Settings(runs=20, warmup=3, batch=4, sizes=(256, 384, 640), simulated_tracks=2000, frames=150,
                 graph_frames=300, graph_rounds=5, ultralytics_frames=150, ultralytics_rounds=2, timeout_s=300)
FULL = Settings(runs=100, warmup=10, batch=8, sizes=(256, 320, 384, 480, 640), simulated_tracks=8000, frames=0,
                graph_frames=795, graph_rounds=5, ultralytics_frames=795, ultralytics_rounds=3, timeout_s=1200)
TICK_SPACING_S = 5.0  # least time between two timed calls of a latency at the steps of a run
TICK_SLICE_MS = 20.0  # each latency's timed calls at a step: about one detector inference long
SEEDS = {"behaviour_simulation": 1, "tracker_noise": 0, "latency_inputs": 0}


def bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch bench``."""
    parser.add_argument("-c", "--config", required=True, type=Path, help="app config whose models, clip and settings are measured")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder (default out/bench)")
    parser.add_argument("--quick", action="store_true", help="fewer runs, frames and sizes: within 10 minutes on 2 cores")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of sections ({', '.join(SECTIONS)})")
    parser.add_argument("--data", default="sample",
                        help="labelled detector images: a data.yaml, 'sample' (the teacher-labelled held-out frames of "
                             "the sample clips, built and cached on first use) or 'none'")
    parser.add_argument("--weights", type=Path, default=None,
                        help="the ultralytics .pt the detector was exported from (default: <detector stem>.pt beside it); "
                             "used by the input-size sweep and the ultralytics comparison")
    parser.add_argument("--real-tracks", default=str(REAL_TRACKS) if REAL_TRACKS.is_file() else None,
                        help="labelled real tracks for the behaviour model (a MOT tracks.txt with tracks.labels.csv, "
                             "or .npz; default: data/real_tracks/vtest/test.txt, the campus clip's held-out part)")


def bench_main(args: argparse.Namespace) -> int:
    """Run the chosen sections, write the report and its charts; exit 1 when a section failed."""
    from edgewatch.bench import (
        charts,  # first: matplotlib must load before GStreamer (see charts)
        machine,
    )
    from edgewatch.bench import report as reports
    from edgewatch.bench.timing import Schedule
    from edgewatch.config import load_config
    from edgewatch.errors import EdgewatchError

    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        raise EdgewatchError(f"--only: unknown sections {unknown} (choose from {', '.join(SECTIONS)})")
    config = load_config(args.config)
    settings = QUICK if args.quick else FULL
    out = args.out.resolve()
    work = out / "runs"  # derived configs, videos and events of the end-to-end runs (git-ignored under docs/bench)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def progress(message: str) -> None:
        elapsed = int(time.perf_counter() - started)
        print(f"[bench {elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)

    report: dict[str, Any] = {
        "schema": 1,
        "run": {"command": "edgewatch bench " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["bench"] else " ".join(sys.argv),
                "config": machine.shown(args.config), "quick": args.quick, "settings": settings.__dict__,
                "started_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "load_average_1min": {"start": machine.load_average()},
                "speed_probe": {}, "skipped": {}, "failed": {}},
        "machine": machine.describe(), "versions": machine.versions(), "git": machine.git_state(),
        "seeds": SEEDS, "units": reports.UNITS,
    }
    weights = args.weights or _beside(config.detector.onnx_file, ".pt")
    schedule = Schedule(spacing_s=TICK_SPACING_S, slice_ms=TICK_SLICE_MS)

    def step(message: str) -> None:
        """A section's next step: every latency added so far is timed first, for about ``TICK_SLICE_MS``
        (at most once per ``TICK_SPACING_S``), so each is timed between the steps of every section after its
        own (each graph run, each ultralytics loop)."""
        schedule.tick()
        progress(message)

    sections = {
        "detector": lambda: _detector(config, args.data, weights, settings, step, schedule),
        "behaviour": lambda: _behaviour(config, args.real_tracks, settings, step, schedule),
        "tracker": lambda: _tracker(step),
        "analytics": lambda: _analytics(config, settings, step, schedule),
        "end_to_end": lambda: _end_to_end(args.config, config, work, settings, step),
        "ultralytics": lambda: _ultralytics(args.config, work, weights, settings, step),
    }
    for name in SECTIONS:
        if name not in only:
            report["run"]["skipped"][name] = "not asked for (--only)"
            continue
        step(f"== {name}")
        report["run"]["speed_probe"][name] = machine.speed_probe(config.detector.onnx_file)  # the machine's speed now
        try:
            report[name] = sections[name]()
        except EdgewatchError as exc:
            progress(f"{name} failed: {exc}")
            report["run"]["failed"][name] = str(exc)
    if schedule.pending:
        progress(f"latencies: the rest of the runs of {schedule.pending} latencies, each timed at every step since "
                 "its section")
    schedule.finish()
    report["run"]["load_average_1min"]["end"] = machine.load_average()
    report["run"]["speed_probe"]["end"] = machine.speed_probe(config.detector.onnx_file)
    report["run"]["wall_s"] = round(time.perf_counter() - started, 1)
    report["targets"] = targets(report)
    report["charts"] = []
    path = reports.save(report, out)  # the figures first: a chart that fails to draw loses none of them
    report["charts"] = charts.draw_all(report, out)
    path = reports.save(report, out)
    progress(f"wrote {path}, {out / 'report.md'} and {len(report['charts'])} charts in {report['run']['wall_s']:.0f} s")
    return 1 if report["run"]["failed"] else 0


def targets(report: dict[str, Any]) -> dict[str, Any]:
    """The speed targets, read from the report: graph overhead, the ultralytics ratio, and the shares of one
    detector inference (one thread) the behaviour model (64 tracks) and the scene stage (64 tracks) cost."""
    out: dict[str, Any] = {}
    det = next((r for r in report.get("detector", {}).get("rows", [])
                if r.get("status") == "ok" and r["precision"] == "fp32" and r["threads"] == 1), None)
    beh = next((r for r in report.get("behaviour", {}).get("rows", [])
                if r.get("status") == "ok" and r["precision"] == "fp32"), None)
    # the detector timed in the behaviour rows' own moments when there (a ratio of two moments drifts)
    reference = report.get("behaviour", {}).get("detector_inference_1_thread") or (det or {}).get("inference_batch1")
    if reference and beh:
        share = round(beh["tracks64"]["median_ms"] / reference["median_ms"], 4)
        out["behaviour_share_of_detector"] = {"value": share, "target": "<= 0.1", "met": share <= 0.1}
    if "analytics" in report:
        share = report["analytics"]["share_of_detector_64_tracks"]
        out["analytics_share_of_detector"] = {"value": share, "target": "<= 0.05", "met": share <= 0.05}
    graph = report.get("end_to_end", {}).get("graph_vs_detector")
    if graph:
        out["graph_overhead_pct"] = {"value": graph["overhead_pct"], "target": "<= 10", "met": graph["overhead_pct"] <= 10}
    # the least favourable of the track comparisons (video or not, either thread choice)
    ratios = [r["ratio"] for r in report.get("ultralytics", {}).get("rows", [])
              if r["comparison"].startswith("track") and r.get("same_input", True) and r["ratio"]]
    if ratios:
        out["ultralytics_track_ratio"] = {"value": min(ratios), "target": ">= 1.5", "met": min(ratios) >= 1.5}
    return out


def _beside(path: Path, suffix: str) -> Path:
    """``detector_int8.onnx`` -> ``detector.pt``: the FP32 stem of an export, with another suffix."""
    stem = path.stem
    for tail in ("_fp16", "_int8_trt", "_int8"):
        stem = stem.removesuffix(tail)
    return path.with_name(stem + suffix)


def _frames_of(clip: Path, count: int) -> list[Any]:
    """The first ``count`` frames of a clip as RGB (inputs for the latency loops when no images are given)."""
    import cv2

    from edgewatch.errors import EdgewatchError

    capture = cv2.VideoCapture(str(clip))
    frames: list[Any] = []
    while len(frames) < count:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    if not frames:
        raise EdgewatchError(f"{clip}: no frames could be read")
    return frames


def _detector(config: Any, data: str, weights: Path, settings: Settings, progress: Any, schedule: Schedule) -> dict[str, Any]:
    from edgewatch.bench import detector, machine, runtimes

    if data == "sample":
        from edgewatch.samples.teacher import build_dataset

        progress("detector: the sample dataset (teacher labels, cached after the first run)")
        data_path: Path | None = build_dataset()
    else:
        data_path = None if data == "none" else Path(data)
    images = detector.eval_images(data_path, [])
    frames = detector.read_rgb(images.images[:16]) if images else _frames_of(config.sources[0].path, 16)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    timing = detector.Timing(settings.runs, settings.warmup, tuple(dict.fromkeys((cores, 1))), settings.batch)
    options = {"conf_threshold": config.detector.pre_cluster_threshold, "iou_threshold": config.detector.nms_iou_threshold,
               "max_det": config.detector.topk}
    folder = config.detector.onnx_file.parent
    models = runtimes.exports(folder, _beside(config.detector.onnx_file, "").name)
    section: dict[str, Any] = {
        "data": machine.shown(images.source) if images else None, "images": len(images.images) if images else 0,
        "labelled": bool(images and images.truth is not None), "latency_inputs": f"{len(frames)} real frames, cycled",
        "rows": detector.detector_rows(models, runtimes.available(config), frames, images, timing, options, progress,
                                       schedule),
    }
    if weights.is_file():
        sweep = detector.sweep_models(weights, settings.sizes, progress)
        section["sweep"] = detector.sweep_rows(sweep, runtimes.available(config)[0], frames, images, timing, options,
                                               progress, schedule)
    else:
        section["sweep_skipped"] = f"no ultralytics weights {weights.name} to export other input sizes from"
    return section


def _behaviour(config: Any, real: str | None, settings: Settings, progress: Any, schedule: Schedule) -> dict[str, Any]:
    from edgewatch.bench import behaviour, runtimes
    from edgewatch.errors import EdgewatchError

    if config.temporal.onnx_file is None:
        raise EdgewatchError(f"{config.path}: no [temporal] onnx-file to benchmark")
    models = runtimes.exports(config.temporal.onnx_file.parent, _beside(config.temporal.onnx_file, "").name)
    return behaviour.behaviour_rows(models, runtimes.available(config), settings.simulated_tracks, real,
                                    settings.runs * 2, settings.warmup, progress, config.detector.onnx_file, schedule)


def _tracker(progress: Any) -> dict[str, Any]:
    from edgewatch.bench.tracker import tracker_section

    progress("tracker: TUD-Campus and TUD-Stadtmitte")
    return tracker_section()


def _analytics(config: Any, settings: Settings, progress: Any, schedule: Schedule) -> dict[str, Any]:
    from edgewatch.bench.analytics import analytics_section

    progress("analytics: the scene stage for 8 to 128 tracks")
    return analytics_section(config.detector.onnx_file, settings.runs * 5, schedule)


def _end_to_end(path: Path, config: Any, work: Path, settings: Settings, progress: Any) -> dict[str, Any]:
    from edgewatch.bench import endtoend, runtimes

    def precisions(path: Path) -> dict[str, Path]:  # the combinations take the CPU's own files
        return {p: f for p, f in runtimes.exports(path.parent, _beside(path, "").name).items() if p in runtimes.PRECISIONS}

    detectors = precisions(config.detector.onnx_file)
    behaviours = precisions(config.temporal.onnx_file) if config.temporal.onnx_file else {}
    return {
        "frames_per_stream": settings.frames or "whole clip",
        "streams": endtoend.streams_rows(path, work, (1, 2, 4), settings.frames, settings.timeout_s, progress),
        "combinations": endtoend.combination_rows(path, work, detectors, behaviours, settings.frames,
                                                  settings.timeout_s, progress),
        "graph_vs_detector": endtoend.graph_vs_detector(path, work, settings.graph_frames, settings.graph_rounds,
                                                        settings.timeout_s, progress),
    }


def _ultralytics(path: Path, work: Path, weights: Path, settings: Settings, progress: Any) -> dict[str, Any]:
    from edgewatch.bench.ultralytics_ref import ultralytics_section

    return ultralytics_section(path, work, weights, settings.ultralytics_frames, settings.ultralytics_rounds,
                               settings.timeout_s, progress)
