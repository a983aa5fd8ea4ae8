"""TensorRT engine latency per precision, through the engine runtime the pipeline uses (NVIDIA hosts only).

Times every engine a config asks for (``make engines`` builds them) with
:class:`~edgewatch.runtime.tensorrt.TensorRTSession`: the detector at the config's batch size, the
temporal model at its profile's optimum (tracks per call); median and p95 after warm-up. Without
TensorRT (every development machine of this project) it says so and writes nothing: no TensorRT
figure is ever reported that did not run on a GPU.

    python -m benchmarks.engine_latency [-c configs/demo.txt] [--runs 200]

Writes ``out/bench/engine_latency.json`` and ``.png`` on a TensorRT host.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from edgewatch.bench.report import OUT, run, write_report
from edgewatch.bench.timing import latency_ms
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, default=REPO_ROOT / "configs" / "demo.txt")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_known_args()[0]


def main() -> int:
    from edgewatch.config import load_config
    from edgewatch.engines.jobs import engine_jobs
    from edgewatch.runtime.tensorrt import TensorRTSession, load_tensorrt, tensorrt_major, this_platform

    args = parse_args()
    try:
        trt = load_tensorrt()
    except EdgewatchError as exc:
        print(f"engine_latency: skipped, {exc}")
        return 0
    cfg = load_config(args.config)
    here = this_platform(trt, cfg.engines.gpu_id)
    rows = []
    for job in engine_jobs(cfg, tensorrt_major(trt)):
        session = TensorRTSession(job.engine, job.gpu_id)
        batch = job.settings.profile.opt
        shapes = [[batch, *[d for d in session.shapes[n][1:]]] for n in session.input_names]
        inputs = [np.random.default_rng(0).random(s, dtype=np.float32) for s in shapes]
        stats = latency_ms(lambda: session.run(*inputs), args.runs, args.warmup)
        rows.append(
            {"model": job.kind, "precision": job.settings.precision, "batch": batch, "engine": job.engine.name, **stats}
        )
        print(
            f"  {job.kind:8s} {job.settings.precision} batch {batch}: median {stats['median_ms']:.3f} ms "
            f"p95 {stats['p95_ms']:.3f} ms",
            flush=True,
        )
    result = {
        "machine": str(here),
        "config": str(args.config),
        "rows": rows,
        "command": "python -m benchmarks.engine_latency " + " ".join(sys.argv[1:]),
    }
    write_report("engine_latency", result, lambda png: plot(rows, png, str(here)), args.out)
    return 0


def plot(rows: list[dict], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    labels = [f"{r['model']}\n{r['precision']} b{r['batch']}" for r in rows]
    ax.bar(labels, [r["median_ms"] for r in rows])
    ax.set_ylabel("median ms per call")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    run("engine_latency", main)
