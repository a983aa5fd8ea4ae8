"""Per-track features: the ONE function that turns a track's boxes into model input.

Training, evaluation and the live pipeline all call :func:`track_features`, so what the model saw in
training is exactly what it sees on a camera. Design choices, and why:

* **Real time, not frame index.** The track is resampled on a fixed time grid (``spec.step`` seconds,
  ``spec.window`` points ending at the newest observation) by linear interpolation over the real time
  stamps. A 30 fps and a 7 fps camera then give the same sequence for the same motion, and a dropped
  frame is a longer interpolation interval, never a fake jump in speed.
* **Own scale.** Motion is divided by the object's own box height at that instant (``heights per
  second``), so the same walk looks the same near and far from the camera, with no calibration.
* **Causal.** Only observations up to the newest one are used; grid points older than the first
  observation are padding (mask 0). The model can therefore run on a live stream.
* **Bounded.** Every feature is clipped to ``[-CLIP, CLIP]`` so a tracker glitch cannot produce the
  huge activations that ruin INT8 calibration.
* **Frame edges are known.** A box the frame edge cuts (a person half out of view at the bottom) is
  not the object's size: its visible height changes as the object moves, which would read as motion.
  Such a box is completed on the cut side to the object's last full size (:class:`BoxFilter`), and
  two features say, per step, whether the box was cut across (left/right) or along (top/bottom)
  the image, so the model knows when size and centre are estimates.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from edgewatch.errors import EdgewatchError

#: Per-step feature names, in order; the class one-hot follows them (one column per ``spec.classes``).
MOTION_FEATURES: tuple[str, ...] = (
    "rel_x",  # centre relative to the newest centre, in newest heights
    "rel_y",
    "vel_x",  # velocity, heights per second
    "vel_y",
    "acc_x",  # acceleration, heights per second squared
    "acc_y",
    "speed",  # |velocity|
    "vel_along",  # velocity along the scene's lane direction (0 when the scene has none)
    "vel_across",
    "log_aspect",  # log(width / height): pose and vehicle orientation
    "growth",  # d log(height) / dt: approaching or leaving the camera
    "cut_x",  # the frame's left or right edge cut the box (1), on the grid: the share of the interval
    "cut_y",  # the top or bottom edge cut it
)
CLIP = 50.0
EDGE_MARGIN = 2.0  # px: a box side this close to the frame edge is taken as cut by it
_EPS = 1e-6


def cut_sides(boxes: np.ndarray, size: tuple[int, int] | None, margin: float = EDGE_MARGIN) -> np.ndarray:
    """``[T, 4]`` bool: which sides (left, top, right, bottom) of each xyxy box the frame edge cuts.

    ``size`` is the frame's ``(width, height)``; None (unknown) means no box is cut.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if size is None:
        return np.zeros(boxes.shape, bool)
    width, height = size
    return np.stack([boxes[:, 0] <= margin, boxes[:, 1] <= margin,
                     boxes[:, 2] >= width - margin, boxes[:, 3] >= height - margin], axis=1)


