"""Analytics stage: each track read against its camera's scene (zones, lines, directions, calibration).

Public API: ``AnalyticsStage(scenes, class_names, evict_after)``; ``stage(frames)`` sets
``Frame.analytics`` (counts per zone and class, crowded zones, line counts, the frame's
:class:`SceneEvent` list) and ``Track.analytics`` (zones, dwell, ground speed and heading, direction)
on the frames of every stream with a scene, in place, and returns the frames. Pure Python and NumPy:
the CPU loop and the DeepStream probe call it alike, after the tracker and the temporal stage.

Every rule uses the box's **foot point** (bottom centre), as nvdsanalytics does.

- **Regions of interest** (``include`` / ``exclude`` zones): a track outside every include zone that
  applies to its class, or inside an exclude zone, is removed from ``Frame.tracks`` (what follows never
  sees it; it leaves any zone it was in).
- **Hysteresis**: a foot point changes a track's zone membership or line side only once it is
  ``scene.hysteresis`` box heights past the edge, so box jitter on an edge neither flickers nor counts.
- **Zones**: enter / exit events (a track first seen inside enters), dwell time since entering, one
  ``dwell`` event per visit once past ``dwell-limit``; a track that disappears inside a zone exits it
  (``lost``) when it is evicted, ``evict_after`` seconds later (the tracker's ``track-buffer-seconds``).
- **Lines**: a crossing is a change of decided side whose path meets the segment (or the extended
  line), counted once, ``in`` along the line's arrow and ``out`` against it.
- **Overcrowding**: per zone, ``overcrowding_start`` once the count has stayed at or above
  ``object-threshold`` for ``time-threshold`` s, ``overcrowding_end`` once below it as long.
- **Speed**: the foot point through the calibration homography onto the ground; speed and heading are
  the least-squares velocity of the ground track over the last ``speed-window`` s (needs 3 points over
  half the window): jitter averages out instead of being differentiated. A jump faster than
  ``max-speed`` (an identity switch, a detector glitch) or a foot point beyond the horizon restarts the
  history, so no speed is ever made of two different objects. ``speeding`` fires once per visit of a
  zone with a ``speed-limit`` and re-arms below 90% of it.
- **Directions**: the image-plane velocity over the same window; a track moving at least a quarter of
  its box height per second within 45 degrees of a scene direction is moving that way.

State lives in per-stream NumPy arrays (one row per live track), so the per-frame cost is a fixed
number of array operations for all tracks, zones and lines together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from edgewatch.errors import EdgewatchError
from edgewatch.scene.geometry import PolygonSet, SegmentSet
from edgewatch.scene.model import KMH_PER_MPS, Scene
from edgewatch.types import (
    Frame,
    FrameAnalytics,
    SceneEvent,
    SceneEventType,
    Track,
    TrackAnalytics,
    TrackState,
    class_name,
)

RING_RATE = 30.0  # observations per second a speed is fitted over; faster streams add every other frame or so
MIN_HEADING_SPEED = 0.3  # m/s: below this a track is standing and has no heading
MIN_DIRECTION_RATE = 0.25  # box heights per second of image motion for a direction to be read
STEADY_HEIGHT = 1.25  # a speed needs the box's tallest / shortest height in metres over the window under this
DIRECTION_COS = math.cos(math.radians(45.0))
REARM = 0.9  # a speeding alert re-arms once the speed falls below this share of the limit


def _class_masks(items: Sequence[tuple[str, tuple[str, ...]]], class_names: Sequence[str], where: str) -> np.ndarray:
    """``[items, classes + 1]`` bool: which detector class ids each item applies to (the last column
    stands for ids the detector does not name, which only items for every class take)."""
    masks = np.zeros((len(items), len(class_names) + 1), bool)
    for i, (label, classes) in enumerate(items):
        unknown = [c for c in classes if c not in class_names]
        if unknown:
            raise EdgewatchError(
                f"{where}: {label}: class '{unknown[0]}' is not one of the detector's {list(class_names)[:10]}"
            )
        masks[i] = True if not classes else np.isin([*class_names, ""], classes)
    return masks


class CompiledScene:
    """A scene as the arrays the per-frame update reads (built once per stream)."""

    def __init__(self, scene: Scene, class_names: Sequence[str]) -> None:
        where = scene.source
        self.scene = scene
        rois = [z for z in scene.zones if z.kind != "zone"]
        zones = [z for z in scene.zones if z.kind == "zone"]
        self.roi = PolygonSet([z.polygon for z in rois])
        self.roi_include = np.array([z.kind == "include" for z in rois], bool)
        self.roi_classes = _class_masks([(f"zone {z.name!r}", z.classes) for z in rois], class_names, where)
        self.zones = zones
        self.zone_set = PolygonSet([z.polygon for z in zones])
        self.zone_classes = _class_masks([(f"zone {z.name!r}", z.classes) for z in zones], class_names, where)
        self.dwell_limit = np.array([z.dwell_limit or np.inf for z in zones], np.float64)
        self.speed_limit = np.array([(z.speed_limit or np.inf) / KMH_PER_MPS for z in zones], np.float64)
        self.lines = list(scene.lines)
        self.line_set = SegmentSet([(ln.start, ln.end) for ln in scene.lines])
        self.line_classes = _class_masks([(f"line {ln.name!r}", ln.classes) for ln in scene.lines], class_names, where)
        self.in_side = np.array([ln.in_side for ln in scene.lines], np.int8)
        self.extended = np.array([ln.extended for ln in scene.lines], bool)
        self.directions = [d.name for d in scene.directions]
        vectors = np.array([[d.end[0] - d.start[0], d.end[1] - d.start[1]] for d in scene.directions], np.float64)
        self.direction_units = vectors.reshape(-1, 2) / np.maximum(np.linalg.norm(vectors.reshape(-1, 2), axis=1,
                                                                                   keepdims=True), 1e-12)
        self.direction_classes = _class_masks([(f"direction {d.name!r}", d.classes) for d in scene.directions],
                                              class_names, where)


class Rows:
    """Per-track state arrays of one stream, a row per live track; rows are reused after eviction."""

    seen_t: np.ndarray  # time stamp of the last sighting
    class_id: np.ndarray
    box: np.ndarray  # last box (for a lost track's exit event)
    roi_in: np.ndarray  # [rows, regions of interest] decided membership
    zone_in: np.ndarray  # [rows, zones] decided membership
    zone_since: np.ndarray  # entry time per zone
    dwell_alerted: np.ndarray
    speed_alerted: np.ndarray
    side: np.ndarray  # [rows, lines] decided side: -1, +1, 0 not yet
    anchor: np.ndarray  # [rows, lines, 2] foot point when the side was last decided
    ring_t: np.ndarray  # [rows, ring] observation times (-inf: empty)
    ring_p: np.ndarray  # foot points, pixels
    ring_g: np.ndarray  # foot points on the ground, metres
    ring_h: np.ndarray  # box heights in metres
    ring_ok: np.ndarray  # whether the ground point is valid
    ring_n: np.ndarray  # observations written so far

    def __init__(self, zones: int, lines: int, rois: int, ring: int) -> None:
        self.shapes: dict[str, tuple[tuple[int, ...], np.dtype, object]] = {
            "seen_t": ((), np.dtype(np.float64), 0.0),
            "class_id": ((), np.dtype(np.int64), 0),
            "box": ((4,), np.dtype(np.float32), 0.0),
            "roi_in": ((rois,), np.dtype(bool), False),
            "zone_in": ((zones,), np.dtype(bool), False),
            "zone_since": ((zones,), np.dtype(np.float64), 0.0),
            "dwell_alerted": ((zones,), np.dtype(bool), False),
            "speed_alerted": ((zones,), np.dtype(bool), False),
            "side": ((lines,), np.dtype(np.int8), 0),
            "anchor": ((lines, 2), np.dtype(np.float64), 0.0),
            "ring_t": ((ring,), np.dtype(np.float64), -np.inf),
            "ring_p": ((ring, 2), np.dtype(np.float64), 0.0),
            "ring_g": ((ring, 2), np.dtype(np.float64), 0.0),
            "ring_h": ((ring,), np.dtype(np.float64), 0.0),
            "ring_ok": ((ring,), np.dtype(bool), False),
            "ring_n": ((), np.dtype(np.int64), 0),
        }
        self.ring = ring
        self.capacity = 0
        self.arrays: dict[str, np.ndarray] = {}
        self.of: dict[int, int] = {}  # track id -> row
        self.free: list[int] = []
        self._grow(64)

    def _grow(self, capacity: int) -> None:
        for name, (shape, dtype, fill) in self.shapes.items():
            grown = np.full((capacity, *shape), fill, dtype)
            if name in self.arrays:
                grown[: self.capacity] = self.arrays[name]
            self.arrays[name] = grown
            setattr(self, name, grown)
        self.free.extend(range(capacity - 1, self.capacity - 1, -1))
        self.capacity = capacity

    def row(self, track_id: int) -> tuple[int, bool]:
        """The track's row and whether it is new (a fresh row, state at its defaults)."""
        row = self.of.get(track_id)
        if row is not None:
            return row, False
        if not self.free:
            self._grow(self.capacity * 2)
        row = self.free.pop()
        self.of[track_id] = row
        return row, True

    def release(self, track_id: int) -> None:
        """Forget a track; its row goes back to the defaults for the next one."""
        row = self.of.pop(track_id)
        for name, (_, _, fill) in self.shapes.items():
            self.arrays[name][row] = fill
        self.free.append(row)

    def clear_rings(self) -> None:
        """Drop every speed history (the stream's clock went back: old time stamps mean nothing now)."""
        self.arrays["ring_t"][:] = -np.inf
        self.arrays["ring_ok"][:] = False


