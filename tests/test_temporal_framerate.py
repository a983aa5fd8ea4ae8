"""The same real scene at 5, 10, 25 and 30 fps gives the same behaviours and the same (low) flicker.

The PETS09 campus clip (10 fps) is re-timed in memory the way GStreamer's ``videorate`` does it
(``edgewatch.stages.replay.clip_frames``: 25 and 30 fps repeat frames, 5 fps drops them) and its first
40 s go through the demo config's real detector, tracker and temporal stages. Tolerances, against the
clip at its own 10 fps: the share of person time per reported behaviour within 0.1, behaviour changes
per track-minute within 1 and at most 2 at every rate; nobody runs in the clip, so "running" stays
under 1% of person time.
"""

from __future__ import annotations

import pytest

from edgewatch.behaviour.evaluate import live_metrics
from edgewatch.config import load_config
from edgewatch.paths import REPO_ROOT
from edgewatch.samples.fetch import sample_clip
from edgewatch.stages.replay import replay_clip

SECONDS = 40.0


@pytest.mark.slow
def test_same_scene_same_behaviours_at_any_frame_rate() -> None:
    cfg = load_config(REPO_ROOT / "configs" / "demo.txt")
    clip = sample_clip("vtest")
    runs = {fps: live_metrics(replay_clip(cfg, clip, fps, SECONDS), fps)["person"] for fps in (10.0, 5.0, 25.0, 30.0)}
    reference = runs[10.0]
    for fps, run in runs.items():
        assert run["changes_per_track_minute"] <= 2.0, (fps, run)
        assert abs(run["changes_per_track_minute"] - reference["changes_per_track_minute"]) <= 1.0, (fps, run)
        assert run["time_shares"].get("running", 0.0) < 0.01, (fps, run)
        for label in set(run["time_shares"]) | set(reference["time_shares"]):
            got, want = run["time_shares"].get(label, 0.0), reference["time_shares"].get(label, 0.0)
            assert abs(got - want) <= 0.1, (fps, label, got, want)
