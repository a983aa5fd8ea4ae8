"""The app config: a deepstream-app style INI file read once into frozen dataclasses.

Public API::

    cfg = load_config("configs/demo.txt", sources=["clip.mp4"], output="out/x.mp4",
                      events="out/x.jsonl", no_display=True)
    cfg.sources[0].kind, cfg.batch_size, cfg.detector.onnx_file, cfg.sinks, ...

Sections and keys follow deepstream-app (``[application]``, ``[source0]``..., ``[streammux]``,
``[primary-gie]``, ``[tracker]``, ``[temporal]``, ``[osd]``, ``[sink0]``..., ``[events]``); a key
``foo-bar`` is the dataclass field ``foo_bar``. One generic reader walks the dataclass fields and
converts by their annotation (int, float, bool as 0/1/true/false, str, Path, comma-separated tuples,
``Literal`` choices, ``X | None``), so adding a key is adding a field, never adding parsing code.
Every problem is one :class:`EdgewatchError` line naming the file, the section and the key, raised
before anything starts. Relative paths resolve against the config file's folder, except those given
on the command line (``load_config`` keyword arguments), which resolve against the working directory.
"""

from __future__ import annotations

import configparser
import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NewType

from edgewatch.errors import EdgewatchError

BackendName = Literal["cpu", "deepstream"]
Precision = Literal["fp32", "fp16", "int8"]
SinkType = Literal["file", "fake", "display", "rtsp"]
Smoothing = Literal["ema", "majority", "none"]
SourceKind = Literal["file", "rtsp", "v4l2"]
TrackerType = Literal["bytetrack", "nvsort", "nvdcf", "iou"]
ParserKind = Literal["custom", "tensor-meta"]
Uri = NewType("Uri", str)  # a str field that is a source URI: local paths in it resolve like Path fields

_NETWORK_SCHEMES = ("rtsp://", "rtsps://")
_V4L2_SCHEME = "v4l2://"
_FILE_SCHEME = "file://"
_SAMPLE_SCHEME = "sample://"  # sample://vtest: a real sample clip, fetched into the cache


@dataclass(frozen=True)
class ApplicationConfig:
    """``[application]``: run-wide settings."""

    backend: BackendName = "cpu"  # cpu: GStreamer + ONNX Runtime; deepstream: nvinfer + nvtracker + probe

    perf_measurement_interval_sec: float = 5.0  # periodic fps line on stderr; 0 disables it
    max_frames: int = 0  # stop each stream after this many frames; 0 reads to the end


@dataclass(frozen=True)
class SourceConfig:
    """``[sourceN]``: one input stream: a file path / ``file://``, ``rtsp://`` or ``v4l2:///dev/videoN``."""

    uri: Uri
    enable: bool = True
    rtsp_reconnect_interval: float = 2.0  # seconds before the first retry; doubles per attempt (backoff)
    rtsp_reconnect_attempts: int = 5  # retries after a drop before the stream is given up; 0 never retries
    file_loop: bool = False  # start a file again at its end (deepstream only: nvurisrcbin's file-loop)

    @property
    def kind(self) -> SourceKind:
        """Which source element the graph needs."""
        if self.uri.startswith(_NETWORK_SCHEMES):
            return "rtsp"
        if self.uri.startswith(_V4L2_SCHEME):
            return "v4l2"
        return "file"

    @property
    def path(self) -> Path:
        """The local file (``kind == "file"``) or the device node (``kind == "v4l2"``)."""
        for scheme in (_FILE_SCHEME, _V4L2_SCHEME):
            if self.uri.startswith(scheme):
                return Path(self.uri[len(scheme) :])
        return Path(self.uri)


@dataclass(frozen=True)
class StreammuxConfig:
    """``[streammux]``: how frames of all sources are scaled and batched (nvstreammux semantics)."""

    batch_size: int | None = None  # None: the number of sources (read it as AppConfig.batch_size)
    width: int = 0  # 0 with height 0: keep each source's resolution
    height: int = 0
    batched_push_timeout: int = 40000  # usec to wait for a full batch before pushing a partial one
    live_source: bool = False


