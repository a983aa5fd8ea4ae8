"""The CPU backend: per-source GStreamer graphs -> Python batching mux -> stage chain -> per-stream sinks.

It implements :class:`~edgewatch.pipeline.backend.Backend`: the loop is here, in Python, and every
stage of the chain (detector, tracker, temporal, events, OpenCV OSD) runs in it on host frames.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ClassVar

import cv2

from edgewatch.config import AppConfig
from edgewatch.pipeline.backend import StreamReport
from edgewatch.pipeline.mux import BatchMux, queue_depth
from edgewatch.pipeline.sinks import StreamSink, has_display
from edgewatch.pipeline.sources import Log, Source, describe
from edgewatch.stages.chain import StageChain
from edgewatch.types import Frame

POLL_S = 0.05  # how long the loop waits for a frame before it looks at the sources' buses again


class CpuGraph:
    """The CPU backend as a context manager: entering starts the sources, leaving always finalises
    the outputs (EOS to every sink), on the normal path as well as on errors and Ctrl-C."""

    native_stages: ClassVar[frozenset[str]] = frozenset()
    temporal_runtime: ClassVar[None] = None  # ONNX Runtime

    def __init__(self, config: AppConfig, log: Log) -> None:
        # OpenCV's own worker pool (resize, colour conversion) would only spin beside the detector's
        # threads, which already keep every core busy: its calls run in the thread that makes them
        cv2.setNumThreads(1)
        n = len(config.sources)
        mux_cfg = config.streammux
        self._log = log
        self.mux = BatchMux(n, config.batch_size, mux_cfg.batched_push_timeout / 1e6, queue_depth(config.batch_size, n))
        size = (mux_cfg.width, mux_cfg.height) if mux_cfg.width else None
        self.sources = [
            Source(i, src, self.mux, size, mux_cfg.live_source or src.kind != "file", config.application.max_frames, log)
            for i, src in enumerate(config.sources)
        ]
        sink_configs = [s for s in config.sinks if s.type != "display" or has_display()]
        if len(sink_configs) < len(config.sinks):
            log("warning: no display ($DISPLAY/$WAYLAND_DISPLAY unset): on-screen sink skipped")
        self.sinks = [
            [StreamSink(s, s.stream_path(i, n) if s.type == "file" else None, log) for s in sink_configs]
            for i in range(n)
        ]

    def __enter__(self) -> CpuGraph:
        for source in self.sources:
            source.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for source in self.sources:
            source.stop()
        for sink in (s for per_stream in self.sinks for s in per_stream):
            sink.close()

    def run(self, chain: StageChain, on_batch: Callable[[], None], stop: threading.Event) -> None:
        """The detector infers the next batches in worker threads (as many at once as its schedule
        says, ``[primary-gie] parallel-batches``) while the loop finishes the oldest one (tracker,
        behaviour, events, OSD, sinks): ONNX Runtime and OpenCV release the GIL, so inference does not
        wait for the per-frame Python work, and separate inferences keep every core busy. Order is
        kept: batches reach the later stages and the sinks exactly as they left the mux."""
        ahead = chain.head_parallel_batches
        with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="detector") as pool:
            pending: deque[Future[list[Frame]]] = deque()
            for batch in self.batches(stop):
                pending.append(pool.submit(chain.head, batch))
                if len(pending) > ahead:
                    self.render(chain.tail(pending.popleft().result()))
                    on_batch()
            while pending:
                self.render(chain.tail(pending.popleft().result()))
                on_batch()

    def batches(self, stop: threading.Event | None = None) -> Iterator[list[Frame]]:
        """Batches of decoded frames, until every source has ended for good or ``stop`` is set
        (looked at every :data:`POLL_S` at most, batches or not)."""
        while not (stop and stop.is_set()) and not (all(s.done for s in self.sources) and self.mux.drained()):
            batch = self.mux.next_batch(POLL_S)
            now = time.monotonic()
            for source in self.sources:
                source.poll(now)
            if batch:
                yield batch

    def render(self, frames: list[Frame]) -> None:
        """Send the (drawn) frames to their streams' sinks."""
        for frame in frames:
            for sink in self.sinks[frame.stream_id]:
                sink.push(frame, self.sources[frame.stream_id].fps)

    def reports(self) -> list[StreamReport]:
        return [
            StreamReport(
                uri=describe(src.config),
                status=src.state.value,
                decoded=src.frames,
                dropped=self.mux.dropped[src.stream_id],
                reconnects=src.reconnects,
                error=src.error,
                outputs=tuple(str(s.path) for s in sinks if s.path is not None and s.frames),
            )
            for src, sinks in zip(self.sources, self.sinks)
        ]

