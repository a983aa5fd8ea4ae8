"""Per-track state keyed by ``(stream, track_id)``, evicted when a track has not been seen for a while.

Public API: ``TrackTable(factory, evict_after)``, ``table.get(stream, track_id, frame_num)``
(creates on first sight, marks seen), ``table.evict(stream, frame_num)``, ``len(table)``.

Why staleness and not the tracker's "removed" signal: neither ``Frame`` nor DeepStream's nvtracker
metadata carries removals, but a track the tracker has removed is never seen again. Evicting after
``evict_after`` unseen frames (the tracker's ``track-buffer``) frees a removed track's state at most
that many frames later and keeps the state of a track that only was LOST and comes back, so memory is
bounded by the live tracks, not by how many tracks a long run has seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TrackTable(Generic[T]):
    """A dict of per-track values with last-seen frame numbers."""

    def __init__(self, factory: Callable[[], T], evict_after: int) -> None:
        self._factory = factory
        self.evict_after = evict_after
        self._values: dict[tuple[int, int], T] = {}
        self._seen: dict[tuple[int, int], int] = {}

    def get(self, stream: int, track_id: int, frame_num: int) -> T:
        """The track's value (a new one on first sight); marks the track seen at ``frame_num``."""
        key = (stream, track_id)
        if key not in self._values:
            self._values[key] = self._factory()
        self._seen[key] = frame_num
        return self._values[key]

    def evict(self, stream: int, frame_num: int) -> None:
        """Drop the tracks of ``stream`` not seen within ``evict_after`` frames before ``frame_num``."""
        stale = [k for k, seen in self._seen.items() if k[0] == stream and frame_num - seen > self.evict_after]
        for key in stale:
            del self._values[key], self._seen[key]

    def __len__(self) -> int:
        return len(self._values)
