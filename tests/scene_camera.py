"""A synthetic pinhole camera over a flat ground: the independent reference for homographies and speeds.

``PinholeCamera`` projects ground points (metres) and people (a foot point and a head 1.75 m above it)
into pixels exactly, so a test knows the true ground position and speed behind every box it feeds
the analytics stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PinholeCamera:
    """Focal length ``f`` px, principal point ``cx, cy``, at ``height`` m over the ground origin, looking
    along ground +Y, tilted ``tilt`` degrees down from the horizon (no distortion)."""

    f: float = 800.0
    cx: float = 384.0
    cy: float = 288.0
    height: float = 6.0
    tilt: float = 30.0

    def project(self, points: np.ndarray) -> np.ndarray:
        """``[N, 3]`` world points (X, Y on the ground, Z up, metres) -> ``[N, 2]`` pixels."""
        t = np.radians(self.tilt)
        rel = np.asarray(points, np.float64) - [0.0, 0.0, self.height]
        # camera axes: x right = world X; z forward = (0, cos t, -sin t); y down = (0, -sin t, -cos t)
        xc = rel[:, 0]
        yc = -np.sin(t) * rel[:, 1] - np.cos(t) * rel[:, 2]
        zc = np.cos(t) * rel[:, 1] - np.sin(t) * rel[:, 2]
        return np.stack([self.f * xc / zc + self.cx, self.f * yc / zc + self.cy], axis=1)

    def ground(self, xy: np.ndarray) -> np.ndarray:
        """Ground points ``[N, 2]`` -> pixels."""
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        return self.project(np.c_[xy, np.zeros(len(xy))])

    def person_box(self, xy: tuple[float, float], tall: float = 1.75) -> np.ndarray:
        """The box of a person standing at ground ``xy``: foot at the bottom centre, head ``tall`` m up,
        width 0.4 of the height."""
        foot, head = self.project(np.array([[xy[0], xy[1], 0.0], [xy[0], xy[1], tall]]))
        h = foot[1] - head[1]
        return np.array([foot[0] - 0.2 * h, head[1], foot[0] + 0.2 * h, foot[1]], np.float32)
