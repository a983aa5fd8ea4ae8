"""Evaluation of temporal models: metrics (sklearn) and the report plots (matplotlib).

A model is given as a checkpoint (``.pt``, run in torch) or an exported ``.onnx`` (run in ONNX
Runtime), so the same report measures FP32, FP16 and INT8 files alike.

Two kinds of test data: feature windows with one label each (the simulator's held-out tracks, an
``.npz``, a UEA archive), scored window by window; and **labelled real tracks** (MOT files with
per-span labels, :func:`~edgewatch.behaviour.data.read_labelled_tracks`), replayed as the live stage
sees them (:func:`predict_tracks`: a verdict every ``stride`` seconds from the track's start;
:func:`replay_tracks`: held to the :class:`~edgewatch.behaviour.verdicts.VerdictRules`), so the figures are what a person watching
would get: raw and reported accuracy and macro-F1, flicker (reported changes per track-minute) and
the time to the first decided verdict (:func:`track_metrics`). The rule baseline
(:mod:`edgewatch.behaviour.rules`) goes through the same replay as the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from edgewatch.behaviour.data import Dataset, LabelledTrack
from edgewatch.behaviour.features import FeatureSpec, track_windows
from edgewatch.behaviour.train import Trained, load_checkpoint, predict_logits
from edgewatch.behaviour.verdicts import VerdictRules, verdict_series
from edgewatch.errors import EdgewatchError
from edgewatch.types import UNDECIDED

Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (X [N,W,F], mask [N,W]) -> scores [N,K]


@dataclass
class LoadedModel:
    """A model ready to predict: ``trained`` is set for checkpoints (attention maps need torch)."""

    name: str
    kind: str
    classes: tuple[str, ...]
    window: int
    path: Path
    trained: Trained | None
    feature_spec: FeatureSpec | None = None
    applies_to: dict[str, tuple[str, ...]] | None = None
    min_history: float = 0.0

    def logits(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Logits ``[N, K]``: from the torch model for a checkpoint, else from ONNX Runtime for an ONNX file."""
        if self.trained is not None:
            return predict_logits(self.trained.model, X, mask)
        from edgewatch.export.temporal import onnx_logits

        return onnx_logits(self.path, X, mask)


def load_model(path: Path) -> LoadedModel:
    """Open a checkpoint or a temporal ONNX."""
    path = Path(path)
    if path.suffix == ".onnx":
        from edgewatch.export.temporal import read_temporal_metadata

        meta = read_temporal_metadata(path)
        kind = f"{meta.model or '?'} {meta.precision or 'fp32'}"
        return LoadedModel(f"{path.parent.name}/{path.stem}", kind, meta.behaviours, int(meta.window or 0), path, None,
                           meta.feature_spec, dict(meta.applies_to), meta.min_history or 0.0)
    trained = load_checkpoint(path)
    config = trained.model.config
    applies = {c: tuple(b) for c, b in (trained.applies_to or {}).items()}
    return LoadedModel(f"{path.parent.name}/{path.stem}", config.kind, trained.classes, config.window, path, trained,
                       trained.feature_spec, applies, 1.0 if trained.feature_spec is not None else 0.0)


def check_compatible(model: LoadedModel, data: Dataset) -> None:
    """Same labels and window, or one clear error before anything is computed."""
    if tuple(data.classes) != tuple(model.classes):
        raise EdgewatchError(f"{model.path}: labels {list(model.classes)} differ from the data's {list(data.classes)}")
    if data.X.shape[1] != model.window:
        raise EdgewatchError(f"{model.path}: window {model.window} but the data has sequences of {data.X.shape[1]}")


def classification_metrics(y: np.ndarray, pred: np.ndarray, classes: tuple[str, ...]) -> dict[str, Any]:
    """accuracy, macro precision/recall/F1, per-class figures and the confusion matrix (rows = truth)."""
    labels = list(range(len(classes)))
    p, r, f, support = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    mp, mr, mf, _ = precision_recall_fscore_support(y, pred, labels=labels, average="macro", zero_division=0)
    return {
        "samples": len(y),
        "accuracy": float(accuracy_score(y, pred)),
        "macro_precision": float(mp),
        "macro_recall": float(mr),
        "macro_f1": float(mf),
        "per_class": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
                      for i, c in enumerate(classes)},
        "confusion_matrix": confusion_matrix(y, pred, labels=labels).tolist(),
        "classes": list(classes),
    }


