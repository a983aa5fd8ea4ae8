"""``edgewatch train temporal`` and ``edgewatch eval temporal`` (argument parsing and file output only).

``--data`` accepts ``file.npz`` (generic format), ``sim:N`` (N simulated tracks, seeded by ``--seed``),
``uea:NAME`` or ``NAME_TRAIN.ts`` (UEA/UCR archives; the TEST file is the held-out split) and a MOT
``tracks.txt`` with ``tracks.labels.csv`` beside it; see :mod:`edgewatch.behaviour.data`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DEFAULT_BEHAVIOURS = "configs/behaviours.yaml"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="file.npz | sim:N | uea:NAME | NAME_TRAIN.ts | tracks.txt (MOT)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--behaviours", type=Path, default=None,
                        help=f"taxonomy and scene YAML (default: {DEFAULT_BEHAVIOURS} of the repository)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the simulator and torch")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")


def train_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch train temporal``."""
    _common(parser)
    parser.add_argument("--model", choices=("transformer", "lstm", "gru"), default="transformer")
    parser.add_argument("--test-data", default=None, help="held-out data (default: the source's own test split, if any)")
    parser.add_argument("--epochs", type=int, default=70)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-2, help="AdamW weight decay")
    parser.add_argument("--patience", type=int, default=25, help="early stopping: epochs without a better val macro-F1")
    parser.add_argument("--val-fraction", type=float, default=0.15)
    parser.add_argument("--clip", type=float, default=1.0, help="gradient norm clipping")
    parser.add_argument("--d-model", type=int, default=None,
                        help="width (default: 96 for the Transformer, 64 for an RNN: about the same latency)")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=2,
                        help="Transformer attention heads (2: as accurate as 4 on simulated tracks, 9%% cheaper)")
    parser.add_argument("--ff", type=int, default=192, help="Transformer feed-forward width")
    parser.add_argument("--dropout", type=float, default=0.05)
    parser.add_argument("--pool", choices=("cls", "max"), default="max", help="Transformer pooling: masked max over time or a CLS token")
    parser.add_argument("--patch", type=int, default=4,
                        help="Transformer: consecutive steps embedded as one token (divides the window)")
    parser.add_argument("--attention", choices=("causal", "full"), default="causal",
                        help="Transformer: a token attends to older tokens only (causal) or to the whole window")
    parser.add_argument("--name", default="behaviour", help="file stem of the checkpoint and ONNX files")
    parser.add_argument("--precisions", default="fp32", help="ONNX files to write: fp32,fp16,int8 (INT8 calibrates on training data)")
    parser.add_argument("--save-data", type=Path, default=None, help="also write the training data as .npz")


def _taxonomy(args: argparse.Namespace):
    from edgewatch.behaviour.taxonomy import DEFAULT_TAXONOMY, load_taxonomy

    return load_taxonomy(args.behaviours or DEFAULT_TAXONOMY)


def train_main(args: argparse.Namespace) -> int:
    """Train, save checkpoint + ONNX + metrics.json into ``--out``; prints one summary line."""
    import torch

    from edgewatch.behaviour.data import has_test_split, load_dataset, save_npz
    from edgewatch.behaviour.evaluate import classification_metrics
    from edgewatch.behaviour.models import ModelConfig, count_parameters
    from edgewatch.behaviour.train import TrainConfig, predict_logits, save_checkpoint, train
    from edgewatch.errors import EdgewatchError
    from edgewatch.export.exporter import parse_precisions
    from edgewatch.export.temporal import export_trained, onnx_logits

    precisions = parse_precisions(args.precisions)
    if args.epochs < 1 or not 0 < args.val_fraction < 1:
        raise EdgewatchError("--epochs must be >= 1 and --val-fraction in (0, 1)")
    torch.set_num_threads(args.threads)
    taxonomy = _taxonomy(args)
    started = time.time()
    data = load_dataset(args.data, "train", taxonomy, args.seed)
    test_source = args.test_data or (args.data if has_test_split(args.data) else None)
    test = None if test_source is None else load_dataset(test_source, "test", taxonomy, args.seed, data.classes)
    if args.save_data is not None:
        save_npz(data, args.save_data)
    d_model = args.d_model or (96 if args.model == "transformer" else 64)
    config = ModelConfig(args.model, data.X.shape[2], len(data.classes), data.X.shape[1], d_model, args.layers,
                         args.heads, args.ff, args.dropout, args.pool, args.patch,
                         args.model == "transformer" and args.attention == "causal")
    settings = TrainConfig(args.epochs, args.batch_size, args.lr, args.weight_decay, args.clip, args.patience, args.val_fraction, args.seed)
    applies_to = taxonomy.applies_to() if data.feature_spec is not None else None
    print(f"training {args.model} on {len(data)} sequences "
          f"[{data.X.shape[1]} x {data.X.shape[2]}], {len(data.classes)} classes", flush=True)
    trained = train(data, config, settings, applies_to)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = save_checkpoint(trained, out / f"{args.name}.pt")
    calibration = (data.X[:512], data.mask[:512]) if "int8" in precisions else None
    onnx_paths = export_trained(trained, out, precisions, calibration, stem=args.name)
    best = max(trained.history, key=lambda row: (row["val_macro_f1"], -row["val_loss"]))
    metrics = {
        "data": args.data, "model": args.model, "parameters": count_parameters(trained.model),
        "sequences": len(data), "epochs_run": len(trained.history), "best_epoch": best["epoch"],
        "val_macro_f1": best["val_macro_f1"], "val_accuracy": best["val_accuracy"],
        "seconds": round(time.time() - started, 1), "history": trained.history,
        "checkpoint": str(checkpoint), "onnx": {p: str(path) for p, path in onnx_paths.items()},
    }
    if test is not None:
        metrics["test"] = classification_metrics(test.y, predict_logits(trained.model, test.X, test.mask).argmax(1),
                                                 test.classes)
        onnx_pred = {p: onnx_logits(path, test.X, test.mask).argmax(1) for p, path in onnx_paths.items()}
        metrics["test_onnx_macro_f1"] = {
            p: classification_metrics(test.y, pred, test.classes)["macro_f1"] for p, pred in onnx_pred.items()}
        metrics["test_onnx_accuracy"] = {p: float((pred == test.y).mean()) for p, pred in onnx_pred.items()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    summary = f"val macro-F1 {best['val_macro_f1']:.4f}"
    if test is not None:
        summary += f", test accuracy {metrics['test']['accuracy']:.4f}, test macro-F1 {metrics['test']['macro_f1']:.4f}"
    print(f"{args.model} ({metrics['parameters']} parameters): {summary} -> {out}", flush=True)
    return 0


def evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch eval temporal``."""
    _common(parser)
    parser.add_argument("--model", required=True, type=Path, help="checkpoint .pt or temporal .onnx")
    parser.add_argument("--compare", nargs="*", type=Path, default=[],
                        help="more models drawn in the accuracy-vs-length plot (e.g. the RNN baseline)")


def evaluate_main(args: argparse.Namespace) -> int:
    """Write ``--out``/metrics.json and the PNGs for the test split of ``--data``."""
    import torch

    from edgewatch.behaviour.data import load_dataset
    from edgewatch.behaviour.evaluate import evaluate, load_model

    torch.set_num_threads(args.threads)
    models = [load_model(path) for path in [args.model, *args.compare]]
    data = load_dataset(args.data, "test", _taxonomy(args), args.seed, models[0].classes)
    metrics = evaluate(models, data, args.out)
    (Path(args.out) / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"{args.model.name}: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f} "
          f"on {metrics['samples']} sequences -> {args.out}", flush=True)
    return 0
