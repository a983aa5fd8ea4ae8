"""Per-track state keyed by ``(stream, track_id)``, evicted when a track has not been seen for a while.

Public API: ``TrackTable(factory, evict_after)``, ``table.get(stream, track_id, time)``
(creates on first sight, marks seen), ``table.evict(stream, time)``, ``len(table)``; times are the
frames' time stamps in seconds.

Why staleness and not the tracker's "removed" signal: neither ``Frame`` nor DeepStream's nvtracker
metadata carries removals, but a track the tracker has removed is never seen again. Evicting after
``evict_after`` seconds unseen (the tracker's ``track-buffer-seconds``) frees a removed track's state
at most that long after and keeps the state of a track that only was LOST and comes back, so memory
is bounded by the live tracks, not by how many tracks a long run has seen. Seconds, not frames: the
same setting holds at any frame rate. A stream whose clock goes back (a reconnected camera) does not
evict what it saw "later".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TrackTable(Generic[T]):
    """A dict of per-track values with last-seen time stamps."""

    def __init__(self, factory: Callable[[], T], evict_after: float) -> None:
        self._factory = factory
        self.evict_after = evict_after
        self._values: dict[tuple[int, int], T] = {}
        self._seen: dict[tuple[int, int], float] = {}

    def get(self, stream: int, track_id: int, time: float) -> T:
        """The track's value (a new one on first sight); marks the track seen at ``time`` (seconds)."""
        key = (stream, track_id)
        if key not in self._values:
            self._values[key] = self._factory()
        self._seen[key] = time
        return self._values[key]

    def evict(self, stream: int, time: float) -> None:
        """Drop the tracks of ``stream`` not seen within ``evict_after`` seconds before ``time``."""
        stale = [k for k, seen in self._seen.items() if k[0] == stream and time - seen > self.evict_after]
        for key in stale:
            del self._values[key], self._seen[key]

    def __len__(self) -> int:
        return len(self._values)
