"""``edgewatch run`` end to end on the real CPU graph: generated H.264 clips in, a playable mp4 and
JSONL events out, several sources batched, and bad input giving one error line with outputs intact."""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_fixtures import error_lines, events, gst_frames, run_cli, stand_in_models, video_frames, write_config

from edgewatch.pipeline.testvideo import write_test_video

pytestmark = pytest.mark.slow
FRAMES = 45  # 3 s at 15 fps


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Clips made by GStreamer (fragmented and classic mp4, a short one, damaged copies) and the stand-in models."""
    root = tmp_path_factory.mktemp("graph_media")
    stand_in_models(root / "models")
    write_test_video(root / "clip.mp4", seconds=3)
    write_test_video(root / "short.mp4", seconds=2, width=240, height=180)
    classic = write_test_video(root / "classic.mp4", seconds=3, fragment_ms=0).read_bytes()
    fragmented = (root / "clip.mp4").read_bytes()
    (root / "truncated_classic.mp4").write_bytes(classic[: len(classic) // 2])
    (root / "truncated.mp4").write_bytes(fragmented[: len(fragmented) // 2])
    (root / "corrupt.mp4").write_bytes(bytes(range(256)) * 64)
    return root


def test_file_run_writes_a_playable_video_events_and_the_summary(media: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "clip.mp4")])
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 0, done.stderr
    summary = done.summary
    assert summary["frames"] == FRAMES and summary["fps"] > 0
    (stream,) = summary["streams"]
    assert stream["uri"] == str(media / "clip.mp4") and stream["frames"] == FRAMES and stream["status"] == "ended"
    assert set(summary["stages"]) == {"detector", "tracker", "temporal", "events", "osd"}
    assert all({"median_ms", "p95_ms"} <= set(s) for s in summary["stages"].values())
    assert summary["tracks"] == 2  # the stand-in detector's two fixed objects
    lines = events(tmp_path / "out" / "events.jsonl")
    assert summary["events"] == len(lines) >= 2
    assert {"stream", "frame", "timestamp", "track_id", "class", "bbox", "behaviour", "score"} <= set(lines[0])
    assert video_frames(tmp_path / "out" / "run.mp4") == (FRAMES, (240, 320, 3))
    assert gst_frames(tmp_path / "out" / "run.mp4") == FRAMES


def test_batches_inferred_side_by_side_reach_the_later_stages_in_order(media: Path, tmp_path: Path) -> None:
    """Three detector inferences at once (one thread each) give the same events, video and counts as
    one at a time (one thread): the loop hands batches on in the order they left the mux."""
    runs = {}
    for parallel in (1, 3):
        folder = tmp_path / f"p{parallel}"
        folder.mkdir()
        config = write_config(folder / "app.txt", media / "models", [str(media / "clip.mp4")])
        config.write_text(config.read_text().replace(
            "[primary-gie]\n", f"[primary-gie]\nnum-threads={parallel}\nparallel-batches={parallel}\n"))
        done = run_cli(["-c", str(config)], folder)
        assert done.returncode == 0, done.stderr
        runs[parallel] = (done.summary["frames"], done.summary["stages"]["detector"]["calls"],
                          events(folder / "out" / "events.jsonl"), video_frames(folder / "out" / "run.mp4"))
    assert runs[1][0] == runs[1][1] == FRAMES
    assert runs[3] == runs[1]


def test_several_sources_are_batched_scaled_and_written_per_stream(media: Path, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "app.txt", media / "models", [str(media / "clip.mp4"), str(media / "short.mp4")],
        streammux="batch-size=2\nwidth=160\nheight=120\n",
    )
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert [s["frames"] for s in done.summary["streams"]] == [FRAMES, 30]
    assert done.summary["stages"]["detector"]["calls"] < FRAMES + 30  # both streams share inference calls
    assert {e["stream"] for e in events(tmp_path / "out" / "events.jsonl")} == {0, 1}
    assert video_frames(tmp_path / "out" / "run_0.mp4") == (FRAMES, (120, 160, 3))  # scaled to the streammux size
    assert video_frames(tmp_path / "out" / "run_1.mp4") == (30, (120, 160, 3))



@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing.mp4", "file not found"),
        ("corrupt.mp4", "corrupt.mp4: Could not determine type of stream"),
        ("truncated_classic.mp4", "truncated_classic.mp4: "),  # no index: GStreamer finds no stream
    ],
)
def test_unreadable_input_is_one_error_line(media: Path, tmp_path: Path, source: str, message: str) -> None:
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / source)])
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 2
    (line,) = error_lines(done.stderr)
    assert message in line
    assert not (tmp_path / "out" / "run.mp4").exists()  # nothing decoded: no half-made video left behind


def test_truncated_video_keeps_what_was_written_valid(media: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "truncated.mp4")])
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 2
    (line,) = error_lines(done.stderr)
    assert "truncated" in line
    decoded = done.summary["streams"][0]["frames"]
    assert 0 < decoded < FRAMES and done.summary["streams"][0]["status"] == "failed"
    assert video_frames(tmp_path / "out" / "run.mp4")[0] == decoded
    assert gst_frames(tmp_path / "out" / "run.mp4") == decoded
    assert len(events(tmp_path / "out" / "events.jsonl")) == done.summary["events"]


def test_a_failing_source_does_not_stop_the_others(media: Path, tmp_path: Path) -> None:
    sources = [str(media / "clip.mp4"), str(media / "corrupt.mp4")]
    config = write_config(tmp_path / "app.txt", media / "models", sources, streammux="batch-size=2\n")
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 2
    assert [s["status"] for s in done.summary["streams"]] == ["ended", "failed"]
    assert video_frames(tmp_path / "out" / "run_0.mp4")[0] == FRAMES


def test_empty_source_list_and_mismatched_onnx_are_one_error_line(media: Path, tmp_path: Path) -> None:
    no_sources = write_config(tmp_path / "none.txt", media / "models", [])
    done = run_cli(["-c", str(no_sources)], tmp_path)
    assert done.returncode == 2 and "no enabled [sourceN]" in error_lines(done.stderr)[0]
    config = write_config(tmp_path / "app.txt", media / "models", [str(media / "clip.mp4")])
    config.write_text(config.read_text().replace("[primary-gie]\n", "[primary-gie]\ninput-size=320,320\n"))
    done = run_cli(["-c", str(config)], tmp_path)
    assert done.returncode == 2
    (line,) = error_lines(done.stderr)
    assert "input-size" in line and done.summary is None  # refused before any source started
    assert not (tmp_path / "out").exists()
