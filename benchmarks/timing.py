"""Latency of a callable: the one warm-up + timed loop every latency benchmark uses.

Not a benchmark itself (no underscore in the name, so ``python -m benchmarks`` does not run it).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def latency_ms(run: Callable[[], object], runs: int, warmup: int) -> dict[str, float]:
    """Median and p95 wall time of ``run`` in milliseconds, after ``warmup`` untimed calls
    (first calls pay for allocation and kernel selection, which a stream pays only once)."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))}
