"""End-to-end figures of the real pipeline (``edgewatch run``) on the real clips.

Each run is the ``edgewatch run`` command itself, in its own process, on a config derived from the
user's (``-c``): so the fps, the per-stage latency and the peak memory (the child's maximum resident
set) are what a user gets, model loading excluded from the fps as in the run summary. Measured:

- 1, 2 and 4 streams (the real clips in turn, batched like nvstreammux);
- every detector precision x behaviour precision on one stream, with the behaviour events of each
  compared with FP32 x FP32 (:func:`event_agreement`);
- the graph against the detector alone on the same decoded frames, in the same thread budget
  (the "graph costs at most 10% more than the detector" target), the detector alone both one
  batch after the other on all cores and with the graph's own schedule (:func:`graph_vs_detector`).
"""

from __future__ import annotations

import configparser
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from edgewatch.detect.detector import YoloDetector
from edgewatch.errors import EdgewatchError

Progress = Callable[[str], None]
# the config keys that hold paths (resolved against the config's folder by load_config)
PATH_KEYS = ("onnx-file", "labels-file", "output-file", "custom-lib-path", "model-engine-file", "ll-config-file", "scene")
STREAM_CLIPS = ("sample://vtest", "sample://street")  # the real clips, taken in turn for N streams
FRAME_TOLERANCE = 5  # an event matches one a few frames away (one classification stride of the demo)
MATCH_IOU = 0.5


def derive_config(base: Path, out: Path, changes: Mapping[str, Mapping[str, str] | None]) -> Path:
    """Write ``out``: the config ``base`` with ``changes`` applied (a section set to None is removed; a
    dict replaces a ``[sourceN]`` section whole, a stream being its URI and its own keys, and updates or
    creates the keys of any other section); relative paths are made absolute against ``base``'s folder,
    so the derived file runs from anywhere."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"), strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(base, encoding="utf-8")
    for section, keys in changes.items():
        if keys is None or section.startswith("source"):
            parser.remove_section(section)
        if keys is None:
            continue
        if not parser.has_section(section):
            parser.add_section(section)
        for key, value in keys.items():
            parser[section][key] = value
    folder = base.resolve().parent
    for section in parser.sections():  # relative paths, the base's or copied from it, against base's folder
        for key, value in parser[section].items():
            if key in PATH_KEYS or (key == "uri" and "://" not in value):
                parser[section][key] = str((folder / value).resolve())
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        parser.write(f)
    return out


def streams_changes(base: Path, n: int) -> dict[str, dict[str, str] | None]:
    """``n`` sources (the real clips in turn), one frame of each per batch, every stream at its own size; a
    stream of the config's first clip keeps that source's other keys (its scene), the others get none."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"), strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(base, encoding="utf-8")
    first = dict(parser["source0"]) if parser.has_section("source0") else {}
    changes: dict[str, dict[str, str] | None] = {s: None for s in parser.sections() if s.startswith("source")}
    for i in range(n):
        clip = STREAM_CLIPS[i % len(STREAM_CLIPS)]
        changes[f"source{i}"] = {**first, "uri": clip} if first.get("uri") == clip else {"uri": clip}
    if n > 1:
        changes["streammux"] = {"batch-size": str(n), "width": "0", "height": "0"}
    return changes


def run_graph(config: Path, timeout_s: float) -> dict[str, Any]:
    """``edgewatch run -c config`` in a child process: its summary, wall time and peak memory (MB).

    Peak memory is the child's ``VmHWM`` (high-water resident set of its own address space), sampled
    from /proc while it runs: the rusage of a reaped child would also count the parent's memory, which
    the child shared between fork and exec.
    """
    cmd = [sys.executable, "-m", "edgewatch.cli", "run", "-c", str(config), "--no-display"]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    streams: dict[str, str] = {}
    readers = [threading.Thread(target=lambda name=name, pipe=pipe: streams.__setitem__(name, pipe.read()))
               for name, pipe in (("out", child.stdout), ("err", child.stderr))]
    for reader in readers:
        reader.start()
    peak_kb = 0
    while child.poll() is None:
        peak_kb = max(peak_kb, _high_water_kb(child.pid))
        if time.perf_counter() - start > timeout_s:
            child.kill()
            child.wait()
            raise EdgewatchError(f"{config}: edgewatch run did not finish within {timeout_s:.0f} s")
        time.sleep(0.1)
    for reader in readers:
        reader.join()
    wall = time.perf_counter() - start
    if child.returncode != 0:
        last = (streams["err"].strip().splitlines() or ["(no output)"])[-1]
        raise EdgewatchError(f"{config}: edgewatch run failed: {last}")
    summary = json.loads(streams["out"].strip().splitlines()[-1])
    return {"summary": summary, "wall_s": round(wall, 2), "peak_rss_mb": round(peak_kb / 1024, 1) if peak_kb else None}


