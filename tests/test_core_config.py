"""The app config: conversion by field type, one-line errors, path resolution, CLI overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewatch.config import AppConfig, load_config
from edgewatch.errors import EdgewatchError

BASE = """
[application]
max-frames=100

[source0]
uri=clip.mp4

[source1]
uri=rtsp://127.0.0.1:8554/cam
rtsp-reconnect-attempts=3

[source2]
enable=0
uri=missing.mp4

[streammux]
width=1280
height=720
live-source=true

[primary-gie]
onnx-file=models/det.onnx
precision=int8
pre-cluster-threshold=0.3  # inline comment
input-size=384,640
classes=person, car

[tracker]
track-buffer-seconds=1.5

[temporal]
enable=0
stride-seconds=0.4
dwell-seconds-per-behaviour=pacing:4, loitering:3.5

[sink0]
type=file
output-file=out/demo.mp4

[sink1]
type=display

[events]
enable=1
output-file=out/events.jsonl
"""


def write_config(tmp_path: Path, text: str = BASE) -> Path:
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "det.onnx").write_bytes(b"onnx")
    (tmp_path / "clip.mp4").write_bytes(b"mp4")
    path = tmp_path / "app.txt"
    path.write_text(text)
    return path


def test_reads_every_section_with_types_and_resolved_paths(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))
    assert isinstance(cfg, AppConfig)
    assert cfg.application.max_frames == 100
    assert [s.kind for s in cfg.sources] == ["file", "rtsp"]  # source2 is disabled
    assert cfg.sources[0].path == tmp_path / "clip.mp4"
    assert cfg.sources[1].uri == "rtsp://127.0.0.1:8554/cam" and cfg.sources[1].rtsp_reconnect_attempts == 3
    assert cfg.batch_size == 2  # defaults to the number of sources
    assert cfg.streammux.live_source is True and (cfg.streammux.width, cfg.streammux.height) == (1280, 720)
    det = cfg.detector
    assert det.onnx_file == tmp_path / "models" / "det.onnx"
    assert det.precision == "int8" and det.pre_cluster_threshold == pytest.approx(0.3)
    assert det.input_size == (384, 640) and det.classes == ("person", "car")
    assert cfg.tracker.track_buffer_seconds == 1.5 and cfg.tracker.probation_seconds == 0.1
    assert cfg.temporal.stride_seconds == 0.4 and not cfg.temporal.enable
    assert cfg.temporal.dwell_for == {"pacing": 4.0, "loitering": 3.5}
    assert [s.type for s in cfg.sinks] == ["file", "display"]
    assert cfg.sinks[0].output_file == tmp_path / "out" / "demo.mp4"
    assert cfg.events.enable and cfg.events.output_file == tmp_path / "out" / "events.jsonl"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[primary-gie]", "[primary-gie]\nfoo=1", "[primary-gie] unknown key 'foo'"),
        ("track-buffer-seconds=1.5", "track-buffer-seconds=abc",
         "[tracker] key 'track-buffer-seconds': expected float, got 'abc'"),
        ("track-buffer-seconds=1.5", "track-buffer=15",
         "[tracker] unknown key 'track-buffer' (now 'track-buffer-seconds', in seconds)"),
        ("stride-seconds=0.4", "stride=4", "[temporal] unknown key 'stride' (now 'stride-seconds', in seconds)"),
        ("stride-seconds=0.4", "stride-seconds=0", "[temporal] key 'stride-seconds': expected a float > 0, got '0'"),
        ("pacing:4, loitering:3.5", "pacing=4", "key 'dwell-seconds-per-behaviour': expected behaviour:seconds"),
        (
            "live-source=true",
            "live-source=maybe",
            "[streammux] key 'live-source': expected bool (0/1/true/false), got 'maybe'",
        ),
        (
            "precision=int8",
            "precision=int4",
            "[primary-gie] key 'precision': expected one of fp32|fp16|int8, got 'int4'",
        ),
        ("[events]", "[evnets]", "unknown section [evnets]"),
        ("onnx-file=models/det.onnx", "onnx-file=models/nope.onnx", "file not found:"),
        ("uri=clip.mp4", "uri=nope.mp4", "file not found:"),
        ("uri=clip.mp4", "uri=http://example.com/x.mp4", "source uri 'http://example.com/x.mp4': unsupported scheme"),
        ("type=display", "type=window", "[sink1] key 'type': expected one of file|fake|display|rtsp, got 'window'"),
    ],
)
def test_bad_keys_are_one_line_errors_naming_file_section_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = write_config(tmp_path, BASE.replace(old, new))
    with pytest.raises(EdgewatchError) as err:
        load_config(path)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_missing_required_key_and_empty_source_list(tmp_path: Path) -> None:
    with pytest.raises(EdgewatchError, match=r"\[sink0\] missing key 'type'"):
        load_config(write_config(tmp_path, BASE.replace("type=file", "")))
    no_sources = BASE.replace("[source0]\nuri=clip.mp4", "").replace(
        "[source1]\nuri=rtsp://127.0.0.1:8554/cam\nrtsp-reconnect-attempts=3", ""
    )
    with pytest.raises(EdgewatchError, match="no enabled"):
        load_config(write_config(tmp_path, no_sources))
    with pytest.raises(EdgewatchError, match=r"missing section \[primary-gie\]"):
        load_config(write_config(tmp_path, "[source0]\nuri=clip.mp4\n"))
    with pytest.raises(EdgewatchError, match="config file not found"):
        load_config(tmp_path / "nope.txt")


def test_duplicate_key_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(EdgewatchError) as err:
        load_config(write_config(tmp_path, BASE.replace("track-buffer-seconds=1.5",
                                                        "track-buffer-seconds=1.5\ntrack-buffer-seconds=2")))
    assert "\n" not in str(err.value) and "track-buffer-seconds" in str(err.value)


def test_cli_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path)
    monkeypatch.chdir(tmp_path / "models")
    (tmp_path / "models" / "other.mp4").write_bytes(b"mp4")
    cfg = load_config(
        path, sources=["other.mp4", "v4l2:///dev/video0"], output="x.mp4", events="e.jsonl", no_display=True
    )
    assert [s.kind for s in cfg.sources] == ["file", "v4l2"]
    assert cfg.sources[0].path == tmp_path / "models" / "other.mp4"  # CLI paths resolve against the cwd
    assert cfg.sources[1].path == Path("/dev/video0")
    assert [(s.type, s.output_file) for s in cfg.sinks] == [("file", tmp_path / "models" / "x.mp4")]
    assert cfg.events.output_file == tmp_path / "models" / "e.jsonl"
    only_display = BASE.replace("type=file\noutput-file=out/demo.mp4", "type=display")
    assert [s.type for s in load_config(write_config(tmp_path, only_display), no_display=True).sinks] == ["fake"]


PGIE, TRACKER, TEMPORAL, SOURCE1 = "[primary-gie] key", "[tracker] key", "[temporal] key", "[source1] key"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("pre-cluster-threshold=0.3", "pre-cluster-threshold=-0.1",
         f"{PGIE} 'pre-cluster-threshold': expected a float in [0, 1], got '-0.1'"),
        ("pre-cluster-threshold=0.3", "pre-cluster-threshold=nan",
         f"{PGIE} 'pre-cluster-threshold': expected a finite float in [0, 1], got 'nan'"),
        ("pre-cluster-threshold=0.3", "pre-cluster-threshold=1.5", "expected a float in [0, 1], got '1.5'"),
        ("track-buffer-seconds=1.5", "track-buffer-seconds=-1",
         f"{TRACKER} 'track-buffer-seconds': expected a float >= 0, got '-1'"),
        ("max-frames=100", "max-frames=-1", "[application] key 'max-frames': expected an int >= 0, got '-1'"),
        ("classes=person, car", "classes=person, car\ntopk=0", f"{PGIE} 'topk': expected an int >= 1, got '0'"),
        ("input-size=384,640", "input-size=384,640,3", f"{PGIE} 'input-size': expected 1 or 2 comma-separated values"),
        ("input-size=384,640", "input-size=0,640", "expected 1 or 2 comma-separated values, each an int >= 1"),
        ("stride-seconds=0.4", "stride-seconds=0.4\nmin-confidence=2",
         f"{TEMPORAL} 'min-confidence': expected a float in [0, 1], got '2'"),
        ("rtsp-reconnect-attempts=3", "rtsp-reconnect-attempts=-2",
         f"{SOURCE1} 'rtsp-reconnect-attempts': expected an int >= 0"),
        ("rtsp-reconnect-attempts=3", "rtsp-connect-timeout=0",
         f"{SOURCE1} 'rtsp-connect-timeout': expected a float > 0"),
        ("width=1280", "width=-1280", "[streammux] key 'width': expected an int in [0, 16384]"),
        ("track-buffer-seconds=1.5", "track-buffer-seconds=1.5\ntrack-low-thresh=0.9",
         f"{TRACKER} 'track-low-thresh': expected a float <= track-high-thresh"),
        ("output-file=out/demo.mp4", "output-file=out/demo.mp4\nbitrate=0",
         "[sink0] key 'bitrate': expected an int in [1, 2048000]"),
    ],
)
def test_values_out_of_range_are_one_line_errors_naming_the_range(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = write_config(tmp_path, BASE.replace(old, new))
    with pytest.raises(EdgewatchError) as err:
        load_config(path)
    assert "\n" not in str(err.value) and str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("threads", "parallel", "caller_parallel", "schedule"),
    [
        (0, 0, True, (2, 1)),  # the default on 2 cores: two inferences at once, one thread each
        (0, 1, True, (1, 2)),  # one at a time on the whole budget, as before parallel-batches
        (4, 2, True, (2, 2)),
        (3, 2, True, (2, 1)),  # threads that do not divide evenly are not oversubscribed
        (1, 4, True, (4, 1)),  # at least one thread per inference
        (0, 0, False, (1, 2)),  # a caller that infers one batch at a time gets the whole budget
    ],
)
def test_the_detector_schedule_splits_the_thread_budget(
    monkeypatch: pytest.MonkeyPatch, threads: int, parallel: int, caller_parallel: bool, schedule: tuple[int, int]
) -> None:
    from edgewatch.config import DetectorConfig

    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1})
    cfg = DetectorConfig(onnx_file=Path("d.onnx"), num_threads=threads, parallel_batches=parallel)
    assert cfg.cpu_schedule(caller_parallel) == schedule


def test_every_default_is_within_its_declared_range() -> None:
    import dataclasses
    import typing

    from edgewatch import config

    sections = [
        config.ApplicationConfig, config.SourceConfig, config.StreammuxConfig, config.DetectorConfig,
        config.TrackerConfig, config.TemporalConfig, config.OsdConfig, config.SinkConfig, config.EventsConfig,
        config.EnginesConfig,
    ]
    declared = 0
    for cls in sections:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            check = f.metadata.get("check")
            if check is None or f.default is dataclasses.MISSING:
                continue
            declared += 1
            assert check.problem(f.default, config._kind(hints[f.name])) is None, f"{cls.__name__}.{f.name}"
    assert declared >= 25  # every numeric key states its range


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"output": "out/x.mp4", "events": "out/x.mp4"}, "--events: {out}/x.mp4 is also written by --output"),
        ({"output": "clip.mp4"}, "--output: {root}/clip.mp4 is also an input (--source)"),
        ({"events": "models/det.onnx"}, "--events: {root}/models/det.onnx is also an input ([primary-gie] onnx-file)"),
        ({"events": "app.txt"}, "is also an input (config file)"),
        ({"output": "clip.mp4/x.mp4"}, "--output: {root}/clip.mp4 is a file, so {root}/clip.mp4/x.mp4 cannot"),
        ({"events": "models"}, "--events: {root}/models is a folder"),
    ],
)
def test_outputs_that_are_inputs_or_other_outputs_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overrides: dict[str, str], message: str
) -> None:
    path = write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EdgewatchError) as err:
        load_config(path, sources=["clip.mp4"], **overrides)
    assert message.format(root=tmp_path, out=tmp_path / "out") in str(err.value)


def test_two_sinks_on_one_file_and_a_symlinked_input_are_refused(tmp_path: Path) -> None:
    two_sinks = BASE.replace("[sink1]\ntype=display", "[sink1]\ntype=file\noutput-file=out/../out/demo.mp4")
    clash = r"\[sink1\] output-file: .*demo_0.mp4 is also written by \[sink0\] output-file"
    with pytest.raises(EdgewatchError, match=clash):
        load_config(write_config(tmp_path, two_sinks))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "events.jsonl").symlink_to(tmp_path / "clip.mp4")
    with pytest.raises(EdgewatchError, match=r"\[events\] output-file: .* is also an input \(\[source0\] uri\)"):
        load_config(write_config(tmp_path))
