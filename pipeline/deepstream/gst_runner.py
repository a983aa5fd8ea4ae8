"""The GStreamer runner for pyds versions (DeepStream 6.3 to 8.0): :class:`~.graph.GraphSpec` -> real elements.

Public API: ``GstRunner(spec, log)`` with ``.attach(core, decoder, n_streams)``, ``.run()`` (blocks until
every stream has ended, an error, max-frames or Ctrl-C), ``.errors`` (stream -> message), ``.close()``;
``serve_rtsp(outputs)`` for the RTSP sinks (also used under pyservicemaker).

Element creation goes through :func:`edgewatch.pipeline.gst.make`, so a missing DeepStream plugin is one
line naming it. pyds is imported only when the probes are attached.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from edgewatch.errors import EdgewatchError
from edgewatch.pipeline.deepstream.graph import RTP_CAPS, GraphSpec, Link, RtspOut
from edgewatch.pipeline.deepstream.translate import ProbeCore, TensorDecoder
from edgewatch.pipeline.gst import Gst, make, to_clock
from edgewatch.pipeline.sources import Log

POLL_S = 0.1  # bus poll interval: Ctrl-C and max-frames are noticed this often
_SOURCE = re.compile(r"^source(\d+)(_|$)")  # graph.py names source N's elements sourceN, sourceN_convert, ...


def serve_rtsp(outputs: Sequence[RtspOut], log: Log) -> list[Any]:
    """An RTSP server per port re-serving each stream's RTP/UDP output (as deepstream_python_apps' rtsp-out
    samples do); returns the servers, which must stay referenced while the graph runs."""
    if not outputs:
        return []
    import gi

    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GstRtspServer

    servers: dict[int, Any] = {}
    for out in outputs:
        server = servers.get(out.port)
        if server is None:
            server = GstRtspServer.RTSPServer.new()
            server.props.service = str(out.port)
            server.attach(None)
            servers[out.port] = server
        factory = GstRtspServer.RTSPMediaFactory.new()
        factory.set_launch(f'( udpsrc name=pay0 port={out.udp_port} buffer-size=524288 caps="{RTP_CAPS}" )')
        factory.set_shared(True)
        server.get_mount_points().add_factory(out.mount, factory)
        log(f"stream {out.stream}: RTSP output at rtsp://localhost:{out.port}{out.mount}")
    return list(servers.values())


def _value(key: str, value: object) -> object:
    return Gst.Caps.from_string(value) if key == "caps" and isinstance(value, str) else value


class GstRunner:
    """The graph as a ``Gst.Pipeline``; source errors are kept per stream for the run report."""

    def __init__(self, spec: GraphSpec, log: Log) -> None:
        self.spec, self.log = spec, log
        self.pipeline = Gst.Pipeline.new("edgewatch")
        self.elements: dict[str, Gst.Element] = {}
        for e in spec.elements:
            element = make(e.factory, e.name)
            for key, value in e.props.items():
                element.set_property(key, _value(key, value))
            self.pipeline.add(element)
            self.elements[e.name] = element
        for link in spec.links:
            self._link(link)
        self.errors: dict[int, str] = {}
        self.ended = False  # EOS reached the bus: every sink is finalised
        self._done = lambda: False

    def _link(self, link: Link) -> None:
        src, dst = self.elements[link.src], self.elements[link.dst]
        sink_pad = dst.request_pad_simple(link.dst_pad) if link.dst_pad else dst.get_static_pad("sink")
        if link.dynamic:
            def on_pad(_element: Gst.Element, pad: Gst.Pad, target: Gst.Pad = sink_pad) -> None:
                caps = pad.get_current_caps() or pad.query_caps(None)
                if caps.get_structure(0).get_name().startswith("video") and not target.is_linked():
                    pad.link(target)
            src.connect("pad-added", on_pad)
            return
        src_pad = src.request_pad_simple(link.src_pad) if link.src_pad else src.get_static_pad("src")
        if src_pad is None or sink_pad is None or src_pad.link(sink_pad) != Gst.PadLinkReturn.OK:
            raise EdgewatchError(f"cannot link {link.src} to {link.dst} in the DeepStream graph")

    def attach(self, core: ProbeCore, decoder: TensorDecoder | None, n_streams: int) -> None:
        """The probes: pyds is imported here, after every element exists."""
        from edgewatch.pipeline.deepstream import pyds_probe

        for probe in self.spec.probes:
            pad = self.elements[probe.element].get_static_pad("src")
            if probe.kind == "chain":
                pad.add_probe(Gst.PadProbeType.BUFFER, pyds_probe.chain_probe, core)
            elif decoder is not None:
                pad.add_probe(Gst.PadProbeType.BUFFER, pyds_probe.tensor_meta_probe, decoder)
        self._done = lambda: core.done(n_streams)

    def run(self, stop: threading.Event | None = None) -> None:
        """Play until EOS (all sources ended), an error, max-frames or ``stop`` (EOS is sent for both: the
        sinks finalise as at the end of the streams); ``stop`` is looked at every :data:`POLL_S`."""
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self._read_errors()
            raise EdgewatchError("the DeepStream graph did not start: " + ("; ".join(self.errors.values()) or "no reason given"))
        bus = self.pipeline.get_bus()
        eos_sent = False
        while True:
            msg = bus.timed_pop_filtered(to_clock(POLL_S), Gst.MessageType.EOS | Gst.MessageType.ERROR)
            if msg is not None and msg.type == Gst.MessageType.EOS:
                self.ended = True
                return
            if msg is not None:
                self._record(msg)
                return
            if (self._done() or (stop is not None and stop.is_set())) and not eos_sent:
                self.pipeline.send_event(Gst.Event.new_eos())
                eos_sent = True

    def _read_errors(self) -> None:
        bus = self.pipeline.get_bus()
        while (msg := bus.pop_filtered(Gst.MessageType.ERROR)) is not None:
            self._record(msg)

    def _record(self, msg: Gst.Message) -> None:
        """An error, put on the stream whose source raised it (stream -1: the rest of the graph)."""
        text = msg.parse_error()[0].message
        source = msg.src
        while source is not None and not _SOURCE.match(source.get_name() or ""):
            source = source.get_parent()  # an element inside a source bin reports for its bin
        match = _SOURCE.match(source.get_name()) if source is not None else None
        self.errors[int(match.group(1)) if match else -1] = text

    def close(self, timeout_s: float = 10.0) -> None:
        """EOS to the sinks unless it already reached them (Ctrl-C, errors: the mp4 index is written), then stop."""
        if not self.ended:
            self.pipeline.send_event(Gst.Event.new_eos())
            self.pipeline.get_bus().timed_pop_filtered(to_clock(timeout_s), Gst.MessageType.EOS | Gst.MessageType.ERROR)
        self.pipeline.set_state(Gst.State.NULL)
