"""Tracker stage: one :class:`ByteTracker` per stream; ``Frame.tracks`` gets the CONFIRMED tracks.

Public API: ``TrackerStage(TrackerConfig, interval, log)``; ``stage(frames)`` fills ``Frame.tracks`` in
place and returns the frames. Tentative and lost tracks stay inside the tracker: what is drawn,
classified and logged is only what the tracker is sure of. Frames the detector skipped
(``interval``) move the tracks by their motion model instead of counting as misses.
With ``[tracker] enable=0`` the stage leaves ``Frame.tracks`` empty.

The tracker's life-cycle runs on the frames' time stamps (``track-buffer-seconds``), so it behaves the
same at any frame rate; on each stream's second frame the stage logs the frame rate read from the
time stamps and what the settings come to in frames at that rate.
"""

from __future__ import annotations

from edgewatch.config import TrackerConfig
from edgewatch.log import Log, quiet
from edgewatch.stages.detector import runs_on
from edgewatch.track.bytetrack import ByteTracker
from edgewatch.types import Frame, TrackState

class TrackerStage:
    """Per-stream trackers, created when a stream's first frame arrives."""

    def __init__(self, config: TrackerConfig, interval: int = 0, log: Log = quiet) -> None:
        self.config = config
        self.interval = interval
        self.log = log
        self.trackers: dict[int, ByteTracker] = {}
        self._first: dict[int, float | None] = {}  # stream -> first time stamp, None once the rate is logged

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        if not self.config.enable:
            return frames
        for frame in frames:
            if frame.stream_id not in self.trackers:
                self.trackers[frame.stream_id] = ByteTracker(self.config)
                self._first[frame.stream_id] = frame.timestamp
            else:
                self._log_rate(frame)
            tracker = self.trackers[frame.stream_id]
            dets = frame.detections if runs_on(frame.frame_num, self.interval) else None
            frame.tracks = [t for t in tracker.update(dets, frame.timestamp) if t.state is TrackState.CONFIRMED]
        return frames

    def _log_rate(self, frame: Frame) -> None:
        first = self._first[frame.stream_id]
        if first is None or frame.timestamp <= first:
            return
        self._first[frame.stream_id] = None
        fps = 1.0 / (frame.timestamp - first)
        buffer, probation = self.config.track_buffer_seconds, self.config.probation_seconds
        self.log(f"stream {frame.stream_id}: {fps:.3g} fps from its time stamps; a new track is confirmed after "
                 f"{probation:g} s ({probation * fps + 1:.0f} frames at this rate), a lost one kept {buffer:g} s "
                 f"({buffer * fps:.0f} frames)")
