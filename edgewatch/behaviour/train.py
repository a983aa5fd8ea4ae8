"""Training and inference of the temporal models (torch), and the checkpoint format.

A checkpoint (``torch.save`` of a plain dict) holds the model config and weights plus everything the
export needs to describe the model: label names, the feature spec (None for non-track data such as
UEA sensor series) and which behaviours apply to which detector class.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from torch import nn
from tqdm import tqdm

from edgewatch.behaviour.data import Dataset
from edgewatch.behaviour.features import FeatureSpec
from edgewatch.behaviour.models import ModelConfig, build_model
from edgewatch.errors import EdgewatchError


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (the CLI's options)."""

    epochs: int = 70
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    clip: float = 1.0
    patience: int = 25
    val_fraction: float = 0.15
    seed: int = 0


@dataclass
class Trained:
    """A trained model and what describes it."""

    model: nn.Module
    classes: tuple[str, ...]
    feature_spec: FeatureSpec | None
    applies_to: dict[str, list[str]] | None
    history: list[dict[str, float]]


def fit_normaliser(model: nn.Module, X: np.ndarray, mask: np.ndarray) -> None:
    """Store the mean/std of valid training steps in the model (constant columns keep std 1)."""
    valid = X[mask > 0.5]
    std = valid.std(axis=0)
    model.norm.mean.copy_(torch.from_numpy(valid.mean(axis=0)))
    model.norm.std.copy_(torch.from_numpy(np.where(std < 1e-3, 1.0, std)))


def predict_logits(model: nn.Module, X: np.ndarray, mask: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Logits ``[N, K]`` in eval mode, batched."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            out.append(model(torch.from_numpy(X[i:i + batch_size]), torch.from_numpy(mask[i:i + batch_size])).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def macro_f1(y: np.ndarray, pred: np.ndarray, num_classes: int) -> float:
    """Macro-F1 over all ``num_classes`` (absent classes count as 0): rare behaviours weigh as much as common ones."""
    return float(f1_score(y, pred, labels=list(range(num_classes)), average="macro", zero_division=0))


def train(dataset: Dataset, model_config: ModelConfig, config: TrainConfig,
          applies_to: dict[str, list[str]] | None = None,
          progress: Callable[[dict[str, float]], None] | None = None) -> Trained:
    """Train with AdamW, gradient clipping and early stopping on the best validation macro-F1.

    The validation split is stratified and seeded; the returned model holds the best epoch's weights.
    """
    if len(dataset) < 4:
        raise EdgewatchError(f"training needs at least 4 sequences, got {len(dataset)}")
    torch.manual_seed(config.seed)
    counts = np.bincount(dataset.y, minlength=len(dataset.classes))
    stratify = dataset.y if counts[counts > 0].min() >= 2 else None
    train_idx, val_idx = train_test_split(np.arange(len(dataset)), test_size=config.val_fraction,
                                          random_state=config.seed, stratify=stratify)
    tr, va = dataset.subset(train_idx), dataset.subset(val_idx)
    model = build_model(model_config)
    fit_normaliser(model, tr.X, tr.mask)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    X, M, T = (torch.from_numpy(a) for a in (tr.X, tr.mask, tr.soft_targets()))
    generator = torch.Generator().manual_seed(config.seed)
    best, best_state, stale, history = (-1.0, 0.0), copy.deepcopy(model.state_dict()), 0, []
    bar = tqdm(range(config.epochs), desc=f"train {model_config.kind}", unit="epoch", leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(X), generator=generator)
        total = 0.0
        for i in range(0, len(order), config.batch_size):
            idx = order[i:i + config.batch_size]
            loss = loss_fn(model(X[idx], M[idx]), T[idx])  # label shares: a mixed label teaches "about half"
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            optimiser.step()
            total += loss.item() * len(idx)
        schedule.step()
        val_logits = predict_logits(model, va.X, va.mask)
        val_pred = val_logits.argmax(1)
        definite = va.soft_targets().max(axis=1) >= 1.0 - 1e-6  # scored where the label is one behaviour
        row = {"epoch": epoch + 1, "loss": total / len(X),
               "val_accuracy": float((val_pred[definite] == va.y[definite]).mean()),
               "val_macro_f1": macro_f1(va.y[definite], val_pred[definite], len(dataset.classes)),
               "val_loss": float(nn.functional.cross_entropy(torch.from_numpy(val_logits), torch.from_numpy(va.y)))}
        history.append(row)
        bar.set_postfix(loss=f"{row['loss']:.3f}", val_f1=f"{row['val_macro_f1']:.3f}")
        if progress is not None:
            progress(row)
        # macro-F1 first, validation loss breaks ties: a small validation set reaches F1 = 1 early
        score = (row["val_macro_f1"], -row["val_loss"])
        if score > best:
            best, best_state, stale = score, copy.deepcopy(model.state_dict()), 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return Trained(model, dataset.classes, dataset.feature_spec, applies_to, history)


def save_checkpoint(trained: Trained, path: Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the checkpoint dict (plain types + a state dict; loadable with ``weights_only=True``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "config": trained.model.config.to_dict(),
        "state_dict": trained.model.state_dict(),
        "classes": list(trained.classes),
        "feature_spec": None if trained.feature_spec is None else trained.feature_spec.to_json(),
        "applies_to": trained.applies_to,
        "history": trained.history,
        **(extra or {}),
    }, path)
    return path


def load_checkpoint(path: Path) -> Trained:
    """Rebuild a model from :func:`save_checkpoint`'s file."""
    path = Path(path)
    if not path.is_file():
        raise EdgewatchError(f"{path}: no such checkpoint")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model = build_model(ModelConfig(**ckpt["config"]))
    except (KeyError, TypeError, RuntimeError, ValueError) as exc:
        raise EdgewatchError(f"{path}: not an edgewatch temporal checkpoint ({exc.__class__.__name__})") from None
    try:
        model.load_state_dict(ckpt["state_dict"])
    except (KeyError, RuntimeError) as exc:
        raise EdgewatchError(f"{path}: its weights do not fit this edgewatch's {ckpt['config'].get('kind')} model "
                             "(written by an older version? retrain it with edgewatch train temporal)") from None
    model.eval()
    spec = ckpt.get("feature_spec")
    return Trained(model, tuple(ckpt["classes"]), FeatureSpec.from_json(spec) if spec else None,
                   ckpt.get("applies_to"), list(ckpt.get("history", [])))
