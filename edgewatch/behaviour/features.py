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
"""

from __future__ import annotations

import json
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
)
CLIP = 50.0
_EPS = 1e-6


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


def kalman_smooth(times: np.ndarray, values: np.ndarray, scale: np.ndarray, measurement: float,
                  process: float) -> np.ndarray:
    """Causal constant-velocity Kalman filter, one independent filter per column of ``values [T, D]``.

    Noise is relative to the object's scale ``scale [T]`` (px of box height for positions, 1 for log
    sizes), shared by the columns: ``measurement`` is the box jitter as a fraction of the scale,
    ``process`` the unmodelled acceleration in scales per second squared. The filter runs forward only
    (no smoother), so a live stream gets exactly the training-time values.
    """
    values = np.asarray(values, np.float64)
    dts = np.maximum(np.diff(np.asarray(times, np.float64)), _EPS).tolist()
    scales = np.asarray(scale, np.float64).tolist()
    # The covariance, hence the gain, does not depend on the values: one pass gives the gains of every
    # column. Plain floats, not arrays: at this size NumPy's per-call overhead dominated (~10 ms a track).
    gains = []
    p00, p01, p11 = (measurement * scales[0]) ** 2, 0.0, scales[0] ** 2  # unknown velocity: ~1 scale/s
    for dt, st in zip(dts, scales[1:]):
        q = (process * st) ** 2
        # predict: P' = F P F^T + Q (white-acceleration model), then update with a position measurement
        p00 += dt * (2 * p01 + dt * p11) + q * dt**4 / 4
        p01 += dt * p11 + q * dt**3 / 2
        p11 += q * dt * dt
        s = p00 + (measurement * st) ** 2
        k0, k1 = p00 / s, p01 / s
        p00, p01, p11 = (1 - k0) * p00, (1 - k0) * p01, p11 - k1 * p01
        gains.append((k0, k1))
    out = np.empty_like(values)
    for j in range(values.shape[1]):
        z = values[:, j].tolist()
        x, v = z[0], 0.0  # position, velocity
        column = [x]
        for dt, zt, (k0, k1) in zip(dts, z[1:], gains):
            x += dt * v
            innovation = zt - x
            x, v = x + k0 * innovation, v + k1 * innovation
            column.append(x)
        out[:, j] = column
    return out


def _validate(times: np.ndarray, boxes: np.ndarray, class_id: int, spec: FeatureSpec) -> None:
    if times.ndim != 1 or boxes.shape != (times.shape[0], 4):
        raise EdgewatchError(f"track features: expected times [T] and boxes [T,4], got {times.shape} and {boxes.shape}")
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


def track_features(times: np.ndarray, boxes: np.ndarray, class_id: int,
                   spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """Features ``[window, F]`` float32 and mask ``[window]`` (1 valid, 0 padding) of one track.

    ``times [T]`` seconds (strictly increasing, any frame rate, gaps allowed), ``boxes [T, 4]`` xyxy
    pixels, ``class_id`` the index into ``spec.classes``. Uses only observations within
    ``spec.history_seconds`` of the newest one (causal). The newest observation is the last grid point.
    """
    times = np.asarray(times, np.float64)
    boxes = np.asarray(boxes, np.float64)
    _validate(times, boxes, class_id, spec)
    keep = times >= times[-1] - spec.history_seconds - spec.step  # one extra point to interpolate from
    times, boxes = times[keep], boxes[keep]

    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = np.maximum(boxes[:, 2:] - boxes[:, :2], 1.0)  # w, h; a degenerate box stays finite
    if spec.smoothing == "kalman" and len(times) > 1:
        # centre noise scales with the box height (px); log-size noise is relative already (scale 1)
        centre = kalman_smooth(times, centre, size[:, 1], spec.kalman["measurement"], spec.kalman["process"])
        size = np.exp(kalman_smooth(times, np.log(size), np.ones(len(times)), spec.kalman["measurement"],
                                    spec.kalman["process"]))

    grid = times[-1] - spec.step * np.arange(spec.window - 1, -1, -1)
    mask = grid >= times[0] - _EPS
    cx, cy, w, h = (np.interp(grid, times, column) for column in (*centre.T, *size.T))

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
        np.log(w / h), growth,
    ], axis=1)
    onehot = np.zeros((spec.window, len(spec.classes)))
    onehot[:, class_id] = 1.0
    features = np.clip(np.concatenate([motion, onehot], axis=1), -CLIP, CLIP)
    features[~mask] = 0.0
    return features.astype(np.float32), mask.astype(np.float32)


def track_windows(times: np.ndarray, boxes: np.ndarray, class_id: int, spec: FeatureSpec,
                  stride: float, min_history: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut a long track into overlapping windows for training: ``(X [N,W,F], mask [N,W], end_times [N])``.

    A window ends every ``stride`` seconds (at the newest observation at or before that moment), each
    exactly what :func:`track_features` would give live at that moment. ``min_history`` seconds of track
    are required before the first window, so training never sees a track younger than the pipeline
    would classify.
    """
    times = np.asarray(times, np.float64)
    boxes = np.asarray(boxes, np.float64)
    _validate(times, boxes, class_id, spec)
    ends = np.arange(times[0] + min_history, times[-1] + _EPS, stride)
    last = np.unique(np.searchsorted(times, ends + _EPS, side="right") - 1)
    if len(last) == 0:
        return (np.zeros((0, spec.window, spec.num_features), np.float32), np.zeros((0, spec.window), np.float32),
                np.zeros(0))
    pairs = [track_features(times[: i + 1], boxes[: i + 1], class_id, spec) for i in last]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), times[last]


def with_scene(spec: FeatureSpec, lane_direction: tuple[float, float] | None) -> FeatureSpec:
    """The model's spec adapted to one camera (the scene parameters come from the config, not the model)."""
    return replace(spec, lane_direction=lane_direction)
