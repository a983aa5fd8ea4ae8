"""Detector figures per runtime x precision: size, load time, latency, throughput, accuracy; input-size sweep.

Every row runs the pipeline's own :class:`~edgewatch.detect.detector.YoloDetector` over a model
session, so latency includes what a stream pays per frame (letterbox, inference, decode + NMS) and
the inference alone is given beside it (what ultralytics' benchmark table reports). Accuracy is
COCO mAP (pycocotools, through :mod:`edgewatch.detect.evaluate`) at ultralytics' validation
settings, against the held-out labels where a labelled set exists and, everywhere, against the FP32
model's own detections (fidelity: what a lower precision changes), overall and per object size.
"""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edgewatch.bench.runtimes import VARIANTS, Runtime, row_model
from edgewatch.bench.timing import Job, Schedule, timed
from edgewatch.detect.detector import YoloDetector
from edgewatch.detect.evaluate import (
    REFERENCE_CONF,
    VAL_CONF,
    VAL_IOU,
    VAL_MAX_DET,
    coco_map,
    detect_all,
    load_eval_set,
)
from edgewatch.detect.letterbox import preprocess
from edgewatch.errors import EdgewatchError
from edgewatch.paths import cache_dir
from edgewatch.runtime.onnx import OnnxSession
from edgewatch.types import Detections

Progress = Callable[[str], None]


@dataclass(frozen=True)
class EvalImages:
    """Frames to score on: image files, their labels (None: unlabelled) and where they come from."""

    images: list[Path]
    truth: list[Detections] | None
    source: str


@dataclass(frozen=True)
class Timing:
    """How latency is measured: timed runs after warm-up, the thread settings, the batch of the N row."""

    runs: int
    warmup: int
    threads: tuple[int, ...]  # ONNX Runtime intra-op threads per row (the machine's cores, and 1)
    batch: int


def eval_images(data: Path | None, frames: Sequence[np.ndarray], limit: int = 0) -> EvalImages | None:
    """The labelled held-out split of ``data`` (a data.yaml), the first ``limit`` images when set; None if absent."""
    if data is None:
        return None
    dataset = load_eval_set(data)
    keep = slice(None, limit or None)
    truth = dataset.truth[keep] if dataset.truth is not None else None
    return EvalImages(dataset.images[keep], truth, str(data))


def read_rgb(paths: Sequence[Path]) -> list[np.ndarray]:
    """Image files as RGB frames (what the pipeline's source hands the detector)."""
    frames = []
    for path in paths:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise EdgewatchError(f"{path}: cannot decode image")
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return frames


