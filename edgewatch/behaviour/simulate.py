"""Trajectory simulator: labelled tracks for every behaviour, as a real detector and tracker deliver them.

Objects move on a ground plane in metres with a per-behaviour motion model; a pinhole camera at a random
height and focal length projects them (perspective: far objects are small and slow in pixels); then
the detector and tracker are imitated: box jitter proportional to the box size, missed frames and
longer gaps, partial occlusion, boxes cut by the frame edge (clipped to the image, with the cut
sides known as the live stage knows them), identity switches (the older part of the track belongs to
another object), frame rates from 5 to 30 fps and streams re-timed by repeating frames. Everything
is drawn from one seeded ``numpy`` generator, so a dataset is reproducible from ``(n, seed)``;
:class:`SimSettings` holds the ranges, so a robustness test can fix one of them.

Where the ranges come from: box jitter and box sizes were measured on our tracker's person tracks
of the two real clips (jitter, the spread of box centres around a 5-frame moving average, is 0.9 to
6% of the box height from the 10th to the 90th percentile on the campus clip, 0.3 to 3% on the street
film; boxes are 8 to 33% of the frame height on the campus clip and 20 to 60% on the street film).
Vehicles drive on a road across the view, but a stopped vehicle faces any way: the campus clip's two
parked vehicles are seen from behind and at an angle (a car 47 px high, 0.74 as wide as high with
the frame's right edge cutting it all the time; a truck 58 px high, 1.4 as wide), which a vehicle on
a road across the view (2 to 3 times as wide as high) never shows standing still, only in a turn.
Their jitter (0.3 to 1% of the box height) lies within the measured person range above.
Behaviour speeds leave no unlabelled gap: walking ends where running starts and moving vehicles go
up to where speeding starts. A boundary is set on what the boxes can see, the speed across the view
over the newest 2 s: for people in body heights per second (1.25, the walk-run transition of about
2.2 m/s for a 1.75 m adult; a gait scales with the body), for vehicles in m/s (15). A runner seen
at an angle crosses the view as slowly as a walker and is labelled by what it shows. Within a
margin around a boundary the label is a mix that ramps from one behaviour to the other
(``SimTrack.shares``): training learns a probability near one half there, which the live verdict
rules then do not act on. The held-out score counts the tracks whose behaviour can be told: outside
the margins, with their current behaviour in view for at least :data:`SCORED_AFTER` seconds (the
live stage reports nothing sooner either; shorter histories are scored apart, by length). Pacing is repeated back-and-forth (at least two turns
in every window the label applies to); a single U-turn, or any turn, is part of walking. A turn or
lane change is seen whole: the track is in view for the whole manoeuvre.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from edgewatch.behaviour.data import Dataset
from edgewatch.behaviour.features import FeatureSpec, cut_sides, track_features, with_scene
from edgewatch.behaviour.taxonomy import Taxonomy

SIM_DT = 0.02  # world integration step, seconds
FRAME_RATES = (5.0, 7.5, 10.0, 12.5, 15.0, 20.0, 25.0, 30.0)
IMAGE_W, IMAGE_H = 1280, 720
# height, length, width in metres (a person's "length" is its depth, about its width)
SIZES = {"person": (1.75, 0.45, 0.5), "bicycle": (1.7, 1.7, 0.6), "car": (1.5, 4.5, 1.8),
         "motorcycle": (1.5, 2.1, 0.8), "bus": (3.2, 12.0, 2.5), "truck": (3.5, 9.0, 2.5)}
# (slower, faster): boundary, margin of the mixed labels, unit (True: body heights per second, False: m/s)
BOUNDARIES = {("walking", "running"): (1.25, 0.15, True), ("moving", "speeding"): (15.0, 2.0, False)}
SCORED_AFTER = 2.0  # s of the current behaviour in view before a track counts in the held-out score
MANOEUVRES = ("turning", "lane_change", "wrong_way")  # labels whose whole track shows them (no change before)
LANE_CHANGE_SEEN = (1.0, 2.5)  # box heights a lane change moves the box by in the view: below, "moving"; between, a mix
SPEEDS = {"walking": (0.3, 1.25), "running": (1.25, 3.7), "moving": (0.8, 15.0), "speeding": (15.0, 32.0),
          "turning": (3.0, 9.0), "lane_change": (5.0, 15.0), "wrong_way": (3.0, 15.0)}  # heights/s or m/s
PACE_LEG_MAX = 3.3  # s: the longest leg (walk + turn) of a pace, so every window shows two turns
LANE_SPREAD = 25  # degrees: roads of moving vehicles lie within this of crossing the view
MIN_VISIBLE = 0.35  # a box is detected while at least this share of its height and width is in view


@dataclass(frozen=True)
class SimSettings:
    """The ranges the simulator draws from (uniformly unless said); fix one to measure robustness to it."""

    frame_rates: tuple[float, ...] = FRAME_RATES
    jitter: tuple[float, float] = (0.003, 0.06)  # box noise, fraction of the box height (log-uniform)
    missed: tuple[float, float] = (0.0, 0.3)  # share of frames without a detection
    camera_height: tuple[float, float] = (3.0, 10.0)  # metres
    box_height: tuple[float, float] = (0.05, 0.6)  # fraction of the frame height at mid-track (log-uniform)
    history: tuple[float, float] | None = None  # seconds of track; None: per behaviour (see _duration)
    short_share: float = 0.35  # tracks with at most 4 s of history, so early verdicts are trained
    edge_share: float = 0.15  # tracks whose newest boxes the frame edge cuts
    occlusion_share: float = 0.15  # tracks with a spell of their lower part hidden behind something
    switch_share: float = 0.08  # identity switches
    change_share: float = 0.3  # tracks whose older part is another behaviour of the same object (walk, then stop)
    repeat_share: float = 0.1  # streams re-timed to 25 or 30 fps by repeating the camera's frames


@dataclass(frozen=True)
class SimTrack:
    """One simulated track as the temporal stage would see it."""

    times: np.ndarray  # [T] seconds
    boxes: np.ndarray  # [T, 4] xyxy px
    class_name: str
    label: str
    lane_direction: tuple[float, float] | None  # image-plane lane direction of this camera
    cut: np.ndarray  # [T, 4] bool: box sides (left, top, right, bottom) the frame edge cut
    shares: dict[str, float]  # the label as a mix: {label: 1.0} unless near a speed boundary
    current_for: float  # seconds the current behaviour has been in view at the newest observation


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


def _turns(rng: np.random.Generator, n: int, heading: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A walker's one change of mind: a U-turn with a short stop, or a turn of 45 to 120 degrees, with at
    least 1.5 s of walking after it (a stop at the very end would be standing); returns (speed factor, heading)."""
    stop = int(rng.uniform(0.0, 1.5) / SIM_DT)
    latest = n - stop - int(1.5 / SIM_DT)
    factor = np.ones(n)
    if latest < n // 10:
        return factor, heading
    at = int(rng.integers(n // 10, latest + 1))
    if rng.random() < 0.5:
        factor[at:at + stop] = 0.0
        heading = heading + np.pi * (np.arange(n) >= at)
    else:
        heading = heading + rng.choice([-1, 1]) * np.radians(rng.uniform(45, 120)) * (np.arange(n) >= at)
    return _smooth(factor, 0.4), _smooth(heading, 0.6)


def _shares(label: str, speed: float) -> dict[str, float]:
    """The label of a track moving at ``speed`` (the boundary's unit), mixed within a boundary's margin."""
    for (slow, fast), (boundary, margin, _) in BOUNDARIES.items():
        if label in (slow, fast):
            share = float(np.clip((speed - boundary + margin) / (2 * margin), 0.0, 1.0))
            return {k: v for k, v in ((slow, 1.0 - share), (fast, share)) if v > 0}
    return {label: 1.0}


def _event(rng: np.random.Generator, n: int) -> tuple[int, int, float]:
    """A manoeuvre's (first step, steps, lateral shift in metres of a lane change): 2 to 4 s, within the
    last 7 s of the track."""
    length = int(rng.uniform(2.0, 4.0) / SIM_DT)
    start = int(rng.uniform(max(0, n - int(7.0 / SIM_DT)), max(1, n - length)))
    return start, length, float(rng.choice([-1, 1]) * rng.uniform(3.0, 3.8))


def _motion(rng: np.random.Generator, label: str, n: int, lane: float, leg: float, speed: float,
            event: tuple[int, int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Ground path ``[n, 2]`` and heading ``[n]`` for a behaviour label; ``lane`` is the lane angle,
    ``leg`` a pace's leg in seconds, ``speed`` the m/s of a walk, run or drive, ``event`` a manoeuvre's
    steps (see :func:`_event`)."""
    u = rng.uniform
    duration = n * SIM_DT
    if label in ("standing", "stopped"):  # people shift their weight and turn, more in a group
        sway = u(0.02, 0.1) if label == "standing" else 0.01
        return _sway(rng, n, sway), np.full(n, u(-np.pi, np.pi) if label == "standing" else lane)
    if label in ("walking", "running"):
        heading = _crossing(rng, 60 if label == "walking" else 45) + _wander(rng, n, 0.15)
        factor = 1 + 0.05 * np.sin(np.linspace(0, duration * 6, n))
        if label == "walking" and rng.random() < 0.3:
            turn, heading = _turns(rng, n, heading)
            factor = factor * turn
        return _integrate(speed * factor, heading), heading
    if label == "loitering":
        moving = iter(range(int(rng.integers(2)), 10**6))  # pauses (0.5-1.5 s) and slow strolls (1-2.5 s) alternate

        def part() -> tuple[float, float, float]:
            stroll = next(moving) % 2
            return u(1.0, 2.5) if stroll else u(0.5, 1.5), u(0.4, 0.9) * stroll, u(-np.pi, np.pi)

        speed, heading = _segments(rng, n, part)
        path = _integrate(_smooth(speed, 0.4), heading)
        radius = u(1.5, 3.0)  # a loiterer stays within a few metres: fold the stroll back at the edges
        return radius - np.abs((path + radius) % (4 * radius) - 2 * radius), heading
    if label == "pacing":  # legs of ``leg`` seconds: a walk, then a pause at the turn
        speed, pause = u(0.7, 1.5), u(0.0, min(0.7, leg - 1.0))
        facing = _crossing(rng, 60)
        flips = iter(range(int(rng.integers(2)), 10**6))
        speeds, heading = _segments(rng, n, lambda: (leg, speed, facing + np.pi * (next(flips) % 2)))
        moving = np.ones(n)
        moving[(np.arange(n) * SIM_DT) % leg > leg - pause] = 0.0
        return _integrate(_smooth(speeds * moving, 0.3), heading), heading
    # vehicles: moving along the lane unless the behaviour says otherwise
    heading = np.full(n, lane) + _wander(rng, n, 0.005)  # vehicles keep to their lane
    speeds = np.full(n, speed)
    lateral = np.zeros(n)
    if label == "wrong_way":
        heading = heading + np.pi
    elif label in ("turning", "lane_change"):
        start, length, shift = event
        ramp = np.clip((np.arange(n) - start) / length, 0, 1)
        ramp = (1 - np.cos(np.pi * ramp)) / 2
        if label == "turning":
            speeds = np.minimum(speeds, 9.0)
            heading = heading + rng.choice([-1, 1]) * np.deg2rad(u(60, 120)) * ramp
        else:
            lateral = shift * ramp
    path = _integrate(speeds, heading)
    normal = np.stack([-np.sin(lane), np.cos(lane)], axis=0)
    slope = np.gradient(lateral, SIM_DT)
    return path + lateral[:, None] * normal[None, :], heading + np.arctan2(slope, speeds)


def _shortest(label: str, leg: float) -> float:
    """Seconds of a behaviour that show it (a pace two turns, a turn its manoeuvre)."""
    return {"loitering": 6.0, "pacing": 2 * leg + 1.0, "turning": 5.0, "lane_change": 5.0}.get(label, 1.0)


def _duration(rng: np.random.Generator, label: str, leg: float, settings: SimSettings) -> float:
    """Seconds of track: at least :func:`_shortest`; a share of them short, so early verdicts are trained."""
    shortest = _shortest(label, leg)
    if settings.history is not None:
        return max(shortest, rng.uniform(*settings.history))
    longest = 4.0 if rng.random() < settings.short_share else 12.0
    return rng.uniform(shortest, max(shortest, longest))


def _observe(rng: np.random.Generator, n: int, settings: SimSettings) -> np.ndarray:
    """Observation times (s) of a track ``n`` world steps long: the stream's frames less missed ones."""
    fps = float(rng.choice(settings.frame_rates))
    frames = np.arange(0, n * SIM_DT, 1 / fps)
    keep = rng.random(len(frames)) >= rng.uniform(*settings.missed)  # missed detections
    if rng.random() < 0.3:  # a longer occlusion, bridged by the tracker
        gap_start = rng.uniform(0, frames[-1])
        keep &= ~((frames > gap_start) & (frames < gap_start + rng.uniform(0.3, 1.5)))
    keep[-1] = True  # the track is being classified at this (observed) moment
    return frames[keep]


def simulate_track(rng: np.random.Generator, label: str, class_name: str, others: tuple[str, ...],
                   settings: SimSettings = SimSettings()) -> SimTrack:
    """One labelled track; ``others`` are labels an identity switch may borrow the older part from."""
    u = rng.uniform
    leg = u(1.8, PACE_LEG_MAX)
    n = int(_duration(rng, label, leg, settings) / SIM_DT)
    focal = u(600, 1200)
    height, length, width = SIZES[class_name]
    scale = u(0.88, 1.12) if class_name == "person" else u(0.94, 1.06)  # people and vehicles differ in size
    size = (height * scale, length * scale, width * scale)
    nominal = u(*SPEEDS.get(label, (0.0, 0.0)))
    in_heights = any(label in pair and per_height for pair, (_, _, per_height) in BOUNDARIES.items())
    speed = nominal * size[0] if in_heights else nominal  # m/s
    event = _event(rng, n)
    depth = focal * size[0] / (IMAGE_H * np.exp(u(*np.log(settings.box_height))))
    camera_height = u(*settings.camera_height)
    # the principal point shifted so the object's feet are in view at mid-track (a camera tilted down)
    horizon = u(0.3, 0.95) * IMAGE_H - focal * camera_height / depth
    camera = Camera(focal=focal, height=camera_height, horizon=horizon)
    # a road across the view; a stopped (parked) vehicle faces any way, and so does the road it came by
    spread = 90 if label == "stopped" else LANE_SPREAD
    lane = u(-np.radians(spread), np.radians(spread)) + rng.choice([0.0, np.pi])
    path, heading = _motion(rng, label, n, lane, leg, speed, event)
    if rng.random() < settings.switch_share and others:  # the older part of the track is someone else
        switch = int(u(0.2, 0.6) * n)
        other = str(rng.choice(others))
        other_speed = u(*SPEEDS.get(other, (0.0, 0.0))) * (size[0] if class_name == "person" else 1.0)
        other_path, other_heading = _motion(rng, other, n, lane, leg, other_speed, _event(rng, n))
        other_path = other_path - other_path[switch] + path[switch] + rng.normal(0, 0.3, 2)
        path = np.concatenate([other_path[:switch], path[switch:]])
        heading = np.concatenate([other_heading[:switch], heading[switch:]])
    newest = u(_shortest(label, leg) + 0.5, n * SIM_DT - 1.0) if n * SIM_DT > _shortest(label, leg) + 1.5 else 0.0
    changed = False
    if newest and others and label not in MANOEUVRES and rng.random() < settings.change_share:
        # the same object did something else before (walked, then stopped): continuous, bodies ease into it
        switch = n - int(newest / SIM_DT)
        other = str(rng.choice([o for o in others if o not in MANOEUVRES]))
        other_speed = u(*SPEEDS.get(other, (0.0, 0.0))) * (size[0] if class_name == "person" else 1.0)
        other_path, other_heading = _motion(rng, other, n, lane, leg, other_speed, _event(rng, n))
        other_path = other_path - other_path[switch] + path[switch]
        path = np.stack([_smooth(c, 0.4) for c in np.concatenate([other_path[:switch], path[switch:]]).T], axis=1)
        heading = np.concatenate([other_heading[:switch], heading[switch:]])
        changed = True
    anchor = np.array([u(-0.4, 0.4) * IMAGE_W * depth / focal, depth]) - path[n // 2]
    path = path + anchor
    path[:, 1] += max(0.0, 4.0 - path[:, 1].min())  # never behind the camera
    boxes = camera.project(path, heading, size)
    times = _observe(rng, n, settings)
    shown = times
    if rng.random() < settings.repeat_share:  # a 5-12.5 fps camera re-timed to 25/30 fps repeats frames
        camera_fps = float(rng.choice([5.0, 7.5, 10.0, 12.5]))
        times = np.arange(0, n * SIM_DT, 1 / float(rng.choice([25.0, 30.0])))
        shown = np.floor(times * camera_fps + 1e-9) / camera_fps
    idx = np.minimum((shown / SIM_DT).astype(int), n - 1)
    obs = boxes[idx].copy()
    if rng.random() < settings.edge_share:  # the frame edge cuts the newest box by 5 to 55%
        obs = _shift_to_edge(rng, obs)
    h = obs[:, 3] - obs[:, 1]
    if rng.random() < settings.occlusion_share:  # the lower part hidden behind something for a while
        start = u(0, times[-1])
        hidden = (times > start) & (times < start + u(0.5, 3.0))
        obs[hidden, 3] = obs[hidden, 1] + h[hidden] * u(0.45, 0.8)
    jitter = np.exp(u(*np.log(settings.jitter)))
    noise = rng.normal(0, jitter, (len(np.unique(shown)), 4))[np.unique(shown, return_inverse=True)[1]]
    obs = obs + noise * h[:, None]  # a repeated frame repeats its detection
    visible = _visible(obs)
    seen = times[visible]
    manoeuvre = label in ("turning", "lane_change")
    if (visible.sum() < 2 or not visible[-1]
            or (manoeuvre and (seen[0] > event[0] * SIM_DT or not visible[times >= event[0] * SIM_DT].all()))
            or (label == "pacing" and seen[-1] - seen[0] < 2 * leg + 0.9)):
        return simulate_track(rng, label, class_name, others, settings)  # not seen as labelled: draw again
    times, obs = times[visible], np.clip(obs[visible], 0, [IMAGE_W, IMAGE_H, IMAGE_W, IMAGE_H])
    has_lane = class_name == "person" or label == "wrong_way" or rng.random() > 0.15
    lane_image = camera.image_direction(path[n // 2], lane) if has_lane else None
    recent = path[-int(2.0 / SIM_DT):]  # speed across the view over the newest 2 s, in the boundary's unit
    across = abs(recent[-1, 0] - recent[0, 0]) / (len(recent) * SIM_DT) / (size[0] if in_heights else 1.0)
    shares = _shares(label, across)
    if label == "lane_change":  # seen as far as it moves the box in the view (a shift in depth hardly does)
        normal = np.array([-np.sin(lane), np.cos(lane)]) * event[2]
        ends = camera.project(np.stack([path[-1], path[-1] - normal]), heading[-2:], size)
        moved = np.abs((ends[0, :2] + ends[0, 2:]) / 2 - (ends[1, :2] + ends[1, 2:]) / 2).max() / (ends[0, 3] - ends[0, 1])
        low, high = LANE_CHANGE_SEEN
        seen = float(np.clip((moved - low) / (high - low), 0.0, 1.0))
        shares = {k: v for k, v in (("lane_change", seen), ("moving", 1.0 - seen)) if v > 0}
    current_for = float(times[-1] - times[0]) if not changed else min(newest, float(times[-1] - times[0]))
    return SimTrack(times, obs.astype(np.float32), class_name, label, lane_image,
                    cut_sides(obs, (IMAGE_W, IMAGE_H)), shares, current_for)


def _shift_to_edge(rng: np.random.Generator, boxes: np.ndarray) -> np.ndarray:
    """The boxes moved in the image (another principal point) so an edge cuts the newest one."""
    last = boxes[-1]
    h, w = last[3] - last[1], last[2] - last[0]
    cut = rng.uniform(0.05, 0.55)
    side = rng.choice(["bottom", "bottom", "left", "right"])
    shift = {"bottom": (0.0, IMAGE_H - last[3] + cut * h), "left": (-last[0] - cut * w, 0.0),
             "right": (IMAGE_W - last[2] + cut * w, 0.0)}[str(side)]
    return boxes + np.array([shift[0], shift[1], shift[0], shift[1]])


def _visible(boxes: np.ndarray) -> np.ndarray:
    """Boxes a detector still finds: enough of their height and width inside the image."""
    inside_w = np.minimum(boxes[:, 2], IMAGE_W) - np.maximum(boxes[:, 0], 0)
    inside_h = np.minimum(boxes[:, 3], IMAGE_H) - np.maximum(boxes[:, 1], 0)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return (inside_w >= MIN_VISIBLE * w) & (inside_h >= MIN_VISIBLE * h) & (w > 1) & (h > 1)


def simulate_tracks(taxonomy: Taxonomy, n: int, seed: int, settings: SimSettings = SimSettings()) -> list[SimTrack]:
    """``n`` tracks with behaviours drawn uniformly over the taxonomy, classes uniformly within a group."""
    rng = np.random.default_rng(seed)
    labels = taxonomy.behaviours
    tracks = []
    for _ in tqdm(range(n), desc="simulate", unit="track", leave=False, mininterval=2.0):
        label = str(rng.choice(labels))
        group = next(g for g in taxonomy.groups if label in g.behaviours)
        others = tuple(b for b in group.behaviours if b != label)
        tracks.append(simulate_track(rng, label, str(rng.choice(group.classes)), others, settings))
    return tracks


def tracks_to_dataset(tracks: list[SimTrack], spec: FeatureSpec, labels: tuple[str, ...]) -> Dataset:
    """Each track's window at its newest observation, labelled by its shares (``y``: the larger one);
    ``scored`` marks the tracks of the held-out score (:data:`SCORED_AFTER`)."""
    pairs = [track_features(t.times, t.boxes, spec.classes.index(t.class_name), with_scene(spec, t.lane_direction),
                            cut=t.cut) for t in tracks]
    targets = np.zeros((len(tracks), len(labels)), np.float32)
    for row, track in zip(targets, tracks):
        for label, share in track.shares.items():
            row[labels.index(label)] = share
    scored = np.array([t.current_for >= SCORED_AFTER - 1e-9 for t in tracks], bool)
    return Dataset(np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), targets.argmax(1).astype(np.int64),
                   labels, spec, targets, scored)
