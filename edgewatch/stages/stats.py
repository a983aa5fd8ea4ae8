"""Run statistics for the summary line of ``edgewatch run``: per-stage timings, per-stream counts.

Public API: ``RunStats(uris)``; ``with stats.timed("detector"): ...`` around each stage call,
``stats.count(frames)`` once per processed batch, ``stats.summary(events)`` -> the JSON-ready dict::

    {"frames": 795, "fps": 41.2, "elapsed_s": 19.3,
     "streams": [{"uri": "...", "frames": 795, "fps": 41.2}],
     "stages": {"detector": {"median_ms": 20.1, "mean_ms": 20.9, "p95_ms": 24.0, "calls": 795},
                ...},
     "tracks": 23, "events": 57}

Stage times are per call, i.e. per batch (median and p95 over the last :data:`RECENT_CALLS` calls, mean
and calls over the whole run); ``mean_ms`` is the amortised cost of a stage that works only
every few frames (the temporal model every ``stride``), which its median hides. ``fps`` counts frames
through the stages per second of wall time since the first batch (start-up and model loading are not
part of it).
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgewatch.types import Frame

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
        self._start: float | None = None
        self._end: float | None = None

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Time one call of ``stage``; the first timed call starts the run clock."""
        start = time.perf_counter()
        if self._start is None:
            self._start = start
        try:
            yield
        finally:
            self._end = time.perf_counter()
            self.stages[stage].add((self._end - start) * 1e3)

    def count(self, frames: list[Frame]) -> None:
        """Count a processed batch: frames per stream and the distinct confirmed tracks."""
        for frame in frames:
            self.frames[frame.stream_id] += 1
            self.track_keys.update((frame.stream_id, t.track_id) for t in frame.tracks)

    def summary(self, events: int, elapsed: float | None = None) -> dict[str, Any]:
        """The summary dict; ``elapsed`` (seconds) defaults to the time from the first to the last stage call."""
        if elapsed is None:
            elapsed = (self._end - self._start) if self._start is not None and self._end is not None else 0.0
        rate = (lambda n: round(n / elapsed, 2)) if elapsed > 0 else (lambda n: 0.0)
        return {
            "frames": sum(self.frames),
            "fps": rate(sum(self.frames)),
            "elapsed_s": round(elapsed, 3),
            "streams": [{"uri": u, "frames": n, "fps": rate(n)} for u, n in zip(self.uris, self.frames, strict=True)],
            "stages": {name: timing.summary() for name, timing in self.stages.items()},
            "tracks": len(self.track_keys),
            "events": events,
        }
