"""Against what users run instead: ultralytics' own ``track`` (its ByteTrack) and ``predict`` loops.

Same machine, same weights (the ``.pt`` the ONNX was exported from, run by ultralytics in torch), same
clip and frames, same thresholds, the same thread budget (torch's threads = ONNX Runtime's), and
comparable work on both sides: with the drawn video written (ultralytics ``save=True``, edgewatch's
mp4 sink) and without (ultralytics ``save=False``, edgewatch's fakesink and no OSD: nothing drawn on
either side); ultralytics' predict loop is compared with edgewatch's graph doing only decode + detect
(tracker, behaviour, events and OSD off).

Same network input too: ultralytics letterboxes video frames only to a multiple of the stride (384x288
for this 4:3 clip at imgsz 384, as its loop reports), so edgewatch runs the same weights exported at that
input (:func:`~edgewatch.bench.detector.fp32_export`), as a user exports for a camera of that shape;
one row runs the config's own model (a 384x384 square: a third more pixels) to show what the shape costs.
ultralytics runs in its own environment (:func:`edgewatch.samples.student.train_env_python`),
built on first use from pyproject's ``bench`` extra.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgewatch.bench.detector import fp32_export
from edgewatch.bench.endtoend import derive_config, paired_ratio, run_graph, run_outputs, streams_changes
from edgewatch.bench.machine import shown
from edgewatch.config import load_config
from edgewatch.errors import EdgewatchError
from edgewatch.paths import cache_dir

Progress = Callable[[str], None]
LOOP = Path(__file__).with_name("ultralytics_loop.py")
Changes = dict[str, dict[str, str]]  # config section -> key -> value
# edgewatch's config changes for the work ultralytics does: with no video nothing is drawn on either side;
# predict is decode + detect (no tracker, so no behaviour model and no scene)
NOTHING_DRAWN: Changes = {"osd": {"enable": "0"}}
DETECT_ONLY: Changes = {"tracker": {"enable": "0"}, "temporal": {"enable": "0"}, "osd": {"enable": "0"}, "events": {"enable": "0"}}
# (name, ultralytics mode, video written, edgewatch's changes, same thread budget, same network input)
PAIRS: tuple[tuple[str, str, bool, Changes, bool, bool], ...] = (
    ("track, video written", "track", True, {}, True, True),
    ("track, no video", "track", False, NOTHING_DRAWN, True, True),
    ("predict (decode + detect)", "predict", False, DETECT_ONLY, True, True),
    # what a user of ultralytics gets by default here: it picks its own torch thread count (cpu_count - 1)
    ("track, video written, ultralytics' own thread count", "track", True, {}, False, True),
    ("track, no video, edgewatch on the config's own model input", "track", False, NOTHING_DRAWN, True, False),
)


def ultralytics_run(python: Path, weights: Path, clip: Path, mode: str, save: bool, frames: int, threads: int,
                    detector: dict[str, Any], out: Path, timeout_s: float) -> dict[str, Any]:
    """One timed ultralytics loop in its environment (offline, settings kept in the cache)."""
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "False",
           "YOLO_CONFIG_DIR": str(cache_dir("ultralytics")), "MPLCONFIGDIR": str(cache_dir("matplotlib"))}
    cmd = [str(python), str(LOOP), "--weights", str(weights), "--source", str(clip), "--mode", mode,
           "--frames", str(frames), "--threads", str(threads), "--imgsz", str(detector["imgsz"]),
           "--conf", str(detector["conf"]), "--iou", str(detector["iou"]), "--max-det", str(detector["max_det"]),
           "--out", str(out), *(["--save"] if save else [])]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise EdgewatchError(f"ultralytics {mode} failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ultralytics_section(base: Path, work: Path, weights: Path | None, frames: int, rounds: int, timeout_s: float,
                        progress: Progress) -> dict[str, Any]:
    """Each pair of loops on the config's first clip, ``rounds`` times in turn, and edgewatch's rate over
    ultralytics' (the ratio: :func:`~edgewatch.bench.endtoend.paired_ratio` of the rounds)."""
    if weights is None or not weights.is_file():
        return {"skipped": f"no ultralytics weights ({weights}) beside the detector ONNX to compare with"}
    from edgewatch.samples.student import train_env_python

    try:
        python = train_env_python()
    except EdgewatchError as exc:
        return {"skipped": f"the ultralytics environment could not be built: {exc}"}
    config = load_config(base)
    clip = config.sources[0].path
    threads = config.detector.num_threads or os.cpu_count() or 1
    imgsz = config.detector.input_size[0] if config.detector.input_size else _onnx_imgsz(config.detector.onnx_file)
    detector = {"imgsz": imgsz, "conf": config.detector.pre_cluster_threshold,
                "iou": config.detector.nms_iou_threshold, "max_det": config.detector.topk}
    one = streams_changes(base, 1)
    own_input = _onnx_input_hw(config.detector.onnx_file)
    same_input: Path | None = None  # the weights exported at ultralytics' input, once its first loop says it
    rows = []
    for i, (name, mode, video, work_changes, same_threads, matched) in enumerate(PAIRS):
        ours_fps, theirs_fps = [], []
        for r in range(rounds):  # the two loops in turn: a slow stretch of the machine falls on both
            progress(f"ultralytics {name} and edgewatch on {frames} frames, round {r + 1}/{rounds}")
            theirs = ultralytics_run(python, weights, clip, mode, video, frames, threads if same_threads else 0,
                                     detector, work / "ultralytics", timeout_s)
            input_hw = (int(theirs["input_hw"][0]), int(theirs["input_hw"][1]))
            if same_input is None:
                same_input = config.detector.onnx_file if input_hw == own_input else fp32_export(weights, input_hw, progress)
            model = same_input if matched else config.detector.onnx_file
            changes = {**one, **run_outputs(work, f"vs_ultralytics_{i}", video),
                       "application": {"max-frames": str(frames), "perf-measurement-interval-sec": "0"},
                       "primary-gie": {"onnx-file": str(model)}}
            changes.update(work_changes)
            if work_changes is DETECT_ONLY:  # scene rules need the tracker: the stream without its scene
                changes["source0"] = {"uri": one["source0"]["uri"]}
            ours = run_graph(derive_config(base, work / f"vs_ultralytics_{i}.txt", changes), timeout_s)
            ours_fps.append(ours["summary"]["fps"])
            theirs_fps.append(theirs["fps"])
        edgewatch_fps, ultralytics_fps = statistics.median(ours_fps), statistics.median(theirs_fps)
        rows.append({
            "comparison": name, "video_written": video, "frames": frames, "same_input": matched,
            "edgewatch_input_hw": list(_onnx_input_hw(model)), "ultralytics_input_hw": list(input_hw),
            "edgewatch_fps": edgewatch_fps, "ultralytics_fps": ultralytics_fps,
            "edgewatch_fps_rounds": ours_fps, "ultralytics_fps_rounds": theirs_fps,
            "ratio": round(paired_ratio(ours_fps, theirs_fps), 2) if all(theirs_fps) else None,
            "edgewatch_peak_rss_mb": ours["peak_rss_mb"], "ultralytics_speed_ms": theirs["speed_ms"],
            "ultralytics_threads": theirs["threads"],
        })
        versions = {k: theirs[k] for k in ("torch", "ultralytics")}
        ultralytics_threads = theirs["ultralytics_default_threads"]
    return {"clip": shown(clip), "weights": weights.name, "threads": threads, "detector": detector, "rows": rows,
            "ultralytics_versions": versions, "ultralytics_default_threads": ultralytics_threads,
            "edgewatch_detector": same_input.name if same_input else config.detector.onnx_file.name,
            "config_detector": config.detector.onnx_file.name}


def _onnx_imgsz(path: Path) -> int:
    """The long side of the input the ONNX's metadata states (the imgsz the ``.pt`` is run at)."""
    return max(_onnx_input_hw(path))


def _onnx_input_hw(path: Path) -> tuple[int, int]:
    """The (h, w) network input the ONNX's metadata states."""
    from edgewatch.metadata import ModelMetadata

    imgsz = ModelMetadata.from_onnx(path).imgsz
    if imgsz is None:
        raise EdgewatchError(f"{path}: no input size in the metadata; set [primary-gie] input-size")
    return int(imgsz[0]), int(imgsz[-1])