@dataclass(frozen=True)
class FeatureSpec:
    """How features are computed; travels inside the ONNX metadata so the runtime computes them alike.

    ``window`` grid points spaced ``step`` seconds apart (the model sees ``window * step`` seconds of
    history). ``classes`` are the detector class names the model knows, in one-hot order.
    ``lane_direction`` is a scene parameter (image-plane vector of the allowed traffic direction, or
    None); replace it per camera with :func:`dataclasses.replace`.
    """

    window: int = 32
    step: float = 0.25
    classes: tuple[str, ...] = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
    smoothing: str = "none"  # "none" | "kalman"
    lane_direction: tuple[float, float] | None = None
    kalman: dict[str, float] = field(default_factory=lambda: {"measurement": 0.05, "process": 0.5})

    def __post_init__(self) -> None:
        if self.window < 2:
            raise EdgewatchError(f"feature spec: window must be >= 2, got {self.window}")
        if self.step <= 0:
            raise EdgewatchError(f"feature spec: step must be > 0 seconds, got {self.step}")
        if self.smoothing not in ("none", "kalman"):
            raise EdgewatchError(f"feature spec: smoothing must be 'none' or 'kalman', got {self.smoothing!r}")
        if not self.classes:
            raise EdgewatchError("feature spec: classes must not be empty")
        object.__setattr__(self, "classes", tuple(self.classes))
        if self.lane_direction is not None:
            object.__setattr__(self, "lane_direction", tuple(float(v) for v in self.lane_direction))

    @property
    def num_features(self) -> int:
        """F, the last axis of the model input."""
        return len(MOTION_FEATURES) + len(self.classes)

    @property
    def history_seconds(self) -> float:
        """How much track history the caller must keep: older observations are never used."""
        return (self.window - 1) * self.step

    def class_index(self, name: str) -> int | None:
        """The ``class_id`` to pass for a detector class name, or None if the model does not cover it."""
        return self.classes.index(name) if name in self.classes else None

    def to_json(self) -> str:
        """Compact JSON, the form stored in ONNX metadata and checkpoints."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> FeatureSpec:
        """Inverse of :meth:`to_json` (lists become tuples again)."""
        data = json.loads(text)
        data["classes"] = tuple(data["classes"])
        if data.get("lane_direction") is not None:
            data["lane_direction"] = tuple(data["lane_direction"])
        return FeatureSpec(**data)


class ConstantVelocityFilter:
    """Causal constant-velocity Kalman filter over ``D`` values that share one noise scale, fed one
    observation at a time (the live stage keeps one per track and pays O(1) per frame).

    Noise is relative to the object's scale (px of box height for positions, 1 for log sizes):
    ``measurement`` is the box jitter as a fraction of the scale, ``process`` the unmodelled
    acceleration in scales per second squared. Sharing the scale means sharing the covariance, hence
    the gain, across the ``D`` values. Plain floats, not arrays: at this size NumPy's per-call overhead
    dominated (~10 ms a track).
    """

    def __init__(self, measurement: float, process: float) -> None:
        self.measurement, self.process = measurement, process
        self.time: float | None = None
        self.x: list[float] = []  # positions
        self.v: list[float] = []  # velocities
        self.p00 = self.p01 = self.p11 = 0.0  # covariance of (position, velocity), shared by the columns

    def update(self, time: float, z: list[float], scale: float) -> list[float]:
        """Filtered values after the observation ``z`` at ``time`` (strictly after the previous one)."""
        if self.time is None:
            self.x, self.v = list(z), [0.0] * len(z)
            self.p00, self.p01, self.p11 = (self.measurement * scale) ** 2, 0.0, scale**2  # velocity ~1 scale/s
            self.time = time
            return list(self.x)
        dt = max(time - self.time, _EPS)
        self.time = time
        q = (self.process * scale) ** 2
        # predict: P' = F P F^T + Q (white-acceleration model), then update with a position measurement
        p00 = self.p00 + dt * (2 * self.p01 + dt * self.p11) + q * dt**4 / 4
        p01 = self.p01 + dt * self.p11 + q * dt**3 / 2
        p11 = self.p11 + q * dt * dt
        s = p00 + (self.measurement * scale) ** 2
        k0, k1 = p00 / s, p01 / s
        self.p00, self.p01, self.p11 = (1 - k0) * p00, (1 - k0) * p01, p11 - k1 * p01
        for j, zj in enumerate(z):
            x = self.x[j] + dt * self.v[j]
            innovation = zj - x
            self.x[j], self.v[j] = x + k0 * innovation, self.v[j] + k1 * innovation
        return list(self.x)


class BoxFilter:
    """One track's boxes made fit for features, online: ``update(time, box, cut) -> box`` (xyxy).

    First a box cut by the frame edge (``cut``: left, top, right, bottom, see :func:`cut_sides`) is
    completed on its cut side to the track's full size, the size of its last box not cut that way (or
    the largest it has shown so far). Then the spec's smoothing: centres filtered with noise relative
    to the box height (px), log sizes with relative noise; ``smoothing: none`` passes boxes through.
    Training (:func:`smooth_boxes`) and the live stage run this same object, from the track's first
    observation.
    """

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec = spec
        self.enabled = spec.smoothing == "kalman"
        self.centre = ConstantVelocityFilter(spec.kalman["measurement"], spec.kalman["process"])
        self.size = ConstantVelocityFilter(spec.kalman["measurement"], spec.kalman["process"])
        self.full = [0.0, 0.0]  # width, height of the object when not cut

    def complete(self, box: np.ndarray, cut: np.ndarray | None) -> np.ndarray:
        """The box extended on its cut side(s) to the track's full width / height."""
        x1, y1, x2, y2 = (float(v) for v in box)
        left, top, right, bottom = (False,) * 4 if cut is None else (bool(c) for c in cut)
        for axis, (low, high) in enumerate(((left, right), (top, bottom))):
            extent = (x2 - x1, y2 - y1)[axis]
            if not (low or high):
                self.full[axis] = extent
                continue
            self.full[axis] = full = max(self.full[axis], extent)
            if low != high:  # cut on one side only: the other side is real
                if axis == 0:
                    x1, x2 = (x2 - full, x2) if low else (x1, x1 + full)
                else:
                    y1, y2 = (y2 - full, y2) if low else (y1, y1 + full)
        return np.array([x1, y1, x2, y2])

    def update(self, time: float, box: np.ndarray, cut: np.ndarray | None = None) -> np.ndarray:
        box = self.complete(box, cut)
        if not self.enabled:
            return box
        x1, y1, x2, y2 = (float(v) for v in box)
        w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)  # a degenerate box stays finite
        cx, cy = self.centre.update(time, [(x1 + x2) / 2, (y1 + y2) / 2], h)
        lw, lh = self.size.update(time, [math.log(w), math.log(h)], 1.0)
        half_w, half_h = math.exp(lw) / 2, math.exp(lh) / 2
        return np.array([cx - half_w, cy - half_h, cx + half_w, cy + half_h])


