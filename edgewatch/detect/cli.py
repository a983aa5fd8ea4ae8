"""``edgewatch eval detector``: arguments and handler (the evaluation imports happen inside the handler)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch eval detector`` (kept free of heavy imports so ``--help`` is instant)."""
    parser.add_argument("--model", type=Path, required=True, help="detector ONNX (any precision)")
    parser.add_argument("--data", type=Path, required=True, help="data.yaml, dataset folder (images/ + labels/), COCO json or image folder")
    parser.add_argument("--split", default="val", help="dataset split to score (default val)")
    parser.add_argument("--images", type=Path, help="image root for a COCO json (default: the json's folder)")
    parser.add_argument("--reference", type=Path, help="score against this model's detections instead of labels (e.g. the FP32 export)")
    parser.add_argument("--out", type=Path, required=True, help="output folder for metrics.json and metrics.png")


def evaluate_main(args: argparse.Namespace) -> int:
    """Score the model, write ``metrics.json`` + ``metrics.png`` to ``--out`` and print the per-class table."""
    from edgewatch.detect.evaluate import evaluate, plot_metrics

    metrics = evaluate(args.model, args.data, args.reference, args.split, args.images)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    plot_metrics(metrics, args.out / "metrics.png")
    print(f"{args.model.name}: mAP50-95 {metrics['mAP50_95']:.4f}  mAP50 {metrics['mAP50']:.4f}  "
          f"({metrics['images']} images, {metrics['instances']} instances, truth: {metrics['truth']})")
    for name, c in metrics["per_class"].items():
        if c["AP50_95"] is not None:
            print(f"  {name:12s} AP50-95 {c['AP50_95']:.4f}  AP50 {c['AP50']:.4f}  ({c['instances']} instances)")
    print(f"wrote {args.out / 'metrics.json'} and {args.out / 'metrics.png'}")
    return 0
