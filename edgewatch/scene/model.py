"""One camera's scene: named zones, counting lines, directions, and the image-to-ground calibration.

Public API: :class:`Scene` (with :class:`Zone`, :class:`Overcrowding`, :class:`Line`,
:class:`Direction`, :class:`Calibration`), built by :func:`edgewatch.scene.load.load_scene` from the
file a ``[sourceN] scene=`` key names, and read by the analytics stage, the temporal stage (the lane
direction at a track's foot point), the OSD and the nvdsanalytics config writer.

All image coordinates are pixels of the frames the stages see (after streammux scaling; a scene with a
``frame-size`` is scaled to the streammux size by :meth:`Scene.scaled`); ground coordinates are metres
in any flat frame of reference the user measured in. Everything is frozen and validated at load.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

import numpy as np

from edgewatch.errors import EdgewatchError
from edgewatch.scene.geometry import Point, PolygonSet, fit_homography, project

ZoneKind = Literal["zone", "include", "exclude"]
ZONE_KINDS: tuple[str, ...] = typing.get_args(ZoneKind)
KMH_PER_MPS = 3.6


@dataclass(frozen=True)
class Overcrowding:
    """A zone is crowded once ``object_threshold`` or more tracks have been in it for ``time_threshold``
    seconds, and stops being crowded once fewer have been for as long (nvdsanalytics' keys, in seconds)."""

    object_threshold: int
    time_threshold: float


@dataclass(frozen=True)
class Zone:
    """A named image polygon.

    ``kind``: ``zone`` (reported: enter / exit, dwell, counts, crowding, speed limit), ``include`` or
    ``exclude`` (regions of interest: tracks outside every include zone, or inside an exclude zone, are
    dropped from the frame before anything later sees them). ``classes`` limits a zone to some detector
    classes (empty: all). ``restricted`` marks entering as an intrusion; ``dwell_limit`` (s) and
    ``speed_limit`` (km/h) raise events; ``lane_direction`` overrides the scene's inside the zone.
    """

    name: str
    polygon: tuple[Point, ...]
    kind: ZoneKind = "zone"
    classes: tuple[str, ...] = ()
    restricted: bool = False
    dwell_limit: float | None = None
    overcrowding: Overcrowding | None = None
    speed_limit: float | None = None
    lane_direction: Point | None = None


@dataclass(frozen=True)
class Line:
    """A counting line ``start -> end``; crossing it the way ``direction`` (arrow tail, head) points is
    ``in``, the other way ``out``. ``extended`` counts crossings beyond the segment's ends too."""

    name: str
    start: Point
    end: Point
    direction: tuple[Point, Point]
    classes: tuple[str, ...] = ()
    extended: bool = False

    @property
    def in_side(self) -> int:
        """The sign (+1 / -1, as :meth:`SegmentSet.sides` measures) of the side an ``in`` crossing ends on."""
        (tx, ty), (hx, hy) = self.direction
        lx, ly = self.end[0] - self.start[0], self.end[1] - self.start[1]
        return 1 if lx * (hy - ty) - ly * (hx - tx) > 0 else -1


@dataclass(frozen=True)
class Direction:
    """A named image direction (``start -> end``): a track moving within 45 degrees of it is reported
    as moving that way (nvdsanalytics' direction detection)."""

    name: str
    start: Point
    end: Point
    classes: tuple[str, ...] = ()


def _rows(matrix: np.ndarray) -> tuple[tuple[float, float, float], ...]:
    """A 3x3 matrix as nested tuples (a frozen, comparable field)."""
    return tuple((float(a), float(b), float(c)) for a, b, c in matrix)


@dataclass(frozen=True)
class Calibration:
    """Image-to-ground homography fitted to four or more ``image`` pixels with their ``ground`` metres.

    ``rms`` is the fit's ground residual in metres (0 for exactly four points). A pixel maps onto the
    ground only on the calibration points' side of the horizon (``sign`` of the homogeneous ``w``);
    elsewhere (the sky, or points the plane never reaches) :meth:`to_ground` says invalid.
    """

    image: tuple[Point, ...]
    ground: tuple[Point, ...]
    matrix: tuple[tuple[float, float, float], ...]
    rms: float
    sign: int

    @staticmethod
    def fit(image: tuple[Point, ...], ground: tuple[Point, ...]) -> Calibration:
        """Fit and check; :class:`EdgewatchError` (without location: the loader adds it) when unusable."""
        src, dst = np.asarray(image, np.float64), np.asarray(ground, np.float64)
        matrix = fit_homography(src, dst)
        mapped, w = project(matrix, src)
        if not (np.all(w > 0) or np.all(w < 0)):
            raise EdgewatchError("the points are not in a consistent order (the image outline folds over on the ground)")
        rms = float(np.sqrt(np.mean(np.sum((mapped - dst) ** 2, axis=1))))
        extent = float(np.max(np.ptp(dst, axis=0)))
        if rms > 0.02 * extent:
            raise EdgewatchError(
                f"the points disagree with one ground plane: fit residual {rms:.2f} m over a {extent:.1f} m extent "
                "(check each image point against its ground point)"
            )
        return Calibration(image, ground, _rows(matrix), rms, 1 if w[0] > 0 else -1)

    @cached_property
    def homography(self) -> np.ndarray:
        """The 3x3 image -> ground matrix."""
        return np.asarray(self.matrix, np.float64)

    def to_ground(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[N, 2]`` pixels -> ``[N, 2]`` metres and ``[N]`` valid (on the ground side of the horizon)."""
        ground, w = project(self.homography, points)
        return ground, w * self.sign > 0

    def scaled(self, sx: float, sy: float) -> Calibration:
        """The same calibration for frames scaled by ``sx, sy`` (exact: composed with the scaling)."""
        matrix = self.homography @ np.diag([1.0 / sx, 1.0 / sy, 1.0])
        image = tuple((x * sx, y * sy) for x, y in self.image)
        return replace(self, image=image, matrix=_rows(matrix))


@dataclass(frozen=True)
class Scene:
    """One camera's scene (see the module docstring); ``source`` is the file it came from.

    ``speed_window`` (s): ground speed is the least-squares slope of the foot point's ground track over
    this long. ``hysteresis``: a zone or line changes a track's state only once its foot point is this
    fraction of its box height past the edge (box jitter on an edge is not a crossing). ``max_speed``
    (km/h): a jump between observations faster than this is an identity switch, not motion, and starts
    the speed history afresh.
    """

    source: str
    zones: tuple[Zone, ...] = ()
    lines: tuple[Line, ...] = ()
    directions: tuple[Direction, ...] = ()
    calibration: Calibration | None = None
    lane_direction: Point | None = None
    frame_size: tuple[int, int] | None = None
    speed_window: float = 1.0
    hysteresis: float = 0.1
    max_speed: float = 150.0

    @cached_property
    def _lane_zones(self) -> tuple[PolygonSet, tuple[Point, ...]]:
        lanes = [z for z in self.zones if z.kind == "zone" and z.lane_direction is not None]
        return PolygonSet([z.polygon for z in lanes]), tuple(z.lane_direction for z in lanes)  # type: ignore[misc]

    def lane_at(self, x: float, y: float) -> Point | None:
        """The lane direction at an image point: the first zone with its own that contains it, else the scene's."""
        polygons, lanes = self._lane_zones
        if polygons.count:
            inside = polygons.depths(np.array([[x, y]]))[0] > 0
            if inside.any():
                return lanes[int(np.argmax(inside))]
        return self.lane_direction

    def scaled(self, width: int, height: int) -> Scene:
        """The scene for frames of ``width x height`` (a scene without ``frame_size`` is returned as is)."""
        if self.frame_size is None or self.frame_size == (width, height):
            return self
        sx, sy = width / self.frame_size[0], height / self.frame_size[1]

        def pt(p: Point) -> Point:
            return (p[0] * sx, p[1] * sy)

        def vec(v: Point | None) -> Point | None:
            return None if v is None else pt(v)

        return replace(
            self,
            zones=tuple(replace(z, polygon=tuple(map(pt, z.polygon)), lane_direction=vec(z.lane_direction))
                        for z in self.zones),
            lines=tuple(replace(ln, start=pt(ln.start), end=pt(ln.end),
                                direction=(pt(ln.direction[0]), pt(ln.direction[1]))) for ln in self.lines),
            directions=tuple(replace(d, start=pt(d.start), end=pt(d.end)) for d in self.directions),
            calibration=None if self.calibration is None else self.calibration.scaled(sx, sy),
            lane_direction=vec(self.lane_direction),
            frame_size=(width, height),
        )

