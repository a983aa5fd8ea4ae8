"""Synthetic test videos made by GStreamer itself: a moving ball, H.264 in mp4 (and two awkward ones).

The end-to-end tests and the RTSP test server need a real encoded file that every machine can make
without downloads; ``videotestsrc pattern=ball`` gives motion (the tracker and the encoder see
changing frames) and the same encoder tail as the file sink keeps the two paths honest. The fault
tests also need what cameras and users produce and H.264-in-mp4 cannot hold: an odd frame size
(Motion-JPEG in AVI) and a resolution that changes mid-stream (H.264 in MPEG-TS).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from edgewatch.pipeline.gst import parse, run_to_end
from edgewatch.pipeline.sinks import FRAGMENT_MS, h264_mp4


def write_test_video(
    path: Path,
    seconds: float = 3.0,
    width: int = 320,
    height: int = 240,
    fps: int = 15,
    fragment_ms: int = FRAGMENT_MS,
) -> Path:
    """Encode ``seconds`` of a moving ball to ``path``; ``fragment_ms=0`` writes a classic mp4
    (index at the end, so a truncated copy is unreadable, which the bad-input tests rely on)."""
    tail = h264_mp4(bitrate_kbps=500, fps=Fraction(fps), fragment_ms=fragment_ms)
    return _write(path, f"{_ball(seconds, width, height, fps)} ! {tail}", seconds)


def write_odd_size_video(path: Path, width: int, height: int, seconds: float = 2.0, fps: int = 15) -> Path:
    """Any frame size, odd ones too (which H.264 in 4:2:0 cannot encode): Motion-JPEG in AVI."""
    return _write(path, f"{_ball(seconds, width, height, fps)} ! jpegenc ! avimux ! filesink name=out", seconds)


def write_resizing_video(
    path: Path, sizes: Sequence[tuple[int, int]], seconds_each: float = 2.0, fps: int = 15
) -> Path:
    """One H.264 stream in MPEG-TS whose resolution changes: ``seconds_each`` at each (width, height),
    joined by ``concat`` (timestamps continue) and re-initialising the encoder at each change."""
    parts = " ".join(f"{_ball(seconds_each, w, h, fps)} ! c." for w, h in sizes)
    head = "concat name=c ! videoconvert ! x264enc key-int-max=15 ! h264parse ! mpegtsmux ! filesink name=out"
    return _write(path, f"{head} {parts}", seconds_each * len(sizes))


def _ball(seconds: float, width: int, height: int, fps: int) -> str:
    frames = max(1, round(seconds * fps))
    caps = f"video/x-raw,width={width},height={height},framerate={fps}/1"
    return f"videotestsrc pattern=ball num-buffers={frames} ! {caps}"


def _write(path: Path, description: str, seconds: float) -> Path:
    """Run a self-ending graph whose ``filesink name=out`` writes ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pipeline = parse(description)
    pipeline.get_by_name("out").set_property("location", str(path))
    run_to_end(pipeline, timeout_s=max(30.0, 10 * seconds))
    return path
