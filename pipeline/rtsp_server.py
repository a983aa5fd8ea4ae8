"""A loopback RTSP server for an H.264 mp4 file (GstRtspServer): the RTSP tests' camera, and a way
to try ``configs/rtsp.txt`` without one::

    python -m edgewatch.pipeline.rtsp_server VIDEO.mp4 [--port 8554] [--mount /test]

It prints ``rtsp://127.0.0.1:PORT/MOUNT`` on stdout once it accepts clients (``--port 0`` picks a
free port), plays the file in real time to each client (each gets its own media from the start),
and runs until killed. It is its own process so its main loop is independent of the client's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gi

gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, GstRtspServer  # noqa: E402

import edgewatch.pipeline.gst  # noqa: E402,F401  (loads GStreamer and runs Gst.init once)


def serve(video: Path, port: int, mount: str) -> tuple[GstRtspServer.RTSPServer, str]:
    """Start serving ``video`` on 127.0.0.1; returns the server and the URL clients use."""
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    location = str(video).replace('"', '\\"')
    factory.set_launch(f'( filesrc location="{location}" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )')
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        raise OSError(f"cannot listen on 127.0.0.1:{port}")
    return server, f"rtsp://127.0.0.1:{server.get_bound_port()}{mount}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path, help="an H.264 mp4 file")
    parser.add_argument("--port", type=int, default=8554, help="TCP port (0: any free port)")
    parser.add_argument("--mount", default="/test", help="path part of the URL")
    args = parser.parse_args()
    _server, url = serve(args.video, args.port, args.mount)
    print(url, flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
