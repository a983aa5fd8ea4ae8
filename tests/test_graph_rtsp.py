"""RTSP against a real GstRtspServer on loopback (its own process): streaming, a server that stops
mid-stream (retried with backoff, reported, the run still ends cleanly), a server that comes back,
an unreachable URL, and a run killed or terminated mid-stream leaving a playable mp4."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from graph_fixtures import error_lines, events, free_port, run_cli, stand_in_models, video_frames, write_config

from edgewatch.outputs import partial_path
from edgewatch.pipeline.testvideo import write_test_video

pytestmark = pytest.mark.slow
RETRIES = "rtsp-reconnect-interval=0.2\nrtsp-reconnect-attempts=2\n"
PROGRESS = "perf-measurement-interval-sec=0.3\n"  # background runs report frames often: tests wait on it


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rtsp_media")
    stand_in_models(root / "models")
    write_test_video(root / "clip.mp4", seconds=3)
    write_test_video(root / "long.mp4", seconds=10, width=160, height=120)
    return root


class RtspServer:
    """``python -m edgewatch.pipeline.rtsp_server`` in a subprocess; ``url`` once it accepts clients."""

    def __init__(self, video: Path, port: int = 0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edgewatch.pipeline.rtsp_server", str(video), "--port", str(port)],
            stdout=subprocess.PIPE, text=True,
        )
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("rtsp://"):
            self.stop()
            pytest.fail("the RTSP test server did not start")

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def server(media: Path) -> Iterator[RtspServer]:
    srv = RtspServer(media / "long.mp4")
    yield srv
    srv.stop()


def start_run(config: Path, cwd: Path) -> subprocess.Popen:
    """``edgewatch run`` in the background; PYTHONFAULTHANDLER makes a hung run dump its threads."""
    return subprocess.Popen(
        [sys.executable, "-m", "edgewatch.cli", "run", "-c", str(config)],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )


def wait_for_frames(run: subprocess.Popen, frames: int) -> list[str]:
    """Read the run's progress lines until it has processed ``frames`` frames; returns the lines read."""
    seen = []
    for line in run.stderr:
        seen.append(line)
        match = re.match(r"edgewatch: (\d+) frames", line)
        if match and int(match.group(1)) >= frames:
            return seen
    pytest.fail("the run ended before processing any frames:\n" + "".join(seen))


def finish(run: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    """Wait for a background run; a run that hangs is killed (never left behind) and fails the test."""
    try:
        return run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.send_signal(signal.SIGABRT)
        _, stderr = run.communicate()
        log = [line for line in stderr.splitlines() if line.startswith("edgewatch:")]
        pytest.fail(f"edgewatch run did not end within {timeout} s:\n" + "\n".join(log) + stderr[-3000:])


def test_rtsp_stream_is_read_and_written(media: Path, server: RtspServer, tmp_path: Path) -> None:
    config = write_config(tmp_path / "app.txt", media / "models", [server.url], application="max-frames=20\n")
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 0, done.stderr
    stream = done.summary["streams"][0]
    # RTSP is live: frames the stages could not keep up with are dropped (oldest first), never queued,
    # so on a loaded machine some of the 20 decoded frames may not reach the stages or the mp4.
    assert stream["decoded"] == 20 and stream["frames"] + stream["dropped"] == 20
    assert done.summary["tracks"] == 2
    assert video_frames(tmp_path / "out" / "run.mp4") == (stream["frames"], (120, 160, 3))


def test_server_stopping_mid_stream_is_retried_reported_and_the_run_ends_cleanly(
    media: Path, server: RtspServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "app.txt", media / "models", [server.url], source_keys=RETRIES, application=PROGRESS)
    run = start_run(config, tmp_path)
    wait_for_frames(run, 15)  # about 1 s of the 10 s clip
    server.stop()
    stdout, stderr = finish(run)
    assert run.returncode == 0, stderr
    assert stderr.count("retrying in") == 2 and "gave up after 2 reconnect attempts" in stderr
    (stream,) = json.loads(stdout.splitlines()[-1])["streams"]
    assert stream["status"] == "lost" and stream["reconnects"] == 2 and 0 < stream["frames"] < 150
    assert video_frames(tmp_path / "out" / "run.mp4")[0] == stream["frames"]
    assert events(tmp_path / "out" / "events.jsonl")


@pytest.mark.parametrize("back_with", ["long.mp4", "clip.mp4"], ids=["same-size", "another-size"])
def test_stream_resumes_when_the_server_comes_back(media: Path, server: RtspServer, tmp_path: Path, back_with: str) -> None:
    """The camera comes back, possibly at another size (clip.mp4 is 320x240, long.mp4 160x120): frames
    follow the new caps, the video keeps its first size."""
    config = write_config(
        tmp_path / "app.txt", media / "models", [server.url],
        source_keys="rtsp-reconnect-interval=0.5\nrtsp-reconnect-attempts=4\n", application="max-frames=60\n" + PROGRESS,
    )
    run = start_run(config, tmp_path)
    wait_for_frames(run, 15)
    server.stop()
    restarted = RtspServer(media / back_with, port=server.port)
    try:
        stdout, stderr = finish(run)
    finally:
        restarted.stop()
    assert run.returncode == 0, stderr
    assert "Traceback" not in stderr and "truncated" not in stderr
    (stream,) = json.loads(stdout.splitlines()[-1])["streams"]
    # live: a frame the stages could not keep up with is dropped, never queued (see the first test)
    assert stream["decoded"] == 60 == stream["frames"] + stream["dropped"]
    assert stream["reconnects"] >= 1 and stream["status"] == "ended"
    stamps = [e["timestamp"] for e in events(tmp_path / "out" / "events.jsonl")]
    assert stamps == sorted(stamps)  # time keeps going forward across the reconnect
    if back_with == "clip.mp4":
        assert "frame size changed from 160x120 to 320x240" in stderr
        assert "frames are now 320x240; scaled to fit the video's 160x120" in stderr
    assert video_frames(tmp_path / "out" / "run.mp4") == (stream["frames"], (120, 160, 3))


PASSWORD = "Pa55-w0rd%21x"  # %21 is '!': GStreamer may print the password percent-decoded


def test_a_camera_password_never_reaches_any_output(media: Path, server: RtspServer, tmp_path: Path) -> None:
    """A live camera and an unreachable one, both with a password in the URL: retry lines, the error
    line, the summary, the events and the file names carry the URLs redacted, never the password."""
    live = server.url.replace("rtsp://", f"rtsp://admin:{PASSWORD}@")
    unreachable = f"rtsp://admin:{PASSWORD}@127.0.0.1:{free_port()}/nothing"
    config = write_config(
        tmp_path / "app.txt", media / "models", [live, unreachable], source_keys=RETRIES,
        streammux="batch-size=2\n", application="max-frames=20\n",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "edgewatch.cli", "run", "-c", str(config)], cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )
    assert proc.returncode == 2  # the unreachable camera failed the run
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert [s["status"] for s in summary["streams"]] == ["ended", "failed"] and summary["streams"][0]["frames"] > 0
    shown = f"rtsp://***@127.0.0.1:{server.port}/test"
    assert summary["streams"][0]["uri"] == shown and "rtsp://***@127.0.0.1" in error_lines(proc.stderr)[0]
    assert "cannot connect" in proc.stderr and "retrying in" in proc.stderr  # the retry lines are there
    outputs = [proc.stdout, proc.stderr]
    outputs += [p.name for p in tmp_path.rglob("*")] + [p.read_bytes().decode("latin-1") for p in (tmp_path / "out").iterdir()]
    assert events(tmp_path / "out" / "events.jsonl")
    for text in outputs:
        for secret in (PASSWORD, "Pa55-w0rd!x", "admin:"):
            assert secret not in text


