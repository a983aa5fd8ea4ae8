"""Shared helpers of the graph tests: generated videos, stand-in models, configs, and readers that
check what a run left on disk (an mp4 GStreamer and OpenCV can read, events that parse)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from core_standins import constant_detector, linear_behaviour_model

from edgewatch.behaviour.features import FeatureSpec

NAMES = ("person", "car")
# Two fixed boxes in network pixels (64x64 input): the tracker confirms both, the temporal stand-in
# classifies them, so a run produces tracks and events without any trained model.
DETECTIONS = np.array([[8, 8, 24, 40, 0.9, 0], [40, 8, 56, 24, 0.9, 1]], np.float32)


def stand_in_models(folder: Path) -> tuple[Path, Path]:
    """A constant detector and a linear behaviour model (CORE's stand-ins) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = FeatureSpec(window=8, step=0.25, classes=NAMES)
    detector = constant_detector(folder / "det.onnx", DETECTIONS, names=NAMES)
    behaviour = linear_behaviour_model(folder / "behaviour.onnx", spec.to_json(), spec.num_features, ("a", "b", "c"), NAMES)
    return detector, behaviour


def write_config(
    path: Path, models: Path, sources: list[str], streammux: str = "", source_keys: str = "", application: str = ""
) -> Path:
    """An app config over ``sources`` with the stand-in models, an mp4 sink and an events log;
    ``streammux``, ``source_keys`` and ``application`` are extra ``key=value`` lines for those sections."""
    sections = "\n".join(f"[source{i}]\nuri={uri}\n{source_keys}" for i, uri in enumerate(sources))
    body = textwrap.dedent("""
        [application]
    """) + application + textwrap.dedent("""
        [streammux]
        batched-push-timeout=40000
    """) + streammux + textwrap.dedent(f"""
        [primary-gie]
        onnx-file={models / 'det.onnx'}
        [tracker]
        probation-seconds=0.1
        [temporal]
        enable=1
        onnx-file={models / 'behaviour.onnx'}
        stride-seconds=0.2
        # the stand-in model's verdicts are reported as they come (no hysteresis): tests see them at once
        min-history-seconds=0
        min-confidence=0
        dwell-seconds=0
        [sink0]
        type=file
        output-file=out/run.mp4
        [events]
        enable=1
        output-file=out/events.jsonl
    """)
    path.write_text(sections + body)
    return path


@dataclass
class Completed:
    """A finished ``edgewatch run``: exit code, the summary (last stdout line) and stderr."""

    returncode: int
    summary: dict | None
    stderr: str


def run_cli(args: list[str], cwd: Path, timeout: float = 120) -> Completed:
    """``edgewatch run ARGS`` in a subprocess, as a user runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "edgewatch.cli", "run", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    lines = proc.stdout.strip().splitlines()
    return Completed(proc.returncode, json.loads(lines[-1]) if lines else None, proc.stderr)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("edgewatch: error:")]


def video_frames(path: Path) -> tuple[int, tuple[int, ...] | None]:
    """How many frames OpenCV decodes from ``path``, and their shape."""
    capture = cv2.VideoCapture(str(path))
    count, shape = 0, None
    while True:
        ok, image = capture.read()
        if not ok:
            return count, shape
        count, shape = count + 1, image.shape


def gst_frames(path: Path) -> int:
    """How many frames GStreamer decodes from ``path`` (its own demuxer, independent of OpenCV)."""
    from edgewatch.pipeline.gst import parse, run_to_end

    pipeline = parse(f'filesrc location="{path}" ! qtdemux ! h264parse ! avdec_h264 ! fakesink name=sink signal-handoffs=true')
    count = [0]
    pipeline.get_by_name("sink").connect("handoff", lambda *_: count.__setitem__(0, count[0] + 1))
    run_to_end(pipeline, timeout_s=30)
    return count[0]


def events(path: Path) -> list[dict]:
    """The JSONL events, each line parsed (a broken line fails the test)."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