@dataclass(frozen=True)
class DetectorConfig:
    """``[primary-gie]``: the YOLO ONNX detector run by ONNX Runtime."""

    onnx_file: Path
    labels_file: Path | None = None  # one name per line; default: the names in the ONNX metadata
    precision: Precision | None = None  # when set, must agree with the precision the model's metadata states
    pre_cluster_threshold: float = 0.25  # confidence threshold before NMS
    nms_iou_threshold: float = 0.45
    topk: int = 300  # detections kept per frame after NMS
    interval: int = 0  # frames skipped between inferences (nvinfer semantics); skipped frames keep no boxes
    input_size: tuple[int, ...] | None = None  # "h,w" or "s": checked against the model's input
    classes: tuple[str, ...] = ()  # keep only these class names; empty keeps all
    num_threads: int = 0  # ONNX Runtime intra-op threads; 0 lets ORT decide
    # DeepStream only: how nvinfer's [B,N,6] output becomes objects (custom: the C++ bbox parser, the default;
    # tensor-meta: output-tensor-meta=1 and the project's own decode/NMS in a probe), the parser library and
    # the engine file (default: the name nvinfer gives the engine it builds from onnx-file)
    parser: ParserKind | None = None
    custom_lib_path: Path | None = None
    model_engine_file: Path | None = None


@dataclass(frozen=True)
class TrackerConfig:
    """``[tracker]``: ByteTrack association thresholds and track life-cycle."""

    enable: bool = True
    track_high_thresh: float = 0.5  # detections above: first association round
    track_low_thresh: float = 0.1  # detections between low and high: second round (revive only)
    new_track_thresh: float = 0.6  # an unmatched detection above this starts a track
    match_iou_threshold: float = 0.2  # minimum IoU for a detection to match a track (first round)
    track_buffer_seconds: float = 3.0  # how long a lost track is kept before removal (any frame rate)
    probation_seconds: float = 0.1  # a tentative track matched on every frame this long is confirmed (0: at once)
    # None: the backend's own tracker (cpu: bytetrack; deepstream: nvtracker with NvSORT). nvsort|nvdcf|iou pick
    # the nvtracker configuration shipped in configs/ (deepstream only), ll-config-file replaces it with your own
    type: TrackerType | None = None
    ll_config_file: Path | None = None
    tracker_width: int = 640  # nvtracker's working resolution (deepstream only; NvDCF's visual features use it)
    tracker_height: int = 384


@dataclass(frozen=True)
class TemporalConfig:
    """``[temporal]``: the per-track behaviour model."""

    enable: bool = False
    onnx_file: Path | None = None
    window: int | None = None  # observations per track; None: the model's own window (must agree if set)
    stride_seconds: float = 0.5  # seconds between classifications of a track
    classes: tuple[str, ...] = ()  # detector classes classified; empty: the model's own classes
    smoothing: Smoothing = "ema"
    # verdict rules (edgewatch.behaviour.verdicts); defaults from benchmarks/temporal_verdicts.py on the labelled
    # tuning tracks: the most accurate settings with at most 1 change per track-minute and a first decision within 3 s
    smoothing_seconds: float = 1.0  # time constant of the moving average (ema) or span voted over (majority)
    min_history_seconds: float = 1.0  # a younger track is reported "undecided"
    min_confidence: float = 0.7  # smoothed probability a behaviour needs, at every verdict, to count as held
    dwell_seconds: float = 2.0  # how long a new behaviour must hold before it is reported (hysteresis)
    dwell_seconds_per_behaviour: tuple[str, ...] = ()  # "pacing:4,loitering:4": behaviours with their own dwell
    lane_direction: tuple[float, ...] | None = None  # "dx,dy" of legal traffic in the image; None: the model's

    @property
    def dwell_for(self) -> dict[str, float]:
        """``dwell-seconds-per-behaviour`` as behaviour -> seconds (validated at load)."""
        return {name: float(value) for name, value in (item.split(":") for item in self.dwell_seconds_per_behaviour)}


