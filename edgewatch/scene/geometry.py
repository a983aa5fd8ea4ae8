"""Plane geometry the analytics stage runs on every frame, vectorised over all tracks at once.

Public API:

- :class:`PolygonSet`: many polygons packed into one edge table; ``depths(points)`` is the signed
  distance of every point to every polygon (> 0 inside), one NumPy pass for all of them.
- :class:`SegmentSet`: counting lines; ``sides(points)`` (signed distance to each line) and
  ``along(points)`` (where the foot of the perpendicular falls, 0 at the start, 1 at the end).
- :func:`fit_homography` (normalised DLT, any number >= 4 of point pairs) and :func:`project`.

Why signed distances instead of a plain inside test: a foot point jitters by a few pixels from
frame to frame, and the stage needs to know *how far* inside or outside a point is to ignore that
jitter (hysteresis) instead of flickering in and out of a zone standing on its edge.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgewatch.errors import EdgewatchError

Point = tuple[float, float]
_EPS = 1e-12


class PolygonSet:
    """Polygons as one edge table (edge ``i`` runs from vertex ``a[i]`` to ``b[i]``)."""

    def __init__(self, polygons: Sequence[Sequence[Point]]) -> None:
        self.count = len(polygons)
        a = [np.asarray(p, np.float64) for p in polygons]
        self.starts = np.cumsum([0] + [len(p) for p in a[:-1]]).astype(np.intp)
        a_all = np.concatenate(a) if a else np.zeros((0, 2))
        b_all = np.concatenate([np.roll(p, -1, axis=0) for p in a]) if a else np.zeros((0, 2))
        self.ax, self.ay = a_all[:, 0], a_all[:, 1]
        self.dx, self.dy = b_all[:, 0] - self.ax, b_all[:, 1] - self.ay
        self.by = b_all[:, 1]
        self.len2 = np.maximum(self.dx**2 + self.dy**2, _EPS)

    def depths(self, points: np.ndarray) -> np.ndarray:
        """``[N, 2]`` points -> ``[N, polygons]``: distance to the nearest edge, positive inside (even-odd rule)."""
        if self.count == 0 or len(points) == 0:
            return np.zeros((len(points), self.count))
        px, py = points[:, :1].astype(np.float64, copy=False), points[:, 1:2].astype(np.float64, copy=False)
        rx, ry = px - self.ax, py - self.ay  # each point from each edge's start
        straddles = (self.ay > py) != (self.by > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = self.ax + ry * self.dx / self.dy
        crossings = (straddles & (px < x_at)).astype(np.int16)
        inside = np.add.reduceat(crossings, self.starts, axis=1) % 2 == 1
        t = np.clip((rx * self.dx + ry * self.dy) / self.len2, 0.0, 1.0)
        dist = np.hypot(rx - t * self.dx, ry - t * self.dy)
        nearest = np.minimum.reduceat(dist, self.starts, axis=1)
        return np.where(inside, nearest, -nearest)


class SegmentSet:
    """Straight segments ``a -> b`` (counting lines)."""

    def __init__(self, segments: Sequence[tuple[Point, Point]]) -> None:
        self.count = len(segments)
        arr = np.asarray(segments, np.float64).reshape(-1, 2, 2)
        self.ax, self.ay = arr[:, 0, 0], arr[:, 0, 1]
        self.dx, self.dy = arr[:, 1, 0] - self.ax, arr[:, 1, 1] - self.ay
        self.length = np.maximum(np.hypot(self.dx, self.dy), _EPS)

    def sides(self, points: np.ndarray) -> np.ndarray:
        """``[N, 2]`` -> ``[N, segments]``: signed distance to each (infinite) line, > 0 on the side that
        ``a -> b`` turned 90 degrees clockwise on screen points to (below a segment drawn left to right)."""
        px, py = points[:, :1].astype(np.float64), points[:, 1:2].astype(np.float64)
        return (self.dx * (py - self.ay) - self.dy * (px - self.ax)) / self.length

    def along(self, points: np.ndarray) -> np.ndarray:
        """``[N, 2]`` -> ``[N, segments]``: the position of each point's projection, 0 at ``a``, 1 at ``b``."""
        px, py = points[:, :1].astype(np.float64), points[:, 1:2].astype(np.float64)
        return ((px - self.ax) * self.dx + (py - self.ay) * self.dy) / self.length**2


def _normaliser(points: np.ndarray) -> np.ndarray:
    """Hartley normalisation: centroid to the origin, mean distance sqrt(2) (keeps the DLT well conditioned
    when pixels are hundreds and metres are tens)."""
    centre = points.mean(axis=0)
    scale = np.sqrt(2.0) / max(float(np.mean(np.linalg.norm(points - centre, axis=1))), _EPS)
    return np.array([[scale, 0.0, -scale * centre[0]], [0.0, scale, -scale * centre[1]], [0.0, 0.0, 1.0]])


def project(matrix: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map ``[N, 2]`` points through a homography: the mapped points and the homogeneous ``w`` of each
    (its sign tells which side of the horizon a point is on)."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    w = matrix[2, 0] * pts[:, 0] + matrix[2, 1] * pts[:, 1] + matrix[2, 2]
    safe = np.where(np.abs(w) < _EPS, _EPS, w)
    x = (matrix[0, 0] * pts[:, 0] + matrix[0, 1] * pts[:, 1] + matrix[0, 2]) / safe
    y = (matrix[1, 0] * pts[:, 0] + matrix[1, 1] * pts[:, 1] + matrix[1, 2]) / safe
    return np.stack([x, y], axis=1), w


def fit_homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The homography mapping ``src`` onto ``dst`` (``[N, 2]`` each, N >= 4), least squares for N > 4.

    Raises :class:`EdgewatchError` when the points do not fix one (repeated, or three of four collinear).
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ts, td = _normaliser(src), _normaliser(dst)
    s = (ts @ np.c_[src, np.ones(len(src))].T).T
    d = (td @ np.c_[dst, np.ones(len(dst))].T).T
    rows = []
    for (x, y, _), (u, v, _) in zip(s, d, strict=True):
        rows.append([-x, -y, -1.0, 0.0, 0.0, 0.0, u * x, u * y, u])
        rows.append([0.0, 0.0, 0.0, -x, -y, -1.0, v * x, v * y, v])
    _, sv, vt = np.linalg.svd(np.asarray(rows))
    if len(sv) < 8 or sv[7] < 1e-9 * sv[0]:
        raise EdgewatchError("the points do not fix a homography (repeated points, or three of four on one line)")
    matrix = np.linalg.inv(td) @ vt[-1].reshape(3, 3) @ ts
    if abs(np.linalg.det(matrix)) < _EPS * abs(matrix).max() ** 3:
        raise EdgewatchError("the points map the image onto a line, not a plane")
    return matrix / matrix[2, 2] if abs(matrix[2, 2]) > _EPS else matrix
