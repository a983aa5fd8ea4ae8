"""What a report was measured on: hardware, OS, library versions, git commit, load during the run.

A latency figure means nothing without the machine and the software that produced it, and a figure
measured while other jobs ran is not comparable with one from a quiet machine: the load average at
the start and the end of the run is recorded with the figures.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from edgewatch.paths import REPO_ROOT

# The libraries whose versions change the figures (distribution names as pip knows them).
LIBRARIES = (
    "edgewatch", "numpy", "onnxruntime", "onnx", "opencv-python-headless", "torch", "ultralytics",
    "pycocotools", "motmetrics", "trackeval", "scikit-learn", "pygobject",
)


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what :mod:`platform` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    """Total RAM in GiB (Linux), None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def os_name() -> str:
    """``PRETTY_NAME`` of /etc/os-release (e.g. Debian GNU/Linux 12), else the platform string."""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def versions() -> dict[str, str | None]:
    """Installed versions of :data:`LIBRARIES` (None: not installed) and of GStreamer."""
    found: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    found["python"] = platform.python_version()
    found["gstreamer"] = _command_output(["gst-launch-1.0", "--version"], "version")
    return found


def git_state() -> dict[str, Any]:
    """Commit of the checkout the figures were measured on, and whether it had uncommitted changes."""
    commit = _command_output(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"])
    status = _command_output(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"])
    return {"commit": commit, "dirty": bool(status) if commit else None}


def shown(path: str | Path) -> str:
    """A path as a report shows it: relative to the repository or to the edgewatch cache, so a committed
    report names no machine's folders."""
    from edgewatch.paths import cache_dir

    path = Path(path).resolve()
    for root, label in ((REPO_ROOT, ""), (cache_dir(), "$EDGEWATCH_CACHE/")):
        if path.is_relative_to(root):
            return label + str(path.relative_to(root))
    return path.name


def load_average() -> float:
    """1-minute load average: above the core count, other work competed with the benchmark."""
    return round(os.getloadavg()[0], 2)


def speed_probe(model: Path, runs: int = 30) -> dict[str, float]:
    """The machine's speed at this moment: one 1-thread inference of ``model`` on a fixed tensor (the
    bench's commonest work), median and spread over ``runs``. Taken before each section and at the end,
    it shows how far the machine's own speed moved during the run (a shared VM drifts by several percent
    over minutes), which no spread of calls timed within one section can show."""
    from edgewatch.bench.detector import inference_job
    from edgewatch.bench.timing import latency_ms

    job = inference_job(model, runs)
    return latency_ms(job.run, job.runs, job.warmup)


def describe() -> dict[str, Any]:
    """The machine block of the report."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": cores,
        "memory_gib": memory_gib(),
        "arch": platform.machine(),
        "os": os_name(),
        "gpu": None,  # no NVIDIA device is used by a CPU-only run; TensorRT rows say why they are skipped
    }


def _command_output(cmd: list[str], pick: str | None = None) -> str | None:
    """First line of a command's output (or the first line containing ``pick``); None if it fails."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line.strip() for line in out.splitlines() if line.strip() and (pick is None or pick in line)]
    return lines[0].split()[-1] if pick and lines else (lines[0] if lines else "")
