"""Latency of a callable: the one warm-up + timed loop every latency figure of the harness comes from.

Every latency comes with its spread (p5, p25, p75, p95 over the timed runs), so a second run of the
harness can be judged "within the spread the report shows" rather than against a bare median.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np


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
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return spread(times)
