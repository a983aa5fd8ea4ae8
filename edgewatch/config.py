"""The app config: a deepstream-app style INI file read once into frozen dataclasses.

Public API::

    cfg = load_config("configs/demo.txt", sources=["clip.mp4"], output="out/x.mp4",
                      events="out/x.jsonl", no_display=True)
    cfg.sources[0].kind, cfg.batch_size, cfg.detector.onnx_file, cfg.sinks, ...

Sections and keys follow deepstream-app (``[application]``, ``[source0]``..., ``[streammux]``,
``[primary-gie]``, ``[tracker]``, ``[temporal]``, ``[osd]``, ``[sink0]``..., ``[events]``); a key
``foo-bar`` is the dataclass field ``foo_bar``. One generic reader walks the dataclass fields and
converts by their annotation (int, float, bool as 0/1/true/false, str, Path, comma-separated tuples,
``Literal`` choices, ``X | None``, and a :class:`~edgewatch.scene.model.Scene` read from the scene file
the value names), so adding a key is adding a field, never adding parsing code.
Values are checked as well as types: a field declared with :func:`setting` states its allowed range
(``ge``/``gt``/``le``/``lt``), the number of items of a tuple (``length``) and whether it holds a
credential (``secret``: redacted from every output, see :mod:`edgewatch.redact`)::

    pre_cluster_threshold: float = setting(0.25, ge=0, le=1)
    track_buffer_seconds: float = setting(3.0, ge=0)

and the same generic reader enforces it. Every problem is one :class:`EdgewatchError` line naming the
file, the section, the key and what is allowed, raised before anything starts. Outputs are checked
against each other and against every input (none may be the same file). Relative paths resolve
against the config file's folder, except those given on the command line (``load_config`` keyword
arguments), which resolve against the working directory.
"""

from __future__ import annotations

import configparser
import dataclasses
import math
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NewType

from edgewatch import redact
from edgewatch.errors import EdgewatchError
from edgewatch.outputs import same_file
from edgewatch.scene.load import load_scene
from edgewatch.scene.model import Scene

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
class Check:
    """What a key accepts beyond its type (declared with :func:`setting`, enforced by the one reader).

    Bounds apply to numbers and to each item of a tuple; ``None`` (an unset optional key) is always
    allowed. ``secret`` marks a credential: its value is registered with :mod:`edgewatch.redact`.
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    length: tuple[int, ...] = ()  # allowed item counts of a tuple field; empty: any
    secret: bool = False

    def allowed(self, kind: str) -> str:
        """The accepted values in words, e.g. ``a float in [0, 1]``, ``an int >= 1``."""
        what = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
        low = ("[", ">=", self.ge) if self.ge is not None else ("(", ">", self.gt) if self.gt is not None else None
        high = ("]", "<=", self.le) if self.le is not None else (")", "<", self.lt) if self.lt is not None else None
        if low and high:
            return f"{what} in {low[0]}{_number(low[2])}, {_number(high[2])}{high[0]}"
        bound = low or high
        return f"{what} {bound[1]} {_number(bound[2])}" if bound else what

    def problem(self, value: Any, kind: str) -> str | None:
        """Why ``value`` is not allowed (the message after ``expected``), or None when it is."""
        if not isinstance(value, tuple):
            return self._item_problem(value, kind)
        counts = " or ".join(str(n) for n in self.length) if self.length else "any number of"
        bad = (self.length and len(value) not in self.length) or any(self._item_problem(v, kind) for v in value)
        return f"{counts} comma-separated values, each {self.allowed(kind)}" if bad else None

    def _item_problem(self, item: Any, kind: str) -> str | None:
        if not isinstance(item, (int, float)) or isinstance(item, bool):
            return None  # None (unset), text, paths: their type was the whole check
        if not math.isfinite(item):
            return self.allowed(f"finite {kind}")
        outside = (
            (self.ge is not None and item < self.ge)
            or (self.gt is not None and item <= self.gt)
            or (self.le is not None and item > self.le)
            or (self.lt is not None and item >= self.lt)
        )
        return self.allowed(kind) if outside else None


def _number(x: float) -> str:
    """A bound as people write it: 2048000, 0.5 (never 2.048e+06)."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def setting(
    default: Any = dataclasses.MISSING,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    length: tuple[int, ...] = (),
    secret: bool = False,
) -> Any:
    """A config field with its allowed values: ``x: float = setting(0.5, ge=0, le=1)``.

    Every key another module adds to a section dataclass should be declared this way so that a
    wrong value fails at load with the file, section, key and range named, never mid-run.
    """
    check = Check(ge, gt, le, lt, length, secret)
    return field(default=default, metadata={"check": check})