@dataclass(frozen=True)
class OsdConfig:
    """``[osd]``: what is drawn on the output video."""

    enable: bool = True
    show_behaviour: bool = True
    border_width: int = 2
    text_scale: float = 0.5


@dataclass(frozen=True)
class SinkConfig:
    """``[sinkN]``: one output: H.264 mp4 file, fakesink, an on-screen window, or an RTSP stream (deepstream)."""

    type: SinkType
    enable: bool = True
    output_file: Path | None = None
    bitrate: int = 4000  # kbit/s for the H.264 encoder
    sync: bool = False  # play at the stream's clock rate instead of as fast as possible
    rtsp_port: int = 8554  # type=rtsp: rtsp://HOST:PORT/edgewatchN for stream N (deepstream only)
    udp_port: int = 5400  # type=rtsp: local UDP port (+N for stream N) between the encoder and the RTSP server

    def stream_path(self, stream_id: int, n_streams: int) -> Path:
        """The file of one stream: the configured name for one stream, ``name_<N>.mp4`` for several."""
        assert self.output_file is not None  # load_config guarantees it for type=file
        if n_streams == 1:
            return self.output_file
        return self.output_file.with_name(f"{self.output_file.stem}_{stream_id}{self.output_file.suffix}")


@dataclass(frozen=True)
class EventsConfig:
    """``[events]``: the JSON Lines behaviour-change log."""

    enable: bool = False
    output_file: Path | None = None


