"""``edgewatch train temporal`` and ``edgewatch eval temporal`` (argument parsing and file output only).

``--data`` accepts ``file.npz`` (generic format), ``sim:N`` (N simulated tracks, seeded by ``--seed``),
``uea:NAME`` or ``NAME_TRAIN.ts`` (UEA/UCR archives; the TEST file is the held-out split) and a MOT
``tracks.txt`` with ``tracks.labels.csv`` beside it; see :mod:`edgewatch.behaviour.data`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgewatch.types import Frame

DEFAULT_BEHAVIOURS = "configs/behaviours.yaml"
RULES_FILE = "rules.json"  # the rule baseline train temporal writes beside the model


def _common(parser: argparse.ArgumentParser, data_required: bool = True) -> None:
    parser.add_argument("--data", required=data_required,
                        help="file.npz | sim:N | uea:NAME | NAME_TRAIN.ts | tracks.txt (MOT)")
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
                        help="Transformer: consecutive steps embedded as one token (a window it does not divide is "
                             "padded at its oldest end)")
    parser.add_argument("--window", type=int, default=None,
                        help="steps per sequence (default: the taxonomy's for tracks, the data's own otherwise); "
                             "longer sequences keep their newest steps, shorter ones are padded at the oldest end")
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

    from edgewatch.behaviour.data import fit_window, has_test_split, is_track_source, load_dataset, save_npz
    from edgewatch.behaviour.evaluate import classification_metrics
    from edgewatch.behaviour.models import ModelConfig, count_parameters
    from edgewatch.behaviour.rules import RuleBaseline
    from edgewatch.behaviour.train import TrainConfig, predict_logits, save_checkpoint, train
    from edgewatch.errors import EdgewatchError
    from edgewatch.export.exporter import parse_precisions
    from edgewatch.export.temporal import export_trained, onnx_logits

    precisions = parse_precisions(args.precisions)
    if args.epochs < 1 or not 0 < args.val_fraction < 1:
        raise EdgewatchError("--epochs must be >= 1 and --val-fraction in (0, 1)")
    torch.set_num_threads(args.threads)
    taxonomy = _taxonomy(args)
    if args.window is not None and is_track_source(args.data):  # tracks: the features' window itself
        taxonomy = replace(taxonomy, features=replace(taxonomy.features, window=args.window))
    started = time.time()
    data = load_dataset(args.data, "train", taxonomy, args.seed)
    if args.window is not None and not is_track_source(args.data):
        data = fit_window(data, args.window)
    test_source = args.test_data or (args.data if has_test_split(args.data) else None)
    test = None
    if test_source is not None:  # scored where the label is one behaviour, at the training window
        test = fit_window(load_dataset(test_source, "test", taxonomy, args.seed, data.classes), data.X.shape[1]).definite()
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
    # the kinematic rule baseline, fitted on the same training data: the reference column of every evaluation
    rules = None if data.feature_spec is None else RuleBaseline.fit(data.definite(), args.seed)
    if rules is not None:
        rules.save(out / RULES_FILE)
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
        if rules is not None:
            metrics["rules_test"] = classification_metrics(test.y, rules.predict_proba(test.X, test.mask).argmax(1),
                                                           test.classes)
            metrics["rules_depth"] = rules.depth
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    summary = f"val macro-F1 {best['val_macro_f1']:.4f}"
    if test is not None:
        summary += f", test accuracy {metrics['test']['accuracy']:.4f}, test macro-F1 {metrics['test']['macro_f1']:.4f}"
        if rules is not None:
            summary += f" (rule baseline {metrics['rules_test']['macro_f1']:.4f})"
    print(f"{args.model} ({metrics['parameters']} parameters): {summary} -> {out}", flush=True)
    return 0


def evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch eval temporal``."""
    _common(parser, data_required=False)
    parser.add_argument("--model", required=True, type=Path, help="checkpoint .pt or temporal .onnx")
    parser.add_argument("--compare", nargs="*", type=Path, default=[],
                        help="more models drawn in the accuracy-vs-length plot (e.g. the RNN baseline)")
    parser.add_argument("--real", nargs="*", type=Path, default=[],
                        help="labelled real tracks (MOT .txt with .labels.csv) replayed as the live stage runs them")
    parser.add_argument("--rules", type=Path, default=None,
                        help=f"rule baseline for the reference column (default: {RULES_FILE} beside the model)")
    parser.add_argument("--config", type=Path, default=None,
                        help="app config whose [temporal] verdict settings the replay uses (default: the defaults)")