def truncate(data: Dataset, length: int) -> Dataset:
    """Keep only the newest ``length`` steps of every sequence (what a young track offers)."""
    mask = data.mask.copy()
    mask[:, : max(0, data.X.shape[1] - length)] = 0.0
    return Dataset(data.X * mask[..., None], mask, data.y, data.classes, data.feature_spec)


def sequence_lengths(window: int) -> list[int]:
    """About eight lengths from very short to the full window."""
    return sorted({max(2, round(window * f)) for f in (0.0625, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0)})


def accuracy_by_length(model: LoadedModel, data: Dataset) -> dict[int, float]:
    """Accuracy when only the newest L steps are available, for each L of :func:`sequence_lengths`."""
    return {length: float((model.logits(*_xm(truncate(data, length))).argmax(1) == data.y).mean())
            for length in sequence_lengths(data.X.shape[1])}


def _xm(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return data.X, data.mask


def plot_confusion(metrics: dict[str, Any], title: str, out: Path) -> Path:
    """Row-normalised confusion matrix with counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(metrics["confusion_matrix"], float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    classes = metrics["classes"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(classes), 0.8 + 0.55 * len(classes)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}\naccuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_accuracy_by_length(curves: dict[str, dict[int, float]], step: float | None, out: Path) -> Path:
    """Accuracy against the number of observed steps, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, curve in curves.items():
        ax.plot(list(curve), list(curve.values()), marker="o", label=name)
    ax.set_xlabel("observed steps" + (f" (x {step:g} s)" if step else ""))
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("accuracy against sequence length")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_attention(model: LoadedModel, data: Dataset, index: int, out: Path) -> Path:
    """Last-layer attention of one sequence (token 0 = CLS) and, per time step, what the pooling reads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    x, m = (torch.from_numpy(a[index:index + 1]) for a in (data.X, data.mask))
    maps = model.trained.model.attention(x, m)[-1, 0].numpy()
    pred = model.classes[int(model.logits(data.X[index:index + 1], data.mask[index:index + 1]).argmax())]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.1, 1]})
    image = ax0.imshow(maps, cmap="viridis")
    ax0.set_xlabel("key (0 = CLS, then oldest -> newest)")
    ax0.set_ylabel("query")
    fig.colorbar(image, ax=ax0, fraction=0.046)
    if model.trained.model.config.pool == "cls":  # the CLS query is what the head reads
        received, label = maps[0, 1:], "CLS attention"
    else:  # max pooling reads every valid token: how much attention each token receives, on average
        valid = model.trained.model.token_mask(m)[0].numpy() > 0.5
        received, label = maps[valid][:, 1:].mean(axis=0), "mean attention received"
    ax1.bar(np.arange(1, maps.shape[1]), received, color="tab:orange", label=label)
    ax1.set_xlabel(f"token = {model.trained.model.config.patch} time step(s) (newest on the right)")
    ax1.set_ylabel("weight")
    ax1.legend(loc="upper left")
    causal = " (causal: a query sees older keys only)" if model.trained.model.config.causal else ""
    fig.suptitle(f"attention, track {index}: true {model.classes[int(data.y[index])]}, predicted {pred}{causal}")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def evaluate(models: list[LoadedModel], data: Dataset, out_dir: Path) -> dict[str, Any]:
    """Metrics of ``models[0]`` (+ its confusion PNG), accuracy-vs-length of all, attention of a Transformer."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for model in models:
        check_compatible(model, data)
    main = models[0]
    metrics = classification_metrics(data.y, main.logits(data.X, data.mask).argmax(1), data.classes)
    metrics["model"] = {"path": str(main.path), "kind": main.kind}
    plot_confusion(metrics, f"{main.name} ({main.kind})", out_dir / "confusion_matrix.png")
    curves = {f"{m.name} ({m.kind})": accuracy_by_length(m, data) for m in models}
    metrics["accuracy_by_length"] = {name: {str(k): v for k, v in c.items()} for name, c in curves.items()}
    metrics["compared"] = {f"{m.name} ({m.kind})": classification_metrics(
        data.y, m.logits(data.X, data.mask).argmax(1), data.classes)["macro_f1"] for m in models[1:]}
    step = data.feature_spec.step if data.feature_spec is not None else None
    plot_accuracy_by_length(curves, step, out_dir / "accuracy_by_length.png")
    transformer = next((m for m in models if m.trained is not None and m.kind == "transformer"), None)
    if transformer is not None:
        plot_attention(transformer, data, int(np.argmax(data.mask.sum(1))), out_dir / "attention.png")
    return metrics


@dataclass(frozen=True)
class TrackProbs:
    """One labelled track's raw verdicts: the allowed-behaviour probabilities every stride."""

    track_id: int
    duration: float  # seconds from the first to the last observation
    times: np.ndarray  # [N] verdict times, seconds since the track began
    probs: np.ndarray  # [N, K]
    truth: list[str | None]  # the span label at each verdict time (None: not labelled there)


@dataclass(frozen=True)
class TrackReplay:
    """One labelled track replayed: a verdict every stride, raw and reported, against the truth."""

    track_id: int
    duration: float
    times: np.ndarray
    raw: list[str]  # the best allowed behaviour of each verdict
    reported: list[str]  # what the stage reports after the verdict rules (UNDECIDED until decided)
    truth: list[str | None]


def predict_tracks(predict: Predict, tracks: Sequence[LabelledTrack], spec: FeatureSpec, behaviours: Sequence[str],
                   applies_to: dict[str, tuple[str, ...]] | None, stride: float, min_history: float) -> list[TrackProbs]:
    """Every track's windows as the live stage cuts them (every ``stride`` s once ``min_history`` s old),
    through ``predict``, restricted to the behaviours of the track's class."""
    out = []
    for track in tracks:
        class_id = spec.class_index(track.class_name)
        if class_id is None:
            raise EdgewatchError(f"track {track.track_id}: class {track.class_name!r} unknown to the model")
        allowed = np.isin(behaviours, (applies_to or {}).get(track.class_name, behaviours))
        start = track.times[0]
        X, mask, ends = track_windows(track.times, track.boxes, class_id, spec, stride,
                                      max(min_history, stride), track.cut)
        probs = np.zeros((0, len(behaviours)))
        if len(X):
            probs = np.where(allowed, predict(X, mask), 0.0)
            probs = probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12)
        out.append(TrackProbs(track.track_id, float(track.times[-1] - start), ends - start, probs, track.label_at(ends)))
    return out


