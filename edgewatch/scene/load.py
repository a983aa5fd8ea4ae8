"""Scene files: a YAML document per camera, read and validated once at load (``[sourceN] scene=``).

Public API: ``load_scene(path) -> Scene``, ``parse_scene(data, where) -> Scene``. Every mistake is one
:class:`EdgewatchError` line naming the file and the key (``campus.yaml: zones[1]: key 'polygon' ...``).

The format (keys follow nvdsanalytics where it has one; times in seconds, speeds in km/h)::

    frame-size: [768, 576]          # optional: the pixel size the coordinates below refer to
    lane-direction: [1, 0]          # optional: image dx, dy of legal traffic (the temporal model's input)
    speed-window: 1.0               # s of foot-point track each ground speed is fitted over
    hysteresis: 0.1                 # box heights a foot point must be past an edge to change state
    max-speed: 150                  # km/h: faster jumps are identity switches (speed history restarts)
    calibration:                    # optional: image -> ground homography, 4 or more point pairs
      image:  [[x, y], ...]         #   pixels
      ground: [[X, Y], ...]         #   metres
    zones:
      - name: bench                 # letters, digits, '_' and '-'
        polygon: [[x, y], ...]      # 3 or more pixels
        kind: zone                  # zone | include | exclude (regions of interest)
        classes: [person]           # optional: detector classes it applies to (default all)
        restricted: false           # entering is an intrusion
        dwell-limit: 5              # s: a dwell event when a track stays longer
        overcrowding: {object-threshold: 3, time-threshold: 2}
        speed-limit: 10             # km/h: a speeding event above it (needs a calibration)
        lane-direction: [0, 1]      # this zone's own lane direction
    lines:
      - name: path
        line: [[x, y], [x, y]]
        direction: [[x, y], [x, y]] # arrow: crossing the way it points is "in", the other way "out"
        classes: [person]
        extended: false             # also count crossings beyond the segment's ends
    directions:
      - name: north
        direction: [[x, y], [x, y]]
        classes: [person]
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from edgewatch.errors import EdgewatchError
from edgewatch.scene.geometry import Point
from edgewatch.scene.model import ZONE_KINDS, Calibration, Direction, Line, Overcrowding, Scene, Zone
from edgewatch.yaml_checks import flag, no_unknown, number, require, string_list, vector

NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # safe as an nvdsanalytics label and in any log
_TOP = {"frame-size", "lane-direction", "speed-window", "hysteresis", "max-speed", "calibration", "zones", "lines",
        "directions"}
_ZONE_ONLY = ("restricted", "dwell-limit", "overcrowding", "speed-limit", "lane-direction")  # not for include/exclude
_MIN_ARROW_ANGLE = 5.0  # degrees between a line and its direction arrow, below which "in" is ill-defined


def _points(value: Any, where: str, count: int | None = None, at_least: int = 1) -> tuple[Point, ...]:
    if not isinstance(value, list) or (count is not None and len(value) != count) or len(value) < at_least:
        need = f"{count}" if count is not None else f"{at_least} or more"
        raise EdgewatchError(f"{where} must be a list of {need} [x, y] points")
    return tuple(vector(p, f"{where}[{i}]", nonzero=False) for i, p in enumerate(value))


def _name(item: dict[str, Any], where: str, seen: set[str]) -> str:
    name = str(require(item, "name", str, where))
    if not NAME.match(name):
        raise EdgewatchError(f"{where}: key 'name' must be letters, digits, '_' or '-', got {name!r}")
    if name in seen:
        raise EdgewatchError(f"{where}: name {name!r} is used twice")
    seen.add(name)
    return name


def _classes(item: dict[str, Any], where: str) -> tuple[str, ...]:
    return string_list(item["classes"], f"{where}.classes") if "classes" in item else ()


def _items(data: dict[str, Any], key: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise EdgewatchError(f"{where}: key '{key}' must be a list")
    out = []
    for i, item in enumerate(value):
        at = f"{where}: {key}[{i}]"
        if not isinstance(item, dict):
            raise EdgewatchError(f"{at} must be a mapping")
        out.append((at, item))
    return out


def _zone(item: dict[str, Any], at: str, seen: set[str]) -> Zone:
    no_unknown(item, {"name", "polygon", "kind", "classes", *_ZONE_ONLY}, at)
    name = _name(item, at, seen)
    polygon = _points(require(item, "polygon", list, at), f"{at}.polygon", at_least=3)
    area = 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1])))
    if area < 1.0:
        raise EdgewatchError(f"{at}.polygon encloses no area (its points are on one line)")
    kind = item.get("kind", "zone")
    if kind not in ZONE_KINDS:
        raise EdgewatchError(f"{at}: key 'kind' must be one of {'|'.join(ZONE_KINDS)}, got {kind!r}")
    if kind != "zone":
        extra = [k for k in _ZONE_ONLY if k in item]
        if extra:
            raise EdgewatchError(f"{at}: key '{extra[0]}' needs kind: zone (a region of interest only filters)")
    crowd = None
    if "overcrowding" in item:
        oc = require(item, "overcrowding", dict, at)
        no_unknown(oc, {"object-threshold", "time-threshold"}, f"{at}.overcrowding")
        threshold = require(oc, "object-threshold", int, f"{at}.overcrowding")
        if threshold < 1:
            raise EdgewatchError(f"{at}.overcrowding: key 'object-threshold' must be >= 1, got {threshold}")
        seconds = number(oc, "time-threshold", f"{at}.overcrowding", positive=False)
        if seconds is not None and seconds < 0:
            raise EdgewatchError(f"{at}.overcrowding: key 'time-threshold' must be >= 0, got {seconds:g}")
        crowd = Overcrowding(threshold, 0.0 if seconds is None else seconds)
    lane = vector(item["lane-direction"], f"{at}.lane-direction") if "lane-direction" in item else None
    return Zone(name, polygon, kind, _classes(item, at), flag(item, "restricted", at), number(item, "dwell-limit", at),
                crowd, number(item, "speed-limit", at), lane)


def _angle(a: tuple[Point, Point], b: tuple[Point, Point]) -> float:
    """Unsigned angle in degrees between two segments' directions, folded into [0, 90]."""
    ax, ay = a[1][0] - a[0][0], a[1][1] - a[0][1]
    bx, by = b[1][0] - b[0][0], b[1][1] - b[0][1]
    cos = abs(ax * bx + ay * by) / max(math.hypot(ax, ay) * math.hypot(bx, by), 1e-12)
    return math.degrees(math.acos(min(cos, 1.0)))


