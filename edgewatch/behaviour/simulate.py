"""Trajectory simulator: labelled tracks for every behaviour, as a real detector and tracker deliver them.

Objects move on a ground plane in metres with a per-behaviour motion model; a pinhole camera at a random
height and focal length projects them (perspective: far objects are small and slow in pixels); then
the detector and tracker are imitated: box jitter proportional to the box size, missed frames and
longer gaps, identity switches (the older part of the track belongs to another object), and frame
rates from 5 to 30 fps. Everything is drawn from one seeded ``numpy`` generator, so a dataset is
reproducible from ``(n, seed)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from edgewatch.behaviour.features import FeatureSpec, track_features, with_scene
from edgewatch.behaviour.taxonomy import Taxonomy

SIM_DT = 0.02  # world integration step, seconds
FRAME_RATES = (5.0, 7.5, 10.0, 12.5, 15.0, 20.0, 25.0, 30.0)
IMAGE_W, IMAGE_H = 1280, 720
# height, length, width in metres (a person's "length" is its depth, about its width)
SIZES = {"person": (1.75, 0.45, 0.5), "bicycle": (1.7, 1.7, 0.6), "car": (1.5, 4.5, 1.8),
         "motorcycle": (1.5, 2.1, 0.8), "bus": (3.2, 12.0, 2.5), "truck": (3.5, 9.0, 2.5)}


@dataclass(frozen=True)
class SimTrack:
    """One simulated track as the temporal stage would see it."""

    times: np.ndarray  # [T] seconds
    boxes: np.ndarray  # [T, 4] xyxy px
    class_name: str
    label: str
    lane_direction: tuple[float, float] | None  # image-plane lane direction of this camera


@dataclass(frozen=True)
class Camera:
    focal: float
    height: float
    horizon: float

    def project(self, xz: np.ndarray, heading: np.ndarray, size: tuple[float, float, float]) -> np.ndarray:
        """Boxes ``[T, 4]`` of an object at ground points ``xz [T, 2]`` with ``heading [T]`` (radians)."""
        height, length, width = size
        depth = xz[:, 1]
        u = IMAGE_W / 2 + self.focal * xz[:, 0] / depth
        v = self.horizon + self.focal * self.height / depth
        across = np.abs(length * np.cos(heading)) + np.abs(width * np.sin(heading))  # seen extent
        w, h = self.focal * across / depth, self.focal * height / depth
        return np.stack([u - w / 2, v - h, u + w / 2, v], axis=1)

    def image_direction(self, xz: np.ndarray, angle: float) -> tuple[float, float]:
        """Image-plane direction of a ground direction ``angle`` at ground point ``xz``."""
        ahead = xz + 0.5 * np.array([np.cos(angle), np.sin(angle)])
        a, b = self.project(np.stack([xz, ahead]), np.zeros(2), (0.0, 0.0, 0.0))[:, 2:]
        d = b - a
        return float(d[0] / np.linalg.norm(d)), float(d[1] / np.linalg.norm(d))


def _integrate(speed: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """Ground positions from speed and heading profiles (starting at the origin)."""
    step = np.stack([speed * np.cos(heading), speed * np.sin(heading)], axis=1) * SIM_DT
    return np.concatenate([np.zeros((1, 2)), np.cumsum(step[:-1], axis=0)])


def _wander(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """A slow random walk of the heading (radians), ``sigma`` per sqrt-second."""
    return np.cumsum(rng.normal(0, sigma * np.sqrt(SIM_DT), n))


def _segments(rng: np.random.Generator, n: int, draw: Callable[[], tuple[float, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant (speed, heading) from ``draw() -> (seconds, speed, heading)`` until ``n`` steps."""
    speed, heading = [], []
    while len(speed) < n:
        seconds, s, h = draw()
        k = max(1, int(seconds / SIM_DT))
        speed += [s] * k
        heading += [h] * k
    return np.array(speed[:n]), np.array(heading[:n])


