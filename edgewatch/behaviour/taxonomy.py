"""The behaviour taxonomy and scene parameters, read from ``configs/behaviours.yaml`` (never from code).

A :class:`Taxonomy` says which behaviours exist, which detector classes each group applies to, how
features are computed and what the scene looks like (frame rate, lane direction, zones). Everything is
validated once at load time; a bad file gives one :class:`EdgewatchError` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from edgewatch.behaviour.features import FeatureSpec
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT

DEFAULT_TAXONOMY = REPO_ROOT / "configs" / "behaviours.yaml"


@dataclass(frozen=True)
class BehaviourGroup:
    """Behaviours that apply to a set of detector classes (people, vehicles)."""

    name: str
    classes: tuple[str, ...]
    behaviours: tuple[str, ...]


@dataclass(frozen=True)
class Zone:
    """A named image polygon (pixels)."""

    name: str
    polygon: tuple[tuple[float, float], ...]

    def contains(self, x: float, y: float) -> bool:
        """Even-odd rule point-in-polygon test (points on an edge may fall either side)."""
        pts = np.asarray(self.polygon)
        x0, y0 = pts[:, 0], pts[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        return bool(np.count_nonzero(crosses & (x < at)) % 2)


@dataclass(frozen=True)
class Scene:
    """One camera's parameters."""

    frame_rate: float
    lane_direction: tuple[float, float] | None
    zones: tuple[Zone, ...]

    def zones_at(self, x: float, y: float) -> tuple[str, ...]:
        """Names of the zones that contain an image point (e.g. a track's foot point)."""
        return tuple(z.name for z in self.zones if z.contains(x, y))


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


def _require(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise EdgewatchError(f"{where}: missing key '{key}'")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise EdgewatchError(f"{where}: key '{key}' must be {names}, got {type(value).__name__}")
    return value


def _no_unknown(data: dict[str, Any], known: set[str], where: str) -> None:
    for key in data:
        if key not in known:
            raise EdgewatchError(f"{where}: unknown key '{key}'")


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise EdgewatchError(f"{where} must be a non-empty list of strings")
    if len(set(value)) != len(value):
        raise EdgewatchError(f"{where} has duplicates")
    return tuple(value)


def _vector(value: Any, where: str, nonzero: bool = True) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise EdgewatchError(f"{where} must be a list of two numbers")
    if nonzero and value[0] == 0 and value[1] == 0:
        raise EdgewatchError(f"{where} must not be the zero vector")
    return float(value[0]), float(value[1])


def parse_taxonomy(data: Any, where: str) -> Taxonomy:
    """Validate a parsed YAML document; ``where`` (the file name) prefixes every error."""
    if not isinstance(data, dict):
        raise EdgewatchError(f"{where}: expected a mapping at the top level")
    _no_unknown(data, {"groups", "features", "scene"}, where)
    groups_data = _require(data, "groups", dict, where)
    groups = []
    for name, body in groups_data.items():
        at = f"{where}: groups.{name}"
        if not isinstance(body, dict):
            raise EdgewatchError(f"{at} must be a mapping")
        _no_unknown(body, {"classes", "behaviours"}, at)
        groups.append(BehaviourGroup(str(name), _string_list(_require(body, "classes", list, at), f"{at}.classes"),
                                     _string_list(_require(body, "behaviours", list, at), f"{at}.behaviours")))
    if not groups:
        raise EdgewatchError(f"{where}: groups must not be empty")
    for label, kind in (("classes", "class"), ("behaviours", "behaviour")):
        names = [n for g in groups for n in getattr(g, label)]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise EdgewatchError(f"{where}: groups: {kind} {dup!r} appears in two groups")

    feat = _require(data, "features", dict, where)
    _no_unknown(feat, {"window", "step", "smoothing"}, f"{where}: features")
    scene_data = _require(data, "scene", dict, where)
    _no_unknown(scene_data, {"frame_rate", "lane_direction", "zones"}, f"{where}: scene")
    frame_rate = float(_require(scene_data, "frame_rate", (int, float), f"{where}: scene"))
    if frame_rate <= 0:
        raise EdgewatchError(f"{where}: scene.frame_rate must be > 0")
    lane = scene_data.get("lane_direction")
    lane = None if lane is None else _vector(lane, f"{where}: scene.lane_direction")
    zones = []
    for i, zone in enumerate(scene_data.get("zones") or []):
        at = f"{where}: scene.zones[{i}]"
        if not isinstance(zone, dict):
            raise EdgewatchError(f"{at} must be a mapping")
        _no_unknown(zone, {"name", "polygon"}, at)
        poly = _require(zone, "polygon", list, at)
        if len(poly) < 3:
            raise EdgewatchError(f"{at}.polygon needs at least 3 points")
        points = tuple(_vector(p, f"{at}.polygon[{j}]", nonzero=False) for j, p in enumerate(poly))
        zones.append(Zone(str(_require(zone, "name", str, at)), points))

    spec = FeatureSpec(
        window=int(_require(feat, "window", int, f"{where}: features")),
        step=float(_require(feat, "step", (int, float), f"{where}: features")),
        smoothing=str(feat.get("smoothing", "none")),
        classes=tuple(c for g in groups for c in g.classes),
        lane_direction=lane,
    )
    return Taxonomy(tuple(groups), spec, Scene(frame_rate, lane, tuple(zones)))


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
