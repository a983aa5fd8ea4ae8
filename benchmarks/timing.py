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
them. The run times every latency for a few milliseconds between the steps of every section (each graph
run, each ultralytics loop), from the section that adds it to the end of the run, so each median and spread
sample the machine at tens of moments over the whole run, as a second run does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
ROUNDS = 5  # rounds a job's timed calls (those no tick made) are split into


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
    """One latency to measure: ``run`` timed ``runs`` times (or more) after ``warmup`` untimed calls;
    ``prepare``, when given, makes the input of each next call, untimed (a stateful stage fed a stream of
    frames: however many calls the run makes, each has a fresh frame, and making it is not timed)."""

    run: Callable[[], object]
    runs: int
    warmup: int
    prepare: Callable[[], object] | None = None

    def timed_ms(self) -> float:
        """One call's wall time in ms, its input prepared first, untimed."""
        if self.prepare is not None:
            self.prepare()
        start = time.perf_counter()
        self.run()
        return (time.perf_counter() - start) * 1e3


@dataclass
class _Batch(Generic[K]):
    """Jobs timed together: each job's calls of a tick in turn, then the rest of their runs in rounds."""

    jobs: Mapping[K, Job]
    done: Callable[[dict[K, dict[str, float]]], None]
    rounds: int
    per_tick: Mapping[K, int]
    times: dict[K, list[float]] = field(default_factory=dict)

    def call(self, key: K, job: Job) -> None:
        self.times.setdefault(key, []).append(job.timed_ms())

    def tick(self) -> None:
        for key, job in self.jobs.items():
            job.timed_ms()  # not kept: the job's data back in the caches, as in a loop of its own calls
            for _ in range(self.per_tick[key]):
                self.call(key, job)

    def finish(self) -> None:
        """Make each job's timed calls up to its ``runs``, shared over the rounds, and hand the spreads over."""
        left = {key: max(0, job.runs - len(self.times.get(key, []))) for key, job in self.jobs.items()}
        for r in range(self.rounds):
            for key, job in self.jobs.items():
                for _ in range(left[key] // self.rounds + (r < left[key] % self.rounds)):
                    self.call(key, job)
        self.done({key: spread(self.times[key]) for key in self.jobs})


def calls_per_tick(warmup_ms: Sequence[float], slice_ms: float) -> int:
    """Timed calls a job makes at each tick: as many as fill ``slice_ms`` at its fastest warm-up call's
    speed (fast jobs take as many samples of a moment as a slow job's one call lasts), one at least; fixed
    when the job is added, so a slow moment gives as many samples as a fast one."""
    fastest = min(warmup_ms, default=0.0)
    return max(1, math.ceil(slice_ms / fastest)) if fastest > 0 else 1


class Schedule:
    """Latencies timed over the rest of a run: a batch of jobs added during a section is warmed up at once,
    then every :meth:`tick` (one between two steps of the run) makes timed calls of each of its jobs for
    about ``slice_ms`` (:func:`calls_per_tick`; one at least), right after an untimed one (the other jobs
    and the run's step in between have taken the caches: a latency is that of a call in a loop of its own,
    as :func:`latency_ms` times it, not of a cold first call);
    :meth:`finish` (the run's end) makes each job's calls up to its ``runs``, shared over ``rounds`` rounds,
    and hands every batch's spreads to its ``done``. The jobs of a batch are thus timed at the same moments,
    each moment weighing alike in each job's spread: a share of one job in another (a stage's share of a
    detector inference) compares the same stretch of the machine."""

    def __init__(self, spacing_s: float = 0.0, slice_ms: float = 0.0) -> None:
        self.spacing_s = spacing_s  # ticks closer than this to the last one played are skipped
        self.slice_ms = slice_ms  # each job's timed calls at a tick last about this long (one call at least)
        self._batches: list[_Batch[Any]] = []
        self._last_tick = -float("inf")
        self.finished = False

    def add(self, jobs: Mapping[K, Job], done: Callable[[dict[K, dict[str, float]]], None],
            rounds: int = ROUNDS) -> None:
        """Warm ``jobs`` up now; time them at every tick to come, the rest of their runs at the finish."""
        self._open()
        per_tick = {}
        for key, job in jobs.items():
            per_tick[key] = calls_per_tick([job.timed_ms() for _ in range(job.warmup)], self.slice_ms)
        self._batches.append(_Batch(jobs, done, rounds, per_tick))

    @property
    def pending(self) -> int:
        """How many jobs are still to be timed."""
        return sum(len(batch.jobs) for batch in self._batches)

    def tick(self) -> None:
        """Every job added so far timed for its calls of a tick, batch after batch, unless the last tick was
        less than ``spacing_s`` ago (a run's steps come seconds apart in one section and tens of seconds in another:
        the calls are spread over the run's time, not crowded where its steps are short)."""
        self._open()
        if not self._batches or time.monotonic() - self._last_tick < self.spacing_s:
            return
        for batch in self._batches:
            batch.tick()
        self._last_tick = time.monotonic()

    def finish(self) -> None:
        """The rest of every job's runs; hand each batch's spreads to its ``done``."""
        self._open()
        self.finished = True
        for batch in self._batches:
            batch.finish()
        self._batches.clear()

    def _open(self) -> None:
        if self.finished:
            raise ValueError("the schedule has finished")


def interleaved(jobs: Mapping[K, Job], rounds: int = ROUNDS) -> dict[K, dict[str, float]]:
    """:func:`spread` of every job, the jobs timed in turn: all warm-ups first, then ``rounds`` rounds in
    which each job makes its share of its timed calls, so a slow stretch of the machine falls on every
    row alike and widens each row's spread instead of moving one row's median."""
    out: dict[K, dict[str, float]] = {}
    schedule = Schedule()
    schedule.add(jobs, out.update, rounds)
    schedule.finish()
    return out


def timed(jobs: Mapping[K, Job], done: Callable[[dict[K, dict[str, float]]], None],
          schedule: Schedule | None = None) -> None:
    """Hand ``jobs``' spreads to ``done``: timed now (:func:`interleaved`), or at ``schedule``'s ticks and finish."""
    if schedule is None:
        done(interleaved(jobs))
    else:
        schedule.add(jobs, done)
