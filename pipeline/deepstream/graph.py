"""The DeepStream graph as data, built from the app config (pure: no GStreamer, no pyds).

Public API: :class:`Element`, :class:`Link`, :class:`Probe`, :class:`RtspOut`, :class:`GraphSpec`,
:class:`GraphFiles`, ``build_graph(cfg, version, files, jetson) -> GraphSpec``.

Read top to bottom, as deepstream_python_apps' graphs are::

    per source   nvurisrcbin (file loop, RTSP reconnect)  |  uridecodebin -> nvvideoconvert -> NVMM caps
                   --pad-added--> mux.sink_N
    nvstreammux  (batch-size = sources, width/height, batched-push-timeout, live-source)
    nvinfer      (config written from [primary-gie])      [probe: tensor-meta decode, parser=tensor-meta]
    nvtracker    (NvSORT / NvDCF / IOU from [tracker])    [probe: the shared stage chain]
    nvstreamdemux
    per stream   queue -> nvvideoconvert -> nvdsosd -> tee
    per sink       file:    queue -> nvvideoconvert -> NVMM I420 -> nvv4l2h264enc -> h264parse -> mp4mux -> filesink
                   fake:    queue -> fakesink sync=0
                   display: queue -> nv3dsink (Jetson) | nveglglessink (dGPU)
                   rtsp:    queue -> nvvideoconvert -> NVMM I420 -> nvv4l2h264enc -> rtph264pay -> udpsink
                            (+ an RTSP server re-serving that UDP stream at rtsp://HOST:PORT/edgewatchN)

One runner per binding turns this into real elements (``gst_runner`` for pyds, ``servicemaker_probe``
for pyservicemaker); tests check every element and property against :mod:`.documented`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from edgewatch.config import AppConfig, SinkConfig
from edgewatch.errors import EdgewatchError
from edgewatch.outputs import partial_path
from edgewatch.pipeline.deepstream.documented import DeepStreamVersion
from edgewatch.pipeline.deepstream.tracker_config import LL_LIB

NVMM_I420 = "video/x-raw(memory:NVMM),format=I420"
NVMM = "video/x-raw(memory:NVMM)"
RTP_CAPS = "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96"


@dataclass(frozen=True)
class Element:
    """One GStreamer element: a unique name, its factory and the properties set on it."""

    name: str
    factory: str
    props: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """``src`` -> ``dst``; pads by name (a request pad such as ``sink_0``) when not the default ones.
    ``dynamic``: ``src`` creates its pad at run time (link it on ``pad-added``)."""

    src: str
    dst: str
    src_pad: str | None = None
    dst_pad: str | None = None
    dynamic: bool = False


@dataclass(frozen=True)
class Probe:
    """A buffer probe on an element's src pad: ``tensor-meta`` decodes nvinfer's output, ``chain`` runs the
    shared stages."""

    element: str
    kind: Literal["tensor-meta", "chain"]


@dataclass(frozen=True)
class RtspOut:
    """An RTSP server mount re-serving one stream's local RTP/UDP output."""

    stream: int
    port: int
    udp_port: int
    mount: str


@dataclass(frozen=True)
class GraphSpec:
    """Elements, links, probes and RTSP outputs; ``outputs[i]`` are stream i's output files."""

    elements: tuple[Element, ...]
    links: tuple[Link, ...]
    probes: tuple[Probe, ...]
    rtsp: tuple[RtspOut, ...] = ()
    outputs: tuple[tuple[str, ...], ...] = ()

    def element(self, name: str) -> Element:
        """The element called ``name`` (KeyError if the graph has none)."""
        for e in self.elements:
            if e.name == name:
                return e
        raise KeyError(name)


@dataclass(frozen=True)
class GraphFiles:
    """The generated files the graph points at (the shell writes them before building the graph)."""

    nvinfer_config: Path
    tracker_config: Path | None
    tensor_meta: bool  # parser=tensor-meta: decode nvinfer's output in a probe


class _Builder:
    def __init__(self) -> None:
        self.elements: list[Element] = []
        self.links: list[Link] = []

    def add(self, name: str, factory: str, **props: object) -> str:
        self.elements.append(Element(name, factory, {k.replace("_", "-"): v for k, v in props.items()}))
        return name

    def chain(self, *names: str) -> None:
        self.links += [Link(a, b) for a, b in zip(names, names[1:])]


def _uri(cfg: AppConfig, i: int) -> str:
    src = cfg.sources[i]
    return f"file://{src.path}" if src.kind == "file" else src.uri


def _add_source(b: _Builder, cfg: AppConfig, version: DeepStreamVersion, i: int) -> None:
    """Source ``i`` into ``mux.sink_i``: nvurisrcbin where the version has it (not for v4l2 cameras, which
    uridecodebin opens like the CPU backend), else uridecodebin + a copy into NVMM memory."""
    src = cfg.sources[i]
    name = f"source{i}"
    if version.has_nvurisrcbin and src.kind != "v4l2":
        props: dict[str, object] = {"uri": _uri(cfg, i)}
        if src.kind == "file" and src.file_loop:
            props["file-loop"] = True
        if src.kind == "rtsp":
            # nvurisrcbin retries at a fixed interval (the CPU backend doubles it); 0 attempts: never retry
            props["rtsp-reconnect-interval"] = round(src.rtsp_reconnect_interval) if src.rtsp_reconnect_attempts else 0
            if "rtsp-reconnect-attempts" in version.elements["nvurisrcbin"]:
                props["rtsp-reconnect-attempts"] = src.rtsp_reconnect_attempts
            elif f"source{i}:rtsp-reconnect-attempts" in cfg.given:
                raise EdgewatchError(
                    f"{cfg.path}: [source{i}] key 'rtsp-reconnect-attempts': nvurisrcbin of DeepStream "
                    f"{version.name} cannot honour it (it retries without limit); remove the key"
                )
        b.add(name, "nvurisrcbin", **props)
        b.links.append(Link(name, "mux", dst_pad=f"sink_{i}", dynamic=True))
        return
    if src.file_loop:
        raise EdgewatchError(f"{cfg.path}: [source{i}] key 'file-loop': needs nvurisrcbin (not for v4l2 sources)")
    b.add(name, "uridecodebin", uri=_uri(cfg, i))
    b.add(f"{name}_convert", "nvvideoconvert")
    b.add(f"{name}_caps", "capsfilter", caps=NVMM)
    b.links.append(Link(name, f"{name}_convert", dynamic=True))
    b.chain(f"{name}_convert", f"{name}_caps")
    b.links.append(Link(f"{name}_caps", "mux", dst_pad=f"sink_{i}"))


