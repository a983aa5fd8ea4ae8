"""Run statistics for the summary line of ``edgewatch run``: per-stage timings, per-stream counts.

Public API: ``RunStats(uris)``; ``with stats.timed("detector"): ...`` around each stage call,
``stats.count(frames)`` once per processed batch, ``stats.summary(events)`` -> the JSON-ready dict::

    {"frames": 795, "fps": 41.2, "elapsed_s": 19.3,
     "streams": [{"uri": "...", "frames": 795, "fps": 41.2,
                  "analytics": {"zones": {"bench": {"enter": 9, "exit": 8, "dwell": 2, "speeding": 0,
                                                    "overcrowding": 1, "peak": 4}},
                                "lines": {"path": {"in": 12, "out": 9}}}}],
     "stages": {"detector": {"median_ms": 20.1, "mean_ms": 20.9, "p95_ms": 24.0, "calls": 795},
                ...},
     "tracks": 23, "events": 57}

Stage times are per call, i.e. per batch (median and p95 over the last :data:`RECENT_CALLS` calls, mean
and calls over the whole run); ``mean_ms`` is the amortised cost of a stage that works only
every few frames (the temporal model every ``stride``), which its median hides. ``fps`` counts frames
through the stages per second of wall time since the first batch (start-up and model loading are not
part of it). ``analytics`` is there for streams with a scene: per zone its events (enter, exit, dwell,
speeding, overcrowding starts) and the most tracks it held at once, per line its crossings each way.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgewatch.types import Frame, FrameAnalytics

_ZONE_COUNTER = {"zone_enter": "enter", "zone_exit": "exit", "dwell": "dwell", "speeding": "speeding",
                 "overcrowding_start": "overcrowding"}  # event type -> its counter in the summary
ZONE_COUNTERS = (*_ZONE_COUNTER.values(), "peak")
RECENT_CALLS = 10_000  # median and p95 are over each stage's most recent calls: bounded memory on a 24/7 stream


@dataclass
class StageTiming:
    """One stage's call count and total time (all calls) and its most recent durations (percentiles)."""

    calls: int = 0
    total_ms: float = 0.0
    recent_ms: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_CALLS))

    def add(self, ms: float) -> None:
        """Record one call; the totals cover the whole run, the percentiles only the recent window."""
        self.calls += 1
        self.total_ms += ms
        self.recent_ms.append(ms)

    def summary(self) -> dict[str, float | int]:
        """The stage's entry in the run summary (see the module docstring for what each number covers)."""
        return {
            "median_ms": round(float(np.median(self.recent_ms)), 3),
            "mean_ms": round(self.total_ms / self.calls, 3),
            "p95_ms": round(float(np.percentile(self.recent_ms, 95)), 3),
            "calls": self.calls,
        }


class RunStats:
    """Accumulates counts and durations; cheap enough to stay on in production runs."""

    def __init__(self, uris: Sequence[str]) -> None:
        self.uris = list(uris)
        self.frames = [0] * len(self.uris)
        self.stages: dict[str, StageTiming] = defaultdict(StageTiming)
        self.track_keys: set[tuple[int, int]] = set()
        self.analytics: dict[int, dict[str, dict[str, dict[str, int]]]] = {}
        self._start: float | None = None
        self._end: float | None = None
        self._lock = threading.Lock()  # a backend may time the detector in several threads at once

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Time one call of ``stage``; the first timed call starts the run clock (safe from any thread)."""
        start = time.perf_counter()
        with self._lock:
            if self._start is None:
                self._start = start
        try:
            yield
        finally:
            end = time.perf_counter()
            with self._lock:
                self._end = end
                self.stages[stage].add((end - start) * 1e3)

    def count(self, frames: list[Frame]) -> None:
        """Count a processed batch: frames per stream, the distinct confirmed tracks, the scene's events."""
        for frame in frames:
            self.frames[frame.stream_id] += 1
            self.track_keys.update((frame.stream_id, t.track_id) for t in frame.tracks)
            if frame.analytics is not None:
                self._count_analytics(frame.stream_id, frame.analytics)

    def _count_analytics(self, stream: int, result: FrameAnalytics) -> None:
        counters = self.analytics.get(stream)
        if counters is None:
            counters = self.analytics[stream] = {
                "zones": {z.name: dict.fromkeys(ZONE_COUNTERS, 0) for z in result.scene.zones if z.kind == "zone"},
                "lines": {ln.name: {"in": 0, "out": 0} for ln in result.scene.lines},
            }
        zones = counters["zones"]
        for name, per_class in result.counts.items():
            zones[name]["peak"] = max(zones[name]["peak"], sum(per_class.values()))
        for event in result.events:
            if event.type == "line_crossing":
                counters["lines"][str(event.fields["line"])][str(event.fields["direction"])] += 1
            elif event.type != "overcrowding_end":
                zones[str(event.fields["zone"])][_ZONE_COUNTER[event.type]] += 1

    def summary(self, events: int, elapsed: float | None = None) -> dict[str, Any]:
        """The summary dict; ``elapsed`` (seconds) defaults to the time from the first to the last stage call."""
        if elapsed is None:
            elapsed = (self._end - self._start) if self._start is not None and self._end is not None else 0.0
        rate = (lambda n: round(n / elapsed, 2)) if elapsed > 0 else (lambda n: 0.0)
        return {
            "frames": sum(self.frames),
            "fps": rate(sum(self.frames)),
            "elapsed_s": round(elapsed, 3),
            "streams": [
                {"uri": u, "frames": n, "fps": rate(n)} | ({"analytics": self.analytics[i]} if i in self.analytics else {})
                for i, (u, n) in enumerate(zip(self.uris, self.frames, strict=True))
            ],
            "stages": {name: timing.summary() for name, timing in self.stages.items()},
            "tracks": len(self.track_keys),
            "events": events,
        }
