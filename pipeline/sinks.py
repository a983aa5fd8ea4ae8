"""Per-stream outputs: the drawn frames go back into GStreamer through an ``appsrc``::

    file:     appsrc (I420, or RGB: see pushed_format) -> videoscale -> first size (+ pad to even)
                     -> videoconvert -> I420 -> x264enc -> h264parse -> mp4mux -> filesink
    fake:     appsrc -> fakesink
    display:  appsrc -> videoconvert -> autovideosink   (only when $DISPLAY/$WAYLAND_DISPLAY exists)

Encoding runs in the sink graph's own streaming thread, so the Python loop only pays for one copy
per frame. The mp4 is written fragmented (``mp4mux fragment-duration``): the header comes first and
each second of video is complete on disk, so a crash or a kill leaves a playable file; the normal
and the error/Ctrl-C paths also send EOS, which writes the final index. The file is written under
its partial name (:func:`edgewatch.outputs.partial_path`); the runner gives it its final name.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from edgewatch.config import SinkConfig
from edgewatch.errors import EdgewatchError
from edgewatch.outputs import partial_path
from edgewatch.pipeline.gst import Gst, parse, to_clock
from edgewatch.pipeline.sources import Log
from edgewatch.types import Frame

FRAGMENT_MS = 1000  # at most this much video is lost if the process is killed
DEFAULT_FPS = Fraction(30)  # for streams that do not state a frame rate


def h264_mp4(bitrate_kbps: int, fps: Fraction, fragment_ms: int = FRAGMENT_MS) -> str:
    """The encoder tail shared by the file sink and the test-video generator.

    4:2:0 is forced because ``videoconvert`` from RGB would otherwise negotiate 4:4:4, which many
    players cannot decode. The encoder is the graph's largest cost after inference on a small CPU, so it
    is kept as cheap as x264 goes: zerolatency, ``ultrafast`` (2.4 ms of CPU per 768x576 frame here
    against 5.8 ms for ``superfast``, at the same bitrate) and one thread (its sliced threads cost more
    CPU in all and preempt ONNX Runtime's workers; one thread still encodes several hundred fps).
    ``filesink`` is unbuffered so each finished fragment is on disk at once (mp4mux already writes
    in whole fragments), not held in a stdio buffer that a killed process never flushes.
    """
    keyframe_every = max(1, round(fps))
    return (
        "videoconvert ! video/x-raw,format=I420 ! "
        "x264enc tune=zerolatency speed-preset=ultrafast threads=1 "
        f"bitrate={bitrate_kbps} key-int-max={keyframe_every} ! "
        f"h264parse ! mp4mux fragment-duration={fragment_ms} ! filesink name=out buffer-mode=unbuffered"
    )


def pushed_format(sink_type: str, width: int, height: int) -> str:
    """The format frames enter a sink graph in: I420 for the file sink when OpenCV's packed I420 is
    exactly GStreamer's layout (width a multiple of 8, so no row padding; height even), converted in the
    loop by OpenCV at a fifth of ``videoconvert``'s cost (0.14 against about 0.8 ms of CPU per 768x576
    frame here; the encoder takes I420 anyway). Otherwise RGB, converted by the graph."""
    return "I420" if sink_type == "file" and width % 8 == 0 and height % 2 == 0 else "RGB"


def gst_rgb_rows(image: np.ndarray) -> np.ndarray:
    """An RGB frame in GStreamer's layout: rows padded to a multiple of 4 bytes (a 642-pixel row is 1926
    bytes of pixels in a 1928-byte row); packed rows of such a width would shear the picture."""
    height, width = image.shape[:2]
    stride = (width * 3 + 3) // 4 * 4
    if stride == width * 3:
        return np.ascontiguousarray(image)
    rows = np.zeros((height, stride), np.uint8)
    rows[:, : width * 3] = image.reshape(height, width * 3)
    return rows


def has_display() -> bool:
    """Whether an on-screen window can be opened (X11 or Wayland)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def encoded_size(width: int, height: int) -> str:
    """The piece of the file graph that fixes the encoded size at the first frame's, made even.

    An mp4 track has one size, so frames of a stream whose size changes later (a new resolution in
    the file, a camera that comes back at another size) are scaled to fit the first size, with black
    borders that keep their aspect ratio; H.264 in 4:2:0 needs an even width and height, so an odd
    size gets one black column / row.
    """
    pad_w, pad_h = width % 2, height % 2
    pad = f" ! videobox right=-{pad_w} bottom=-{pad_h} fill=black" if pad_w or pad_h else ""
    return f"videoscale add-borders=true ! video/x-raw,width={width},height={height},pixel-aspect-ratio=1/1{pad}"