def _high_water_kb(pid: int) -> int:
    """``VmHWM`` of a running process in kB (0 once it has gone, or where /proc does not exist)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def behaviour_events(path: Path) -> list[dict[str, Any]]:
    """The behaviour events of a run's JSON Lines file (scene events, zones and lines, are left out)."""
    if not path.is_file():
        return []
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in events if e.get("type", "behaviour") == "behaviour"]


def _box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def event_agreement(reference: Sequence[Mapping[str, Any]], other: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """How far ``other``'s behaviour events agree with ``reference``'s: precision, recall and F1 of
    one-to-one matches. Track ids differ between runs, so two events match when they are on the same
    stream, with the same behaviour, at most :data:`FRAME_TOLERANCE` frames apart and with boxes
    overlapping by IoU >= :data:`MATCH_IOU` (greedy, closest in time first)."""
    used = [False] * len(other)
    matched = 0
    for ref in reference:
        best, best_gap = -1, FRAME_TOLERANCE + 1
        for j, ev in enumerate(other):
            gap = abs(ev["frame"] - ref["frame"])
            if (used[j] or gap >= best_gap or ev["stream"] != ref["stream"] or ev["behaviour"] != ref["behaviour"]
                    or _box_iou(ev["bbox"], ref["bbox"]) < MATCH_IOU):
                continue
            best, best_gap = j, gap
        if best >= 0:
            used[best] = True
            matched += 1
    precision = matched / len(other) if other else 1.0
    recall = matched / len(reference) if reference else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"events": len(other), "reference_events": len(reference), "matched": matched,
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def stage_table(summary: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Per-stage median / p95 / mean ms from a run summary."""
    return {name: {k: s[k] for k in ("median_ms", "p95_ms", "mean_ms", "calls")} for name, s in summary["stages"].items()}


def streams_rows(base: Path, work: Path, counts: Sequence[int], frames: int, timeout_s: float,
                 progress: Progress) -> list[dict[str, Any]]:
    """fps, per-stage latency and peak memory for each number of streams (video written, events on)."""
    rows = []
    for n in counts:
        progress(f"end to end: {n} stream(s), {frames} frames each")
        changes = {**streams_changes(base, n), "application": {"max-frames": str(frames), "perf-measurement-interval-sec": "0"}}
        changes = {**changes, **run_outputs(work, f"streams{n}")}
        result = run_graph(derive_config(base, work / f"streams{n}.txt", changes), timeout_s)
        summary = result["summary"]
        rows.append({"streams": n, "frames": summary["frames"], "fps": summary["fps"],
                     "fps_per_stream": round(summary["fps"] / n, 2), "peak_rss_mb": result["peak_rss_mb"],
                     "stages": stage_table(summary), "tracks": summary["tracks"], "events": summary["events"]})
    return rows


def run_outputs(work: Path, name: str, video: bool = True) -> dict[str, dict[str, str] | None]:
    """The run's outputs under ``work``: one mp4 sink (or a fakesink) and the events file."""
    sink = {"type": "file", "output-file": str(work / f"{name}.mp4"), "bitrate": "2000"} if video else {"type": "fake"}
    changes: dict[str, dict[str, str] | None] = {f"sink{i}": None for i in range(1, 8)}
    changes["sink0"] = sink
    changes["events"] = {"enable": "1", "output-file": str(work / f"{name}_events.jsonl")}
    return changes


def combination_rows(base: Path, work: Path, detectors: Mapping[str, Path], behaviours: Mapping[str, Path],
                     frames: int, timeout_s: float, progress: Progress) -> list[dict[str, Any]]:
    """Each detector precision x behaviour precision on one stream; events compared with FP32 x FP32."""
    rows = []
    reference: list[dict[str, Any]] | None = None
    one_stream = streams_changes(base, 1)
    for det, det_path in detectors.items():
        for beh, beh_path in behaviours.items():
            progress(f"end to end: detector {det} x behaviour {beh}")
            name = f"combo_{det}_{beh}"
            changes = {**one_stream, **run_outputs(work, name, video=False),
                       "application": {"max-frames": str(frames), "perf-measurement-interval-sec": "0"},
                       "primary-gie": {"onnx-file": str(det_path), "precision": det},
                       "temporal": {"enable": "1", "onnx-file": str(beh_path)}}
            result = run_graph(derive_config(base, work / f"{name}.txt", changes), timeout_s)
            events = behaviour_events(work / f"{name}_events.jsonl")
            if reference is None:
                reference = events
            rows.append({"detector": det, "behaviour": beh, "fps": result["summary"]["fps"],
                         "frames": result["summary"]["frames"], "peak_rss_mb": result["peak_rss_mb"],
                         "agreement_with_fp32": event_agreement(reference, events)})
    return rows


def decoded_frames(config_path: Path, frames: int) -> list[np.ndarray]:
    """The clip's frames exactly as the graph hands them to the stages (its own source, no sinks)."""
    import dataclasses

    from edgewatch.config import load_config
    from edgewatch.pipeline.graph import CpuGraph

    config = load_config(config_path)
    config = dataclasses.replace(config, sinks=(), application=dataclasses.replace(config.application, max_frames=frames))
    images: list[np.ndarray] = []
    with CpuGraph(config, log=lambda _msg: None) as graph:
        for batch in graph.batches():
            images.extend(f.image for f in batch if f.image is not None)
    return images


def detector_alone_fps(detector: YoloDetector, images: Sequence[np.ndarray], batch: int, at_once: int) -> float:
    """Frames per second of the detector alone over ``images``, ``at_once`` batches inferred side by side
    (each from its own thread, as the graph's workers do; 1: one call after the other), after one warm-up
    call per worker."""
    batches = [list(images[i : i + batch]) for i in range(0, len(images), batch)]
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        list(pool.map(detector, batches[:at_once]))
        start = time.perf_counter()
        list(pool.map(detector, batches))
        return round(len(images) / (time.perf_counter() - start), 2)


def combined_fps(parts: Sequence[tuple[int, float]]) -> float:
    """The rate over several timed parts, each ``(frames, fps)``: all their frames over all their time
    (a slow part weighs by the time it took, as in one run over all the frames)."""
    return sum(n for n, _ in parts) / sum(n / fps for n, fps in parts)


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of each round's own ratio. Two rates measured one after the other in a round meet the
    machine at nearly the same speed, so a round's ratio keeps little of the drift the machine shows from
    one round to the next, which a ratio of the two medians (taken from different rounds) keeps."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def graph_vs_detector(base: Path, work: Path, frames: int, rounds: int, timeout_s: float,
                      progress: Progress) -> dict[str, Any]:
    """The whole graph (video written, events on) against the detector alone on the same decoded frames,
    in the same thread budget, over ``rounds`` rounds; the costs are :func:`paired_ratio` of the rounds.
    The detector alone runs twice a round: as the issue's reference states it (ONNX Runtime on all cores,
    one batch after the other: ``overhead_pct``, the target's figure), on half the frames just before the
    graph and the other half just after, its rate over both halves (a drift of the machine while the graph
    runs falls on both sides of it); then with the graph's own schedule (``parallel-batches`` inferences
    at once on their share of the threads: ``overhead_vs_same_schedule_pct``), which gains from inferring
    frames side by side as much as the graph does."""
    from edgewatch.config import load_config

    changes = {**streams_changes(base, 1), **run_outputs(work, "graph"),
               "application": {"max-frames": str(frames), "perf-measurement-interval-sec": "0"}}
    config_path = derive_config(base, work / "graph.txt", changes)
    config = load_config(config_path)
    progress(f"graph vs detector: decoding {frames} frames through the graph's source")
    images = decoded_frames(config_path, frames)
    at_once, threads = config.detector.cpu_schedule()
    budget = config.detector.cpu_schedule(parallel=False)[1]
    one_by_one = YoloDetector.from_config(config.detector)
    scheduled = YoloDetector.from_config(config.detector, threads)
    batch = config.batch_size
    half = len(images) // (2 * batch) * batch  # whole batches before the graph, the rest after it
    detector_fps, same_fps, graph_fps, stages = [], [], [], {}
    for r in range(rounds):
        progress(f"graph vs detector: round {r + 1}/{rounds}")
        before = detector_alone_fps(one_by_one, images[:half], batch, 1)
        result = run_graph(config_path, timeout_s)
        after = detector_alone_fps(one_by_one, images[half:], batch, 1)
        detector_fps.append(round(combined_fps([(half, before), (len(images) - half, after)]), 2))
        graph_fps.append(result["summary"]["fps"])
        same_fps.append(detector_alone_fps(scheduled, images, batch, at_once))
        stages = stage_table(result["summary"])
    det, same, graph = (statistics.median(v) for v in (detector_fps, same_fps, graph_fps))
    return {
        "frames": len(images), "batch_size": batch, "threads": budget,
        "schedule": {"parallel_batches": at_once, "threads_per_inference": threads},
        "detector_fps_rounds": detector_fps, "detector_same_schedule_fps_rounds": same_fps,
        "graph_fps_rounds": graph_fps, "detector_fps": det, "detector_same_schedule_fps": same, "graph_fps": graph,
        "overhead_pct": round(100 * (paired_ratio(detector_fps, graph_fps) - 1), 1),
        "overhead_vs_same_schedule_pct": round(100 * (paired_ratio(same_fps, graph_fps) - 1), 1),
        "target_pct": 10.0, "stages": stages,
    }
