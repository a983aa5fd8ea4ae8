"""Events stage: a JSON Lines log with one object per behaviour change of a track.

Public API: ``EventWriter(path, class_names, evict_after)``, a context manager;
``writer(frames)`` writes the changes seen in the frames and returns the frames; ``writer.lines``
counts what was written. Each line::

    {"stream": 0, "frame": 120, "timestamp": 4.8, "track_id": 3, "class": "person",
     "bbox": [x1, y1, x2, y2], "behaviour": "walking", "score": 0.91}

A track's first classification is a change. The file is written under its partial name
(:func:`edgewatch.outputs.partial_path`) and takes its final name at :meth:`EventWriter.close`, by
the policy of :func:`edgewatch.outputs.settle`. It is unbuffered, one whole line per write, so a
crash loses at most the line being written and leaves the partial file readable. A write that fails (a full
disk) is undone to the last whole line, so the file stays valid JSON Lines, and ends the run as one
:class:`EdgewatchError`. Secrets are redacted from every record (:mod:`edgewatch.redact`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from edgewatch.errors import EdgewatchError
from edgewatch.outputs import partial_path, settle
from edgewatch.redact import redact
from edgewatch.stages.tracktable import TrackTable
from edgewatch.types import Frame, Track, class_name


def event_record(frame: Frame, track: Track, class_names: Sequence[str]) -> dict[str, object]:
    """The JSON object of one event (the track must carry a behaviour)."""
    assert track.behaviour is not None
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

    def __init__(self, path: Path, class_names: Sequence[str], evict_after: int) -> None:
        self.path = Path(path)
        self.class_names = list(class_names)
        self.lines = 0
        self._last: TrackTable[list[str | None]] = TrackTable(lambda: [None], evict_after)
        self._size = 0  # bytes of whole lines on disk: where a failed write is cut back to
        self.final_path: Path | None = None  # where the file ended up, once closed
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = partial_path(self.path).open("wb", buffering=0)
        except OSError as exc:
            raise EdgewatchError(f"{self.path}: cannot write the events file ({exc.strerror})") from exc

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        for frame in frames:
            for track in frame.tracks:
                if track.behaviour is None:
                    continue
                last = self._last.get(frame.stream_id, track.track_id, frame.frame_num)
                if last[0] != track.behaviour.label:
                    last[0] = track.behaviour.label
                    self._write(json.dumps(redact(event_record(frame, track, self.class_names))) + "\n")
                    self.lines += 1
            self._last.evict(frame.stream_id, frame.frame_num)
        return frames

    def _write(self, line: str) -> None:
        """One whole line onto the disk, or none of it and an :class:`EdgewatchError`."""
        encoded = line.encode("utf-8")
        data = memoryview(encoded)
        try:
            while data:
                data = data[self._file.write(data) :]
        except OSError as exc:
            try:
                self._file.truncate(self._size)
            except OSError:
                pass  # the disk refuses even that: the last line may be cut, the earlier ones are intact
            raise EdgewatchError(f"{self.path}: cannot write the events file ({exc.strerror})") from exc
        self._size += len(encoded)

    def close(self, succeeded: bool = True) -> Path | None:
        """Close the file and give it its final name (``succeeded``: whether the run did, see
        :func:`~edgewatch.outputs.settle`); returns that name. Closing twice changes nothing."""
        if not self._file.closed:
            self._file.close()  # unbuffered: every line is already on disk
            self.final_path = settle(self.path, succeeded)
        return self.final_path

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(succeeded=exc_type is None)