class StreamSink:
    """One output of one stream; the graph is built at the first frame, when the size is known."""

    def __init__(self, config: SinkConfig, path: Path | None, log: Log) -> None:
        self.config = config
        self.path = path
        self.frames = 0
        self._log = log
        self._pipeline: Gst.Pipeline | None = None
        self._appsrc: Gst.Element | None = None
        self._fps = DEFAULT_FPS
        self._size = (0, 0)  # width, height of the frames the appsrc caps announce
        self._first_size = (0, 0)

    def push(self, frame: Frame, fps: Fraction) -> None:
        """Send one drawn frame (timestamped with its stream PTS) into the sink graph."""
        height, width = frame.image.shape[:2]
        if self._pipeline is None:
            self._start(width, height, fps or DEFAULT_FPS)
        elif (width, height) != self._size:
            self._resize(width, height)
        self._raise_on_error()
        if pushed_format(self.config.type, width, height) == "I420":  # the format the caps announce
            image = cv2.cvtColor(frame.image, cv2.COLOR_RGB2YUV_I420)
        else:
            image = gst_rgb_rows(frame.image)
        buffer = Gst.Buffer.new_wrapped(image.tobytes())
        buffer.pts = to_clock(frame.timestamp)
        buffer.duration = to_clock(float(1 / self._fps))
        self._appsrc.emit("push-buffer", buffer)
        self.frames += 1

    def close(self, timeout_s: float = 10.0) -> None:
        """Send EOS and wait for it to reach the end, so the mp4 index is written; then stop."""
        if self._pipeline is None:
            return
        self._appsrc.emit("end-of-stream")
        self._pipeline.get_bus().timed_pop_filtered(to_clock(timeout_s), Gst.MessageType.EOS | Gst.MessageType.ERROR)
        self._pipeline.set_state(Gst.State.NULL)
        self._pipeline = self._appsrc = None

    def _caps(self, width: int, height: int) -> str:
        """The appsrc caps for frames of this size, in the format they are pushed in (:func:`pushed_format`)."""
        fps = self._fps
        pixels = pushed_format(self.config.type, width, height)
        return f"video/x-raw,format={pixels},width={width},height={height},framerate={fps.numerator}/{fps.denominator}"

    def _resize(self, width: int, height: int) -> None:
        """The stream's frames changed size: announce the new caps (the graph scales them, see
        :func:`encoded_size`), and say so once per change."""
        self._appsrc.set_property("caps", Gst.Caps.from_string(self._caps(width, height)))
        self._appsrc.set_property("max-bytes", 4 * width * height * 3)
        if self.path is not None:
            first = "x".join(map(str, self._first_size))
            scaled = "" if (width, height) == self._first_size else f"; scaled to fit the video's {first}"
            self._log(f"{self.path}: frames are now {width}x{height}{scaled}")
        self._size = (width, height)

    def _start(self, width: int, height: int, fps: Fraction) -> None:
        self._fps = fps
        self._size = self._first_size = (width, height)
        caps = self._caps(width, height)
        sync = str(self.config.sync).lower()
        if self.config.type == "file" and (width % 2 or height % 2):
            even = f"{width + width % 2}x{height + height % 2}"
            self._log(f"{self.path}: {width}x{height} frames padded to {even} (H.264 4:2:0 needs an even size)")
        tails = {
            "file": f"{encoded_size(width, height)} ! {h264_mp4(self.config.bitrate, fps)}",
            "fake": f"fakesink sync={sync}",
            "display": f"videoconvert ! autovideosink sync={sync}",
        }
        # block=true bounds the queue to a few frames: if encoding falls behind, the loop waits.
        head = f'appsrc name=src format=time is-live=false block=true max-bytes={4 * width * height * 3} caps="{caps}"'
        pipeline = parse(f"{head} ! {tails[self.config.type]}")
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise EdgewatchError(f"{self.path}: cannot create its folder ({exc.strerror})") from exc
            pipeline.get_by_name("out").set_property("location", str(partial_path(self.path)))
        self._pipeline, self._appsrc = pipeline, pipeline.get_by_name("src")
        if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self._raise_on_error()
            raise EdgewatchError(f"cannot start the {self.config.type} sink")

    def _raise_on_error(self) -> None:
        msg = self._pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
        if msg is not None:
            where = f" {self.path}" if self.path else ""
            self._pipeline.set_state(Gst.State.NULL)
            self._pipeline = None
            raise EdgewatchError(f"{self.config.type} sink{where}: {msg.parse_error()[0].message}")