def replay_tracks(tracks: Sequence[TrackProbs], rules: VerdictRules, behaviours: Sequence[str]) -> list[TrackReplay]:
    """Each track's raw verdicts held to the verdict rules, as the live stage reports them."""
    return [TrackReplay(t.track_id, t.duration, t.times, [behaviours[i] for i in t.probs.argmax(1)] if len(t.probs) else [],
                        verdict_series(t.times, t.times, t.probs, rules, behaviours), t.truth) for t in tracks]


def _changes(labels: Sequence[str]) -> int:
    decided = [lb for lb in labels if lb != UNDECIDED]
    return sum(a != b for a, b in zip(decided, decided[1:]))


def track_metrics(replays: Sequence[TrackReplay]) -> dict[str, Any]:
    """What a person would see on these tracks.

    ``raw_*``: each verdict's best behaviour against the span label; ``reported_*``: the reported
    behaviour where decided (``reported_coverage``: the share of labelled verdict times decided);
    macro-F1 over the behaviours present in the labels. ``changes_per_track_minute``: reported
    behaviour changes (not counting the first decision) per minute of track; ``raw_changes_...``:
    the same for the raw verdicts. ``first_decision_s``: median seconds from a track's start to its
    first decided verdict, over the tracks that got one; ``undecided_tracks``: the tracks that never did.
    """
    truth, raw, reported = [], [], []
    for r in replays:
        for t, a, b in zip(r.truth, r.raw, r.reported):
            if t is not None:
                truth.append(t)
                raw.append(a)
                reported.append(b)
    present = sorted(set(truth))
    decided = [i for i, b in enumerate(reported) if b != UNDECIDED]
    minutes = sum(r.duration for r in replays) / 60.0
    firsts = [float(r.times[next(i for i, b in enumerate(r.reported) if b != UNDECIDED)]) for r in replays
              if any(b != UNDECIDED for b in r.reported)]

    def scores(pred: list[str], true: list[str]) -> tuple[float | None, float | None]:
        if not true:  # nothing decided (or labelled): no score rather than NaN in the JSON
            return None, None
        return float(np.mean(np.array(pred) == np.array(true))), float(
            f1_score(true, pred, labels=present, average="macro", zero_division=0))

    raw_acc, raw_f1 = scores(raw, truth)
    rep_acc, rep_f1 = scores([reported[i] for i in decided], [truth[i] for i in decided])
    return {
        "tracks": len(replays), "track_minutes": round(minutes, 3), "labelled_verdicts": len(truth),
        "behaviours_present": present,
        "raw_accuracy": raw_acc, "raw_macro_f1": raw_f1,
        "reported_accuracy": rep_acc, "reported_macro_f1": rep_f1,
        "reported_coverage": len(decided) / max(len(truth), 1),
        "changes_per_track_minute": sum(_changes(r.reported) for r in replays) / max(minutes, 1e-9),
        "raw_changes_per_track_minute": sum(_changes(r.raw) for r in replays) / max(minutes, 1e-9),
        "first_decision_s": float(np.median(firsts)) if firsts else None,
        "undecided_tracks": sum(all(b == UNDECIDED for b in r.reported) for r in replays),
        "reported_shares": {b: reported.count(b) / max(len(decided), 1) for b in sorted(set(reported) - {UNDECIDED})},
        "reported_confusion": {t: {b: sum(1 for i in decided if truth[i] == t and reported[i] == b)
                                   for b in sorted({reported[i] for i in decided})} for t in present},
    }


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits, row by row."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def real_track_report(model: LoadedModel, rules: Predict | None, tracks: Sequence[LabelledTrack],
                      verdicts: VerdictRules, stride: float) -> dict[str, Any]:
    """:func:`track_metrics` of the model and (when given) of the rule baseline on the same labelled
    tracks, replayed with the same verdict rules and cadence."""
    if model.feature_spec is None:
        raise EdgewatchError(f"{model.path}: not a track model (no feature spec); real tracks need one")

    def replayed(predict: Predict) -> dict[str, Any]:
        probs = predict_tracks(predict, tracks, model.feature_spec, model.classes, model.applies_to, stride,
                               model.min_history)
        return track_metrics(replay_tracks(probs, verdicts, model.classes))

    report = {"model": replayed(lambda X, mask: softmax(model.logits(X, mask)))}
    if rules is not None:
        report["rules"] = replayed(rules)
    return report