@dataclass(frozen=True)
class ApplicationConfig:
    """``[application]``: run-wide settings."""

    backend: BackendName = "cpu"  # cpu: GStreamer + ONNX Runtime; deepstream: nvinfer + nvtracker + probe

    perf_measurement_interval_sec: float = setting(5.0, ge=0)  # periodic fps line on stderr; 0 disables it
    max_frames: int = setting(0, ge=0)  # stop each stream after this many frames; 0 reads to the end


@dataclass(frozen=True)
class SourceConfig:
    """``[sourceN]``: one input stream: a file path / ``file://``, ``rtsp://`` or ``v4l2:///dev/videoN``."""

    uri: Uri
    enable: bool = True
    section: str = field(default="", compare=False, metadata={"internal": True})  # "source0"; "--source"
    rtsp_reconnect_interval: float = setting(2.0, gt=0)  # seconds before the first retry; doubles per attempt (backoff)
    # retries after a drop before the stream is given up; 0 never retries
    rtsp_reconnect_attempts: int = setting(5, ge=0)
    # seconds an RTSP source that has never delivered a frame may take to connect, retries included;
    # past it the source fails at once (a stream that was live gets the reconnect backoff instead)
    rtsp_connect_timeout: float = setting(10.0, gt=0)
    file_loop: bool = False  # start a file again at its end (deepstream only: nvurisrcbin's file-loop)
    scene: Scene | None = None  # a scene file (YAML: zones, lines, directions, calibration); edgewatch.scene.load

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

    batch_size: int | None = setting(None, ge=1)  # None: the number of sources (read it as AppConfig.batch_size)
    width: int = setting(0, ge=0, le=16384)  # 0 with height 0: keep each source's resolution
    height: int = setting(0, ge=0, le=16384)
    batched_push_timeout: int = setting(40000, ge=0)  # usec to wait for a full batch before pushing a partial one
    live_source: bool = False


