"""Latency of a callable: the one warm-up + timed loop every latency figure of the harness comes from.

Every latency comes with its spread (p5, p25, p75, p95 over the timed runs), so a second run of the
harness can be judged "within the spread the report shows" rather than against a bare median. The
rows a section compares are timed together (:func:`interleaved`): on a shared or frequency-scaling
machine the speed drifts over tens of seconds, and timing one row after the other would put a slow
stretch on one row's median alone, where it shows as a difference between rows (or between two runs)
that the spread does not cover.

A whole ``edgewatch bench`` run goes further (:class:`Schedule`): a shared VM's speed also wanders by
10-20% over minutes, so latencies timed within one section's few seconds have tight spreads around a
median that belongs to that minute, and a second run's median, taken in another minute, falls outside
them. The run times every latency in rounds placed after each section to the end of the run, so each
median and spread sample the machine over the whole run, as a second run does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
ROUNDS = 5  # least rounds a job's timed calls are split into, spread over the section (or the run)


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


@dataclass
class _Batch(Generic[K]):
    """Jobs timed together: each round, every job makes its share of its timed calls in turn."""

    jobs: Mapping[K, Job]
    done: Callable[[dict[K, dict[str, float]]], None]
    rounds: int
    played: int = 0
    times: dict[K, list[float]] = field(default_factory=dict)

    def play(self, rounds: int) -> None:
        for r in range(self.played, self.played + rounds):
            for key, job in self.jobs.items():
                for _ in range(job.runs // self.rounds + (r < job.runs % self.rounds)):
                    start = time.perf_counter()
                    job.run()
                    self.times.setdefault(key, []).append((time.perf_counter() - start) * 1e3)
        self.played += rounds

    def finish(self) -> None:
        self.done({key: spread(self.times[key]) for key in self.jobs})


class Schedule:
    """Latencies timed in rounds spread over the rest of a run: a batch of jobs added during a section is
    warmed up at once and then timed in its rounds at this and every later :meth:`checkpoint` (one after
    each section), its ``done`` handed the spreads after the last. ``checkpoints`` is how many there are."""

    def __init__(self, checkpoints: int = 1) -> None:
        if checkpoints < 1:
            raise ValueError("a schedule needs at least one checkpoint")
        self.left = checkpoints
        self._batches: list[_Batch[Any]] = []

    def add(self, jobs: Mapping[K, Job], done: Callable[[dict[K, dict[str, float]]], None],
            rounds: int = ROUNDS) -> None:
        """Warm ``jobs`` up now; time them at the checkpoints left, in at least ``rounds`` rounds."""
        if not self.left:
            raise ValueError("the schedule's last checkpoint has passed")
        for job in jobs.values():
            for _ in range(job.warmup):
                job.run()
        self._batches.append(_Batch(jobs, done, max(rounds, self.left)))

    @property
    def pending(self) -> int:
        """How many jobs are still to be timed."""
        return sum(len(batch.jobs) for batch in self._batches)

    def checkpoint(self) -> None:
        """Play every batch's share of its rounds left; hand the finished batches' spreads to their ``done``."""
        if not self.left:
            raise ValueError("the schedule's last checkpoint has passed")
        for batch in self._batches:
            batch.play(-(-(batch.rounds - batch.played) // self.left))
        self.left -= 1
        for batch in [b for b in self._batches if b.played == b.rounds]:
            batch.finish()
            self._batches.remove(batch)


def interleaved(jobs: Mapping[K, Job], rounds: int = ROUNDS) -> dict[K, dict[str, float]]:
    """:func:`spread` of every job, the jobs timed in turn: all warm-ups first, then ``rounds`` rounds in
    which each job makes its share of its timed calls, so a slow stretch of the machine falls on every
    row alike and widens each row's spread instead of moving one row's median."""
    out: dict[K, dict[str, float]] = {}
    schedule = Schedule()
    schedule.add(jobs, out.update, rounds)
    schedule.checkpoint()
    return out


def timed(jobs: Mapping[K, Job], done: Callable[[dict[K, dict[str, float]]], None],
          schedule: Schedule | None = None) -> None:
    """Hand ``jobs``' spreads to ``done``: timed now (:func:`interleaved`), or in ``schedule``'s rounds."""
    if schedule is None:
        done(interleaved(jobs))
    else:
        schedule.add(jobs, done)
