"""The sample-model recipe's small pieces: training venv reuse, run caching, held-out views, drawing."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgewatch.samples import fetch, student
from edgewatch.samples.cli import samples_main
from edgewatch.samples.recipe import draw_detections, held_out_view
from edgewatch.samples.student import TRAIN_REQUIREMENTS, TrainSettings, train_env_python
from edgewatch.types import Detections


def test_train_settings_key_is_stable_and_follows_the_recipe() -> None:
    assert TrainSettings().key() == TrainSettings().key()
    assert TrainSettings().key() != replace(TrainSettings(), epochs=3).key()
    assert json.loads(TrainSettings().to_json())["seed"] == 0


def test_an_up_to_date_training_venv_is_reused_without_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("")
    (tmp_path / ".edgewatch-requirements").write_text("\n".join(TRAIN_REQUIREMENTS))
    monkeypatch.setattr(student.subprocess, "run", lambda *a, **k: pytest.fail("must not run pip"))
    assert train_env_python(tmp_path) == tmp_path / "bin" / "python"


def test_a_failed_training_venv_build_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from subprocess import CompletedProcess

    from edgewatch.errors import EdgewatchError

    monkeypatch.setattr(student.subprocess, "run", lambda cmd, **k: CompletedProcess(cmd, 1))
    with pytest.raises(EdgewatchError, match="could not build the training venv") as exc:
        train_env_python(tmp_path / "venv")
    assert "\n" not in str(exc.value)


def test_a_trained_run_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEWATCH_CACHE", str(tmp_path))
    data = tmp_path / "dataset" / "abc" / "data.yaml"
    settings = TrainSettings()
    run = tmp_path / "samples" / "student" / f"abc-{settings.key()}"
    run.mkdir(parents=True)
    (run / "student.pt").write_bytes(b"weights")
    monkeypatch.setattr(student.subprocess, "run", lambda *a, **k: pytest.fail("must not train again"))
    assert student.train_student(data, settings) == run / "student.pt"


def test_held_out_view_holds_only_that_clips_frames(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    for kind, suffix in (("images", ".jpg"), ("labels", ".txt")):
        (root / kind / "val").mkdir(parents=True)
        for stem in ("vtest_00640", "vtest_00700", "street_01500"):
            (root / kind / "val" / f"{stem}{suffix}").write_text(stem)
    view = held_out_view(root / "data.yaml", "vtest", tmp_path / "view")
    assert sorted(p.name for p in (view / "images" / "val").iterdir()) == ["vtest_00640.jpg", "vtest_00700.jpg"]
    assert (view / "labels" / "val" / "vtest_00700.txt").read_text() == "vtest_00700"


def test_drawing_boxes_leaves_the_frame_untouched() -> None:
    frame = np.zeros((60, 80, 3), np.uint8)
    dets = Detections(np.array([[10, 10, 40, 50]], np.float32), np.array([0.9], np.float32), np.array([0], np.int64))
    drawn = draw_detections(frame, dets, ["person"])
    assert frame.max() == 0 and drawn.shape == frame.shape and drawn[10, 20].any()


def test_samples_command_is_a_no_op_when_the_clips_are_cached(capsys: pytest.CaptureFixture[str]) -> None:
    if not all(fetch.is_valid(fetch.asset_path(a), a) for a in fetch.CLIPS.values()):
        pytest.skip("the sample clips are not cached: run `edgewatch samples` first")
    assert samples_main(argparse.Namespace(teacher=False)) == 0
    out = capsys.readouterr().out
    assert "vtest.avi" in out and "street.mp4" in out and "sha256 ok" in out


def test_training_time_comes_from_the_runs_results(tmp_path: Path) -> None:
    from edgewatch.samples.student import training_seconds

    (tmp_path / "results.csv").write_text("epoch, time,train/box_loss\n1,115.2,4.3\n2,372.9,3.1\n")
    assert training_seconds(tmp_path / "student.pt") == 372.9
    assert training_seconds(tmp_path / "elsewhere" / "student.pt") is None


SAMPLE_MODEL = Path(__file__).resolve().parent.parent / "models" / "sample" / "detector.onnx"


def test_the_committed_sample_model_names_the_six_classes() -> None:
    from edgewatch.samples.teacher import CLASS_NAMES

    if not SAMPLE_MODEL.is_file():
        pytest.skip("models/sample/detector.onnx is not built: run `make sample-model`")
    assert (SAMPLE_MODEL.parent / "labels.txt").read_text().split() == list(CLASS_NAMES)
    report = json.loads((SAMPLE_MODEL.parent / "report.json").read_text())
    assert report["held_out"]["all"]["per_class_map50"]["person"] >= 0.6


def test_the_sample_model_boxes_the_walkers_of_a_held_out_campus_frame() -> None:
    import cv2

    from edgewatch.detect.detector import YoloDetector

    if not SAMPLE_MODEL.is_file():
        pytest.skip("models/sample/detector.onnx is not built: run `make sample-model`")
    if not fetch.is_valid(fetch.asset_path(fetch.CLIPS["vtest"]), fetch.CLIPS["vtest"]):
        pytest.skip("the vtest clip is not cached: run `edgewatch samples` first")
    capture = cv2.VideoCapture(str(fetch.sample_clip("vtest")))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 725)  # held out: never trained on
    ok, bgr = capture.read()
    assert ok
    dets = YoloDetector.from_file(SAMPLE_MODEL, conf_threshold=0.35)([cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)])[0]
    people = dets.select(dets.class_ids == 0)
    assert len(people) >= 5  # the frame shows 7 walkers
    assert ((people.boxes[:, 3] - people.boxes[:, 1]) > (people.boxes[:, 2] - people.boxes[:, 0])).all()  # upright
