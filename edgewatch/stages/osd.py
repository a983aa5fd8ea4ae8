"""OSD stage: boxes, track ids, class names and behaviours drawn onto the RGB frames (cv2, in place).

Public API: ``OsdStage(OsdConfig, class_names, draw_detections=False)``; ``stage(frames)`` draws
``Frame.tracks`` (or ``Frame.detections`` when ``draw_detections``, for a run without a tracker)
and returns the frames. A read-only image (a mapped GStreamer buffer) is copied before drawing.
Each track id keeps one colour for its whole life, so a viewer can follow it across the video.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

import cv2
import numpy as np

from edgewatch.config import OsdConfig
from edgewatch.types import Frame, class_name

_GOLDEN = 0.618033988749895  # successive ids get well-separated hues


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A stable, bright RGB colour for an id."""
    r, g, b = colorsys.hsv_to_rgb((track_id * _GOLDEN) % 1.0, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


class OsdStage:
    """Draws what the stages found; labels sit above the box on a filled background to stay legible."""

    def __init__(self, config: OsdConfig, class_names: Sequence[str], draw_detections: bool = False) -> None:
        self.config = config
        self.class_names = list(class_names)
        self.draw_detections = draw_detections

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        if not self.config.enable:
            return frames
        for frame in frames:
            if not frame.image.flags.writeable:
                frame.image = frame.image.copy()
            for item in self._items(frame):
                self._draw(frame.image, *item)
        return frames

    def _name(self, class_id: int) -> str:
        return class_name(self.class_names, class_id)

    def _items(self, frame: Frame) -> list[tuple[np.ndarray, tuple[int, int, int], str, str | None]]:
        """(box, colour, label above the box, label below it or None) per drawn object."""
        if self.draw_detections:
            d = frame.detections
            return [
                (d.boxes[i], track_colour(int(c) + 1), f"{self._name(int(c))} {d.scores[i]:.2f}", None)
                for i, c in enumerate(d.class_ids)
            ]
        return [
            (
                t.box,
                track_colour(t.track_id),
                f"#{t.track_id} {self._name(t.class_id)}",
                f"{t.behaviour.label} {t.behaviour.score:.2f}" if self.config.show_behaviour and t.behaviour else None,
            )
            for t in frame.tracks
        ]

    def _draw(
        self, image: np.ndarray, box: np.ndarray, colour: tuple[int, int, int], top: str, bottom: str | None
    ) -> None:
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        cv2.rectangle(image, (x1, y1), (x2, y2), colour, self.config.border_width)
        self._label(image, x1, y1, top, colour, above=True)
        if bottom is not None:
            self._label(image, x1, y2, bottom, colour, above=False)

    def _label(self, image: np.ndarray, x: int, y: int, text: str, colour: tuple[int, int, int], above: bool) -> None:
        """Black text on a box-coloured band, just above (id, class) or below (behaviour) the box edge at ``y``."""
        scale = self.config.text_scale
        (tw, th), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        height = th + baseline + 2
        top = max(y - height, 0) if above else min(y, image.shape[0] - height)
        x = max(min(x, image.shape[1] - tw - 2), 0)  # slide left to stay inside the frame
        cv2.rectangle(image, (x, top), (x + tw + 2, top + height), colour, cv2.FILLED)
        cv2.putText(image, text, (x + 1, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
