"""``edgewatch engines -c CONFIG`` (``make engines``) and ``edgewatch check onnx FILE``: arguments and handlers.

``engines`` plans every engine the config asks for before building any (an engine it must refuse
stops the run before anything is replaced), then per engine: the offline parser check for this
TensorRT, the build into a staging file, the parity gate against ONNX Runtime, and only then the
move into place with its manifest. Without TensorRT it stops at once with one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from edgewatch.errors import EdgewatchError

if TYPE_CHECKING:  # the handlers import their modules lazily (fast `edgewatch --help`)
    from edgewatch.engines.jobs import EngineJob
    from edgewatch.engines.manifest import Platform


def engines_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch engines``."""
    parser.add_argument("-c", "--config", type=Path, required=True, help="app config ([engines] says what to build)")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild even unchanged engines, and replace engines built for another GPU/TensorRT",
    )
    parser.add_argument("--only", choices=("detector", "temporal"), help="build one model's engines only")


def check_onnx_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch check onnx``."""
    from edgewatch.engines.onnx_check import SUPPORT_MATRIX

    parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help="ONNX file(s) to check")
    parser.add_argument(
        "--tensorrt",
        action="append",
        choices=[t.version for t in SUPPORT_MATRIX],
        help="check for this TensorRT version only (repeatable; default: every supported one)",
    )


def check_onnx_main(args: argparse.Namespace) -> int:
    """Print each file's verdict per TensorRT version; exit 1 when any file fails any version checked."""
    from edgewatch.engines.onnx_check import check_file, format_report

    failed = False
    for path in args.files:
        report = check_file(path, args.tensorrt)
        failed |= any(report.values())
        for line in format_report(path, report):
            print(line)
    return 1 if failed else 0


def _check_table(version: str) -> str:
    """The offline check's row for a TensorRT version string (10.5 -> 10.9's conservative table)."""
    major, minor = (int(v) for v in version.split(".")[:2])
    if major < 10:
        return "8.5"
    if major >= 11:
        return "11"
    return "10.3" if minor <= 3 else "10.9" if minor <= 9 else "10.16"


def engines_main(args: argparse.Namespace) -> int:
    """Build, gate and record every engine the config asks for; skip the unchanged ones."""
    from edgewatch.config import load_config
    from edgewatch.engines.jobs import engine_jobs
    from edgewatch.engines.manifest import plan_build, sha256_of
    from edgewatch.engines.onnx_check import check_file
    from edgewatch.runtime.tensorrt import load_tensorrt, tensorrt_major, this_platform

    cfg = load_config(args.config)
    trt = load_tensorrt()
    here = this_platform(trt, cfg.engines.gpu_id)
    jobs = [j for j in engine_jobs(cfg, tensorrt_major(trt)) if args.only in (None, j.kind)]
    plans = [(job, plan_build(job.engine, sha256_of(job.onnx), job.settings, here, args.rebuild)) for job in jobs]
    refused = [plan.reason for _, plan in plans if plan.action == "refuse"]
    if refused:
        raise EdgewatchError(refused[0] + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""))
    print(f"{here}: {len(jobs)} engine(s)")
    for job, plan in plans:
        if plan.action == "skip":
            print(f"skip  {job.describe()}: {job.engine.name} unchanged")
            continue
        for problem in check_file(job.onnx, [_check_table(here.tensorrt)])[_check_table(here.tensorrt)]:
            print(f"warning: {job.onnx.name}: the offline parser check expects trouble: {problem}")
        print(f"build {job.describe()} ({plan.reason}) -> {job.engine}", flush=True)
        parity = _build_one(trt, job, here, cfg.engines.gate)
        print(f"      parity vs ONNX Runtime: {_figures(parity)}")
    return 0


def _figures(parity: dict[str, Any]) -> str:
    shown = {k: v for k, v in parity.items() if k != "failures"}
    return ", ".join(f"{k} {v:.4g}" for k, v in shown.items()) or "not gated"


def _build_one(trt: ModuleType, job: EngineJob, here: Platform, gate: bool) -> dict[str, Any]:
    """Build ``job`` into a staging file, gate it, then move it and its manifest into place."""
    from edgewatch.engines.build import build_plan, timing_cache_path
    from edgewatch.engines.gate import run_gate
    from edgewatch.engines.manifest import Manifest, manifest_path, sha256_of, write_atomic, write_manifest
    from edgewatch.metadata import ModelMetadata
    from edgewatch.runtime.onnx import TEMPORAL_DISABLED_OPTIMIZERS, OnnxSession
    from edgewatch.runtime.tensorrt import TensorRTSession

    staged = job.engine.with_name(job.engine.name + ".staged")
    write_atomic(staged, build_plan(trt, job.onnx, job.settings, timing_cache_path(here)))
    manifest = Manifest(
        job.onnx.name,
        sha256_of(job.onnx),
        sha256_of(staged),
        job.settings,
        here,
        ModelMetadata.from_onnx(job.onnx).to_json(),
    )
    write_manifest(staged, manifest)
    try:
        parity: dict[str, Any] = {}
        if gate:
            disabled = TEMPORAL_DISABLED_OPTIMIZERS if job.kind == "temporal" else ()
            reference = OnnxSession(job.onnx, 0, disabled)
            parity = run_gate(job.kind, job.settings.precision, reference, TensorRTSession(staged, job.gpu_id))
            if parity["failures"]:
                raise EdgewatchError(
                    f"{job.engine.name}: refused by the parity gate ({'; '.join(parity['failures'])}); "
                    f"figures: {_figures(parity)}"
                )
        os.replace(staged, job.engine)
        write_manifest(job.engine, dataclasses.replace(manifest, parity=parity))
    finally:
        for leftover in (staged, manifest_path(staged)):
            if leftover.exists():
                leftover.unlink()
    return parity
