"""Latency of a callable: the one warm-up + timed loop every latency figure of the harness comes from.

Every latency comes with its spread (p5, p25, p75, p95 over the timed runs), so a second run of the
harness can be judged "within the spread the report shows" rather than against a bare median. The
rows a section compares are timed together (:func:`interleaved`): on a shared or frequency-scaling
machine the speed drifts over tens of seconds, and timing one row after the other would put a slow
stretch on one row's median alone, where it shows as a difference between rows (or between two runs)
that the spread does not cover.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
ROUNDS = 5  # rounds of :func:`interleaved`: each row's timed calls spread over the section's duration


def spread(times_ms: Sequence[float]) -> dict[str, float]:
    """Median, mean and the p5 / p25 / p75 / p95 percentiles of a list of durations in ms."""
    t = np.asarray(times_ms, dtype=np.float64)
    p5, p25, p50, p75, p95 = np.percentile(t, [5, 25, 50, 75, 95])
    return {
        "median_ms": round(float(p50), 3),
        "mean_ms": round(float(t.mean()), 3),
        "p5_ms": round(float(p5), 3),
        "p25_ms": round(float(p25), 3),
        "p75_ms": round(float(p75), 3),
        "p95_ms": round(float(p95), 3),
        "runs": int(t.size),
    }


def latency_ms(run: Callable[[], object], runs: int, warmup: int) -> dict[str, float]:
    """:func:`spread` of ``run``'s wall time over ``runs`` calls, after ``warmup`` untimed calls
    (first calls pay for allocation and kernel selection, which a stream pays only once)."""
    return interleaved({0: Job(run, runs, warmup)}, rounds=1)[0]


@dataclass(frozen=True)
class Job:
    """One latency to measure: ``run`` timed ``runs`` times after ``warmup`` untimed calls."""

    run: Callable[[], object]
    runs: int
    warmup: int


def interleaved(jobs: Mapping[K, Job], rounds: int = ROUNDS) -> dict[K, dict[str, float]]:
    """:func:`spread` of every job, the jobs timed in turn: all warm-ups first, then ``rounds`` rounds in
    which each job makes its share of its timed calls, so a slow stretch of the machine falls on every
    row alike and widens each row's spread instead of moving one row's median."""
    for job in jobs.values():
        for _ in range(job.warmup):
            job.run()
    times: dict[K, list[float]] = {key: [] for key in jobs}
    for r in range(rounds):
        for key, job in jobs.items():
            for _ in range(job.runs // rounds + (r < job.runs % rounds)):
                start = time.perf_counter()
                job.run()
                times[key].append((time.perf_counter() - start) * 1e3)
    return {key: spread(t) for key, t in times.items()}
