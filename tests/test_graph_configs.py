"""The shipped app configs (configs/*.txt) load and say what the README promises; a v4l2 camera that
is not there is one error line. The configs are loaded from a copy whose model files are stand-ins,
so this runs before any model is trained or exported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from graph_fixtures import error_lines, run_cli, stand_in_models, write_config

import edgewatch.samples.fetch
from edgewatch.config import load_config
from edgewatch.paths import REPO_ROOT


@pytest.fixture
def repo_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """configs/ next to stand-in model files, and sample:// resolved without fetching anything."""
    shutil.copytree(REPO_ROOT / "configs", tmp_path / "configs")
    for model in ("models/sample/detector.onnx", "models/behaviour/behaviour.onnx"):
        (tmp_path / model).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / model).write_bytes(b"")
    clips = tmp_path / "clips"
    clips.mkdir()
    monkeypatch.setattr(edgewatch.samples.fetch, "sample_clip", lambda name: clips / f"{name}.avi")
    for name in ("vtest", "street"):
        (clips / f"{name}.avi").write_bytes(b"")
    return tmp_path


def test_demo_config_reads_the_campus_clip_into_an_mp4_and_events(repo_copy: Path) -> None:
    cfg = load_config(repo_copy / "configs" / "demo.txt", no_display=True)
    assert [s.path for s in cfg.sources] == [repo_copy / "clips" / "vtest.avi"]
    assert cfg.detector.onnx_file == repo_copy / "models" / "sample" / "detector.onnx"
    assert cfg.temporal.enable and cfg.events.enable
    assert [s.type for s in cfg.sinks] == ["file"]  # --no-display drops the window
    assert cfg.sinks[0].output_file == repo_copy / "out" / "demo.mp4"


def test_multi_config_batches_two_streams(repo_copy: Path) -> None:
    cfg = load_config(repo_copy / "configs" / "multi.txt")
    assert len(cfg.sources) == 2 and cfg.batch_size == 2


def test_rtsp_config_is_a_live_source_with_reconnects(repo_copy: Path) -> None:
    cfg = load_config(repo_copy / "configs" / "rtsp.txt")
    (source,) = cfg.sources
    assert source.kind == "rtsp" and cfg.streammux.live_source and source.rtsp_reconnect_attempts > 0


@pytest.mark.slow
def test_missing_camera_is_one_error_line(tmp_path: Path) -> None:
    stand_in_models(tmp_path / "models")
    config = write_config(tmp_path / "app.txt", tmp_path / "models", ["v4l2:///dev/video99"])
    done = run_cli(["-c", str(config), "--no-display"], tmp_path)
    assert done.returncode == 2
    (line,) = error_lines(done.stderr)
    assert "v4l2:///dev/video99" in line
