"""OSD: what is drawn for each frame (pure, every backend) and the CPU backend's OpenCV drawing of it.

Public API:

- ``overlay(frame, class_names, OsdConfig, draw_detections=False) -> list[Overlay]``: the frame's
  drawing as three primitives, in drawing order: :class:`OverlayLine` (segments: zone outlines,
  counting lines, direction arrows), :class:`OverlayItem` (an object's box, colour and two labels) and
  :class:`OverlayText` (a label on a coloured band: a zone's live count, a line's crossings). The CPU
  backend draws them with OpenCV (:class:`OsdStage`); the DeepStream probe turns the same items into
  display meta for ``nvdsosd`` (lines -> ``line_params`` / ``arrow_params``, texts -> ``text_params``
  with a background colour), so both backends show the same picture.
- ``OsdStage(OsdConfig, class_names, draw_detections=False)``: ``stage(frames)`` draws the items into
  ``Frame.image`` in place (a read-only image, a mapped GStreamer buffer, is copied first).

Each track id keeps one colour for its whole life, so a viewer can follow it across the video. A
frame with a scene (``Frame.analytics``) also shows the scene's zones and lines with their live counts
and each track's ground speed where the scene is calibrated (``[osd] show-scene``).
``draw_detections`` draws ``Frame.detections`` instead of tracks (a run without a tracker).
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edgewatch.config import OsdConfig
from edgewatch.scene.model import Scene, Zone
from edgewatch.types import Behaviour, Frame, FrameAnalytics, Track, class_name

_GOLDEN = 0.618033988749895  # successive ids get well-separated hues
RGB = tuple[int, int, int]
ZONE_COLOURS: dict[str, RGB] = {"zone": (255, 200, 0), "include": (80, 220, 80), "exclude": (160, 160, 160)}
RESTRICTED_COLOUR: RGB = (255, 60, 60)  # restricted zones, and a zone's label while it is crowded
LINE_COLOUR: RGB = (0, 200, 255)
DIRECTION_COLOUR: RGB = (200, 120, 255)


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A stable, bright RGB colour for an id."""
    r, g, b = colorsys.hsv_to_rgb((track_id * _GOLDEN) % 1.0, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


@dataclass(frozen=True)
class OverlayItem:
    """One drawn object: its box (frame pixels), colour (RGB), label above the box and label below it."""

    box: np.ndarray
    colour: RGB
    top: str
    bottom: str | None


def behaviour_text(behaviour: Behaviour) -> str:
    """``walking 0.93``; a track not decided yet shows ``undecided`` (the leading probability would mislead)."""
    return f"{behaviour.label} {behaviour.score:.2f}" if behaviour.decided else behaviour.label


@dataclass(frozen=True)
class OverlayLine:
    """A straight segment in frame pixels; ``arrow`` puts an arrow head at ``end``."""

    start: tuple[float, float]
    end: tuple[float, float]
    colour: RGB
    width: int
    arrow: bool = False


@dataclass(frozen=True)
class OverlayText:
    """A label whose top-left corner is at ``x, y``: black text on a ``colour`` band."""

    x: float
    y: float
    text: str
    colour: RGB


Overlay = OverlayLine | OverlayItem | OverlayText


def overlay(
    frame: Frame, class_names: Sequence[str], config: OsdConfig, draw_detections: bool = False
) -> list[Overlay]:
    """What the OSD shows for ``frame``: the scene underneath, then id and class (and speed) above each
    track with its behaviour below, then the scene's counts on top."""
    if draw_detections:
        d = frame.detections
        return [
            OverlayItem(box, track_colour(int(c) + 1), f"{class_name(class_names, int(c))} {score:.2f}", None)
            for box, score, c in zip(d.boxes, d.scores, d.class_ids, strict=True)
        ]
    scene = frame.analytics if config.show_scene else None
    items: list[Overlay] = scene_lines(scene.scene) if scene is not None else []
    items += [
        OverlayItem(
            t.box,
            track_colour(t.track_id),
            _top_label(t, class_names, scene is not None),
            behaviour_text(t.behaviour) if config.show_behaviour and t.behaviour else None,
        )
        for t in frame.tracks
    ]
    if scene is not None:
        items += scene_texts(scene)
    return items


def _top_label(track: Track, class_names: Sequence[str], show_speed: bool) -> str:
    label = f"#{track.track_id} {class_name(class_names, track.class_id)}"
    speed = track.analytics.speed_kmh if show_speed and track.analytics is not None else None
    return label if speed is None else f"{label} {speed:.1f} km/h"


def _zone_colour(zone: Zone) -> RGB:
    return RESTRICTED_COLOUR if zone.restricted else ZONE_COLOURS[zone.kind]


def scene_lines(scene: Scene) -> list[Overlay]:
    """A scene's geometry: zone outlines, counting lines with their ``in`` arrows, direction arrows."""
    items: list[Overlay] = []
    for zone in scene.zones:
        pts = zone.polygon
        items += [OverlayLine(a, b, _zone_colour(zone), 2) for a, b in zip(pts, pts[1:] + pts[:1], strict=True)]
    for line in scene.lines:
        items.append(OverlayLine(line.start, line.end, LINE_COLOUR, 3))
        items.append(OverlayLine(line.direction[0], line.direction[1], LINE_COLOUR, 2, arrow=True))
    items += [OverlayLine(d.start, d.end, DIRECTION_COLOUR, 2, arrow=True) for d in scene.directions]
    return items


def scene_texts(result: FrameAnalytics) -> list[Overlay]:
    """Live labels: each zone's name and count now (crowded zones in red), each line's crossings so far."""
    items: list[Overlay] = []
    for zone in result.scene.zones:
        if zone.kind != "zone":
            continue
        x, y = min(zone.polygon, key=lambda p: (p[1], p[0]))
        count = sum(result.counts.get(zone.name, {}).values())
        crowded = zone.name in result.overcrowded
        colour = RESTRICTED_COLOUR if crowded else _zone_colour(zone)
        items.append(OverlayText(x, y, f"{zone.name}: {count}{' crowded' if crowded else ''}", colour))
    for line in result.scene.lines:
        n_in, n_out = result.crossings.get(line.name, (0, 0))
        x, y = (line.start[0] + line.end[0]) / 2, (line.start[1] + line.end[1]) / 2
        items.append(OverlayText(x, y, f"{line.name} in {n_in} out {n_out}", LINE_COLOUR))
    return items


class OsdStage:
    """Draws the overlay with OpenCV; labels sit above the box on a filled background to stay legible."""

    def __init__(self, config: OsdConfig, class_names: Sequence[str], draw_detections: bool = False) -> None:
        self.config = config
        self.class_names = list(class_names)
        self.draw_detections = draw_detections

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        if not self.config.enable:
            return frames
        for frame in frames:
            if frame.image is None:
                raise ValueError("the OpenCV OSD needs frames with pixels (a CPU backend)")
            if not frame.image.flags.writeable:
                frame.image = frame.image.copy()
            for item in overlay(frame, self.class_names, self.config, self.draw_detections):
                self._draw(frame.image, item)
        return frames

    def _draw(self, image: np.ndarray, item: Overlay) -> None:
        if isinstance(item, OverlayLine):
            start, end = _pixel(item.start), _pixel(item.end)
            if item.arrow:
                cv2.arrowedLine(image, start, end, item.colour, item.width, cv2.LINE_AA, tipLength=0.25)
            else:
                cv2.line(image, start, end, item.colour, item.width, cv2.LINE_AA)
            return
        if isinstance(item, OverlayText):
            self._label(image, int(round(item.x)), int(round(item.y)), item.text, item.colour, above=False)
            return
        x1, y1, x2, y2 = (int(round(float(v))) for v in item.box)
        cv2.rectangle(image, (x1, y1), (x2, y2), item.colour, self.config.border_width)
        self._label(image, x1, y1, item.top, item.colour, above=True)
        if item.bottom is not None:
            self._label(image, x1, y2, item.bottom, item.colour, above=False)

    def _label(self, image: np.ndarray, x: int, y: int, text: str, colour: RGB, above: bool) -> None:
        """Black text on a box-coloured band, just above (id, class) or below (behaviour) the box edge at ``y``."""
        scale = self.config.text_scale
        (tw, th), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        height = th + baseline + 2
        top = max(y - height, 0) if above else min(y, image.shape[0] - height)
        x = max(min(x, image.shape[1] - tw - 2), 0)  # slide left to stay inside the frame
        cv2.rectangle(image, (x, top), (x + tw + 2, top + height), colour, cv2.FILLED)
        cv2.putText(image, text, (x + 1, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)


def _pixel(point: tuple[float, float]) -> tuple[int, int]:
    return int(round(point[0])), int(round(point[1]))