@dataclass(frozen=True)
class DetectorConfig:
    """``[primary-gie]``: the YOLO ONNX detector run by ONNX Runtime."""

    onnx_file: Path
    labels_file: Path | None = None  # one name per line; default: the names in the ONNX metadata
    precision: Precision | None = None  # when set, must agree with the precision the model's metadata states
    pre_cluster_threshold: float = setting(0.25, ge=0, le=1)  # confidence threshold before NMS
    nms_iou_threshold: float = setting(0.45, ge=0, le=1)
    topk: int = setting(300, ge=1)  # detections kept per frame after NMS
    # frames skipped between inferences (nvinfer semantics); skipped frames keep no boxes
    interval: int = setting(0, ge=0)
    # "h,w" or "s": checked against the model's input
    input_size: tuple[int, ...] | None = setting(None, ge=1, length=(1, 2))
    classes: tuple[str, ...] = ()  # keep only these class names; empty keeps all
    # CPU backend: the detector's thread budget (0: every core this process may use), shared by the batches it
    # infers at once (parallel-batches; 0: one per thread of the budget, each inference on one thread)
    num_threads: int = setting(0, ge=0, le=1024)
    parallel_batches: int = setting(0, ge=0, le=1024)

    def cpu_schedule(self, parallel: bool = True) -> tuple[int, int]:
        """(batches inferred at once, ONNX Runtime threads per inference) within the thread budget.

        On a small CPU, inferences of separate frames side by side on one thread each keep every core
        busy, while one inference split across threads waits on itself between operators (the bench's
        "graph against the detector alone" table times the detector both ways), so that is the default. ``parallel=False`` is
        for callers that infer one batch at a time: the whole budget goes to each inference.
        """
        budget = self.num_threads or len(os.sched_getaffinity(0))
        batches = (self.parallel_batches or budget) if parallel else 1
        return batches, max(1, budget // batches)

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
    track_high_thresh: float = setting(0.5, ge=0, le=1)  # detections above: first association round
    track_low_thresh: float = setting(0.1, ge=0, le=1)  # detections between low and high: second round (revive only)
    new_track_thresh: float = setting(0.6, ge=0, le=1)  # an unmatched detection above this starts a track
    match_iou_threshold: float = setting(0.2, ge=0, le=1)  # minimum IoU for a detection to match a track (first round)
    track_buffer_seconds: float = setting(3.0, ge=0)  # how long a lost track is kept before removal (any frame rate)
    # a tentative track matched on every frame this long is confirmed (0: at once)
    probation_seconds: float = setting(0.1, ge=0)
    # None: the backend's own tracker (cpu: bytetrack; deepstream: nvtracker with NvSORT). nvsort|nvdcf|iou pick
    # the nvtracker configuration shipped in configs/ (deepstream only), ll-config-file replaces it with your own
    type: TrackerType | None = None
    ll_config_file: Path | None = None
    # nvtracker's working resolution (deepstream only; NvDCF's visual features use it)
    tracker_width: int = setting(640, ge=32, le=16384)
    tracker_height: int = setting(384, ge=32, le=16384)


@dataclass(frozen=True)
class TemporalConfig:
    """``[temporal]``: the per-track behaviour model."""

    enable: bool = False
    onnx_file: Path | None = None
    window: int | None = setting(None, ge=1)  # observations per track; None: the model's own window (must agree if set)
    stride_seconds: float = setting(0.5, gt=0)  # seconds between classifications of a track
    classes: tuple[str, ...] = ()  # detector classes classified; empty: the model's own classes
    smoothing: Smoothing = "ema"
    # verdict rules (edgewatch.behaviour.verdicts); defaults from benchmarks/temporal_verdicts.py on the labelled
    # tuning tracks: the most accurate settings with at most 1 change per track-minute and a first decision within 3 s
    smoothing_seconds: float = setting(1.0, ge=0)  # time constant of the moving average (ema) or span voted over (majority)
    min_history_seconds: float = setting(1.0, ge=0)  # a younger track is reported "undecided"
    min_confidence: float = setting(0.7, ge=0, le=1)  # smoothed probability a behaviour needs, at every verdict, to hold
    dwell_seconds: float = setting(2.0, ge=0)  # how long a new behaviour must hold before it is reported (hysteresis)
    dwell_seconds_per_behaviour: tuple[str, ...] = ()  # "pacing:4,loitering:4": behaviours with their own dwell
    # the lane direction the model reads comes from each source's scene (lane-direction), else the model's

    @property
    def dwell_for(self) -> dict[str, float]:
        """``dwell-seconds-per-behaviour`` as behaviour -> seconds (validated at load)."""
        return {name: float(value) for name, value in (item.split(":") for item in self.dwell_seconds_per_behaviour)}


@dataclass(frozen=True)
class OsdConfig:
    """``[osd]``: what is drawn on the output video."""

    enable: bool = True
    show_behaviour: bool = True
    show_scene: bool = True  # zones, lines and their live counts, and each track's speed where calibrated
    border_width: int = setting(2, ge=0, le=64)
    text_scale: float = setting(0.5, gt=0, le=20)


@dataclass(frozen=True)
class SinkConfig:
    """``[sinkN]``: one output: H.264 mp4 file, fakesink, an on-screen window, or an RTSP stream (deepstream)."""

    type: SinkType
    enable: bool = True
    section: str = field(default="", compare=False, metadata={"internal": True})  # "sink0"; "--output"
    output_file: Path | None = None
    bitrate: int = setting(4000, ge=1, le=2048000)  # kbit/s for the H.264 encoder
    sync: bool = False  # play at the stream's clock rate instead of as fast as possible
    rtsp_port: int = setting(8554, ge=1, le=65535)  # type=rtsp: rtsp://HOST:PORT/edgewatchN for stream N (deepstream only)
    # type=rtsp: local UDP port (+N for stream N) between the encoder and the RTSP server
    udp_port: int = setting(5400, ge=1, le=65535)

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
    section: str = field(default="events", compare=False, metadata={"internal": True})  # "--events" from the CLI


@dataclass(frozen=True)
class EnginesConfig:
    """``[engines]``: the TensorRT engines ``edgewatch engines`` / ``make engines`` builds (on the NVIDIA host).

    The detector's batch profile is nvinfer's own (1 / batch-size / batch-size, static on DLA), so the
    engine is the one nvinfer would build; the temporal model's is 1 / temporal-opt-batch / temporal-max-batch
    tracks per call.
    """

    precisions: tuple[Precision, ...] = ()  # empty: the [primary-gie] precision (fp32 when unset)
    gpu_id: int = setting(0, ge=0)
    dla_core: int = setting(-1, ge=-1)  # Jetson DLA core (GPU fallback on); -1: GPU only
    workspace_mb: int = setting(1024, ge=1)  # TensorRT builder workspace limit
    strongly_typed: bool = False  # TensorRT 10.x: precision from the ONNX's own types (always so from 11)
    temporal_opt_batch: int = setting(16, ge=1)  # tracks per temporal-model call TensorRT tunes for
    temporal_max_batch: int = setting(64, ge=1)  # most tracks per call (more run in chunks)
    gate: bool = True  # refuse an engine whose outputs drift from ONNX Runtime's beyond the tolerances


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
    engines: EnginesConfig = field(default_factory=EnginesConfig)
    given: frozenset[str] = frozenset()  # "section:key" of every key the file sets (backend rules need them)

    @property
    def scenes(self) -> dict[int, Scene]:
        """Stream index -> its source's scene, scaled to the streammux size when that and the scene's
        ``frame-size`` are both set (streams without a scene are absent)."""
        w, h = self.streammux.width, self.streammux.height
        return {i: s.scene.scaled(w, h) if w else s.scene for i, s in enumerate(self.sources) if s.scene is not None}

    @property
    def batch_size(self) -> int:
        """Frames per batch: ``[streammux] batch-size``, else one per source (deepstream-app's advice)."""
        return self.streammux.batch_size or len(self.sources)

    def video_files(self) -> list[tuple[str, Path]]:
        """Every video file the run writes, with the key that names it: each file sink per stream
        (:meth:`SinkConfig.stream_path`)."""
        n = len(self.sources)
        return [
            (_key_name(s.section, "output-file"), s.stream_path(i, n))
            for s in self.sinks
            if s.type == "file" and s.output_file is not None
            for i in range(n)
        ]

    def output_files(self) -> list[tuple[str, Path]]:
        """Every file the run writes, with the key that names it: the videos, then the events log."""
        files = self.video_files()
        if self.events.enable and self.events.output_file is not None:
            files.append((_key_name(self.events.section, "output-file"), self.events.output_file))
        return files

    def input_files(self) -> list[tuple[str, Path]]:
        """Every file the run reads, with the key that names it (outputs must be none of them)."""
        files = [(_key_name(s.section, "uri"), s.path) for s in self.sources if s.kind == "file"]
        files += [(_key_name(s.section, "scene"), Path(s.scene.source)) for s in self.sources if s.scene is not None]
        files += [("[primary-gie] onnx-file", self.detector.onnx_file), ("config file", self.path)]
        if self.detector.labels_file is not None:
            files.append(("[primary-gie] labels-file", self.detector.labels_file))
        if self.temporal.enable and self.temporal.onnx_file is not None:
            files.append(("[temporal] onnx-file", self.temporal.onnx_file))
        det, tracker = self.detector, self.tracker
        for key, path in (("[primary-gie] custom-lib-path", det.custom_lib_path),
                          ("[primary-gie] model-engine-file", det.model_engine_file),
                          ("[tracker] ll-config-file", tracker.ll_config_file)):
            if path is not None:
                files.append((key, path))
        return files

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
            given = tuple(SourceConfig(_resolve_uri(u, base), section="--source") for u in sources)
            cfg = dataclasses.replace(cfg, sources=given)
        if output is not None:
            out = _resolve_path(Path(output), base)
            files = [s for s in cfg.sinks if s.type == "file"]
            rest = [s for s in cfg.sinks if s.type != "file"]
            first = files[0] if files else SinkConfig("file")
            given = dataclasses.replace(first, output_file=out, section="--output")
            cfg = dataclasses.replace(cfg, sinks=(given, *rest))
        if events is not None:
            cfg = dataclasses.replace(cfg, events=EventsConfig(True, _resolve_path(Path(events), base), "--events"))
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
    "engines": "engines",
}
_INDEXED = {"source": "sources", "sink": "sinks"}  # [sourceN], [sinkN] -> tuple fields
_INDEXED_RE = re.compile(r"^(source|sink)(\d+)$")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# keys that were counted in frames (or per verdict) and are now in seconds: the error says so
_RENAMED = {"track-buffer": "track-buffer-seconds", "min-hits": "probation-seconds", "stride": "stride-seconds",
            "ema-alpha": "smoothing-seconds", "majority-k": "smoothing-seconds"}


