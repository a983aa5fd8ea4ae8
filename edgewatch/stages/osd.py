"""OSD: what is drawn for each object (pure, every backend) and the CPU backend's OpenCV drawing of it.

Public API:

- ``overlay(frame, class_names, OsdConfig, draw_detections=False) -> list[OverlayItem]``: box,
  colour and the two labels of every object of a frame. The CPU backend draws them with OpenCV
  (:class:`OsdStage`); the DeepStream probe turns the same items into display meta for ``nvdsosd``,
  so both backends show the same text.
- ``OsdStage(OsdConfig, class_names, draw_detections=False)``: ``stage(frames)`` draws the items into
  ``Frame.image`` in place (a read-only image, a mapped GStreamer buffer, is copied first).

Each track id keeps one colour for its whole life, so a viewer can follow it across the video.
``draw_detections`` draws ``Frame.detections`` instead of tracks (a run without a tracker).
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edgewatch.config import OsdConfig
from edgewatch.types import Behaviour, Frame, class_name

_GOLDEN = 0.618033988749895  # successive ids get well-separated hues


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A stable, bright RGB colour for an id."""
    r, g, b = colorsys.hsv_to_rgb((track_id * _GOLDEN) % 1.0, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


@dataclass(frozen=True)
class OverlayItem:
    """One drawn object: its box (frame pixels), colour (RGB), label above the box and label below it."""

    box: np.ndarray
    colour: tuple[int, int, int]
    top: str
    bottom: str | None


def behaviour_text(behaviour: Behaviour) -> str:
    """``walking 0.93``; a track not decided yet shows ``undecided`` (the leading probability would mislead)."""
    return f"{behaviour.label} {behaviour.score:.2f}" if behaviour.decided else behaviour.label


def overlay(
    frame: Frame, class_names: Sequence[str], config: OsdConfig, draw_detections: bool = False
) -> list[OverlayItem]:
    """What the OSD shows for ``frame``: id and class above each track, its behaviour below."""
    if draw_detections:
        d = frame.detections
        return [
            OverlayItem(box, track_colour(int(c) + 1), f"{class_name(class_names, int(c))} {score:.2f}", None)
            for box, score, c in zip(d.boxes, d.scores, d.class_ids, strict=True)
        ]
    return [
        OverlayItem(
            t.box,
            track_colour(t.track_id),
            f"#{t.track_id} {class_name(class_names, t.class_id)}",
            behaviour_text(t.behaviour) if config.show_behaviour and t.behaviour else None,
        )
        for t in frame.tracks
    ]


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

    def _draw(self, image: np.ndarray, item: OverlayItem) -> None:
        x1, y1, x2, y2 = (int(round(float(v))) for v in item.box)
        cv2.rectangle(image, (x1, y1), (x2, y2), item.colour, self.config.border_width)
        self._label(image, x1, y1, item.top, item.colour, above=True)
        if item.bottom is not None:
            self._label(image, x1, y2, item.bottom, item.colour, above=False)

    def _label(self, image: np.ndarray, x: int, y: int, text: str, colour: tuple[int, int, int], above: bool) -> None:
        """Black text on a box-coloured band, just above (id, class) or below (behaviour) the box edge at ``y``."""
        scale = self.config.text_scale
        (tw, th), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        height = th + baseline + 2
        top = max(y - height, 0) if above else min(y, image.shape[0] - height)
        x = max(min(x, image.shape[1] - tw - 2), 0)  # slide left to stay inside the frame
        cv2.rectangle(image, (x, top), (x + tw + 2, top + height), colour, cv2.FILLED)
        cv2.putText(image, text, (x + 1, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
