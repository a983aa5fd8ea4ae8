"""Fault tests: ``edgewatch run`` as a hostile but ordinary user drives it. What must hold every time:
one clear ``edgewatch: error:`` line (or ``edgewatch: interrupted``), a non-zero exit when the run
failed, no traceback, and no file of the user's lost or emptied. (Camera passwords and RTSP faults:
``test_graph_rtsp.py``; value validation: ``test_core_config.py``; damaged models in a fresh
process: ``test_core_detect.py``.)"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from graph_fixtures import error_lines, events, run_cli, stand_in_models, video_frames, write_config

from edgewatch.pipeline.testvideo import write_odd_size_video, write_resizing_video, write_test_video

pytestmark = pytest.mark.slow
FRAMES = 45  # clip.mp4: 3 s at 15 fps
OLD_VIDEO = b"an older run's video, which no failed run may touch"
OLD_EVENTS = b'{"older": "run"}\n'


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fault_media")
    stand_in_models(root / "models")
    write_test_video(root / "clip.mp4", seconds=3)
    fragmented = (root / "clip.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(fragmented[: len(fragmented) // 2])
    (root / "corrupt.mp4").write_bytes(bytes(range(256)) * 64)
    write_odd_size_video(root / "odd.avi", 641, 359, seconds=2)
    write_resizing_video(root / "resizing.ts", [(320, 240), (160, 120)], seconds_each=2)
    return root


def clean(stderr: str) -> None:
    """No traceback, no native crash report, and every line edgewatch's own."""
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr, stderr[-3000:]


def older_outputs(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.mp4").write_bytes(OLD_VIDEO)
    (folder / "events.jsonl").write_bytes(OLD_EVENTS)
    return folder / "run.mp4", folder / "events.jsonl"


def test_a_run_that_fails_at_once_keeps_the_older_outputs_untouched(media: Path, tmp_path: Path) -> None:
    video, jsonl = older_outputs(tmp_path / "out")
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "corrupt.mp4")])
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 2 and len(error_lines(done.stderr)) == 1
    clean(done.stderr)
    assert video.read_bytes() == OLD_VIDEO and jsonl.read_bytes() == OLD_EVENTS
    assert sorted(p.name for p in video.parent.iterdir()) == ["events.jsonl", "run.mp4"]  # no empty or partial file


def test_a_failed_run_keeps_the_older_outputs_and_names_its_own_apart(media: Path, tmp_path: Path) -> None:
    video, jsonl = older_outputs(tmp_path / "out")
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "truncated.mp4")])
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 2 and "truncated" in error_lines(done.stderr)[0]
    clean(done.stderr)
    assert video.read_bytes() == OLD_VIDEO and jsonl.read_bytes() == OLD_EVENTS
    apart, apart_events = tmp_path / "out" / "run.failed.mp4", tmp_path / "out" / "events.failed.jsonl"
    assert f"{video} kept: this run failed, so its output is {apart}" in done.stderr
    (stream,) = done.summary["streams"]
    assert stream["outputs"] == [str(apart)] and video_frames(apart)[0] == stream["frames"] > 0
    assert len(events(apart_events)) == done.summary["events"]


def test_a_run_that_succeeds_replaces_the_older_outputs(media: Path, tmp_path: Path) -> None:
    video, jsonl = older_outputs(tmp_path / "out")
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "clip.mp4")])
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert video_frames(video) == (FRAMES, (240, 320, 3)) and len(events(jsonl)) == done.summary["events"] > 0
    assert sorted(p.name for p in video.parent.iterdir()) == ["events.jsonl", "run.mp4"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--output", "{media}/clip.mp4"], "--output: {media}/clip.mp4 is also an input (--source)"),
        (["--events", "{media}/clip.mp4"], "--events: {media}/clip.mp4 is also an input (--source)"),
        (["--output", "out/same", "--events", "out/same"], "--events: {tmp}/out/same is also written by --output"),
        (
            ["--output", "app.txt/run.mp4"],
            "--output: {tmp}/app.txt is a file, so {tmp}/app.txt/run.mp4 cannot be created",
        ),
    ],
    ids=["output-is-the-input", "events-is-the-input", "output-is-the-events", "parent-is-a-file"],
)
def test_an_output_that_would_destroy_a_file_is_refused_in_one_line(
    media: Path, tmp_path: Path, flags: list[str], message: str
) -> None:
    config = write_config(tmp_path / "app.txt", media / "models", [])
    before = (media / "clip.mp4").read_bytes()
    args = [f.format(media=media, tmp=tmp_path) for f in flags]
    done = run_cli(["-c", str(config), "--source", str(media / "clip.mp4"), *args], tmp_path)
    assert done.returncode == 2 and done.summary is None
    clean(done.stderr)
    (line,) = error_lines(done.stderr)
    assert message.format(media=media, tmp=tmp_path) in line
    assert (media / "clip.mp4").read_bytes() == before


