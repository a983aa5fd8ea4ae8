"""The sources' scenes as a config file for NVIDIA's ``nvdsanalytics`` plugin (for users who run the
geometric rules in DeepStream's own element instead of edgewatch's analytics stage).

Public API: ``nvdsanalytics_config(scenes, width, height, class_names) -> str`` (pure) and
:data:`DOCUMENTED_KEYS`, the plugin's groups and keys as NVIDIA documents them (the writer writes
nothing else; a test holds it to this table).

What maps: include / exclude zones -> ``[roi-filtering-stream-N]`` (``inverse-roi``), zones with
``overcrowding`` -> ``[overcrowding-stream-N]`` (``time-threshold`` in ms), lines ->
``[line-crossing-stream-N]`` (``line-crossing-<name>=`` the arrow's 4 numbers then the line's 4),
directions -> ``[direction-detection-stream-N]``. What has no counterpart in the plugin (dwell, zone
enter / exit, restricted areas, lane directions, calibrated speed) is listed in the file's comments:
those stay with edgewatch's stage. The plugin takes one ``class-id`` list (and one threshold, one
``inverse-roi``, one ``extended``) per group, so zones or lines of one stream that differ in those
cannot be written and raise :class:`EdgewatchError` naming them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from edgewatch.errors import EdgewatchError
from edgewatch.scene.geometry import Point
from edgewatch.scene.model import Scene

# group -> documented keys ("-N" groups are per stream; a "<label>" key is a prefix a name follows)
DOCUMENTED_KEYS: dict[str, tuple[str, ...]] = {
    "property": ("enable", "config-width", "config-height", "osd-mode", "display-font-size", "obj-cnt-win-in-ms",
                 "display-obj-cnt"),
    "roi-filtering-stream-N": ("enable", "roi-<label>", "inverse-roi", "class-id"),
    "overcrowding-stream-N": ("enable", "roi-<label>", "object-threshold", "time-threshold", "class-id"),
    "line-crossing-stream-N": ("enable", "line-crossing-<label>", "class-id", "extended", "mode"),
    "direction-detection-stream-N": ("enable", "direction-<label>", "class-id", "mode"),
}
T = TypeVar("T")
MODE = "balanced"  # direction adherence: strict | balanced | loose; edgewatch counts by side, like balanced


def _coords(points: Iterable[Point], width: int, height: int, what: str) -> str:
    out = []
    for x, y in points:
        xi, yi = int(round(x)), int(round(y))
        if not (0 <= xi <= width and 0 <= yi <= height):
            raise EdgewatchError(f"{what}: point ({x:g}, {y:g}) is outside the {width}x{height} frame; "
                                 "nvdsanalytics takes only points inside it")
        out += [str(xi), str(yi)]
    return ";".join(out)


def _one(values: dict[str, T], what: str, where: str) -> T:
    """The one value a group takes, or an error naming the items that differ."""
    distinct = set(map(repr, values.values()))
    if len(distinct) > 1:
        listed = ", ".join(f"{k} ({v})" for k, v in values.items())
        raise EdgewatchError(f"{where}: nvdsanalytics takes one {what} per stream, these differ: {listed}")
    return next(iter(values.values()))


def _class_ids(classes: tuple[str, ...], class_names: Sequence[str], where: str) -> str:
    if not classes:
        return "-1"
    unknown = [c for c in classes if c not in class_names]
    if unknown:
        raise EdgewatchError(f"{where}: class '{unknown[0]}' is not one of the detector's {list(class_names)[:10]}")
    return ";".join(str(list(class_names).index(c)) for c in classes)


def _stream_groups(stream: int, scene: Scene, width: int, height: int, class_names: Sequence[str]) -> list[str]:
    where = scene.source
    lines: list[str] = []

    def group(name: str, keys: list[tuple[str, str]]) -> None:
        lines.extend([f"[{name}-stream-{stream}]", "enable=1", *(f"{k}={v}" for k, v in keys), ""])

    rois = [z for z in scene.zones if z.kind != "zone"]
    if rois:
        inverse = _one({z.name: z.kind == "exclude" for z in rois}, "inverse-roi (include or exclude)", where)
        classes = _one({z.name: z.classes for z in rois}, "class-id", where)
        group("roi-filtering", [(f"roi-{z.name}", _coords(z.polygon, width, height, f"{where}: zone {z.name!r}"))
                                for z in rois]
              + [("inverse-roi", str(int(inverse))), ("class-id", _class_ids(classes, class_names, where))])
    crowded = [(z, z.overcrowding) for z in scene.zones if z.overcrowding is not None]
    if crowded:
        rule = _one({z.name: oc for z, oc in crowded}, "overcrowding rule", where)
        classes = _one({z.name: z.classes for z, _ in crowded}, "class-id", where)
        group("overcrowding", [(f"roi-{z.name}", _coords(z.polygon, width, height, f"{where}: zone {z.name!r}"))
                               for z, _ in crowded]
              + [("object-threshold", str(rule.object_threshold)),
                 ("time-threshold", str(int(round(rule.time_threshold * 1000)))),
                 ("class-id", _class_ids(classes, class_names, where))])
    if scene.lines:
        classes = _one({ln.name: ln.classes for ln in scene.lines}, "class-id", where)
        extended = _one({ln.name: ln.extended for ln in scene.lines}, "extended", where)
        group("line-crossing", [
            (f"line-crossing-{ln.name}", _coords((*ln.direction, ln.start, ln.end), width, height,
                                                 f"{where}: line {ln.name!r}"))
            for ln in scene.lines
        ] + [("class-id", _class_ids(classes, class_names, where)), ("extended", str(int(extended))), ("mode", MODE)])
    if scene.directions:
        classes = _one({d.name: d.classes for d in scene.directions}, "class-id", where)
        group("direction-detection", [
            (f"direction-{d.name}", _coords((d.start, d.end), width, height, f"{where}: direction {d.name!r}"))
            for d in scene.directions
        ] + [("class-id", _class_ids(classes, class_names, where)), ("mode", MODE)])
    kept = [z.name for z in scene.zones if z.kind == "zone"]
    if kept or scene.calibration is not None:
        lines.insert(0, f"# stream {stream}: no nvdsanalytics counterpart, edgewatch's analytics stage only: "
                        f"zones {kept} (enter/exit, dwell, restricted, speed limit, lane direction)"
                        + (", the ground calibration (speeds)" if scene.calibration is not None else ""))
    return lines


def nvdsanalytics_config(scenes: Mapping[int, Scene], width: int, height: int, class_names: Sequence[str]) -> str:
    """The nvdsanalytics config text for ``scenes`` (stream index -> scene, coordinates in ``width x height``
    frames: the streammux output); ``class_names`` are the detector's (``class-id`` is their index)."""
    if width < 1 or height < 1:
        raise EdgewatchError("nvdsanalytics needs the frame size: set [streammux] width and height, "
                             "or frame-size in the scene files")
    out = [
        "# nvdsanalytics config written by `edgewatch nvdsanalytics` from the sources' scene files.",
        "[property]", "enable=1", f"config-width={width}", f"config-height={height}",
        "osd-mode=2", "display-font-size=12", "",
    ]
    for stream, scene in sorted(scenes.items()):
        out += _stream_groups(stream, scene, width, height, class_names)
    return "\n".join(out).rstrip("\n") + "\n"