def detector_jobs(detector: YoloDetector, frames: Sequence[np.ndarray], timing: Timing,
                  side_by_side: ThreadPoolExecutor | None = None, at_once: int = 0) -> dict[str, Job]:
    """The latencies of one row: batch 1 (whole detector call, and inference alone) and batch N,
    cycling real frames; with ``side_by_side``, also ``at_once`` frames inferred at once by that pool's
    workers (what the CPU graph does with ``parallel-batches``: the row's throughput on its schedule)."""
    one = itertools.cycle(frames)
    batch = itertools.cycle(frames)
    tensor, _ = preprocess([frames[0]], detector.input_size)
    jobs = {
        "batch1": Job(lambda: detector([next(one)]), timing.runs, timing.warmup),
        "inference_batch1": Job(lambda: detector.infer(tensor), timing.runs, timing.warmup),
        f"batch{timing.batch}": Job(lambda: detector([next(batch) for _ in range(timing.batch)]),
                                    max(3, timing.runs // 2), 1),
    }
    if side_by_side is not None:
        apart = itertools.cycle(frames)
        jobs["side_by_side"] = Job(lambda: list(side_by_side.map(detector, [[next(apart)] for _ in range(at_once)])),
                                   max(3, timing.runs // 2), 1)
    return jobs


def timed_rows(pending: Sequence[tuple[dict[str, Any], dict[str, Job]]], schedule: Schedule | None = None,
               then: Callable[[], object] | None = None) -> None:
    """Time every row's jobs together (:func:`~edgewatch.bench.timing.timed`, at ``schedule``'s ticks when
    given) and put each latency in its row, with the per-image time and throughput of a row with a
    batch-N job, or the fps of a batch-1 row; ``then`` runs once they are in."""
    def fill(spreads: dict[tuple[int, str], dict[str, float]]) -> None:
        for i, (row, jobs) in enumerate(pending):
            row.update({name: spreads[(i, name)] for name in jobs})
            if "batch_n" in row:
                batch_n = row[f"batch{row['batch_n']}"]["median_ms"]
                row.update(per_image_batch_n_ms=round(batch_n / row["batch_n"], 3),
                           throughput_fps=round(1e3 * row["batch_n"] / batch_n, 2))
            else:
                row["fps"] = round(1e3 / row["batch1"]["median_ms"], 2)
            if "side_by_side" in row:
                row["side_by_side_fps"] = round(1e3 * row["side_by_side_batches"] / row["side_by_side"]["median_ms"], 2)
        if then is not None:
            then()

    timed({(i, name): job for i, (_, jobs) in enumerate(pending) for name, job in jobs.items()}, fill, schedule)


def inference_job(path: Path, runs: int) -> Job:
    """One frame of the detector, inference alone, one thread (random pixels: the cost does not depend on them):
    the reference a per-frame stage's share of the detector is taken against, timed together with that stage."""
    session = OnnxSession(path, num_threads=1)
    h, w = (d if isinstance(d, int) else 640 for d in session.input_shape[2:])
    frame = np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32)
    return Job(lambda: session.run(frame), runs, 2)


def score(detections: list[Detections], shapes: list[tuple[int, int]], truth: list[Detections] | None,
          reference: list[Detections] | None, names: Sequence[str]) -> dict[str, Any]:
    """mAP against the labels (when given) and against the reference detections (fidelity), with sizes."""
    out: dict[str, Any] = {}
    if truth is not None:
        labels = coco_map(truth, detections, shapes, names)
        out.update(mAP50_95=labels["mAP50_95"], mAP50=labels["mAP50"], by_size=labels["by_size"])
    if reference is not None:
        fidelity = coco_map(reference, detections, shapes, names)
        out.update(fidelity_mAP50_95=fidelity["mAP50_95"], fidelity_mAP50=fidelity["mAP50"])
    return out


def above(detections: list[Detections], conf: float) -> list[Detections]:
    """The detections scoring at least ``conf``: a reference model at a deployment threshold. Same as
    running it at ``conf``, since NMS only lets a box suppress lower-scored ones."""
    return [d.select(d.scores >= conf) for d in detections]


def detector_rows(
    models: dict[str, Path], runtimes: Sequence[Runtime], frames: Sequence[np.ndarray],
    data: EvalImages | None, timing: Timing, options: dict[str, Any], progress: Progress,
    schedule: Schedule | None = None,
) -> list[dict[str, Any]]:
    """One row per runtime x precision x thread setting; accuracy once per runtime x precision (all cores);
    the rows' latencies timed together once every session is open (at ``schedule``'s ticks when given:
    the rows are complete once it finishes)."""
    rows: list[dict[str, Any]] = []
    pending: list[tuple[dict[str, Any], dict[str, Job]]] = []
    reference: list[Detections] | None = None
    cores = timing.threads[0]
    pool = ThreadPoolExecutor(max_workers=cores) if cores > 1 else None  # 1-thread rows side by side, one per core
    for runtime in runtimes:
        for precision in VARIANTS:
            base = {"runtime": runtime.name, "precision": precision}
            path, reason = row_model(runtime, models, precision, "detector")
            if path is None:
                rows.append({**base, "status": "skipped", "reason": reason})
                continue
            accuracy: dict[str, Any] = {}
            for threads in timing.threads:
                start = time.perf_counter()
                session = runtime.open(path, threads)
                detector = YoloDetector(session, **options)
                load_s = time.perf_counter() - start
                row = {**base, "status": "ok", "file": path.name, "size_mb": round(path.stat().st_size / 1e6, 2),
                       "threads": threads, "load_s": round(load_s, 3),
                       "input": list(detector.input_size), "batch_n": timing.batch}
                if not accuracy and data is not None:
                    progress(f"detector {runtime.name} {precision}: accuracy on {len(data.images)} images")
                    scorer = YoloDetector(session, conf_threshold=VAL_CONF, iou_threshold=VAL_IOU, max_det=VAL_MAX_DET)
                    found, shapes = detect_all(scorer, data.images, f"{precision}")
                    if reference is None and precision == "fp32":
                        reference = above(found, REFERENCE_CONF)
                    accuracy = score(found, shapes, data.truth, reference, scorer.names)
                side_by_side = pool if threads == 1 else None
                if side_by_side is not None:
                    row["side_by_side_batches"] = cores
                rows.append({**row, **accuracy})
                pending.append((rows[-1], detector_jobs(detector, frames, timing, side_by_side, cores)))
    progress(f"detector: latency of {len(pending)} rows, timed together")
    timed_rows(pending, schedule, pool.shutdown if pool is not None else None)
    return rows


def fp32_export(weights: Path, input_hw: tuple[int, int], progress: Progress) -> Path:
    """The FP32 export of ``weights`` at network input ``input_hw`` (h, w), made once and cached by the
    weights' hash: ``detector_<s>.onnx`` for a square input, ``detector_<h>x<w>.onnx`` otherwise.

    ``edgewatch export yolo`` runs in a process of its own: torch's export aborts (pybind11
    ``stop_iteration``) in a process where GStreamer has already decoded video, as the bench's has.
    """
    h, w = input_hw
    stem = f"detector_{h}" if h == w else f"detector_{h}x{w}"
    folder = cache_dir("bench", "sweep", hashlib.sha256(weights.read_bytes()).hexdigest()[:12])
    path = folder / f"{stem}.onnx"
    if not path.is_file():
        progress(f"exporting {weights.name} at {h}x{w} px (cached afterwards)")
        cmd = [sys.executable, "-m", "edgewatch.cli", "export", "yolo", "--weights", str(weights), "--imgsz", f"{h},{w}",
               "--name", stem, "--precision", "fp32", "--out", str(folder)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not path.is_file():
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise EdgewatchError(f"export of {weights} at {h}x{w} failed: {last}")
    return path


def sweep_models(weights: Path, sizes: Sequence[int], progress: Progress) -> dict[int, Path]:
    """FP32 exports of ``weights`` at each square input size."""
    return {size: fp32_export(weights, (size, size), progress) for size in sizes}


def sweep_rows(
    models: dict[int, Path], runtime: Runtime, frames: Sequence[np.ndarray], data: EvalImages | None,
    timing: Timing, options: dict[str, Any], progress: Progress, schedule: Schedule | None = None,
) -> list[dict[str, Any]]:
    """Latency (batch 1, all cores; at ``schedule``'s ticks when given) and accuracy by object size at
    each input size, FP32."""
    rows = []
    pending: list[tuple[dict[str, Any], dict[str, Job]]] = []
    threads = timing.threads[0]
    for size, path in models.items():
        progress(f"input-size sweep: {size} px")
        session = runtime.open(path, threads)
        detector = YoloDetector(session, **options)
        one = itertools.cycle(frames)
        row: dict[str, Any] = {"input": size, "runtime": runtime.name, "precision": "fp32", "threads": threads}
        pending.append((row, {"batch1": Job(lambda d=detector, it=one: d([next(it)]), timing.runs, timing.warmup)}))
        if data is not None and data.truth is not None:
            scorer = YoloDetector(session, conf_threshold=VAL_CONF, iou_threshold=VAL_IOU, max_det=VAL_MAX_DET)
            found, shapes = detect_all(scorer, data.images, f"{size} px")
            row.update(score(found, shapes, data.truth, None, scorer.names))
        rows.append(row)
    progress("input-size sweep: latency, timed together")
    timed_rows(pending, schedule)
    return rows
