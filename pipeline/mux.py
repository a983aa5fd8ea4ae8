"""The batching mux: nvstreammux's job done in Python between the source graphs and the stages.

Each source's ``appsink`` pushes decoded frames here from its GStreamer streaming thread; the
Python loop takes batches of up to ``batch_size`` frames across streams. As with nvstreammux, a
batch goes out when it is full or when ``batched-push-timeout`` has passed since its first frame,
so a slow or stalled stream delays the others by at most that timeout.

Back-pressure is where files and live sources differ: a file stream's push blocks while its queue is
full (decoding waits for inference, nothing is lost), a live stream's push drops its oldest frame
(latency stays bounded, the camera is never held up). No GStreamer here: the mux is plain threads and
numpy, and tests drive it directly.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from edgewatch.types import Frame


class BatchMux:
    """Per-stream bounded queues and nvstreammux-style batch formation."""

    def __init__(self, n_streams: int, batch_size: int, timeout_s: float, depth: int) -> None:
        """``depth`` frames may wait per stream: enough for decoding to run one batch ahead."""
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        self.depth = depth
        self.dropped = [0] * n_streams
        self._pending: list[deque[Frame]] = [deque() for _ in range(n_streams)]
        self._open = [True] * n_streams
        self._next_num = [0] * n_streams
        self._cond = threading.Condition()
        self._next_stream = 0  # round-robin start, so no stream is always first in a batch

    def push(self, stream_id: int, timestamp: float, image: np.ndarray, live: bool) -> bool:
        """Queue one frame; blocks while a file stream's queue is full, drops the oldest for live ones.

        Returns False when the stream is closed (the caller's source is being stopped), so a
        streaming thread never stays blocked in here while its pipeline shuts down.
        """
        with self._cond:
            queue = self._pending[stream_id]
            if live and len(queue) >= self.depth:
                queue.popleft()
                self.dropped[stream_id] += 1
            self._cond.wait_for(lambda: len(queue) < self.depth or not self._open[stream_id])
            if not self._open[stream_id]:
                return False
            queue.append(Frame(stream_id, self._next_num[stream_id], timestamp, image))
            self._next_num[stream_id] += 1
            self._cond.notify_all()
            return True

    def set_open(self, stream_id: int, is_open: bool) -> None:
        """Close a stream (it ended or is reconnecting: pushes return False) or open it again."""
        with self._cond:
            self._open[stream_id] = is_open
            self._cond.notify_all()

    def next_batch(self, wait_s: float) -> list[Frame]:
        """Up to ``batch_size`` frames, round-robin over streams; [] if none arrived within ``wait_s``.

        Once a first frame is there, waits up to ``timeout_s`` for the batch to fill, but no longer
        than needed: a batch is also complete when every open stream's queue is full (nothing more
        can arrive before we take some).
        """
        with self._cond:
            if not self._cond.wait_for(self._has_frames, wait_s):
                return []
            deadline = time.monotonic() + self.timeout_s
            while not self._complete():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = self._take()
            self._cond.notify_all()
            return batch

    def drained(self) -> bool:
        """True when every stream is closed and every queued frame has been taken."""
        with self._cond:
            return not any(self._open) and not self._has_frames()

    def _has_frames(self) -> bool:
        return any(self._pending)

    def _complete(self) -> bool:
        if sum(len(q) for q in self._pending) >= self.batch_size:
            return True
        return all(len(q) >= self.depth or not is_open for q, is_open in zip(self._pending, self._open))

    def _take(self) -> list[Frame]:
        n = len(self._pending)
        batch: list[Frame] = []
        while len(batch) < self.batch_size and self._has_frames():
            for i in range(n):
                queue = self._pending[(self._next_stream + i) % n]
                if queue and len(batch) < self.batch_size:
                    batch.append(queue.popleft())
        self._next_stream = (self._next_stream + 1) % n
        return batch


def queue_depth(batch_size: int, n_streams: int) -> int:
    """Frames buffered per stream: one batch's share twice over (double buffering), at least 2."""
    share = -(-batch_size // n_streams)
    return max(2, 2 * share)
