"""Events stage: a JSON Lines log with one object per decided behaviour change of a track.

Public API: ``EventWriter(path, class_names, evict_after)`` (``evict_after``: seconds, the tracker's
``track-buffer-seconds``), a context manager;
``writer(frames)`` writes the changes seen in the frames and returns the frames; ``writer.lines``
counts what was written. Each line::

    {"stream": 0, "frame": 120, "timestamp": 4.8, "track_id": 3, "class": "person",
     "bbox": [x1, y1, x2, y2], "behaviour": "walking", "score": 0.91}

A track's first decided behaviour is a change; a track the temporal stage has not decided yet
(``Behaviour.decided`` false) writes nothing, so every line is a verdict that has held. Every line goes out in one ``write`` followed by a
flush, so a crash loses at most the line being written and the file stays valid JSON Lines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from edgewatch.errors import EdgewatchError
from edgewatch.stages.tracktable import TrackTable
from edgewatch.types import Frame, Track, class_name


def event_record(frame: Frame, track: Track, class_names: Sequence[str]) -> dict[str, object]:
    """The JSON object of one event (the track must carry a decided behaviour)."""
    assert track.behaviour is not None and track.behaviour.decided
    return {
        "stream": frame.stream_id,
        "frame": frame.frame_num,
        "timestamp": round(float(frame.timestamp), 3),
        "track_id": track.track_id,
        "class": class_name(class_names, track.class_id),
        "bbox": [round(float(v), 1) for v in track.box],
        "behaviour": track.behaviour.label,
        "score": round(float(track.behaviour.score), 4),
    }


class EventWriter:
    """Writes behaviour changes; remembers each live track's last behaviour to tell a change."""

    def __init__(self, path: Path, class_names: Sequence[str], evict_after: float) -> None:
        self.path = Path(path)
        self.class_names = list(class_names)
        self.lines = 0
        self._last: TrackTable[list[str | None]] = TrackTable(lambda: [None], evict_after)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8", buffering=1)  # line-buffered
        except OSError as exc:
            raise EdgewatchError(f"{self.path}: cannot write the events file ({exc.strerror})") from exc

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        for frame in frames:
            for track in frame.tracks:
                if track.behaviour is None or not track.behaviour.decided:
                    continue
                last = self._last.get(frame.stream_id, track.track_id, frame.timestamp)
                if last[0] != track.behaviour.label:
                    last[0] = track.behaviour.label
                    self._file.write(json.dumps(event_record(frame, track, self.class_names)) + "\n")
                    self._file.flush()
                    self.lines += 1
            self._last.evict(frame.stream_id, frame.timestamp)
        return frames

    def close(self) -> None:
        """Release the file handle; every line is already flushed, so nothing is lost without it."""
        self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
