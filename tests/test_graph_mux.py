"""The batching mux on its own (no GStreamer): nvstreammux batch formation, back-pressure for files,
drop-oldest for live streams, and no streaming thread left blocked when a stream is closed."""

from __future__ import annotations

import threading
import time

import numpy as np

from edgewatch.pipeline.mux import BatchMux, queue_depth
from edgewatch.pipeline.sources import retry_delay

IMAGE = np.zeros((2, 2, 3), np.uint8)


def test_full_batch_takes_one_frame_per_stream_round_robin() -> None:
    mux = BatchMux(n_streams=2, batch_size=2, timeout_s=10.0, depth=4)
    for n in range(2):
        mux.push(0, n / 10, IMAGE, live=False)
        mux.push(1, n / 10, IMAGE, live=False)
    first, second = mux.next_batch(1.0), mux.next_batch(1.0)
    assert [f.stream_id for f in first] == [0, 1] and [f.frame_num for f in first] == [0, 0]
    assert sorted(f.stream_id for f in second) == [0, 1] and [f.frame_num for f in second] == [1, 1]


def test_partial_batch_goes_out_after_the_push_timeout() -> None:
    mux = BatchMux(n_streams=2, batch_size=2, timeout_s=0.05, depth=4)
    mux.push(0, 0.0, IMAGE, live=False)
    batch = mux.next_batch(1.0)  # stream 1 never delivers: the batch leaves with stream 0 alone
    assert [f.stream_id for f in batch] == [0]


def test_batch_is_complete_when_every_open_stream_is_full() -> None:
    mux = BatchMux(n_streams=2, batch_size=8, timeout_s=60.0, depth=2)
    mux.set_open(1, False)  # ended: it cannot add frames, so it is not waited for
    mux.push(0, 0.0, IMAGE, live=False)
    mux.push(0, 0.1, IMAGE, live=False)
    assert len(mux.next_batch(1.0)) == 2  # returns at once, not after 60 s


def test_nothing_pending_returns_empty_after_wait() -> None:
    assert BatchMux(1, 1, 0.01, 2).next_batch(0.01) == []


def test_live_stream_drops_oldest_instead_of_blocking() -> None:
    mux = BatchMux(n_streams=1, batch_size=1, timeout_s=0.0, depth=2)
    for n in range(5):
        assert mux.push(0, float(n), IMAGE, live=True)
    assert mux.dropped == [3]
    assert [mux.next_batch(0.1)[0].timestamp for _ in range(2)] == [3.0, 4.0]


def test_file_stream_blocks_until_frames_are_taken_and_close_releases_it() -> None:
    mux = BatchMux(n_streams=1, batch_size=1, timeout_s=0.0, depth=1)
    mux.push(0, 0.0, IMAGE, live=False)
    results: list[bool] = []
    pusher = threading.Thread(target=lambda: results.append(mux.push(0, 0.1, IMAGE, live=False)))
    pusher.start()
    time.sleep(0.05)
    assert pusher.is_alive()  # back-pressure: the queue is full
    assert mux.next_batch(0.1)[0].timestamp == 0.0
    pusher.join(1.0)
    assert results == [True]
    blocked = threading.Thread(target=lambda: results.append(mux.push(0, 0.2, IMAGE, live=False)))
    blocked.start()
    mux.set_open(0, False)  # the source stops: its streaming thread must not stay stuck
    blocked.join(1.0)
    assert not blocked.is_alive() and results == [True, False]


def test_drained_only_when_closed_and_empty() -> None:
    mux = BatchMux(1, 1, 0.0, 2)
    mux.push(0, 0.0, IMAGE, live=False)
    mux.set_open(0, False)
    assert not mux.drained()
    mux.next_batch(0.1)
    assert mux.drained()


def test_queue_depth_double_buffers_each_streams_share() -> None:
    assert queue_depth(batch_size=1, n_streams=1) == 2
    assert queue_depth(batch_size=4, n_streams=2) == 4
    assert queue_depth(batch_size=3, n_streams=4) == 2


def test_retry_delay_doubles() -> None:
    assert [retry_delay(a, 0.5) for a in (1, 2, 3)] == [0.5, 1.0, 2.0]
