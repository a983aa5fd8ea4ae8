"""The behaviour taxonomy and scene parameters, read from ``configs/behaviours.yaml`` (never from code).

A :class:`Taxonomy` says which behaviours exist, which detector classes each group applies to, how
features are computed and the scene training data assumes (frame rate, lane direction). Everything is
validated once at load time; a bad file gives one :class:`EdgewatchError` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from edgewatch.behaviour.features import FeatureSpec
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT
from edgewatch.yaml_checks import no_unknown, require, string_list, vector

DEFAULT_TAXONOMY = REPO_ROOT / "configs" / "behaviours.yaml"


@dataclass(frozen=True)
class BehaviourGroup:
    """Behaviours that apply to a set of detector classes (people, vehicles)."""

    name: str
    classes: tuple[str, ...]
    behaviours: tuple[str, ...]


@dataclass(frozen=True)
class Scene:
    """The scene parameters training data is read with: the frame rate of MOT files and the lane direction
    simulated tracks are drawn against (a camera's own scene, with its zones and lines, is its
    ``[sourceN] scene`` file: :mod:`edgewatch.scene`)."""

    frame_rate: float
    lane_direction: tuple[float, float] | None


@dataclass(frozen=True)
class Taxonomy:
    """The whole behaviours file."""

    groups: tuple[BehaviourGroup, ...]
    features: FeatureSpec
    scene: Scene

    @property
    def behaviours(self) -> tuple[str, ...]:
        """All behaviour labels, group by group: the model's output order."""
        return tuple(b for g in self.groups for b in g.behaviours)

    @property
    def classes(self) -> tuple[str, ...]:
        """All detector class names covered, group by group: the feature one-hot order."""
        return tuple(c for g in self.groups for c in g.classes)

    def group_of(self, class_name: str) -> BehaviourGroup:
        """The group a detector class belongs to."""
        for group in self.groups:
            if class_name in group.classes:
                return group
        raise EdgewatchError(f"behaviours: class {class_name!r} is in no group")

    def applies_to(self) -> dict[str, list[str]]:
        """class name -> behaviours allowed for it (stored in the ONNX metadata for the runtime)."""
        return {c: list(g.behaviours) for g in self.groups for c in g.classes}


def parse_taxonomy(data: Any, where: str) -> Taxonomy:
    """Validate a parsed YAML document; ``where`` (the file name) prefixes every error."""
    if not isinstance(data, dict):
        raise EdgewatchError(f"{where}: expected a mapping at the top level")
    no_unknown(data, {"groups", "features", "scene"}, where)
    groups_data = require(data, "groups", dict, where)
    groups = []
    for name, body in groups_data.items():
        at = f"{where}: groups.{name}"
        if not isinstance(body, dict):
            raise EdgewatchError(f"{at} must be a mapping")
        no_unknown(body, {"classes", "behaviours"}, at)
        groups.append(BehaviourGroup(str(name), string_list(require(body, "classes", list, at), f"{at}.classes"),
                                     string_list(require(body, "behaviours", list, at), f"{at}.behaviours")))
    if not groups:
        raise EdgewatchError(f"{where}: groups must not be empty")
    for label, kind in (("classes", "class"), ("behaviours", "behaviour")):
        names = [n for g in groups for n in getattr(g, label)]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise EdgewatchError(f"{where}: groups: {kind} {dup!r} appears in two groups")

    feat = require(data, "features", dict, where)
    no_unknown(feat, {"window", "step", "smoothing"}, f"{where}: features")
    scene_data = require(data, "scene", dict, where)
    no_unknown(scene_data, {"frame_rate", "lane_direction"}, f"{where}: scene")
    frame_rate = float(require(scene_data, "frame_rate", (int, float), f"{where}: scene"))
    if frame_rate <= 0:
        raise EdgewatchError(f"{where}: scene.frame_rate must be > 0")
    lane = scene_data.get("lane_direction")
    lane = None if lane is None else vector(lane, f"{where}: scene.lane_direction")
    spec = FeatureSpec(
        window=int(require(feat, "window", int, f"{where}: features")),
        step=float(require(feat, "step", (int, float), f"{where}: features")),
        smoothing=str(feat.get("smoothing", "none")),
        classes=tuple(c for g in groups for c in g.classes),
        lane_direction=lane,
    )
    return Taxonomy(tuple(groups), spec, Scene(frame_rate, lane))


def load_taxonomy(path: Path = DEFAULT_TAXONOMY) -> Taxonomy:
    """Read and validate a behaviours YAML file."""
    path = Path(path)
    if not path.is_file():
        raise EdgewatchError(f"behaviours file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise EdgewatchError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_taxonomy(data, str(path))
