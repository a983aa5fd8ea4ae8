"""One input stream as its own small GStreamer graph, read top to bottom::

    uridecodebin uri=...            (files, rtsp://)   |  v4l2src device=... ! decodebin
      -> videoconvert -> videoscale -> capsfilter video/x-raw,format=RGB[,width=W,height=H]
      -> appsink  (files: drop=false, blocks = back-pressure; live: drop=true sync=true)

Each source is a separate ``Gst.Pipeline`` so that one stream can drop, be torn down and be rebuilt
(RTSP reconnect with exponential backoff) without touching the others; the Python mux joins them.
Scaling follows nvstreammux with ``enable-padding=0``: every frame is scaled to exactly
``[streammux] width x height`` (the aspect ratio is not kept); width=height=0 keeps each source's size.
The detector letterboxes on its own, so detections are unaffected either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

import numpy as np

from edgewatch.config import SourceConfig
from edgewatch.pipeline.gst import Gst, GstVideo, make, seconds
from edgewatch.pipeline.mux import BatchMux
from edgewatch.redact import redact

Log = Callable[[str], None]


class SourceState(Enum):
    """Life-cycle of a source; the last three are final."""

    RUNNING = "running"
    RETRYING = "retrying"  # RTSP stream dropped, waiting for the backoff delay before reconnecting
    ENDED = "ended"  # end of file, or max-frames reached
    LOST = "lost"  # RTSP stream that delivered frames, dropped, and did not come back after the retries
    FAILED = "failed"  # error (missing/corrupt file, unreachable URL): no frames or a decoding error


FINAL_STATES = (SourceState.ENDED, SourceState.LOST, SourceState.FAILED)
STALL_S = 10.0  # an RTSP connection that delivers no frame for this long counts as dropped (as nvurisrcbin)
TRUNCATION_SHARE = 0.95  # a file decoded to less than this share of its stated duration is truncated


@dataclass(frozen=True)
class FrameLayout:
    """Geometry of the RGB frames an appsink delivers, read once from its negotiated caps."""

    width: int
    height: int
    stride: int  # bytes per row (GStreamer pads RGB rows to a multiple of 4)
    fps: Fraction  # nominal frame rate; 0 when the stream does not say (variable rate)

    @staticmethod
    def from_caps(caps: Gst.Caps) -> FrameLayout:
        info = GstVideo.VideoInfo.new_from_caps(caps)
        return FrameLayout(info.width, info.height, info.stride[0], Fraction(info.fps_n, max(info.fps_d, 1)))

    def to_array(self, buffer: Gst.Buffer) -> np.ndarray:
        """A packed ``[H, W, 3]`` uint8 copy of the buffer (the buffer goes back to its pool at once)."""
        ok, mapped = buffer.map(Gst.MapFlags.READ)
        if not ok:
            raise RuntimeError("cannot map a video buffer for reading")
        try:
            rows = np.frombuffer(mapped.data, np.uint8, self.stride * self.height).reshape(self.height, self.stride)
            return rows[:, : self.width * 3].reshape(self.height, self.width, 3).copy()
        finally:
            buffer.unmap(mapped)


def retry_delay(attempt: int, interval: float) -> float:
    """Exponential backoff: ``interval`` seconds before the first retry, doubling for each next one."""
    return interval * 2 ** (attempt - 1)


def describe(config: SourceConfig) -> str:
    """The URI as users wrote it (``file://`` paths shown as plain paths), without its credentials:
    this is the only form of a source that logs, reports and the summary show."""
    return str(config.path) if config.kind == "file" else redact(config.uri)


class Source:
    """One stream: builds its graph, feeds the mux, follows its bus, reconnects RTSP streams.

    All control happens in :meth:`poll`, called from the Python loop; the GStreamer streaming thread
    only runs :meth:`_on_sample`. Timestamps stay monotonic across reconnects (each new connection
    continues where the last frame left off), because the tracker turns them into velocities.
    """

    def __init__(
        self,
        stream_id: int,
        config: SourceConfig,
        mux: BatchMux,
        size: tuple[int, int] | None,
        live: bool,
        max_frames: int,
        log: Log,
    ) -> None:
        self.stream_id = stream_id
        self.config = config
        self.live = live
        self.frames = 0
        self.reconnects = 0
        self.error: str | None = None
        self.state = SourceState.RUNNING
        self.layout: FrameLayout | None = None
        self._caps: Gst.Caps | None = None  # the caps ``layout`` was read from
        self._mux = mux
        self._size = size
        self._max_frames = max_frames
        self._log = log
        self._pipeline: Gst.Pipeline | None = None
        self._attempt = 0  # consecutive failed connections; reset by the first frame of a connection
        self._retry_at = 0.0
        self._offset = 0.0  # timestamp where this connection's frames start
        self._first_pts: int | None = None
        self._connected_at = 0.0
        self._first_start: float | None = None  # monotonic time of the first connection attempt
        self._last_frame_at = 0.0  # monotonic time of the last frame (or of the connection start)
        self._last_ts = 0.0
        self._frames_this_connection = 0

    @property
    def name(self) -> str:
        return f"source{self.stream_id} ({describe(self.config)})"

    @property
    def fps(self) -> Fraction:
        """Nominal frame rate from the negotiated caps; 0 before the first frame or when unstated."""
        return self.layout.fps if self.layout else Fraction(0)

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    def start(self) -> None:
        """Build the graph and set it playing; failures arrive on its bus and are handled by :meth:`poll`."""
        if self._first_start is None:
            self._first_start = time.monotonic()
        self._pipeline = self._build()
        self._offset = self._last_ts + self._frame_period() if self.frames else 0.0
        self._first_pts = None
        self._frames_this_connection = 0
        self._connected_at = self._last_frame_at = time.monotonic()
        self._mux.set_open(self.stream_id, True)
        self.state = SourceState.RUNNING
        self._pipeline.set_state(Gst.State.PLAYING)

    def poll(self, now: float) -> None:
        """Handle what happened since the last call: EOS, errors, max-frames, a due reconnect."""
        if self.state is SourceState.RETRYING and now >= self._retry_at:
            self.reconnects += 1
            self._log(f"{self.name}: reconnecting (attempt {self._attempt}/{self.config.rtsp_reconnect_attempts})")
            self.start()
            return
        if self._pipeline is None or self.done:
            return
        if self._max_frames and self.frames >= self._max_frames:
            self._finish(SourceState.ENDED)
            return
        if self._never_connected(now):
            self._finish(SourceState.FAILED, f"no video {self._connect_deadline()}")
            return
        if self.config.kind == "rtsp" and now - self._last_frame_at > STALL_S:
            self._dropped(f"no data for {STALL_S:g} s", now)
            return
        bus = self._pipeline.get_bus()
        while (msg := bus.pop_filtered(Gst.MessageType.EOS | Gst.MessageType.ERROR)) is not None:
            if msg.type == Gst.MessageType.ERROR:
                err, _debug = msg.parse_error()
                self._dropped(err.message, now)
            else:
                self._dropped(None, now)
            if self._pipeline is None:
                return

    def stop(self) -> None:
        """Tear the graph down (run ending early or interrupted); the source counts as ended."""
        if not self.done:
            self._finish(SourceState.ENDED)

    def _dropped(self, error: str | None, now: float) -> None:
        """EOS or error from this source's graph: retry an RTSP stream, otherwise end the source
        (a camera device or a file that fails will fail again the same way)."""
        if error is None and self.config.kind == "file":
            error = self._truncation()
        self._teardown()
        if self.config.kind != "rtsp":
            if error is None and self.frames == 0:
                error = "no video frames decoded"
            self._finish(SourceState.FAILED if error else SourceState.ENDED, error)
            return
        if self._frames_this_connection:
            self._attempt = 0  # the last connection worked: count failures afresh
        self._attempt += 1
        reason = error or "end of stream"
        attempts = self.config.rtsp_reconnect_attempts
        delay = retry_delay(self._attempt, self.config.rtsp_reconnect_interval)
        if self._never_connected(now + delay):  # the next try would come too late: say so now
            self._finish(SourceState.FAILED, f"{reason} {self._connect_deadline()}")
            return
        if self._attempt <= attempts:
            what = "stream dropped" if self.frames else "cannot connect"
            self._log(f"{self.name}: {what} ({reason}); retrying in {delay:g} s")
            self.state, self._retry_at = SourceState.RETRYING, now + delay
            return
        state = SourceState.LOST if self.frames else SourceState.FAILED
        self._finish(state, f"{reason} (gave up after {attempts} reconnect attempts)")

    def _never_connected(self, now: float) -> bool:
        """An RTSP source that has not delivered a single frame by ``rtsp-connect-timeout`` after its
        first try: a wrong URL or a camera that is not there, reported at once instead of after the
        whole reconnect backoff, which is for streams that were live."""
        timeout = self.config.rtsp_connect_timeout
        return self.config.kind == "rtsp" and not self.frames and now - (self._first_start or now) > timeout

    def _connect_deadline(self) -> str:
        return f"(not connected within rtsp-connect-timeout={self.config.rtsp_connect_timeout:g} s)"

    def _truncation(self) -> str | None:
        """A file whose video stops well before the duration its container states is truncated or
        damaged: demuxers end such files with a quiet EOS, but the run must not pass it as complete.
        A stream cut at ``max-frames`` is not: its own EOS can reach the bus before :meth:`poll` sees the count."""
        if self._max_frames and self.frames >= self._max_frames:
            return None
        ok, duration = self._pipeline.query_duration(Gst.Format.TIME)
        decoded = self._last_ts + self._frame_period()
        if not ok or duration <= 0 or decoded >= TRUNCATION_SHARE * seconds(duration):
            return None
        return f"truncated or damaged: video stops at {decoded:.1f} s of the {seconds(duration):.1f} s the file states"

    def _finish(self, state: SourceState, error: str | None = None) -> None:
        self._teardown()
        self.state, self.error = state, error
        if error:
            self._log(f"{self.name}: {state.value}: {error}")

    def _teardown(self) -> None:
        """Close the mux stream first so a streaming thread blocked in ``push`` lets go, then stop."""
        self._mux.set_open(self.stream_id, False)
        if self._pipeline is not None:
            self._pipeline.set_state(Gst.State.NULL)
            self._pipeline = None

    def _build(self) -> Gst.Pipeline:
        pipeline = Gst.Pipeline.new(f"source{self.stream_id}")
        caps = "video/x-raw,format=RGB"
        if self._size is not None:
            caps += f",width={self._size[0]},height={self._size[1]},pixel-aspect-ratio=1/1"
        convert = make("videoconvert")
        chain = [
            convert,
            make("videoscale", add_borders=False),
            make("capsfilter", caps=Gst.Caps.from_string(caps)),
            make("appsink", emit_signals=True, max_buffers=1 if self.live else 2, drop=self.live, sync=self.live),
        ]
        if self.config.kind == "v4l2":
            camera, decoder = make("v4l2src", device=str(self.config.path)), make("decodebin")
            pipeline.add(camera)
            pipeline.add(decoder)
            camera.link(decoder)
        else:
            uri = Gst.filename_to_uri(str(self.config.path)) if self.config.kind == "file" else self.config.uri
            decoder = make("uridecodebin", uri=uri)
            decoder.connect("source-setup", _setup_network_source)
            pipeline.add(decoder)
        for element in chain:
            pipeline.add(element)
        for upstream, downstream in zip(chain, chain[1:]):
            upstream.link(downstream)
        decoder.connect("pad-added", _link_video_pad, convert)
        chain[-1].connect("new-sample", self._on_sample)
        return pipeline

    def _on_sample(self, sink: Gst.Element) -> Gst.FlowReturn:
        """Streaming thread: copy the RGB frame out and hand it to the mux (may block: back-pressure)."""
        sample = sink.emit("pull-sample")
        if self._max_frames and self.frames >= self._max_frames:
            return Gst.FlowReturn.EOS  # enough: :meth:`poll` ends the source
        self._follow_caps(sample.get_caps())
        buffer = sample.get_buffer()
        image = self.layout.to_array(buffer)
        timestamp = self._timestamp(buffer.pts)
        if not self._mux.push(self.stream_id, timestamp, image, self.live):
            return Gst.FlowReturn.EOS
        self._last_ts, self._last_frame_at = timestamp, time.monotonic()
        self.frames += 1
        self._frames_this_connection += 1
        return Gst.FlowReturn.OK

    def _follow_caps(self, caps: Gst.Caps) -> None:
        """Read the frame layout again whenever the caps change: a file whose resolution changes, a
        camera that comes back at another size (equal caps compare by pointer first: cheap per frame)."""
        if self._caps is not None and caps.is_equal(self._caps):
            return
        layout = FrameLayout.from_caps(caps)
        old = self.layout
        if old is not None and (old.width, old.height) != (layout.width, layout.height):
            new = f"{layout.width}x{layout.height}"
            self._log(f"{self.name}: frame size changed from {old.width}x{old.height} to {new}")
        self._caps, self.layout = caps, layout

    def _timestamp(self, pts: int) -> float:
        """Seconds since the stream started: buffer PTS relative to the connection's first frame."""
        if pts == Gst.CLOCK_TIME_NONE:
            return self._offset + time.monotonic() - self._connected_at
        if self._first_pts is None:
            self._first_pts = pts
        return self._offset + seconds(pts - self._first_pts)

    def _frame_period(self) -> float:
        return float(1 / self.fps) if self.fps else 0.0


def _link_video_pad(_decoder: Gst.Element, pad: Gst.Pad, convert: Gst.Element) -> None:
    """Link the decoder's first raw video pad; audio and further video streams stay unlinked."""
    caps = pad.get_current_caps() or pad.query_caps(None)
    sink_pad = convert.get_static_pad("sink")
    if caps.get_structure(0).get_name().startswith("video/") and not sink_pad.is_linked():
        pad.link(sink_pad)


def _setup_network_source(_decoder: Gst.Element, source: Gst.Element) -> None:
    """RTSP over TCP (like DeepStream's ``select-rtp-protocol=4``): a dropped server is noticed at once
    (the connection closes) instead of after a UDP receive timeout, and it passes NAT and firewalls."""
    if source.get_factory().get_name() == "rtspsrc":
        Gst.util_set_object_arg(source, "protocols", "tcp")
        source.set_property("latency", 200)