def _add_sink(b: _Builder, sink: SinkConfig, tee: str, stream: int, n: int, jetson: bool, tag: str) -> str | None:
    """One output of one stream after its tee; returns the file it writes, if any."""
    queue = b.add(f"{tag}_queue", "queue")
    b.links.append(Link(tee, queue))
    sync = bool(sink.sync)
    if sink.type == "fake":
        b.chain(queue, b.add(f"{tag}_fakesink", "fakesink", sync=sync, **{"async": False}))
        return None
    if sink.type == "display":
        b.chain(queue, b.add(f"{tag}_display", "nv3dsink" if jetson else "nveglglessink", sync=sync))
        return None
    convert = b.add(f"{tag}_convert", "nvvideoconvert")
    caps = b.add(f"{tag}_caps", "capsfilter", caps=NVMM_I420)
    encoder = b.add(f"{tag}_encoder", "nvv4l2h264enc", bitrate=sink.bitrate * 1000, insert_sps_pps=True)
    if sink.type == "rtsp":
        pay = b.add(f"{tag}_pay", "rtph264pay", config_interval=1, pt=96)
        udp = b.add(f"{tag}_udpsink", "udpsink", host="127.0.0.1", port=sink.udp_port + stream, sync=sync,
                    **{"async": False})
        b.chain(queue, convert, caps, encoder, pay, udp)
        return None
    target = sink.stream_path(stream, n)
    parse = b.add(f"{tag}_parse", "h264parse")
    # fragmented mp4, as the CPU sink: a killed run still leaves a playable file. Written under its partial
    # name; the runner gives it its final one when the run ends (edgewatch.outputs)
    mux = b.add(f"{tag}_mp4mux", "mp4mux", fragment_duration=1000)
    out = b.add(f"{tag}_filesink", "filesink", location=str(partial_path(target)), sync=sync, **{"async": False})
    b.chain(queue, convert, caps, encoder, parse, mux, out)
    return str(target)


def build_graph(cfg: AppConfig, version: DeepStreamVersion, files: GraphFiles, jetson: bool) -> GraphSpec:
    """The whole graph for ``cfg`` on DeepStream ``version`` (``jetson``: Jetson's display sink)."""
    b = _Builder()
    n = len(cfg.sources)
    mux = cfg.streammux
    live = mux.live_source or any(s.kind != "file" for s in cfg.sources)
    for i in range(n):
        _add_source(b, cfg, version, i)
    b.add("mux", "nvstreammux", batch_size=cfg.batch_size, width=mux.width, height=mux.height,
          batched_push_timeout=mux.batched_push_timeout, live_source=live)
    b.add("detector", "nvinfer", config_file_path=str(files.nvinfer_config), batch_size=cfg.batch_size)
    last = "detector"
    b.chain("mux", "detector")
    probes = [Probe("detector", "tensor-meta")] if files.tensor_meta else []
    if cfg.tracker.enable:
        assert files.tracker_config is not None  # the shell writes it whenever the tracker is on
        b.add("tracker", "nvtracker", ll_lib_file=LL_LIB, ll_config_file=str(files.tracker_config),
              tracker_width=cfg.tracker.tracker_width, tracker_height=cfg.tracker.tracker_height)
        b.chain("detector", "tracker")
        last = "tracker"
    probes.append(Probe(last, "chain"))
    b.add("demux", "nvstreamdemux")
    b.chain(last, "demux")
    rtsp: list[RtspOut] = []
    outputs: list[tuple[str, ...]] = []
    for i in range(n):
        head = b.add(f"stream{i}_queue", "queue")
        b.links.append(Link("demux", head, src_pad=f"src_{i}"))
        tail = b.add(f"stream{i}_convert", "nvvideoconvert")
        b.chain(head, tail)
        if cfg.osd.enable:
            b.chain(tail, b.add(f"stream{i}_osd", "nvdsosd"))
            tail = f"stream{i}_osd"
        tee = b.add(f"stream{i}_tee", "tee")
        b.chain(tail, tee)
        files_out = []
        for j, sink in enumerate(cfg.sinks):
            path = _add_sink(b, sink, tee, i, n, jetson, f"stream{i}_sink{j}")
            if path is not None:
                files_out.append(path)
            if sink.type == "rtsp":
                rtsp.append(RtspOut(i, sink.rtsp_port, sink.udp_port + i, f"/edgewatch{i}"))
        outputs.append(tuple(files_out))
    return GraphSpec(tuple(b.elements), tuple(b.links), tuple(probes), tuple(rtsp), tuple(outputs))