class _BadValue(ValueError):
    """A value that does not fit its field; the message is completed with file, section and key."""


class _BadFile(_BadValue):
    """A file the value names (a scene file) is wrong; its message already says where and why."""


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
        section = _read_section(cls, dict(parser[name]), base, name, f"{path}: [{name}]")
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


def _read_section(cls: type, items: dict[str, str], base: Path, section: str, where: str) -> Any:
    """Build one section dataclass from its raw ``key=value`` strings, driven by the field annotations
    and their :class:`Check` (range, length, secret)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name.replace("_", "-"): f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    values: dict[str, Any] = {}
    for key, raw in items.items():
        if key not in fields:
            hint = f" (now '{_RENAMED[key]}', in seconds)" if _RENAMED.get(key, "").replace("-", "_") in {
                f.name for f in fields.values()} else ""
            raise EdgewatchError(f"{where} unknown key '{key}'{hint}")
        name, check = fields[key].name, fields[key].metadata.get("check", Check())
        try:
            values[name] = _convert(raw.strip(), hints[name], base)
            problem = check.problem(values[name], _kind(hints[name]))
            if problem:
                raise _BadValue(f"expected {problem}")
        except _BadValue as exc:
            shown = redact.MASK if check.secret else raw.strip()
            got = "" if isinstance(exc, _BadFile) else f", got '{shown}'"
            raise EdgewatchError(f"{where} key '{key}': {exc}{got}") from None
        if check.secret and isinstance(values[name], str):
            redact.remember(values[name])
    for key, f in fields.items():
        if f.name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise EdgewatchError(f"{where} missing key '{key}'")
    if any(f.name == "section" for f in dataclasses.fields(cls)):
        values["section"] = section
    return cls(**values)


def _kind(hint: Any) -> str:
    """The item type's name of a field annotation (``int | None`` -> int, ``tuple[float, ...]`` -> float)."""
    args = [a for a in typing.get_args(hint) if a is not type(None) and a is not Ellipsis]
    if typing.get_origin(hint) in (typing.Union, types.UnionType, tuple) and args:
        return _kind(args[0])
    return getattr(hint, "__name__", str(hint))


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
    if hint is Scene:
        try:
            return load_scene(_resolve_path(Path(raw), base))
        except EdgewatchError as exc:
            raise _BadFile(str(exc)) from None
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
        redact.remember_url(uri)  # known before anything can print it
        return Uri(uri)
    local = uri[len(_FILE_SCHEME) :] if uri.startswith(_FILE_SCHEME) else uri
    return Uri(str(_resolve_path(Path(local), base)))