def smooth_boxes(times: np.ndarray, boxes: np.ndarray, spec: FeatureSpec, cut: np.ndarray | None = None) -> np.ndarray:
    """A whole track's boxes through one :class:`BoxFilter` (what the live stage holds per track)."""
    box_filter, boxes = BoxFilter(spec), np.asarray(boxes, np.float64)
    cuts = np.zeros(boxes.shape, bool) if cut is None else np.asarray(cut, bool)
    return np.array([box_filter.update(t, b, c) for t, b, c in zip(np.asarray(times).tolist(), boxes, cuts)])


def _validate(times: np.ndarray, boxes: np.ndarray, class_id: int, spec: FeatureSpec,
              cut: np.ndarray | None = None) -> None:
    if times.ndim != 1 or boxes.shape != (times.shape[0], 4):
        raise EdgewatchError(f"track features: expected times [T] and boxes [T,4], got {times.shape} and {boxes.shape}")
    if cut is not None and np.shape(cut) != boxes.shape:
        raise EdgewatchError(f"track features: expected cut [T,4] like the boxes, got {np.shape(cut)}")
    if times.shape[0] == 0:
        raise EdgewatchError("track features: empty track")
    if not 0 <= class_id < len(spec.classes):
        raise EdgewatchError(f"track features: class_id {class_id} outside the model's {len(spec.classes)} classes")
    if np.any(np.diff(times) <= 0):
        raise EdgewatchError("track features: time stamps must be strictly increasing")


def _backward_rate(values: np.ndarray, step: float, first: int) -> np.ndarray:
    """Causal finite difference on the grid; the first valid point copies its successor's rate."""
    rate = np.zeros_like(values)
    rate[1:] = np.diff(values) / step
    rate[: first + 1] = rate[first + 1] if first + 1 < len(rate) else 0.0
    return rate


