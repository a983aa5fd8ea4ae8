"""Events stage: one JSON Lines log of what happened: behaviour changes and the scene's events.

Public API: ``EventWriter(path, class_names, evict_after)`` (``evict_after``: seconds, the tracker's
``track-buffer-seconds``), a context manager;
``writer(frames)`` writes the events of the frames and returns the frames; ``writer.lines``
counts what was written; :data:`EVENTS_SCHEMA` is the JSON Schema every line follows. Each line has a
``type``, and ``stream``, ``frame``, ``timestamp``; events about one track add ``track_id``,
``class``, ``bbox`` and, where the analytics stage knows them, ``zones`` and ``speed_kmh``::

    {"type": "behaviour", "stream": 0, "frame": 120, "timestamp": 4.8, "track_id": 3, "class": "person",
     "bbox": [x1, y1, x2, y2], "behaviour": "walking", "score": 0.91}
    {"type": "line_crossing", "stream": 0, "frame": 131, "timestamp": 13.1, "track_id": 3, "class": "person",
     "bbox": [...], "zones": [], "speed_kmh": 4.6, "line": "path", "direction": "in"}

``behaviour`` lines are a track's *decided* behaviour changes: a track the temporal stage has not
decided yet (``Behaviour.decided`` false) writes none, and its first decided behaviour is a change, so
every behaviour line is a verdict that has held; the other
types (``zone_enter``, ``zone_exit``, ``line_crossing``, ``dwell``, ``overcrowding_start``,
``overcrowding_end``, ``speeding``) are the analytics stage's :class:`SceneEvent` objects, written after
the frame's behaviour lines. The file is written under its partial name
(:func:`edgewatch.outputs.partial_path`) and takes its final name at :meth:`EventWriter.close`, by
the policy of :func:`edgewatch.outputs.settle`. It is unbuffered, one whole line per write, so a
crash loses at most the line being written and leaves the partial file readable. A write that fails
(a full disk) is undone to the last whole line, so the file stays valid JSON Lines, and ends the run
as one :class:`EdgewatchError`. Secrets are redacted from every record (:mod:`edgewatch.redact`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from edgewatch.errors import EdgewatchError
from edgewatch.outputs import partial_path, settle
from edgewatch.paths import REPO_ROOT
from edgewatch.redact import redact
from edgewatch.stages.tracktable import TrackTable
from edgewatch.types import Frame, SceneEvent, Track, class_name

EVENTS_SCHEMA = REPO_ROOT / "configs" / "events.schema.json"


def _header(kind: str, frame: Frame, track: Track | None, class_names: Sequence[str]) -> dict[str, object]:
    """The fields every event has, and those of the track it is about (with its zones and speed where known)."""
    record: dict[str, object] = {
        "type": kind,
        "stream": frame.stream_id,
        "frame": frame.frame_num,
        "timestamp": round(float(frame.timestamp), 3),
    }
    if track is not None:
        record["track_id"] = track.track_id
        record["class"] = class_name(class_names, track.class_id)
        record["bbox"] = [round(float(v), 1) for v in track.box]
        if track.analytics is not None:
            record["zones"] = list(track.analytics.zones)
            if track.analytics.speed_kmh is not None:
                record["speed_kmh"] = round(track.analytics.speed_kmh, 2)
    return record


def event_record(frame: Frame, track: Track, class_names: Sequence[str]) -> dict[str, object]:
    """The JSON object of one behaviour event (the track must carry a decided behaviour)."""
    assert track.behaviour is not None and track.behaviour.decided
    return _header("behaviour", frame, track, class_names) | {
        "behaviour": track.behaviour.label,
        "score": round(float(track.behaviour.score), 4),
    }


def scene_record(frame: Frame, event: SceneEvent, class_names: Sequence[str]) -> dict[str, object]:
    """The JSON object of one analytics event."""
    return _header(event.type, frame, event.track, class_names) | dict(event.fields)


class EventWriter:
    """Writes behaviour changes; remembers each live track's last behaviour to tell a change."""

    def __init__(self, path: Path, class_names: Sequence[str], evict_after: float) -> None:
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
            for record in self._records(frame):
                self._write(json.dumps(redact(record)) + "\n")
                self.lines += 1
            self._last.evict(frame.stream_id, frame.timestamp)
        return frames

    def _records(self, frame: Frame) -> list[dict[str, object]]:
        """The frame's events: its tracks' behaviour changes, then what the analytics stage saw."""
        records = []
        for track in frame.tracks:
            if track.behaviour is None or not track.behaviour.decided:
                continue
            last = self._last.get(frame.stream_id, track.track_id, frame.timestamp)
            if last[0] != track.behaviour.label:
                last[0] = track.behaviour.label
                records.append(event_record(frame, track, self.class_names))
        if frame.analytics is not None:
            records += [scene_record(frame, event, self.class_names) for event in frame.analytics.events]
        return records

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