@dataclass(frozen=True)
class AppConfig:
    """The whole validated config; build it with :func:`load_config`."""

    path: Path
    sources: tuple[SourceConfig, ...]
    detector: DetectorConfig
    application: ApplicationConfig = field(default_factory=ApplicationConfig)
    streammux: StreammuxConfig = field(default_factory=StreammuxConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    temporal: TemporalConfig = field(default_factory=TemporalConfig)
    osd: OsdConfig = field(default_factory=OsdConfig)
    sinks: tuple[SinkConfig, ...] = ()
    events: EventsConfig = field(default_factory=EventsConfig)
    given: frozenset[str] = frozenset()  # "section:key" of every key the file sets (backend rules need them)

    @property
    def batch_size(self) -> int:
        """Frames per batch: ``[streammux] batch-size``, else one per source (deepstream-app's advice)."""
        return self.streammux.batch_size or len(self.sources)

    def with_overrides(
        self,
        sources: list[str] | None = None,
        output: str | Path | None = None,
        events: str | Path | None = None,
        no_display: bool = False,
        backend: str | None = None,
        base: Path | None = None,
    ) -> AppConfig:
        """The config with the ``edgewatch run`` flags applied (relative paths against ``base`` or cwd).

        ``--source`` replaces all sources; ``--output`` sets the file sink's path (adding one if the
        config has none); ``--events`` enables the events log at that path; ``--no-display`` drops
        display sinks (a fakesink takes their place if nothing else is left to pull the stream);
        ``--backend`` replaces ``[application] backend`` (checked like the key).
        """
        base = base or Path.cwd()
        cfg = self
        if sources is not None:
            cfg = dataclasses.replace(cfg, sources=tuple(SourceConfig(_resolve_uri(u, base)) for u in sources))
        if output is not None:
            out = _resolve_path(Path(output), base)
            files = [s for s in cfg.sinks if s.type == "file"]
            rest = [s for s in cfg.sinks if s.type != "file"]
            file_sink = dataclasses.replace(files[0], output_file=out) if files else SinkConfig("file", output_file=out)
            cfg = dataclasses.replace(cfg, sinks=(file_sink, *rest))
        if events is not None:
            cfg = dataclasses.replace(cfg, events=EventsConfig(True, _resolve_path(Path(events), base)))
        if no_display:
            kept = tuple(s for s in cfg.sinks if s.type != "display")
            cfg = dataclasses.replace(cfg, sinks=kept or (SinkConfig("fake"),))
        if backend is not None:
            choices = typing.get_args(BackendName)
            if backend not in choices:
                raise EdgewatchError(f"--backend: expected one of {'|'.join(choices)}, got '{backend}'")
            cfg = dataclasses.replace(cfg, application=dataclasses.replace(cfg.application, backend=backend))
        return cfg


# section name -> AppConfig field; the field's annotation gives the section's dataclass
_SECTIONS = {
    "application": "application",
    "streammux": "streammux",
    "primary-gie": "detector",
    "tracker": "tracker",
    "temporal": "temporal",
    "osd": "osd",
    "events": "events",
}
_INDEXED = {"source": "sources", "sink": "sinks"}  # [sourceN], [sinkN] -> tuple fields
_INDEXED_RE = re.compile(r"^(source|sink)(\d+)$")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# keys that were counted in frames (or per verdict) and are now in seconds: the error says so
_RENAMED = {"track-buffer": "track-buffer-seconds", "min-hits": "probation-seconds", "stride": "stride-seconds",
            "ema-alpha": "smoothing-seconds", "majority-k": "smoothing-seconds"}


class _BadValue(ValueError):
    """A value that does not fit its field; the message is completed with file, section and key."""


def load_config(
    path: str | Path,
    sources: list[str] | None = None,
    output: str | Path | None = None,
    events: str | Path | None = None,
    no_display: bool = False,
    backend: str | None = None,
) -> AppConfig:
    """Read, convert and validate ``path``; the keyword arguments are the ``edgewatch run`` overrides."""
    path = Path(path)
    if not path.is_file():
        raise EdgewatchError(f"{path}: config file not found")
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"), strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive, as in deepstream-app
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise EdgewatchError(f"{path}: {' '.join(str(exc).split())}") from exc

    base = path.resolve().parent
    hints = typing.get_type_hints(AppConfig)
    singles: dict[str, Any] = {}
    indexed: dict[str, list[tuple[int, Any]]] = {f: [] for f in _INDEXED.values()}
    for name in parser.sections():
        match = _INDEXED_RE.match(name)
        field_name = _INDEXED[match.group(1)] if match else _SECTIONS.get(name)
        if field_name is None:
            raise EdgewatchError(f"{path}: unknown section [{name}]")
        cls = typing.get_args(hints[field_name])[0] if match else hints[field_name]
        section = _read_section(cls, dict(parser[name]), base, f"{path}: [{name}]")
        if match:
            indexed[field_name].append((int(match.group(2)), section))
        else:
            singles[field_name] = section
    if "detector" not in singles:
        raise EdgewatchError(f"{path}: missing section [primary-gie]")
    enabled = {f: tuple(s for _, s in sorted(items, key=lambda t: t[0]) if s.enable) for f, items in indexed.items()}

    given = frozenset(f"{name}:{key}" for name in parser.sections() for key in parser[name])
    cfg = AppConfig(path=path, **enabled, **singles, given=given)
    cfg = cfg.with_overrides(sources, output, events, no_display, backend)
    _validate(cfg)
    return cfg


def _read_section(cls: type, items: dict[str, str], base: Path, where: str) -> Any:
    """Build one section dataclass from its raw ``key=value`` strings, driven by the field annotations."""
    hints = typing.get_type_hints(cls)
    fields = {f.name.replace("_", "-"): f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, raw in items.items():
        if key not in fields:
            hint = f" (now '{_RENAMED[key]}', in seconds)" if _RENAMED.get(key, "").replace("-", "_") in {
                f.name for f in fields.values()} else ""
            raise EdgewatchError(f"{where} unknown key '{key}'{hint}")
        name = fields[key].name
        try:
            values[name] = _convert(raw.strip(), hints[name], base)
        except _BadValue as exc:
            raise EdgewatchError(f"{where} key '{key}': {exc}, got '{raw.strip()}'") from None
    for key, f in fields.items():
        if f.name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise EdgewatchError(f"{where} missing key '{key}'")
    return cls(**values)


def _convert(raw: str, hint: Any, base: Path) -> Any:
    """Convert one INI string to the annotated type (``_BadValue`` says what was expected)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return None if raw.lower() in ("", "none") else _convert(raw, inner[0], base)
    if origin is Literal:
        if raw not in args:
            raise _BadValue(f"expected one of {'|'.join(args)}")
        return raw
    if origin is tuple:
        items = [p.strip() for p in raw.split(",") if p.strip()]
        return tuple(_convert(p, args[0], base) for p in items)
    if hint is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise _BadValue("expected bool (0/1/true/false)")
    if hint in (int, float):
        try:
            return hint(raw)
        except ValueError:
            raise _BadValue(f"expected {hint.__name__}") from None
    if hint is Path:
        return _resolve_path(Path(raw), base)
    if hint is Uri:
        return _resolve_uri(raw, base)
    if hint is str:
        return raw
    raise TypeError(f"config field type {hint!r} has no converter")  # a schema bug, not user input


def _resolve_path(p: Path, base: Path) -> Path:
    return p if p.is_absolute() else (base / p).resolve()


def _resolve_uri(uri: str, base: Path) -> Uri:
    """Local paths (plain or ``file://``) become absolute paths; network and device URIs stay as given.

    ``sample://NAME`` is one of the real sample clips (``edgewatch.samples.fetch``): configs in git
    can name it without knowing the cache path, and it is fetched on first use.
    """
    if uri.startswith(_SAMPLE_SCHEME):
        from edgewatch.samples.fetch import sample_clip  # the fetcher (subprocess, archives) only when used

        return Uri(str(sample_clip(uri[len(_SAMPLE_SCHEME) :])))
    if "://" in uri and not uri.startswith(_FILE_SCHEME):
        return Uri(uri)
    local = uri[len(_FILE_SCHEME) :] if uri.startswith(_FILE_SCHEME) else uri
    return Uri(str(_resolve_path(Path(local), base)))


def _validate(cfg: AppConfig) -> None:
    """Cross-field checks the types alone cannot express; each failure is one line naming the key."""
    checks: list[tuple[bool, str]] = [
        (bool(cfg.sources), "no enabled [sourceN] section and no --source given"),
        (all(s.type != "file" or s.output_file is not None for s in cfg.sinks), "[sinkN] type=file needs output-file"),
        (not cfg.events.enable or cfg.events.output_file is not None, "[events] enable=1 needs output-file"),
        (not cfg.temporal.enable or cfg.temporal.onnx_file is not None, "[temporal] enable=1 needs onnx-file"),
        (
            cfg.detector.input_size is None or len(cfg.detector.input_size) in (1, 2),
            "[primary-gie] key 'input-size': expected 'h,w' or one size",
        ),
        ((cfg.streammux.width > 0) == (cfg.streammux.height > 0), "[streammux] width and height: set both or neither"),
        (cfg.batch_size > 0, "[streammux] key 'batch-size': expected a positive int"),
        (cfg.temporal.stride_seconds > 0, "[temporal] key 'stride-seconds': expected > 0"),
        (cfg.temporal.smoothing_seconds >= 0, "[temporal] key 'smoothing-seconds': expected >= 0"),
        (cfg.temporal.min_history_seconds >= 0, "[temporal] key 'min-history-seconds': expected >= 0"),
        (0.0 <= cfg.temporal.min_confidence <= 1.0, "[temporal] key 'min-confidence': expected 0 to 1"),
        (cfg.temporal.dwell_seconds >= 0, "[temporal] key 'dwell-seconds': expected >= 0"),
        (
            all(re.fullmatch(r"[^:\s]+:\d+(\.\d*)?", item) for item in cfg.temporal.dwell_seconds_per_behaviour),
            "[temporal] key 'dwell-seconds-per-behaviour': expected behaviour:seconds,... (e.g. pacing:4)",
        ),
        (cfg.tracker.track_buffer_seconds >= 0, "[tracker] key 'track-buffer-seconds': expected >= 0"),
        (
            cfg.temporal.lane_direction is None or len(cfg.temporal.lane_direction) == 2,
            "[temporal] key 'lane-direction': expected 'dx,dy'",
        ),
        (cfg.tracker.probation_seconds >= 0, "[tracker] key 'probation-seconds': expected >= 0"),
        (cfg.detector.interval >= 0, "[primary-gie] key 'interval': expected >= 0"),
    ]
    checks += [
        (
            s.kind != "file" or "://" not in s.uri,
            f"source uri '{s.uri}': unsupported scheme (expected a file path, "
            "file://, rtsp://, rtsps://, v4l2:// or sample://)",
        )
        for s in cfg.sources
    ]
    checks += backend_checks(cfg)
    required = [s.path for s in cfg.sources if s.kind == "file"]
    required += [p for p in (cfg.detector.onnx_file, cfg.detector.labels_file) if p is not None]
    if cfg.temporal.enable and cfg.temporal.onnx_file is not None:
        required.append(cfg.temporal.onnx_file)
    if cfg.application.backend == "deepstream":
        required += [p for p in (cfg.detector.custom_lib_path, cfg.tracker.ll_config_file) if p is not None]
    checks += [(p.is_file(), f"file not found: {p}") for p in required]
    for ok, message in checks:
        if not ok:
            raise EdgewatchError(f"{cfg.path}: {message}")


# Keys only one backend honours, as "section:key" ([sourceN]/[sinkN] without the number). The same file drives
# both backends; a key the chosen backend would silently ignore is an error instead.
BACKEND_ONLY_KEYS: dict[str, tuple[BackendName, str]] = {
    "primary-gie:num-threads": ("cpu", "ONNX Runtime threads; nvinfer runs on the GPU"),
    "source:file-loop": ("deepstream", "nvurisrcbin's file loop"),
    "primary-gie:parser": ("deepstream", "how nvinfer's output is parsed"),
    "primary-gie:custom-lib-path": ("deepstream", "nvinfer's custom parser library"),
    "primary-gie:model-engine-file": ("deepstream", "a TensorRT engine for nvinfer"),
    "tracker:ll-config-file": ("deepstream", "an nvtracker configuration"),
    "tracker:tracker-width": ("deepstream", "nvtracker's working resolution"),
    "tracker:tracker-height": ("deepstream", "nvtracker's working resolution"),
    "sink:rtsp-port": ("deepstream", "the RTSP output"),
    "sink:udp-port": ("deepstream", "the RTSP output"),
}


def backend_checks(cfg: AppConfig) -> list[tuple[bool, str]]:
    """What the chosen backend cannot honour: keys of the other backend, and values only one of them has."""
    backend = cfg.application.backend

    def cannot(where: str, why: str) -> tuple[bool, str]:
        return False, f"{where}: the {backend} backend cannot honour it ({why})"

    found: list[tuple[bool, str]] = []
    for given in sorted(cfg.given):
        section, key = given.split(":", 1)
        family = _INDEXED_RE.sub(r"\1", section)
        owner = BACKEND_ONLY_KEYS.get(f"{family}:{key}")
        if owner is not None and owner[0] != backend:
            found.append(cannot(f"[{section}] key '{key}'", f"{owner[1]}: {owner[0]} only"))
    tracker = cfg.tracker.type
    if tracker is not None and (tracker == "bytetrack") != (backend == "cpu"):
        found.append(cannot(f"[tracker] type={tracker}", "cpu runs bytetrack; deepstream runs nvsort, nvdcf or iou"))
    if backend != "deepstream" and any(s.type == "rtsp" for s in cfg.sinks):
        found.append(cannot("[sinkN] type=rtsp", "the RTSP output: deepstream only"))
    if backend == "deepstream":
        t = cfg.tracker
        if "tracker:new-track-thresh" in cfg.given and t.new_track_thresh != t.track_high_thresh:
            found.append(cannot("[tracker] key 'new-track-thresh'",
                                "nvtracker starts targets from detections above track-high-thresh; set them equal"))
        if not cfg.streammux.width:
            found.append(cannot("[streammux] width=0 height=0",
                                "nvstreammux scales every stream to one width x height; set both"))
    return found