def _smooth(values: np.ndarray, seconds: float) -> np.ndarray:
    """Moving average: real bodies cannot change speed or heading in one step."""
    k = max(1, int(seconds / SIM_DT))
    padded = np.concatenate([np.full(k, values[0]), values])
    return (np.cumsum(padded)[k:] - np.cumsum(padded)[:-k]) / k


def _sway(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Small smooth positional noise (a standing person shifting weight), metres."""
    return np.stack([_smooth(rng.normal(0, sigma * 6, n), 1.0) for _ in range(2)], axis=1)


def _crossing(rng: np.random.Generator, degrees: float) -> float:
    """A walking direction within ``degrees`` of crossing the view.

    Straight towards or away from the camera, a runner's image motion is as slow as a walker's and
    nothing in one camera's boxes can tell them apart (depth speed needs the focal length); labels
    the data cannot support would only teach the model noise.
    """
    return rng.uniform(-np.radians(degrees), np.radians(degrees)) + rng.choice([0.0, np.pi])


def _motion(rng: np.random.Generator, label: str, n: int, lane: float) -> tuple[np.ndarray, np.ndarray]:
    """Ground path ``[n, 2]`` and heading ``[n]`` for a behaviour label; ``lane`` is the lane angle."""
    u = rng.uniform
    duration = n * SIM_DT
    if label in ("standing", "stopped"):
        sway = 0.04 if label == "standing" else 0.01
        return _sway(rng, n, sway), np.full(n, u(-np.pi, np.pi) if label == "standing" else lane)
    if label in ("walking", "running"):
        speed = u(0.8, 1.7) if label == "walking" else u(2.8, 6.0)
        heading = _crossing(rng, 60 if label == "walking" else 45) + _wander(rng, n, 0.15)
        return _integrate(speed * (1 + 0.05 * np.sin(np.linspace(0, duration * 6, n))), heading), heading
    if label == "loitering":
        moving = iter(range(int(rng.integers(2)), 10**6))  # pauses and slow strolls alternate
        speed, heading = _segments(rng, n, lambda: (u(1.0, 2.5), u(0.4, 0.9) * (next(moving) % 2), u(-np.pi, np.pi)))
        path = _integrate(_smooth(speed, 0.4), heading)
        radius = u(1.5, 3.0)  # a loiterer stays within a few metres: fold the stroll back at the edges
        return radius - np.abs((path + radius) % (4 * radius) - 2 * radius), heading
    if label == "pacing":
        leg, speed, pause = u(1.5, 4.0), u(0.8, 1.5), u(0.0, 0.6)
        facing = _crossing(rng, 60)
        flips = iter(range(10**6))
        speeds, heading = _segments(rng, n, lambda: (leg / speed + pause, speed, facing + np.pi * (next(flips) % 2)))
        moving = np.ones(n)
        phase = (np.arange(n) * SIM_DT) % (leg / speed + pause)
        moving[phase > leg / speed] = 0.0
        return _integrate(_smooth(speeds * moving, 0.3), heading), heading
    # vehicles: moving along the lane unless the behaviour says otherwise
    heading = np.full(n, lane) + _wander(rng, n, 0.005)  # vehicles keep to their lane
    speed = np.full(n, u(18.0, 30.0) if label == "speeding" else u(3.0, 12.0))
    lateral = np.zeros(n)
    if label == "wrong_way":
        heading = heading + np.pi
    elif label in ("turning", "lane_change"):
        event = int(u(2.0, 4.0) / SIM_DT)
        start = int(u(max(0, n - int(7.0 / SIM_DT)), max(1, n - event)))
        ramp = np.clip((np.arange(n) - start) / event, 0, 1)
        ramp = (1 - np.cos(np.pi * ramp)) / 2
        if label == "turning":
            speed = np.minimum(speed, 9.0)
            heading = heading + rng.choice([-1, 1]) * np.deg2rad(u(60, 120)) * ramp
        else:
            lateral = rng.choice([-1, 1]) * u(3.0, 3.8) * ramp
    path = _integrate(speed, heading)
    normal = np.stack([-np.sin(lane), np.cos(lane)], axis=0)
    slope = np.gradient(lateral, SIM_DT)
    return path + lateral[:, None] * normal[None, :], heading + np.arctan2(slope, speed)


def _min_duration(label: str) -> float:
    """Shortest track that still shows the behaviour (a pace needs a turn, a turn needs time)."""
    return {"loitering": 5.0, "pacing": 6.0, "turning": 5.0, "lane_change": 5.0}.get(label, 2.0)


def simulate_track(rng: np.random.Generator, label: str, class_name: str, others: tuple[str, ...]) -> SimTrack:
    """One labelled track; ``others`` are labels an identity switch may borrow the older part from."""
    duration = rng.uniform(_min_duration(label), 12.0)
    n = int(duration / SIM_DT)
    camera = Camera(focal=rng.uniform(600, 1200), height=rng.uniform(3, 10), horizon=rng.uniform(-100, 200))
    lane = rng.uniform(-np.radians(25), np.radians(25)) + rng.choice([0.0, np.pi])  # road across the view
    path, heading = _motion(rng, label, n, lane)
    if rng.random() < 0.08 and others:  # identity switch: the older part of the track is someone else
        switch = int(rng.uniform(0.2, 0.6) * n)
        other_path, other_heading = _motion(rng, str(rng.choice(others)), n, lane)
        other_path = other_path - other_path[switch] + path[switch] + rng.normal(0, 0.3, 2)
        path = np.concatenate([other_path[:switch], path[switch:]])
        heading = np.concatenate([other_heading[:switch], heading[switch:]])
    anchor = np.array([rng.uniform(-8, 8), rng.uniform(10, 40)]) - path[n // 2]
    path = path + anchor
    path[:, 1] += max(0.0, 4.0 - path[:, 1].min())  # never behind the camera
    boxes = camera.project(path, heading, SIZES[class_name])

    fps = float(rng.choice(FRAME_RATES))
    frames = np.arange(0, n * SIM_DT, 1 / fps)
    keep = rng.random(len(frames)) >= rng.uniform(0, 0.3)  # missed detections
    if rng.random() < 0.3:  # a longer occlusion, bridged by the tracker
        gap_start = rng.uniform(0, frames[-1])
        keep &= ~((frames > gap_start) & (frames < gap_start + rng.uniform(0.3, 1.5)))
    keep[-1] = True  # the track is being classified at this (observed) moment
    frames = frames[keep]
    idx = np.minimum((frames / SIM_DT).astype(int), n - 1)
    obs = boxes[idx]
    height = (obs[:, 3] - obs[:, 1])[:, None]
    obs = obs + rng.normal(0, rng.uniform(0.003, 0.04), obs.shape) * height  # from annotation-smooth to a noisy detector
    has_lane = class_name == "person" or label == "wrong_way" or rng.random() > 0.15
    lane_image = camera.image_direction(path[n // 2], lane) if has_lane else None
    return SimTrack(frames, obs.astype(np.float32), class_name, label, lane_image)


def simulate_tracks(taxonomy: Taxonomy, n: int, seed: int) -> list[SimTrack]:
    """``n`` tracks with behaviours drawn uniformly over the taxonomy, classes uniformly within a group."""
    rng = np.random.default_rng(seed)
    labels = taxonomy.behaviours
    tracks = []
    for _ in tqdm(range(n), desc="simulate", unit="track", leave=False, mininterval=2.0):
        label = str(rng.choice(labels))
        group = next(g for g in taxonomy.groups if label in g.behaviours)
        others = tuple(b for b in group.behaviours if b != label)
        tracks.append(simulate_track(rng, label, str(rng.choice(group.classes)), others))
    return tracks


def tracks_to_arrays(tracks: list[SimTrack], spec: FeatureSpec,
                     labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X [N,W,F]``, ``mask [N,W]``, ``y [N]``: each track's window at its newest observation."""
    pairs = [track_features(t.times, t.boxes, spec.classes.index(t.class_name), with_scene(spec, t.lane_direction))
             for t in tracks]
    y = np.array([labels.index(t.label) for t in tracks], np.int64)
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), y