def _validate(cfg: AppConfig) -> None:
    """Cross-field checks the field declarations cannot express; each failure is one line naming the key."""
    checks: list[tuple[bool, str]] = [
        (bool(cfg.sources), "no enabled [sourceN] section and no --source given"),
        (all(s.type != "file" or s.output_file is not None for s in cfg.sinks), "[sinkN] type=file needs output-file"),
        (not cfg.events.enable or cfg.events.output_file is not None, "[events] enable=1 needs output-file"),
        (not cfg.temporal.enable or cfg.temporal.onnx_file is not None, "[temporal] enable=1 needs onnx-file"),
        ((cfg.streammux.width > 0) == (cfg.streammux.height > 0), "[streammux] width and height: set both or neither"),
        (
            all(re.fullmatch(r"[^:\s]+:\d+(\.\d*)?", item) for item in cfg.temporal.dwell_seconds_per_behaviour),
            "[temporal] key 'dwell-seconds-per-behaviour': expected behaviour:seconds,... (e.g. pacing:4)",
        ),
        (
            cfg.tracker.track_low_thresh <= cfg.tracker.track_high_thresh,
            "[tracker] key 'track-low-thresh': expected a float <= track-high-thresh "
            f"({cfg.tracker.track_high_thresh:g}), got '{cfg.tracker.track_low_thresh:g}'",
        ),
        (
            cfg.tracker.enable or all(s.scene is None for s in cfg.sources),
            "[sourceN] key 'scene' needs [tracker] enable=1 (scene rules are per track)",
        ),
        (
            cfg.engines.temporal_opt_batch <= cfg.engines.temporal_max_batch,
            "[engines] key 'temporal-opt-batch': expected an int <= temporal-max-batch "
            f"({cfg.engines.temporal_max_batch}), got '{cfg.engines.temporal_opt_batch}'",
        ),
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
    _validate_outputs(cfg)


def _validate_outputs(cfg: AppConfig) -> None:
    """No output overwrites an input or another output, and each can be created where it is named."""
    inputs = cfg.input_files()
    seen: list[tuple[str, Path]] = []
    for key, path in cfg.output_files():
        for other_key, other in inputs:
            if same_file(path, other):
                raise EdgewatchError(
                    f"{cfg.path}: {key}: {path} is also an input ({other_key}); an output never replaces an input"
                )
        for other_key, other in seen:
            if same_file(path, other):
                raise EdgewatchError(
                    f"{cfg.path}: {key}: {path} is also written by {other_key}; every output needs its own file"
                )
        seen.append((key, path))
        if path.is_dir():
            raise EdgewatchError(f"{cfg.path}: {key}: {path} is a folder; expected a file name")
        folder = path.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise EdgewatchError(f"{cfg.path}: {key}: {folder} is a file, so {path} cannot be created under it")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise EdgewatchError(f"{cfg.path}: {key}: cannot create {path} ({folder} is not writable)")


def _key_name(section: str, key: str) -> str:
    """How a message names the key that set a value: ``[sink0] output-file``, or the CLI flag."""
    return section if section.startswith("--") else f"[{section}] {key}"


# Keys only one backend honours, as "section:key" ([sourceN]/[sinkN] without the number). The same file drives
# both backends; a key the chosen backend would silently ignore is an error instead.
BACKEND_ONLY_KEYS: dict[str, tuple[BackendName, str]] = {
    "primary-gie:num-threads": ("cpu", "ONNX Runtime threads; nvinfer runs on the GPU"),
    "primary-gie:parallel-batches": ("cpu", "ONNX Runtime inferences at once; nvinfer runs on the GPU"),
    "source:file-loop": ("deepstream", "nvurisrcbin's file loop"),
    "source:rtsp-connect-timeout": ("cpu", "the CPU source's first-connect deadline; nvurisrcbin retries on its own"),
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