def _segment(value: Any, where: str) -> tuple[Point, Point]:
    a, b = _points(value, where, count=2)
    if a == b:
        raise EdgewatchError(f"{where} has two equal points")
    return a, b


def _line(item: dict[str, Any], at: str, seen: set[str]) -> Line:
    no_unknown(item, {"name", "line", "direction", "classes", "extended"}, at)
    name = _name(item, at, seen)
    segment = _segment(require(item, "line", list, at), f"{at}.line")
    arrow = _segment(require(item, "direction", list, at), f"{at}.direction")
    if _angle(segment, arrow) < _MIN_ARROW_ANGLE:
        raise EdgewatchError(f"{at}.direction runs along the line: it must point across it (which way is 'in')")
    return Line(name, segment[0], segment[1], arrow, _classes(item, at), flag(item, "extended", at))


def _direction(item: dict[str, Any], at: str, seen: set[str]) -> Direction:
    no_unknown(item, {"name", "direction", "classes"}, at)
    name = _name(item, at, seen)
    start, end = _segment(require(item, "direction", list, at), f"{at}.direction")
    return Direction(name, start, end, _classes(item, at))


def parse_scene(data: Any, where: str) -> Scene:
    """Validate a parsed scene document; ``where`` (the file name) starts every error."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EdgewatchError(f"{where}: expected a mapping at the top level")
    no_unknown(data, _TOP, where)
    size = None
    if "frame-size" in data:
        w, h = vector(require(data, "frame-size", list, where), f"{where}: frame-size")
        if w < 1 or h < 1 or w != int(w) or h != int(h):
            raise EdgewatchError(f"{where}: frame-size must be two positive whole numbers of pixels")
        size = (int(w), int(h))
    calibration = None
    if "calibration" in data:
        cal = require(data, "calibration", dict, where)
        at = f"{where}: calibration"
        no_unknown(cal, {"image", "ground"}, at)
        image = _points(require(cal, "image", list, at), f"{at}.image", at_least=4)
        ground = _points(require(cal, "ground", list, at), f"{at}.ground", count=len(image))
        try:
            calibration = Calibration.fit(image, ground)
        except EdgewatchError as exc:
            raise EdgewatchError(f"{at}: {exc}") from None
    hysteresis = number(data, "hysteresis", where, positive=False)
    if hysteresis is not None and not 0 <= hysteresis <= 1:
        raise EdgewatchError(f"{where}: key 'hysteresis' must be between 0 and 1 (box heights), got {hysteresis:g}")
    zone_names: set[str] = set()
    line_names: set[str] = set()
    direction_names: set[str] = set()
    zones = tuple(_zone(item, at, zone_names) for at, item in _items(data, "zones", where))
    missing = [z.name for z in zones if z.speed_limit is not None and calibration is None]
    if missing:
        raise EdgewatchError(f"{where}: zone {missing[0]!r} has a speed-limit but the scene has no calibration")
    defaults = Scene(where)
    return Scene(
        source=where,
        zones=zones,
        lines=tuple(_line(item, at, line_names) for at, item in _items(data, "lines", where)),
        directions=tuple(_direction(item, at, direction_names) for at, item in _items(data, "directions", where)),
        calibration=calibration,
        lane_direction=vector(data["lane-direction"], f"{where}: lane-direction") if "lane-direction" in data else None,
        frame_size=size,
        speed_window=number(data, "speed-window", where) or defaults.speed_window,
        hysteresis=defaults.hysteresis if hysteresis is None else hysteresis,
        max_speed=number(data, "max-speed", where) or defaults.max_speed,
    )


def load_scene(path: str | Path) -> Scene:
    """Read and validate a scene file."""
    path = Path(path)
    if not path.is_file():
        raise EdgewatchError(f"scene file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise EdgewatchError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_scene(data, str(path))
