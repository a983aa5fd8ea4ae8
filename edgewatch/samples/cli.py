"""``edgewatch samples`` and ``edgewatch sample-model``: arguments and handlers (heavy imports inside)."""

from __future__ import annotations

import argparse
from pathlib import Path

from edgewatch.paths import REPO_ROOT

SAMPLE_MODEL_DIR = REPO_ROOT / "models" / "sample"


def samples_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch samples``."""
    parser.add_argument("--teacher", action="store_true", help="also fetch the SSD teacher (70 MB) used by sample-model")


def samples_main(args: argparse.Namespace) -> int:
    """Download (or find cached) the sample clips, and the teacher when asked, checking each sha256."""
    from edgewatch.samples.fetch import CLIPS, TEACHER, ensure_assets

    assets = list(CLIPS.values()) + (list(TEACHER.values()) if args.teacher else [])
    for asset, path in zip(assets, ensure_assets(assets)):
        print(f"{asset.filename:40s} {path}  ({asset.size / 1e6:.1f} MB, sha256 ok)")
    return 0


def sample_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch sample-model``; defaults come from :class:`TrainSettings` so they are stated once."""
    from edgewatch.samples.student import TrainSettings

    defaults = TrainSettings()
    parser.add_argument("--out", type=Path, default=SAMPLE_MODEL_DIR, help="where the model files go (default models/sample)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help=f"training epochs (default {defaults.epochs})")
    parser.add_argument("--imgsz", type=int, default=defaults.imgsz, help=f"network input size (default {defaults.imgsz})")
    parser.add_argument("--device", default=defaults.device, help="auto (CUDA when available, else CPU), cpu, or a GPU index")
    parser.add_argument("--seed", type=int, default=defaults.seed, help=f"training seed (default {defaults.seed})")
    parser.add_argument("--retrain", action="store_true", help="train again even when this recipe's run is cached")


def sample_model_main(args: argparse.Namespace) -> int:
    """Build the sample detector (teacher labels -> student training -> export) into ``--out``."""
    from dataclasses import replace

    from edgewatch.samples.recipe import build_sample_model
    from edgewatch.samples.student import TrainSettings

    settings = replace(TrainSettings(), epochs=args.epochs, imgsz=args.imgsz, device=args.device, seed=args.seed)
    build_sample_model(args.out, settings, retrain=args.retrain)
    return 0
