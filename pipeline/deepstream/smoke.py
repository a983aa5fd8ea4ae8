"""``make gpu-smoke``: the first check on NVIDIA hardware, for a person with a Jetson or a dGPU (in the container).

It (1) records the versions found (DeepStream, its binding, TensorRT, the GPU), (2) builds the engines
(``make engines``), (3) compares TensorRT with ONNX Runtime on the same inputs, model by model, (4) runs the
DeepStream graph for 30 s on the sample clip (looped), and (5) prints a short report and writes it as JSON
(``out/gpu_smoke/report.json``). Every figure in it is measured on the machine it ran on; nothing is
filled in when a step cannot run: the step says why.

    python -m edgewatch.pipeline.deepstream.smoke [--seconds 30] [--out out/gpu_smoke]
"""

from __future__ import annotations

import argparse
import configparser
import json
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgewatch.paths import REPO_ROOT


def _run(cmd: list[str], timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT, check=False)


def versions() -> dict[str, Any]:
    """What is installed: DeepStream, the bindings, TensorRT, the GPU."""
    from edgewatch.pipeline.deepstream.prepare import DEEPSTREAM_ROOT

    found: dict[str, Any] = {"machine": platform.machine(), "python": platform.python_version()}
    version_file = DEEPSTREAM_ROOT / "version"
    found["deepstream"] = version_file.read_text().strip() if version_file.is_file() else None
    for module in ("pyds", "pyservicemaker", "tensorrt", "numpy"):
        try:
            imported = __import__(module)
            found[module] = str(getattr(imported, "__version__", "installed"))
        except ImportError:
            found[module] = None
    tegra = Path("/proc/device-tree/model")
    if tegra.exists():
        found["gpu"] = tegra.read_text().strip("\x00\n")
    elif shutil.which("nvidia-smi"):
        found["gpu"] = _run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"]).stdout.strip()
    else:
        found["gpu"] = None
    return found


def build_engines() -> dict[str, Any]:
    if "\nengines:" not in (REPO_ROOT / "Makefile").read_text():
        return {"status": "skipped", "why": "this build has no 'make engines' target"}
    start = time.monotonic()
    done = _run(["make", "--no-print-directory", "engines", "NO_SETUP=1", f"BIN={Path(sys.executable).parent}"])
    return {"status": "ok" if done.returncode == 0 else "failed", "seconds": round(time.monotonic() - start, 1),
            "tail": done.stdout[-800:] + done.stderr[-800:]}


def compare_runtimes() -> dict[str, Any]:
    """TensorRT against ONNX Runtime on one seeded input per engine ``make engines`` built for the demo config:
    the largest absolute difference (the engines' own parity gate compares what users see)."""
    from edgewatch.config import load_config
    from edgewatch.engines.jobs import engine_jobs
    from edgewatch.errors import EdgewatchError
    from edgewatch.runtime.onnx import OnnxSession
    from edgewatch.runtime.tensorrt import TensorRTSession, load_tensorrt, tensorrt_major

    try:
        jobs = engine_jobs(load_config(REPO_ROOT / "configs" / "demo.txt"), tensorrt_major(load_tensorrt()))
    except EdgewatchError as exc:
        return {"status": "skipped", "why": str(exc)}
    results: dict[str, Any] = {}
    rng = np.random.default_rng(0)
    for job in jobs:
        name = f"{job.kind} {job.settings.precision}"
        if not job.engine.is_file():
            results[name] = {"status": "skipped", "why": f"no engine at {job.engine}"}
            continue
        ort, trt = OnnxSession(job.onnx), TensorRTSession(job.engine, job.gpu_id)
        shapes = [[1 if not isinstance(d, int) else d for d in shape] for shape in _input_shapes(ort)]
        inputs = [rng.uniform(0, 1, s).astype(np.float32) for s in shapes]
        diffs = [float(np.abs(a - b).max()) for a, b in zip(ort.run(*inputs), trt.run(*inputs), strict=True)]
        results[name] = {"status": "ok", "engine": str(job.engine), "max_abs_diff": max(diffs)}
    return results


def _input_shapes(session: Any) -> list[list[Any]]:
    return [list(i.shape) for i in session.session.get_inputs()]


def smoke_config(out: Path) -> Path:
    """configs/demo.txt with the sample clip looped and every output under ``out``."""
    from edgewatch.config import load_config

    demo = REPO_ROOT / "configs" / "demo.txt"
    resolved = load_config(demo)
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(demo)
    parser["source0"]["uri"] = resolved.sources[0].uri
    parser["source0"]["file-loop"] = "1"
    parser["primary-gie"]["onnx-file"] = str(resolved.detector.onnx_file)
    parser["temporal"]["onnx-file"] = str(resolved.temporal.onnx_file)
    parser.remove_section("sink1")
    path = out / "smoke.txt"
    with path.open("w") as f:
        parser.write(f)
    return path


def run_graph(out: Path, seconds: float) -> dict[str, Any]:
    """The DeepStream graph on the looped sample clip for ``seconds``, then Ctrl-C (outputs are finalised)."""
    cmd = [sys.executable, "-m", "edgewatch.cli", "run", "-c", str(smoke_config(out)), "--backend", "deepstream",
           "--no-display", "--output", str(out / "smoke.mp4"), "--events", str(out / "smoke_events.jsonl")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        stdout, stderr = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    lines = stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    return {"returncode": proc.returncode, "summary": summary, "stderr_tail": stderr[-1500:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "gpu_smoke")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"versions": versions()}
    print(f"versions: {json.dumps(report['versions'])}", flush=True)
    report["engines"] = build_engines()
    print(f"engines: {report['engines']['status']}", flush=True)
    report["tensorrt_vs_onnxruntime"] = compare_runtimes()
    print(f"TensorRT vs ONNX Runtime: {json.dumps(report['tensorrt_vs_onnxruntime'])}", flush=True)
    report["graph"] = run_graph(args.out, args.seconds)
    summary = report["graph"]["summary"] or {}
    print(f"graph: exit {report['graph']['returncode']}, {summary.get('frames')} frames, "
          f"{summary.get('fps')} fps, {summary.get('events')} events", flush=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    print(f"report: {args.out / 'report.json'}")
    return 0 if report["graph"]["returncode"] in (0, 130) and summary.get("frames") else 1


if __name__ == "__main__":
    sys.exit(main())
