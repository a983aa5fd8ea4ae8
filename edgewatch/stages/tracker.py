"""Tracker stage: one :class:`ByteTracker` per stream; ``Frame.tracks`` gets the CONFIRMED tracks.

Public API: ``TrackerStage(TrackerConfig, interval)``; ``stage(frames)`` fills ``Frame.tracks`` in
place and returns the frames. Tentative and lost tracks stay inside the tracker: what is drawn,
classified and logged is only what the tracker is sure of. Frames the detector skipped
(``interval``) move the tracks by their motion model instead of counting as misses.
With ``[tracker] enable=0`` the stage leaves ``Frame.tracks`` empty.
"""

from __future__ import annotations

from edgewatch.config import TrackerConfig
from edgewatch.stages.detector import runs_on
from edgewatch.track.bytetrack import ByteTracker
from edgewatch.types import Frame, TrackState


class TrackerStage:
    """Per-stream trackers, created when a stream's first frame arrives."""

    def __init__(self, config: TrackerConfig, interval: int = 0) -> None:
        self.config = config
        self.interval = interval
        self.trackers: dict[int, ByteTracker] = {}

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        if not self.config.enable:
            return frames
        for frame in frames:
            if frame.stream_id not in self.trackers:
                self.trackers[frame.stream_id] = ByteTracker(self.config)
            tracker = self.trackers[frame.stream_id]
            dets = frame.detections if runs_on(frame.frame_num, self.interval) else None
            frame.tracks = [t for t in tracker.update(dets) if t.state is TrackState.CONFIRMED]
        return frames