def live_metrics(rows: Sequence[tuple[float, int, str, str]], fps: float) -> dict[str, Any]:
    """What the live stage reported over a clip (``rows``: time, track id, class, label per frame and
    track, :func:`edgewatch.stages.replay.reported`), per class: changes of the reported behaviour per
    track-minute (the first decision is not a change), the share of track time per behaviour and
    undecided, and the median seconds from a track's first frame to its first decision."""
    out: dict[str, Any] = {}
    for name in sorted({r[2] for r in rows}):
        tracks: dict[int, list[tuple[float, str]]] = {}
        for time, track_id, cls, label in rows:
            if cls == name:
                tracks.setdefault(track_id, []).append((time, label))
        minutes = sum(len(v) for v in tracks.values()) / fps / 60.0
        labels = [label for v in tracks.values() for _, label in v]
        firsts = [next(t for t, lb in v if lb != UNDECIDED) - v[0][0] for v in tracks.values()
                  if any(lb != UNDECIDED for _, lb in v)]
        out[name] = {
            "tracks": len(tracks), "track_minutes": round(minutes, 3),
            "changes_per_track_minute": sum(_changes([lb for _, lb in v]) for v in tracks.values()) / max(minutes, 1e-9),
            "time_shares": {lb: labels.count(lb) / len(labels) for lb in sorted(set(labels))},
            "first_decision_s": float(np.median(firsts)) if firsts else None,
        }
    return out
