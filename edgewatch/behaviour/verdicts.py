"""From per-window behaviour probabilities to the verdict a person sees: smoothed, confident, held.

Public API: :class:`VerdictRules` (the settings, all in seconds), :class:`TrackVerdict` (one track's
state: ``update(time, age, probs) -> (label, score)``, the label :data:`edgewatch.types.UNDECIDED`
until decided), and :func:`verdict_series` (a whole track offline, for evaluation).

A model's raw verdict on a young or ambiguous track changes often (a brisk walker sits on the
walking / running boundary; one U-turn looks like the start of pacing). What is reported is held to
three rules, so it changes only when the evidence has changed:

1. **Smoothing** in time: an exponential moving average of the probabilities with a time constant
   of ``smoothing_seconds`` (``ema``; the weight of a new verdict follows the real time since the
   last, so the cadence does not matter), the most frequent verdict of the last
   ``smoothing_seconds`` (``majority``), or none.
2. **Not yet decided**: a track younger than ``min_history`` seconds is ``UNDECIDED``; so is
   one whose smoothed leader has not yet held (rule 3) since the track began.
3. **Hysteresis by dwell**: the reported behaviour changes to a new one only once the new one has
   led, with smoothed probability at least ``min_confidence`` at every verdict, for ``dwell``
   seconds (per behaviour in ``dwell_for``: a behaviour that needs long evidence, pacing, loitering,
   should need long to be reported). The first decision follows the same rule.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from edgewatch.errors import EdgewatchError
from edgewatch.types import UNDECIDED


@dataclass(frozen=True)
class VerdictRules:
    """How raw verdicts become reported ones (see the module docstring); every duration in seconds. The
    live stage's come from ``[temporal]`` (:class:`edgewatch.config.TemporalConfig`, where the defaults are)."""

    smoothing: str  # ema | majority | none
    smoothing_seconds: float
    min_history: float
    min_confidence: float
    dwell: float
    dwell_for: Mapping[str, float] = field(default_factory=dict)  # behaviour -> its own dwell

    def __post_init__(self) -> None:
        if self.smoothing not in ("ema", "majority", "none"):
            raise EdgewatchError(f"verdicts: smoothing must be ema, majority or none, got {self.smoothing!r}")
        for name, value in (("smoothing_seconds", self.smoothing_seconds), ("min_history", self.min_history),
                            ("dwell", self.dwell), *self.dwell_for.items()):
            if value < 0:
                raise EdgewatchError(f"verdicts: {name} must be >= 0 seconds, got {value}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise EdgewatchError(f"verdicts: min_confidence must be in [0, 1], got {self.min_confidence}")

    def dwell_of(self, behaviour: str) -> float:
        """Seconds ``behaviour`` must lead before it is reported."""
        return self.dwell_for.get(behaviour, self.dwell)


class TrackVerdict:
    """One track's smoothing and decision state; feed it every raw verdict of the track in time order."""

    def __init__(self, rules: VerdictRules, behaviours: Sequence[str]) -> None:
        self.rules = rules
        self.behaviours = list(behaviours)
        self.probs: np.ndarray | None = None
        self.votes: deque[tuple[float, np.ndarray]] = deque()
        self.time: float | None = None
        self.candidate: int | None = None
        self.since = 0.0
        self.reported: int | None = None

    def _smooth(self, time: float, probs: np.ndarray) -> np.ndarray:
        rules = self.rules
        if rules.smoothing == "majority":
            self.votes.append((time, probs))
            while self.votes[0][0] < time - rules.smoothing_seconds:
                self.votes.popleft()
            counts = np.bincount([int(p.argmax()) for _, p in self.votes], minlength=len(probs)).astype(np.float64)
            mean = np.mean([p for _, p in self.votes], axis=0)
            return counts / counts.sum() + 1e-6 * mean  # ties: the more probable on average
        if rules.smoothing == "none" or self.probs is None or self.time is None or rules.smoothing_seconds == 0:
            return probs
        alpha = 1.0 - float(np.exp(-(time - self.time) / rules.smoothing_seconds))
        return alpha * probs + (1.0 - alpha) * self.probs

    def update(self, time: float, age: float, probs: np.ndarray) -> tuple[str, float]:
        """The reported ``(label, score)`` after the raw ``probs [K]`` at ``time``, for a track ``age``
        seconds old; ``label`` is :data:`UNDECIDED` until a behaviour has held."""
        self.probs = smoothed = self._smooth(time, np.asarray(probs, np.float64))
        self.time = time
        leader = int(smoothed.argmax())
        confident = smoothed[leader] >= self.rules.min_confidence
        if not confident:
            self.candidate = None
        elif leader != self.candidate:
            self.candidate, self.since = leader, time
        if (self.candidate is not None and self.candidate != self.reported and age >= self.rules.min_history
                and time - self.since >= self.rules.dwell_of(self.behaviours[self.candidate])):
            self.reported = self.candidate
        if self.reported is None:
            return UNDECIDED, float(smoothed[leader])
        return self.behaviours[self.reported], float(smoothed[self.reported])


def verdict_series(times: np.ndarray, ages: np.ndarray, probs: np.ndarray, rules: VerdictRules,
                   behaviours: Sequence[str]) -> list[str]:
    """The reported label after each raw verdict of one track (``probs [N, K]`` at ``times [N]``)."""
    state = TrackVerdict(rules, behaviours)
    return [state.update(float(t), float(a), p)[0] for t, a, p in zip(times, ages, probs)]
