"""GStreamer through PyGObject, loaded once: the only module of edgewatch that imports ``gi``.

The rest of ``edgewatch.pipeline`` imports ``Gst`` from here, so the version pins and ``Gst.init``
live in one place, and a missing plugin becomes one readable :class:`EdgewatchError` naming the
Debian package to install instead of a ``None`` element failing later.
"""

from __future__ import annotations

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import Gst, GstVideo  # noqa: E402

from edgewatch.errors import EdgewatchError  # noqa: E402

Gst.init(None)

__all__ = ["Gst", "GstVideo", "make", "parse", "run_to_end", "seconds", "to_clock"]

# Where each non-core factory comes from, for the error message (Debian 12 package names).
_PACKAGE_OF = {
    "x264enc": "gstreamer1.0-plugins-ugly",
    "avdec_h264": "gstreamer1.0-libav",
    "h264parse": "gstreamer1.0-plugins-bad",
    "mp4mux": "gstreamer1.0-plugins-good",
    "qtdemux": "gstreamer1.0-plugins-good",
    "rtspsrc": "gstreamer1.0-plugins-good",
    "v4l2src": "gstreamer1.0-plugins-good",
    "autovideosink": "gstreamer1.0-plugins-good",
}


def make(factory: str, name: str | None = None, **props: object) -> Gst.Element:
    """Create an element and set its properties (``under_scores`` become ``dashes``)."""
    element = Gst.ElementFactory.make(factory, name)
    if element is None:
        package = _PACKAGE_OF.get(factory, "gstreamer1.0-plugins-base")
        raise EdgewatchError(f"GStreamer element '{factory}' is missing (install the Debian package {package})")
    for key, value in props.items():
        element.set_property(key.replace("_", "-"), value)
    return element


def parse(description: str) -> Gst.Pipeline:
    """A pipeline from a ``gst-launch`` description: the readable way to write a fixed graph."""
    try:
        return Gst.parse_launch(description)
    except Exception as exc:  # GLib.Error: a missing element or a bad property, name it once
        raise EdgewatchError(f"cannot build GStreamer graph '{description}': {exc}") from exc


def seconds(clock_time: int) -> float:
    """GStreamer nanoseconds (``Gst.ClockTime``) to seconds."""
    return clock_time / Gst.SECOND


def to_clock(secs: float) -> int:
    """Seconds to GStreamer nanoseconds."""
    return int(round(secs * Gst.SECOND))


def run_to_end(pipeline: Gst.Pipeline, timeout_s: float) -> None:
    """Play a self-ending pipeline until EOS; an error or the timeout becomes an EdgewatchError."""
    pipeline.set_state(Gst.State.PLAYING)
    try:
        msg = pipeline.get_bus().timed_pop_filtered(to_clock(timeout_s), Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if msg is None:
            raise EdgewatchError(f"GStreamer graph did not finish within {timeout_s:g} s")
        if msg.type == Gst.MessageType.ERROR:
            raise EdgewatchError(f"GStreamer error: {msg.parse_error()[0].message}")
    finally:
        pipeline.set_state(Gst.State.NULL)