def test_a_camera_that_never_answers_fails_after_the_connect_timeout(media: Path, tmp_path: Path) -> None:
    """Never connected: reported after rtsp-connect-timeout, not after the whole backoff (50 attempts
    here), which is for streams that were live."""
    url = f"rtsp://127.0.0.1:{free_port()}/nothing"
    keys = "rtsp-reconnect-interval=0.2\nrtsp-reconnect-attempts=50\nrtsp-connect-timeout=1\n"
    config = write_config(tmp_path / "app.txt", media / "models", [url], source_keys=keys)
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 2
    (line,) = error_lines(done.stderr)
    assert url in line and "not connected within rtsp-connect-timeout=1 s" in line
    (stream,) = done.summary["streams"]
    assert stream["status"] == "failed" and stream["reconnects"] < 50


def test_unreachable_url_fails_after_retries_while_other_streams_finish(media: Path, tmp_path: Path) -> None:
    url = f"rtsp://127.0.0.1:{free_port()}/nothing"
    config = write_config(
        tmp_path / "app.txt", media / "models", [str(media / "clip.mp4"), url], source_keys=RETRIES,
        streammux="batch-size=2\n",
    )
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 2
    (line,) = error_lines(done.stderr)
    assert url in line and "gave up after 2 reconnect attempts" in line
    assert [s["status"] for s in done.summary["streams"]] == ["ended", "failed"]
    assert video_frames(tmp_path / "out" / "run_0.mp4")[0] == 45


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["sigint", "sigterm", "sigkill"])
def test_a_stopped_run_leaves_a_playable_video(media: Path, server: RtspServer, tmp_path: Path, how: int) -> None:
    config = write_config(tmp_path / "app.txt", media / "models", [server.url], application=PROGRESS)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "run.mp4").write_bytes(b"an older run's video")
    run = start_run(config, tmp_path)
    wait_for_frames(run, 30)  # 2 s of a live 10 s stream: at least one mp4 fragment is complete
    run.send_signal(how)
    stdout, _ = finish(run)
    if how == signal.SIGKILL:  # no chance to finalise: the partial files stay, readable, and the target is untouched
        video, jsonl = partial_path(tmp_path / "out" / "run.mp4", run.pid), partial_path(tmp_path / "out" / "events.jsonl", run.pid)
        assert (tmp_path / "out" / "run.mp4").read_bytes() == b"an older run's video"
        decoded, shape = video_frames(video)
        assert decoded > 0 and shape == (120, 160, 3)  # fragmented mp4: complete up to the last fragment
        assert all(isinstance(e, dict) for e in events(jsonl))
        text = config.read_text().replace("[application]\n", "[application]\nmax-frames=5\n")
        config.write_text(text)
        again = run_cli(["-c", str(config)], tmp_path)  # the next start says what the killed run left
        assert again.returncode == 0, again.stderr
        assert f"{video} was left by an earlier run that did not finish" in again.stderr
        assert f"{jsonl} was left by an earlier run" in again.stderr and video.exists()
        return
    # finalised on the signal: summary printed, every frame in the file, which replaced the older one
    assert run.returncode == 130
    summary = json.loads(stdout.splitlines()[-1])
    decoded, shape = video_frames(tmp_path / "out" / "run.mp4")
    assert summary["interrupted"] and decoded == summary["frames"] > 0 and shape == (120, 160, 3)
    assert all(isinstance(e, dict) for e in events(tmp_path / "out" / "events.jsonl"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["events.jsonl", "run.mp4"]