def track_features(times: np.ndarray, boxes: np.ndarray, class_id: int, spec: FeatureSpec,
                   smoothed: bool = False, cut: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features ``[window, F]`` float32 and mask ``[window]`` (1 valid, 0 padding) of one track.

    ``times [T]`` seconds (strictly increasing, any frame rate, gaps allowed), ``boxes [T, 4]`` xyxy
    pixels, ``class_id`` the index into ``spec.classes``, ``cut [T, 4]`` which box sides the frame
    edge cut (:func:`cut_sides`; None: none). The :class:`BoxFilter` (completion of cut boxes, the
    spec's smoothing) runs over all the given observations, from the first (``smoothed=True``: the
    boxes already went through one, as the live stage's do); then only the observations within
    ``spec.history_seconds`` of the newest one are used (causal). The newest observation is the last
    grid point.
    """
    times = np.asarray(times, np.float64)
    boxes = np.asarray(boxes, np.float64)
    _validate(times, boxes, class_id, spec, cut)
    if not smoothed:
        boxes = smooth_boxes(times, boxes, spec, cut)
    cuts = np.zeros(boxes.shape, bool) if cut is None else np.asarray(cut, bool)
    keep = times >= times[-1] - spec.history_seconds - spec.step  # one extra point to interpolate from
    times, boxes, cuts = times[keep], boxes[keep], cuts[keep]

    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = np.maximum(boxes[:, 2:] - boxes[:, :2], 1.0)  # w, h; a degenerate box stays finite
    grid = times[-1] - spec.step * np.arange(spec.window - 1, -1, -1)
    mask = grid >= times[0] - _EPS
    cx, cy, w, h = (np.interp(grid, times, column) for column in (*centre.T, *size.T))
    cut_x, cut_y = (np.interp(grid, times, (cuts[:, i] | cuts[:, i + 2]).astype(np.float64)) for i in (0, 1))

    first = int(np.argmax(mask))  # padded grid points repeat the first observation: zero motion
    vx, vy, growth = (_backward_rate(v, spec.step, first) for v in (cx, cy, np.log(h)))
    ax, ay = _backward_rate(vx, spec.step, first), _backward_rate(vy, spec.step, first)

    along = np.zeros_like(vx)
    across = np.zeros_like(vx)
    if spec.lane_direction is not None:
        lane = np.asarray(spec.lane_direction, np.float64)
        lane = lane / max(np.linalg.norm(lane), _EPS)
        along, across = vx * lane[0] + vy * lane[1], -vx * lane[1] + vy * lane[0]

    motion = np.stack([
        (cx - cx[-1]) / h[-1], (cy - cy[-1]) / h[-1],
        vx / h, vy / h, ax / h, ay / h, np.hypot(vx, vy) / h, along / h, across / h,
        np.log(w / h), growth, cut_x, cut_y,
    ], axis=1)
    onehot = np.zeros((spec.window, len(spec.classes)))
    onehot[:, class_id] = 1.0
    features = np.clip(np.concatenate([motion, onehot], axis=1), -CLIP, CLIP)
    features[~mask] = 0.0
    return features.astype(np.float32), mask.astype(np.float32)


def track_windows(times: np.ndarray, boxes: np.ndarray, class_id: int, spec: FeatureSpec, stride: float,
                  min_history: float = 0.0, cut: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut a long track into overlapping windows for training: ``(X [N,W,F], mask [N,W], end_times [N])``.

    A window ends every ``stride`` seconds (at the newest observation at or before that moment), each
    exactly what :func:`track_features` would give live at that moment. ``min_history`` seconds of track
    are required before the first window, so training never sees a track younger than the pipeline
    would classify.
    """
    times = np.asarray(times, np.float64)
    boxes = np.asarray(boxes, np.float64)
    _validate(times, boxes, class_id, spec, cut)
    ends = np.arange(times[0] + min_history, times[-1] + _EPS, stride)
    last = np.unique(np.searchsorted(times, ends + _EPS, side="right") - 1)
    if len(last) == 0:
        return (np.zeros((0, spec.window, spec.num_features), np.float32), np.zeros((0, spec.window), np.float32),
                np.zeros(0))
    boxes = smooth_boxes(times, boxes, spec, cut)  # once for the whole track, as the live stage does
    pairs = [track_features(times[: i + 1], boxes[: i + 1], class_id, spec, smoothed=True,
                            cut=None if cut is None else cut[: i + 1]) for i in last]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), times[last]


def with_scene(spec: FeatureSpec, lane_direction: tuple[float, float] | None) -> FeatureSpec:
    """The model's spec adapted to one camera (the scene parameters come from the config, not the model)."""
    return replace(spec, lane_direction=lane_direction)
