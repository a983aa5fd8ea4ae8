"""Verdict rules (smoothing in seconds, undecided, dwell) and the kinematic rule baseline."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from edgewatch.behaviour.data import load_dataset
from edgewatch.behaviour.rules import SUMMARIES, RuleBaseline, summaries
from edgewatch.behaviour.taxonomy import load_taxonomy
from edgewatch.behaviour.verdicts import TrackVerdict, VerdictRules, verdict_series
from edgewatch.errors import EdgewatchError
from edgewatch.types import UNDECIDED

LABELS = ("standing", "walking", "running")
A, B = np.array([0.9, 0.1, 0.0]), np.array([0.1, 0.9, 0.0])
NOW = {"min_history": 0.0, "dwell": 0.0, "min_confidence": 0.0}
RULES = {"smoothing": "ema", "smoothing_seconds": 1.0, "min_history": 1.0, "min_confidence": 0.7, "dwell": 2.0}


def test_ema_weighs_a_verdict_by_the_real_time_since_the_last() -> None:
    """The same two verdicts 0.5 s or 2 s apart: the newer weighs 1 - exp(-dt / tau), whatever the cadence."""
    for dt in (0.5, 2.0):
        state = TrackVerdict(VerdictRules(smoothing="ema", smoothing_seconds=1.0, **NOW), LABELS)
        state.update(0.0, 5.0, A)
        _, score = state.update(dt, 5.0, B)
        alpha = 1 - math.exp(-dt)
        expected = alpha * B + (1 - alpha) * A
        np.testing.assert_allclose(state.probs, expected)
        assert score == pytest.approx(expected.max())


def test_majority_votes_over_the_last_seconds() -> None:
    state = TrackVerdict(VerdictRules(smoothing="majority", smoothing_seconds=1.0, **NOW), LABELS)
    got = [state.update(t, 5.0, p)[0] for t, p in [(0.0, A), (0.5, B), (1.0, B), (2.4, A)]]
    # at 1.0 s the votes are A, B, B; at 2.4 s only the 2.4 s vote is within the last second
    assert got == ["standing", "standing", "walking", "standing"]


def test_undecided_until_old_enough_and_held_then_hysteresis() -> None:
    rules = VerdictRules(smoothing="none", smoothing_seconds=0.0, min_history=1.5, min_confidence=0.6, dwell=1.0)
    times = np.arange(0.5, 8.01, 0.5)
    # A from the start; B flickers in alone at 3.0 s; B leads from 5.0 s on
    probs = np.array([B if t == 3.0 or t >= 5.0 else A for t in times])
    labels = verdict_series(times, times, probs, rules, LABELS)
    reported = dict(zip(times.tolist(), labels))
    assert reported[1.0] == UNDECIDED  # A has led 0.5 s only
    assert reported[1.5] == "standing"  # A led 1.0 s and the track is 1.5 s old
    assert reported[3.0] == "standing" and reported[5.5] == "standing"  # one B, then B for 0.5 s only
    assert reported[6.0] == "walking"  # B has led 1.0 s


def test_low_confidence_never_counts_as_held_and_per_behaviour_dwell() -> None:
    unsure = np.array([0.5, 0.45, 0.05])
    rules = VerdictRules(smoothing="none", smoothing_seconds=0.0, min_history=0.0, min_confidence=0.6, dwell=0.5)
    assert set(verdict_series(np.arange(10.0), np.arange(10.0), np.tile(unsure, (10, 1)), rules, LABELS)) == {UNDECIDED}
    slow = VerdictRules(smoothing="none", smoothing_seconds=0.0, min_history=0.0, min_confidence=0.6, dwell=0.5,
                        dwell_for={"walking": 3.0})
    times = np.arange(0.0, 6.01, 0.5)
    labels = verdict_series(times, times, np.array([A] * 3 + [B] * 10), slow, LABELS)
    assert labels[1] == "standing" and labels[3 + 5] == "standing" and labels[3 + 6] == "walking"


def test_bad_verdict_rules_are_refused() -> None:
    with pytest.raises(EdgewatchError, match="smoothing"):
        VerdictRules(**{**RULES, "smoothing": "median"})
    with pytest.raises(EdgewatchError, match="min_confidence"):
        VerdictRules(**{**RULES, "min_confidence": 1.5})
    with pytest.raises(EdgewatchError, match="pacing must be >= 0"):
        VerdictRules(**RULES, dwell_for={"pacing": -1.0})


def test_rule_baseline_learns_thresholds_and_round_trips(tmp_path: Path) -> None:
    taxonomy = load_taxonomy()
    train = load_dataset("sim:600", "train", taxonomy, seed=3).definite()
    test = load_dataset("sim:300", "test", taxonomy, seed=3, classes=train.classes).definite()
    rules = RuleBaseline.fit(train)
    pred = rules.predict_proba(test.X, test.mask)
    assert pred.shape == (len(test), len(train.classes)) and np.allclose(pred.sum(axis=1), 1.0)
    assert (pred.argmax(1) == test.y).mean() > 0.5  # eleven behaviours: chance is 0.09
    again = RuleBaseline.load(rules.save(tmp_path / "rules.json"))
    np.testing.assert_array_equal(again.predict_proba(test.X, test.mask), pred)
    S = summaries(test.X, test.mask, taxonomy.features)
    assert S.shape == (len(test), len(SUMMARIES)) and np.isfinite(S).all()
    speed = SUMMARIES.index("speed_recent")
    running, standing = train.classes.index("running"), train.classes.index("standing")
    assert np.median(S[test.y == running, speed]) > np.median(S[test.y == standing, speed])
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(EdgewatchError, match="not an edgewatch rule baseline"):
        RuleBaseline.load(tmp_path / "bad.json")