def _hysteresis(depth: np.ndarray, margin: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Inside once ``depth`` > ``margin``, outside once < ``-margin``, else as before (new tracks: the sign)."""
    before = np.where(new[:, None], depth > 0, old)
    return np.where(depth > margin[:, None], True, np.where(depth < -margin[:, None], False, before))


class StreamAnalytics:
    """The scene rules and their state for one stream."""

    def __init__(self, scene: Scene, class_names: Sequence[str], evict_after: float) -> None:
        self.c = CompiledScene(scene, class_names)
        self.class_names = list(class_names)
        self.evict_after = evict_after
        self.window = scene.speed_window
        ring = math.ceil(scene.speed_window * RING_RATE) + 2
        self.rows = Rows(len(self.c.zones), len(self.c.lines), self.c.roi.count, ring)
        self.last_time: float | None = None
        z = len(self.c.zones)
        self.crowded = np.zeros(z, bool)
        self.crowd_since = np.full(z, np.nan)  # when the count last crossed the threshold the other way
        self.crossings = np.zeros((len(self.c.lines), 2), np.int64)  # in, out

    def update(self, frame: Frame) -> None:
        """Read ``frame``'s tracks against the scene; sets ``frame.analytics`` and each kept track's analytics."""
        c, r = self.c, self.rows
        now = float(frame.timestamp)
        if self.last_time is not None and now < self.last_time:
            r.clear_rings()
            r.zone_since[:] = now
            self.crowd_since[:] = np.nan
        self.last_time = now
        events: list[SceneEvent] = []
        events += self._evict(now)
        tracks = frame.tracks
        placed = [r.row(t.track_id) for t in tracks]
        rows = np.array([p[0] for p in placed], np.intp)
        new = np.array([p[1] for p in placed], bool)
        n = len(tracks)
        boxes = np.array([t.box for t in tracks], np.float64).reshape(n, 4)
        cls = np.array([t.class_id for t in tracks], np.int64)
        col = np.where((cls >= 0) & (cls < len(self.class_names)), cls, len(self.class_names))
        foot = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
        heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
        margin = c.scene.hysteresis * heights
        r.seen_t[rows] = now
        r.class_id[rows] = cls
        r.box[rows] = boxes
        keep = self._roi(foot, margin, rows, new, col)

        inside, since = self._zones(foot, margin, rows, new, col, keep, tracks, now, events)
        self._lines(foot, margin, rows, col, keep, tracks, events)
        speed, heading, image_velocity = self._motion(foot, heights, rows, now)
        dwell = np.where(inside, now - since, 0.0)
        self._alerts(inside, dwell, speed, rows, tracks, events)
        counts, total = self._counts(inside, cls)
        self._crowding(total, inside, tracks, now, events)
        directions = self._directions(image_velocity, heights, col)

        names = [z.name for z in c.zones]
        in_zones: list[list[str]] = [[] for _ in range(n)]
        dwells: list[list[float]] = [[] for _ in range(n)]
        track_of, zone_of = np.nonzero(inside)
        for i, z, d in zip(track_of.tolist(), zone_of.tolist(), dwell[track_of, zone_of].tolist(), strict=True):
            in_zones[i].append(names[z])
            dwells[i].append(d)
        for track, zones, times, v, h, way in zip(tracks, in_zones, dwells, speed.tolist(), heading.tolist(),
                                                   directions, strict=True):
            track.analytics = TrackAnalytics(tuple(zones), tuple(times), None if v != v else v,
                                             None if h != h else h, way)  # x != x: NaN
        if not keep.all():
            frame.tracks = [t for t, k in zip(tracks, keep.tolist(), strict=True) if k]
        frame.analytics = FrameAnalytics(
            scene=c.scene,
            counts=counts,
            overcrowded=frozenset(names[z] for z in np.flatnonzero(self.crowded)),
            crossings={ln.name: (a, b) for ln, (a, b) in zip(c.lines, self.crossings.tolist(), strict=True)},
            events=events,
        )

    def _roi(self, foot: np.ndarray, margin: np.ndarray, rows: np.ndarray, new: np.ndarray,
             col: np.ndarray) -> np.ndarray:
        """Which tracks pass the regions of interest (all when the scene has none)."""
        c, r = self.c, self.rows
        if not c.roi.count:
            return np.ones(len(rows), bool)
        inside = _hysteresis(c.roi.depths(foot), margin, r.roi_in[rows], new)
        r.roi_in[rows] = inside
        applies = c.roi_classes[:, col].T
        include = applies & c.roi_include
        in_include = (inside & include).any(axis=1)
        in_exclude = (inside & applies & ~c.roi_include).any(axis=1)
        return ~in_exclude & (in_include | ~include.any(axis=1))

    def _zones(self, foot: np.ndarray, margin: np.ndarray, rows: np.ndarray, new: np.ndarray, col: np.ndarray,
               keep: np.ndarray, tracks: list[Track], now: float,
               events: list[SceneEvent]) -> tuple[np.ndarray, np.ndarray]:
        """Zone membership with hysteresis, enter / exit events; returns ``inside`` and the entry times."""
        c, r = self.c, self.rows
        depth = c.zone_set.depths(foot)
        depth = np.where(c.zone_classes[:, col].T & keep[:, None], depth, -np.inf)
        old = r.zone_in[rows] & ~new[:, None]
        inside = _hysteresis(depth, margin, old, new)
        entered, exited = inside & ~old, old & ~inside
        since = np.where(entered, now, r.zone_since[rows])
        for i, z in zip(*np.nonzero(entered | exited), strict=True):
            zone = c.zones[z]
            if entered[i, z]:
                events.append(SceneEvent("zone_enter", tracks[i], {"zone": zone.name, "restricted": zone.restricted}))
            else:
                events.append(SceneEvent("zone_exit", tracks[i], {"zone": zone.name, "dwell_s": round(float(now - since[i, z]), 3),
                                                                  "lost": False}))
        r.zone_in[rows] = inside
        r.zone_since[rows] = since
        r.dwell_alerted[rows] &= ~entered
        r.speed_alerted[rows] &= ~entered
        return inside, since

    def _lines(self, foot: np.ndarray, margin: np.ndarray, rows: np.ndarray, col: np.ndarray, keep: np.ndarray,
               tracks: list[Track], events: list[SceneEvent]) -> None:
        """Decided sides with hysteresis; a change of side whose path meets the line is one crossing."""
        c, r = self.c, self.rows
        if not c.line_set.count:
            return
        dist = np.where(c.line_classes[:, col].T & keep[:, None], c.line_set.sides(foot), 0.0)
        decided = np.where(dist > margin[:, None], 1, np.where(dist < -margin[:, None], -1, 0)).astype(np.int8)
        old = r.side[rows]
        anchor = r.anchor[rows]
        for i, k in zip(*np.nonzero((old != 0) & (decided != 0) & (decided != old)), strict=True):
            a, b = anchor[i, k], foot[i]
            da, db = c.line_set.sides(a[None])[0, k], dist[i, k]
            meet = a + (b - a) * (da / (da - db)) if da != db else b
            if not c.extended[k] and not 0.0 <= c.line_set.along(meet[None])[0, k] <= 1.0:
                continue
            way = 0 if decided[i, k] == c.in_side[k] else 1
            self.crossings[k, way] += 1
            events.append(SceneEvent("line_crossing", tracks[i], {"line": c.lines[k].name,
                                                                  "direction": ("in", "out")[way]}))
        changed = decided != 0
        r.side[rows] = np.where(changed, decided, old)
        r.anchor[rows] = np.where(changed[:, :, None], foot[:, None, :], anchor)

    def _motion(self, foot: np.ndarray, heights: np.ndarray, rows: np.ndarray,
                now: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Append to each track's ring, then fit velocities over the window: ground speed (m/s, NaN when
        unknown), heading (degrees, NaN when standing or unknown) and image velocity (px/s, NaN rows).

        A box whose height *in metres* (pixels times the ground's metres per pixel at its foot point, the
        same for an object wherever it walks) changed by more than :data:`STEADY_HEIGHT` within the
        window has merged with, split from or been cut by another object: its foot point moved without
        the object moving, so no speed is given rather than a wrong one; nor for a box cut by the bottom
        of the frame (its feet are out of view; known when the scene gives its ``frame-size``)."""
        r, cal = self.rows, self.c.scene.calibration
        n = len(rows)
        if cal is not None:
            both, valid = cal.to_ground(np.concatenate([foot, foot + [1.0, 0.0]]))  # one pass: foot, 1 px right
            ground, beside, on_ground = both[:n], both[n:], valid[:n]
            step = beside - ground
            metres = heights * np.hypot(step[:, 0], step[:, 1])  # box height x metres per pixel there
            size = self.c.scene.frame_size
            if size is not None:
                on_ground &= foot[:, 1] < size[1] - 1.0  # a box cut by the frame's bottom edge: feet out of view
        else:
            ground, on_ground, metres = np.zeros((n, 2)), np.zeros(n, bool), heights
        written = r.ring_n[rows]
        last = (written - 1) % r.ring
        prev_t = np.where(written > 0, r.ring_t[rows, last], -np.inf)
        fresh = now - prev_t >= 0.999 / RING_RATE  # a repeated time stamp adds nothing, a fast stream less
        if cal is not None:
            dt = np.maximum(now - prev_t, 1e-9)
            moved = ground - r.ring_g[rows, last]
            jump = np.hypot(moved[:, 0], moved[:, 1]) / dt > self.c.scene.max_speed / KMH_PER_MPS
            restart = fresh & r.ring_ok[rows, last] & (jump | ~on_ground)
            if restart.any():
                gone = rows[restart]
                r.ring_t[gone] = -np.inf
                r.ring_ok[gone] = False
        slot = written % r.ring
        w_rows, w_slot = rows[fresh], slot[fresh]
        r.ring_t[w_rows, w_slot] = now
        r.ring_p[w_rows, w_slot] = foot[fresh]
        r.ring_g[w_rows, w_slot] = ground[fresh]
        r.ring_h[w_rows, w_slot] = metres[fresh]
        r.ring_ok[w_rows, w_slot] = on_ground[fresh]
        r.ring_n[w_rows] += 1

        t = r.ring_t[rows] - now  # <= 0; -inf marks empty or dropped slots
        in_window = t >= -self.window
        image_velocity = self._fit(t, r.ring_p[rows], in_window) if self.c.directions else np.full((n, 2), np.nan)
        if cal is None:
            return np.full(n, np.nan), np.full(n, np.nan), image_velocity
        on = in_window & r.ring_ok[rows]
        h = r.ring_h[rows]
        steady = np.where(on, h, 0.0).max(axis=1, initial=0.0) <= STEADY_HEIGHT * np.where(on, h, np.inf).min(
            axis=1, initial=np.inf)
        velocity = np.where(steady[:, None], self._fit(t, r.ring_g[rows], on), np.nan)
        speed = np.hypot(velocity[:, 0], velocity[:, 1])
        heading = np.round(np.degrees(np.arctan2(velocity[:, 1], velocity[:, 0])), 1) % 360.0
        return speed, np.where(speed >= MIN_HEADING_SPEED, heading, np.nan), image_velocity

    def _fit(self, t: np.ndarray, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Least-squares slope of ``values`` [n, ring, 2] over ``t`` [n, ring] where ``mask``; NaN for rows with
        fewer than 3 points or spanning less than half the window."""
        w = mask.astype(np.float64)
        count = w.sum(axis=1)
        tt = np.where(mask, t, 0.0)
        safe = np.maximum(count, 1.0)
        t_mean = tt.sum(axis=1) / safe
        dt = np.where(mask, tt - t_mean[:, None], 0.0)
        var = np.einsum("nr,nr->n", dt, dt)  # einsum sums the products without making an array of them first
        mean = np.einsum("nr,nrk->nk", w, values) / safe[:, None]
        cov = np.einsum("nr,nrk->nk", dt, values - mean[:, None, :])  # dt is 0 off the mask already
        span = -tt.min(axis=1, initial=0.0)
        ok = (count >= 3) & (span >= self.window / 2) & (var > 0)
        return np.where(ok[:, None], cov / np.maximum(var, 1e-12)[:, None], np.nan)

    def _alerts(self, inside: np.ndarray, dwell: np.ndarray, speed: np.ndarray, rows: np.ndarray,
                tracks: list[Track], events: list[SceneEvent]) -> None:
        """Dwell over a zone's limit and speeding in a zone: once per visit each."""
        c, r = self.c, self.rows
        if not inside.shape[1]:
            return
        alerted = r.dwell_alerted[rows]
        over = inside & (dwell >= c.dwell_limit) & ~alerted
        for i, z in zip(*np.nonzero(over), strict=True):
            events.append(SceneEvent("dwell", tracks[i], {"zone": c.zones[z].name, "dwell_s": round(float(dwell[i, z]), 3),
                                                          "limit_s": c.zones[z].dwell_limit}))
        r.dwell_alerted[rows] = alerted | over
        known = ~np.isnan(speed)[:, None]
        value = np.nan_to_num(speed)[:, None]
        fast = inside & known & (value > c.speed_limit)
        armed = r.speed_alerted[rows]
        for i, z in zip(*np.nonzero(fast & ~armed), strict=True):
            events.append(SceneEvent("speeding", tracks[i], {"zone": c.zones[z].name,
                                                             "limit_kmh": c.zones[z].speed_limit}))
        slow = known & (value < REARM * c.speed_limit)
        r.speed_alerted[rows] = (armed | fast) & ~slow

    def _counts(self, inside: np.ndarray, cls: np.ndarray) -> tuple[dict[str, dict[str, int]], np.ndarray]:
        """Tracks per zone and class now (zones with none map to an empty dict), and per zone in total."""
        total = inside.sum(axis=0)
        counts: dict[str, dict[str, int]] = {z.name: {} for z in self.c.zones}
        if total.any():
            track_of, zone_of = np.nonzero(inside)
            low = min(int(cls.min()), 0)  # ids below 0 (a tracker's unclassified objects) are keys too
            span = int(cls.max()) - low + 1
            tally = np.bincount(zone_of * span + cls[track_of] - low)  # one key per zone and class
            keys = np.flatnonzero(tally)
            for key, k in zip(keys.tolist(), tally[keys].tolist(), strict=True):
                z, c = divmod(key, span)
                counts[self.c.zones[z].name][class_name(self.class_names, c + low)] = k
        return counts, total

    def _crowding(self, total: np.ndarray, inside: np.ndarray, tracks: list[Track], now: float,
                  events: list[SceneEvent]) -> None:
        """Overcrowding start / end per zone with a threshold, debounced by its time threshold."""
        for z, zone in enumerate(self.c.zones):
            rule = zone.overcrowding
            if rule is None:
                continue
            changing = (total[z] >= rule.object_threshold) != self.crowded[z]
            if not changing:
                self.crowd_since[z] = np.nan
                continue
            if np.isnan(self.crowd_since[z]):
                self.crowd_since[z] = now
            if now - self.crowd_since[z] >= rule.time_threshold:
                self.crowded[z] = not self.crowded[z]
                self.crowd_since[z] = np.nan
                ids = [tracks[i].track_id for i in np.flatnonzero(inside[:, z])]
                kind: SceneEventType = "overcrowding_start" if self.crowded[z] else "overcrowding_end"
                events.append(SceneEvent(kind, None, {"zone": zone.name, "count": int(total[z]),
                                                      "threshold": rule.object_threshold, "track_ids": ids}))

    def _directions(self, velocity: np.ndarray, heights: np.ndarray, col: np.ndarray) -> list[str | None]:
        """The scene direction each track moves along (None: none close, too slow, or no history)."""
        c = self.c
        n = len(velocity)
        if not c.directions:
            return [None] * n
        rate = np.hypot(velocity[:, 0], velocity[:, 1])
        cos = (velocity @ c.direction_units.T) / np.maximum(rate, 1e-12)[:, None]
        cos = np.where(c.direction_classes[:, col].T, np.nan_to_num(cos, nan=-2.0), -2.0)
        best = cos.argmax(axis=1)
        moving = np.nan_to_num(rate) >= MIN_DIRECTION_RATE * heights
        return [c.directions[b] if ok and cos[i, b] >= DIRECTION_COS else None
                for i, (b, ok) in enumerate(zip(best.tolist(), moving.tolist(), strict=True))]

    def _evict(self, now: float) -> list[SceneEvent]:
        """Forget tracks unseen for ``evict_after`` seconds; one lost from inside a zone exits it."""
        r = self.rows
        events: list[SceneEvent] = []
        stale = [tid for tid, row in r.of.items() if now - r.seen_t[row] > self.evict_after]
        for tid in stale:
            row = r.of[tid]
            for z in np.flatnonzero(r.zone_in[row]):
                gone = Track(tid, r.box[row].copy(), 0.0, int(r.class_id[row]), TrackState.REMOVED)
                events.append(SceneEvent("zone_exit", gone, {"zone": self.c.zones[z].name,
                                                             "dwell_s": round(float(r.seen_t[row] - r.zone_since[row, z]), 3),
                                                             "lost": True}))
            r.release(tid)
        return events


class AnalyticsStage:
    """The scene rules of every stream that has a scene; streams without one pass through untouched."""

    def __init__(self, scenes: Mapping[int, Scene], class_names: Sequence[str], evict_after: float) -> None:
        self.streams = {stream: StreamAnalytics(scene, class_names, evict_after) for stream, scene in scenes.items()}

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        for frame in frames:
            stream = self.streams.get(frame.stream_id)
            if stream is not None:
                stream.update(frame)
        return frames