def evaluate_main(args: argparse.Namespace) -> int:
    """Write ``--out``/metrics.json and the PNGs: window scores on ``--data``, replayed real tracks (``--real``)."""
    import torch

    from edgewatch.behaviour.data import fit_window, load_dataset, read_labelled_tracks
    from edgewatch.behaviour.evaluate import classification_metrics, evaluate, load_model, real_track_report
    from edgewatch.behaviour.rules import RuleBaseline
    from edgewatch.config import TemporalConfig, load_config
    from edgewatch.errors import EdgewatchError
    from edgewatch.stages.temporal import verdict_rules

    if args.data is None and not args.real:
        raise EdgewatchError("give --data (scored window by window) and/or --real (labelled real tracks)")
    torch.set_num_threads(args.threads)
    models = [load_model(path) for path in [args.model, *args.compare]]
    main = models[0]
    taxonomy = _taxonomy(args)
    if main.feature_spec is not None:  # tracks become the features this model was trained on
        taxonomy = replace(taxonomy, features=main.feature_spec)
    rules_path = args.rules or args.model.parent / RULES_FILE
    rules = RuleBaseline.load(rules_path) if main.feature_spec is not None and rules_path.is_file() else None
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    metrics: dict = {}
    lines = []
    if args.data is not None:
        data = fit_window(load_dataset(args.data, "test", taxonomy, args.seed, main.classes), main.window).definite()
        metrics = evaluate(models, data, out)
        line = f"{args.model.name}: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}"
        if rules is not None:
            metrics["rules"] = classification_metrics(data.y, rules.predict_proba(data.X, data.mask).argmax(1), data.classes)
            line += f" (rule baseline {metrics['rules']['accuracy']:.4f}, {metrics['rules']['macro_f1']:.4f})"
        lines.append(f"{line} on {metrics['samples']} sequences of {args.data}")
    temporal = load_config(args.config).temporal if args.config is not None else TemporalConfig()
    for path in args.real:
        tracks = read_labelled_tracks(path, taxonomy.scene.frame_rate, main.classes)
        report = real_track_report(main, None if rules is None else rules.predict_proba, tracks,
                                   verdict_rules(temporal), temporal.stride_seconds)
        metrics.setdefault("real", {})[str(path)] = report
        for who, m in report.items():
            lines.append(f"{path} {who:5s}: reported accuracy {_num(m['reported_accuracy'])} macro-F1 "
                         f"{_num(m['reported_macro_f1'])} (raw {_num(m['raw_accuracy'])} / {_num(m['raw_macro_f1'])}), "
                         f"{m['changes_per_track_minute']:.2f} changes per track-minute, first decision after "
                         f"{_num(m['first_decision_s'], 1)} s, {m['tracks']} tracks, "
                         f"{m['undecided_tracks']} never decided")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    for line in lines:
        print(line, flush=True)
    print(f"-> {out}", flush=True)
    return 0


def _num(value: float | None, digits: int = 3) -> str:
    """A figure for the summary lines ("-" where there is none, e.g. no decided verdict)."""
    return "-" if value is None else f"{value:.{digits}f}"


def tracks_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch label tracks``."""
    parser.add_argument("--source", required=True, type=Path, help="video file")
    parser.add_argument("--out", required=True, type=Path, help="MOT file to write (seqinfo.ini goes beside it)")
    parser.add_argument("-c", "--config", type=Path, default=Path("configs/demo.txt"),
                        help="app config whose [primary-gie] and [tracker] make the tracks (default configs/demo.txt)")
    parser.add_argument("--classes", default="person", help="detector classes kept, comma-separated (default person)")
    parser.add_argument("--fps", type=float, default=None, help="re-time the video to this rate first (default: its own)")


def tracks_main(args: argparse.Namespace) -> int:
    """Run the pipeline's detector and tracker over a video and write the confirmed tracks as MOT."""
    from edgewatch.config import load_config
    from edgewatch.detect.detector import detector_class_names
    from edgewatch.errors import EdgewatchError
    from edgewatch.stages.detector import DetectorStage
    from edgewatch.stages.replay import clip_fps, clip_frames, replay, track_rows
    from edgewatch.stages.tracker import TrackerStage
    from edgewatch.track.mot import write_mot

    cfg = load_config(args.config)
    names = detector_class_names(cfg.detector)
    wanted = {c.strip() for c in args.classes.split(",") if c.strip()}
    unknown = sorted(wanted - set(names))
    if unknown:
        raise EdgewatchError(f"--classes {unknown}: not among the detector's classes {names}")
    keep = {i for i, n in enumerate(names) if n in wanted}
    rate, size = clip_fps(args.source)

    def kept(frames: Iterable[Frame]) -> Iterator[Frame]:
        for frame in frames:
            frame.tracks = [t for t in frame.tracks if t.class_id in keep]
            yield frame

    stages = [DetectorStage.from_config(cfg.detector, parallel=False), TrackerStage(cfg.tracker, cfg.detector.interval)]
    rows = track_rows(kept(replay(stages, clip_frames(args.source, args.fps))))
    path = write_mot(args.out, rows, args.fps or rate, size, args.source.stem)
    print(f"{len({r[1] for r in rows})} tracks, {len(rows)} boxes -> {path}", flush=True)
    return 0


def render_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch label render``."""
    parser.add_argument("--tracks", required=True, type=Path, help="MOT file (with its seqinfo.ini)")
    parser.add_argument("--source", required=True, type=Path, help="the video the tracks come from")
    parser.add_argument("--out", required=True, type=Path, help="folder for the track_<id>.png pictures")
    parser.add_argument("--track", type=int, nargs="*", default=None, help="track ids (default: all)")
    parser.add_argument("--frames", type=int, nargs=2, default=None, metavar=("START", "END"),
                        help="only this MOT frame span of the tracks")
    parser.add_argument("--crops", type=int, default=20, help="crops per track (default 20)")


def render_main(args: argparse.Namespace) -> int:
    """Write one picture per track: its path on a frame and a strip of crops over time, for labelling."""
    from edgewatch.behaviour.labelling import render_tracks
    from edgewatch.track.mot import read_mot

    from edgewatch.stages.replay import clip_fps

    sequence = read_mot(args.tracks, *clip_fps(args.source))  # seqinfo.ini, else the video's rate and size
    span = tuple(args.frames) if args.frames else None
    paths = render_tracks(args.source, sequence, args.out, args.track, span, args.crops)  # type: ignore[arg-type]
    print(f"{len(paths)} pictures -> {args.out}", flush=True)
    return 0
