"""The kinematic rule baseline: thresholds on a few motion summaries, tuned on the training data.

What a user would write instead of a learnt model: "running if the speed over the last second is above
x body heights per second, pacing if the track turned back at least twice within a few metres, wrong
way if it moves against the lane..." Here the summaries are computed from the same feature windows the
model reads (:func:`summaries`), and the thresholds are not guessed but fitted: a shallow decision
tree (scikit-learn) whose depth is chosen on a validation split of the training data, so the
baseline is as good as thresholds on these quantities get. It is the reference column next to the
model in ``edgewatch eval temporal``; ``train temporal`` writes it to ``rules.json`` beside the model.

Public API: :data:`SUMMARIES`, :func:`summaries`, :class:`RuleBaseline` (``fit``, ``predict_proba``,
``save``, ``load``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgewatch.behaviour.data import Dataset
from edgewatch.behaviour.features import MOTION_FEATURES, FeatureSpec
from edgewatch.errors import EdgewatchError

SUMMARIES: tuple[str, ...] = (
    "history_s",  # seconds of track in the window
    "speed_recent",  # median speed over the newest second, heights/s
    "speed_median",  # median speed over the window
    "speed_p90",
    "net_displacement",  # oldest to newest position, heights
    "straightness",  # net displacement / path length
    "spread",  # largest distance from the mean position, heights
    "reversals",  # sign changes of the velocity along the main axis of motion
    "moving_share",  # share of steps faster than 0.2 heights/s
    "along_mean",  # mean velocity along the lane direction
    "lateral_shift",  # displacement across the lane over the window, heights
    "heading_change",  # angle between the first and last third's mean velocity, radians
    "growth_abs",  # mean |d log h / dt|
    "cut_share",  # share of steps whose box the frame edge cut
    "class_index",  # the detector class (its one-hot column)
)
_COL = {name: i for i, name in enumerate(MOTION_FEATURES)}
MOVING = 0.2  # heights per second
DEPTHS = (3, 4, 5, 6, 7, 8)


def _one(x: np.ndarray, step: float) -> list[float]:
    """The summaries of one window's valid steps ``x [n, F]``."""
    speed = x[:, _COL["speed"]]
    pos = x[:, [_COL["rel_x"], _COL["rel_y"]]]
    vel = x[:, [_COL["vel_x"], _COL["vel_y"]]]
    n = len(x)
    path = float(np.linalg.norm(np.diff(pos, axis=0), axis=1).sum()) if n > 1 else 0.0
    net = float(np.linalg.norm(pos[0] - pos[-1]))
    centred = pos - pos.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0] if n > 1 and np.abs(centred).sum() > 0 else np.zeros(2)
    along_axis = vel @ axis
    signs = np.sign(along_axis[np.abs(along_axis) > MOVING])
    third = max(1, n // 3)
    first, last = vel[:third].mean(axis=0), vel[-third:].mean(axis=0)
    norms = np.linalg.norm(first) * np.linalg.norm(last)
    turn = float(np.arccos(np.clip(first @ last / norms, -1, 1))) if norms > MOVING**2 else 0.0
    return [
        (n - 1) * step, float(np.median(speed[-4:])), float(np.median(speed)), float(np.percentile(speed, 90)),
        net, net / max(path, 1e-6), float(np.linalg.norm(centred, axis=1).max()),
        float(np.count_nonzero(np.diff(signs))), float(np.mean(speed > MOVING)),
        float(x[:, _COL["vel_along"]].mean()), float(abs(x[:, _COL["vel_across"]].sum() * step)), turn,
        float(np.abs(x[:, _COL["growth"]]).mean()), float(x[:, [_COL["cut_x"], _COL["cut_y"]]].max(axis=1).mean()),
        float(x[-1, len(MOTION_FEATURES):].argmax()),
    ]


def summaries(X: np.ndarray, mask: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """``[N, len(SUMMARIES)]`` motion summaries of feature windows ``X [N, W, F]`` (valid steps only)."""
    if X.shape[-1] != spec.num_features:
        raise EdgewatchError(f"rule baseline: windows have {X.shape[-1]} features, the spec {spec.num_features}")
    return np.array([_one(x[m > 0.5], spec.step) for x, m in zip(X, mask)], np.float64).reshape(-1, len(SUMMARIES))


@dataclass(frozen=True)
class RuleBaseline:
    """A fitted threshold tree: node arrays as scikit-learn builds them (``left == -1`` marks a leaf)."""

    classes: tuple[str, ...]
    feature_spec: FeatureSpec
    feature: np.ndarray  # [nodes] summary index tested at the node
    threshold: np.ndarray  # [nodes] go left when summary <= threshold
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray  # [nodes, K] class shares of the training windows reaching the node
    depth: int

    @staticmethod
    def fit(data: Dataset, seed: int = 0) -> RuleBaseline:
        """Thresholds fitted on ``data`` (windows with a feature spec); the depth is the one of
        :data:`DEPTHS` that does best on a stratified 15% of it, refitted on all of it."""
        from sklearn.metrics import f1_score
        from sklearn.model_selection import train_test_split
        from sklearn.tree import DecisionTreeClassifier

        if data.feature_spec is None:
            raise EdgewatchError("the rule baseline needs track data (a feature spec), not generic sequences")
        S = summaries(data.X, data.mask, data.feature_spec)
        if len(S) < 2:
            raise EdgewatchError(f"the rule baseline needs at least 2 windows, got {len(S)}")
        counts = np.bincount(data.y)
        present = counts[counts > 0]
        # stratified where every behaviour can appear on both sides (tiny data sets: a plain split)
        stratify = data.y if present.min() >= 2 and round(0.15 * len(S)) >= len(present) else None
        tr, va = train_test_split(np.arange(len(S)), test_size=0.15, random_state=seed, stratify=stratify)

        def tree(depth: int) -> DecisionTreeClassifier:
            return DecisionTreeClassifier(max_depth=depth, min_samples_leaf=10, random_state=seed)

        scores = {d: f1_score(data.y[va], tree(d).fit(S[tr], data.y[tr]).predict(S[va]), average="macro")
                  for d in DEPTHS}
        depth = max(scores, key=lambda d: scores[d])
        fitted = tree(depth).fit(S, data.y)
        model = fitted.tree_
        value = np.zeros((model.node_count, len(data.classes)))
        value[:, fitted.classes_] = model.value[:, 0, :] / model.value[:, 0, :].sum(axis=1, keepdims=True)
        return RuleBaseline(tuple(data.classes), data.feature_spec, model.feature.copy(), model.threshold.copy(),
                            model.children_left.copy(), model.children_right.copy(), value, depth)

    def predict_proba(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Class shares ``[N, K]`` of the leaf each window falls in."""
        S = summaries(X, mask, self.feature_spec)
        node = np.zeros(len(S), np.int64)
        for _ in range(self.depth + 1):
            inner = self.left[node] >= 0
            go_left = S[np.arange(len(S)), np.maximum(self.feature[node], 0)] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        return self.value[node]

    def save(self, path: Path) -> Path:
        """JSON: the thresholds readable by anyone, no pickles."""
        Path(path).write_text(json.dumps({
            "kind": "edgewatch rule baseline", "classes": list(self.classes), "summaries": list(SUMMARIES),
            "feature_spec": self.feature_spec.to_json(), "depth": self.depth,
            "nodes": {"feature": self.feature.tolist(), "threshold": self.threshold.tolist(),
                      "left": self.left.tolist(), "right": self.right.tolist(), "value": self.value.tolist()},
        }))
        return Path(path)

    @staticmethod
    def load(path: Path) -> RuleBaseline:
        """Read :meth:`save`'s file; one clear error for anything else."""
        try:
            data = json.loads(Path(path).read_text())
            nodes = data["nodes"]
            if data.get("kind") != "edgewatch rule baseline" or list(data["summaries"]) != list(SUMMARIES):
                raise KeyError("kind")
            return RuleBaseline(tuple(data["classes"]), FeatureSpec.from_json(data["feature_spec"]),
                                np.array(nodes["feature"]), np.array(nodes["threshold"]), np.array(nodes["left"]),
                                np.array(nodes["right"]), np.array(nodes["value"]), int(data["depth"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EdgewatchError(f"{path}: not an edgewatch rule baseline of this version ({exc})") from None
