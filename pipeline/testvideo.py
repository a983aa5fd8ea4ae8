"""A synthetic test video made by GStreamer itself: a moving ball, H.264 in mp4.

The end-to-end tests and the RTSP test server need a real encoded file that every machine can make
without downloads; ``videotestsrc pattern=ball`` gives motion (the tracker and the encoder see
changing frames) and the same encoder tail as the file sink keeps the two paths honest.
"""

from __future__ import annotations

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
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = max(1, round(seconds * fps))
    pipeline = parse(
        f"videotestsrc pattern=ball num-buffers={frames} ! "
        f"video/x-raw,width={width},height={height},framerate={fps}/1 ! "
        + h264_mp4(bitrate_kbps=500, fps=Fraction(fps), fragment_ms=fragment_ms)
    )
    pipeline.get_by_name("out").set_property("location", str(path))
    run_to_end(pipeline, timeout_s=max(30.0, 10 * seconds))
    return path