@pytest.mark.parametrize(
    ("model", "damage"),
    [("det.onnx", "empty"), ("det.onnx", "text"), ("det.onnx", "half"), ("behaviour.onnx", "empty")],
)
def test_a_damaged_model_file_is_one_line(media: Path, tmp_path: Path, model: str, damage: str) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name in ("det.onnx", "behaviour.onnx"):
        (models / name).write_bytes((media / "models" / name).read_bytes())
    data = (models / model).read_bytes()
    (models / model).write_bytes(
        {"empty": b"", "text": b"ir_version: 8\ngraph { }\n", "half": data[: len(data) // 2]}[damage]
    )
    config = write_config(tmp_path / "app.txt", models, [str(media / "clip.mp4")])
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 2
    clean(done.stderr)
    (line,) = error_lines(done.stderr)
    assert line.startswith(f"edgewatch: error: {models / model}: ")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# (where the signal arrives, which function sends it to the process as it starts)
MOMENTS = {
    "model-load": "edgewatch.runtime.onnx:OnnxSession.__init__",
    "source-start": "edgewatch.pipeline.sources:Source.start",
    "first-inference": "edgewatch.detect.detector:YoloDetector.infer",
    "sink-start": "edgewatch.pipeline.sinks:StreamSink._start",
    "finalising": "edgewatch.pipeline.sinks:StreamSink.close",
}


@pytest.mark.parametrize(
    ("moment", "how"),
    [
        ("model-load", signal.SIGTERM),
        ("source-start", signal.SIGINT),
        ("first-inference", signal.SIGINT),
        ("first-inference", signal.SIGTERM),
        ("sink-start", signal.SIGTERM),
        ("finalising", signal.SIGINT),
    ],
    ids=lambda v: v if isinstance(v, str) else signal.Signals(v).name,
)
def test_a_signal_at_any_moment_stops_the_run_cleanly(media: Path, tmp_path: Path, moment: str, how: int) -> None:
    """The signal is sent by the process to itself from inside the named function, so it lands exactly
    there (no timing): the handler only sets the stop flag, the loop ends at its next batch."""
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "clip.mp4")])
    module, qualname = MOMENTS[moment].split(":")
    cls, method = qualname.split(".")
    script = textwrap.dedent(f"""
        import importlib, os, sys
        owner = getattr(importlib.import_module({module!r}), {cls!r})
        original = getattr(owner, {method!r})
        def signalled(*args, **kwargs):
            if not getattr(signalled, "sent", False):
                signalled.sent = True
                os.kill(os.getpid(), {int(how)})
            return original(*args, **kwargs)
        setattr(owner, {method!r}, signalled)
        from edgewatch.cli import main
        sys.exit(main(["run", "-c", {str(config)!r}]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    clean(proc.stderr)
    assert proc.returncode == 130, proc.stderr[-3000:]
    assert proc.stderr.splitlines()[-1] == "edgewatch: interrupted"
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert summary["interrupted"]
    out = tmp_path / "out"
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert not [name for name in left if ".partial-" in name]  # every output finalised under its name
    if "run.mp4" in left:
        assert video_frames(out / "run.mp4")[0] == summary["frames"]
    if moment == "first-inference":  # the batch in hand is finished, then the run stops
        assert 0 < summary["frames"] < FRAMES and video_frames(out / "run.mp4")[0] == summary["frames"]
    if "events.jsonl" in left:
        assert len(events(out / "events.jsonl")) == summary["events"]


def test_an_odd_frame_size_is_padded_to_an_even_one(media: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "odd.avi")])
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "641x359 frames padded to 642x360" in done.stderr
    assert video_frames(tmp_path / "out" / "run.mp4") == (30, (360, 642, 3))


COLOUR_BARS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (30, 120, 200), (128, 128, 128))


@pytest.mark.parametrize("size", [(768, 576), (642, 360), (641, 359), (770, 578)],
                         ids=["I420-pushed", "RGB-row-padding", "RGB-odd-padded", "RGB-even-unaligned"])
def test_the_written_video_shows_the_drawn_frames_at_any_size(tmp_path: Path, size: tuple[int, int]) -> None:
    """Colour bars through the file sink, read back by OpenCV's own decoder: every size keeps its
    colours and geometry, whether the sink pushes I420 converted in the loop or RGB rows (whose
    GStreamer layout pads each row to 4 bytes: packed rows of a 642-pixel frame came out sheared)."""
    import cv2
    import numpy as np

    from edgewatch.config import SinkConfig
    from edgewatch.outputs import partial_path
    from edgewatch.pipeline.sinks import StreamSink
    from edgewatch.types import Frame

    width, height = size
    bars = np.zeros((height, width, 3), np.uint8)
    for i, colour in enumerate(COLOUR_BARS):
        bars[:, i * width // 6 : (i + 1) * width // 6] = colour
    out = tmp_path / "bars.mp4"
    sink = StreamSink(SinkConfig(type="file", output_file=out, bitrate=4000), out, lambda _line: None)
    for k in range(5):
        sink.push(Frame(stream_id=0, frame_num=k, timestamp=k / 10, image=bars), Fraction(10))
    sink.close()
    ok, bgr = cv2.VideoCapture(str(partial_path(out))).read()
    assert ok and bgr.shape == (height + height % 2, width + width % 2, 3)
    decoded = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[:height, :width].astype(int)
    for i, colour in enumerate(COLOUR_BARS):  # the middle of each bar, away from chroma edges
        middle = decoded[height // 4 : 3 * height // 4, i * width // 6 + 8 : (i + 1) * width // 6 - 8]
        assert np.abs(middle - np.array(colour)).max() <= 6, (i, middle.mean(axis=(0, 1)))


def test_frames_follow_a_resolution_change_mid_file(media: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "resizing.ts")])
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 0, done.stderr
    clean(done.stderr)
    assert "frame size changed from 320x240 to 160x120" in done.stderr
    assert "frames are now 160x120; scaled to fit the video's 320x240" in done.stderr
    (stream,) = done.summary["streams"]
    assert stream["frames"] == stream["decoded"] == 60 and stream["status"] == "ended"
    assert video_frames(tmp_path / "out" / "run.mp4") == (60, (240, 320, 3))


@pytest.fixture
def full_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, str]]:
    """A folder where the events file cannot get a byte: a 64 KiB tmpfs filled up ("tmpfs": needs root
    and mount rights, else skipped), or the events file's partial name pointing at /dev/full, which
    refuses every write with ENOSPC ("injected", runs anywhere). Yields the folder and the code the
    run's process executes first."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if request.param == "injected":
        yield (
            folder,
            (
                "import os\nfrom pathlib import Path\nfrom edgewatch.outputs import partial_path\n"
                f"partial_path(Path({str(folder / 'events.jsonl')!r})).symlink_to('/dev/full')\n"
            ),
        )
        return
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mount.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs here ({mount.stderr.strip() or 'not root'}); the injected variant covers it"
        )
    try:
        with (folder / "filler").open("wb", buffering=0) as filler:
            try:
                while filler.write(b"\0" * 4096):
                    pass
            except OSError:
                pass  # full
        yield folder, ""
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize("full_disk", ["tmpfs", "injected"], indirect=True)
def test_a_full_disk_under_the_events_file_ends_the_run_in_one_line_with_the_video_finalised(
    media: Path, tmp_path: Path, full_disk: tuple[Path, str]
) -> None:
    folder, prelude = full_disk
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "clip.mp4")])
    script = prelude + textwrap.dedent(f"""
        import sys
        from edgewatch.cli import main
        sys.exit(main(["run", "-c", {str(config)!r}, "--events", {str(folder / "events.jsonl")!r}]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    clean(proc.stderr)
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert (
        line == f"edgewatch: error: {folder / 'events.jsonl'}: cannot write the events file (No space left on device)"
    )
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert 0 < summary["frames"] < FRAMES  # it stopped at the first event it could not write
    assert video_frames(tmp_path / "out" / "run.mp4")[0] == summary["frames"]  # finalised, playable
    assert not (folder / "events.jsonl").exists()  # nothing could be written: no empty file left
