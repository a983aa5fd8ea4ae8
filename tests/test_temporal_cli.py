"""``edgewatch train temporal`` / ``eval temporal`` / ``export temporal`` end to end on tiny models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from edgewatch.behaviour import cli
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT

REAL = REPO_ROOT / "data" / "real_tracks"


def parse(kind: str, argv: list[str]) -> argparse.Namespace:
    """The leaf parser exactly as ``edgewatch.cli`` builds it from this module."""
    parser = argparse.ArgumentParser()
    getattr(cli, f"{kind}_arguments")(parser)
    return parser.parse_args(argv)


TINY = ["--epochs", "2", "--d-model", "16", "--heads", "2", "--ff", "32", "--batch-size", "32"]


@pytest.mark.slow
def test_train_then_evaluate_on_simulated_tracks(tmp_path: Path) -> None:
    runs = {}
    for model in ("transformer", "gru"):
        out = tmp_path / model
        args = parse("train", ["--data", "sim:160", "--model", model, "--out", str(out), "--precisions", "fp32,int8",
                               "--save-data", str(tmp_path / "train.npz"), *TINY])
        assert cli.train_main(args) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        assert {"val_macro_f1", "test", "history", "parameters"} <= set(metrics)
        assert set(metrics["test_onnx_macro_f1"]) == {"fp32", "int8"}
        assert (out / "behaviour.pt").is_file() and (out / "behaviour_int8.onnx").is_file()
        runs[model] = out
    assert np.load(tmp_path / "train.npz")["X"].shape[0] == 160

    assert (runs["transformer"] / "rules.json").is_file() and "rules_test" in metrics

    out = tmp_path / "eval"
    real = [str(REAL / "vtest" / "test.txt"), str(REAL / "street" / "test.txt")]
    args = parse("evaluate", ["--model", str(runs["transformer"] / "behaviour.pt"), "--compare",
                              str(runs["gru"] / "behaviour.onnx"), "--data", "sim:80", "--real", *real, "--out", str(out)])
    assert cli.evaluate_main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "macro_precision", "macro_recall", "macro_f1", "per_class", "confusion_matrix"} <= set(metrics)
    assert "rules" in metrics and set(metrics["real"]) == set(real)
    for report in metrics["real"].values():
        assert set(report) == {"model", "rules"}
        assert {"raw_accuracy", "reported_accuracy", "changes_per_track_minute", "first_decision_s"} <= set(report["model"])
    assert len(metrics["confusion_matrix"]) == len(metrics["classes"]) == 11
    assert len(metrics["accuracy_by_length"]) == 2
    for png in ("confusion_matrix.png", "accuracy_by_length.png", "attention.png"):
        assert (out / png).stat().st_size > 1000


@pytest.mark.slow
def test_export_command_writes_every_precision(tmp_path: Path) -> None:
    from edgewatch.export import temporal

    assert cli.train_main(parse("train", ["--data", "sim:80", "--model", "lstm", "--out", str(tmp_path), *TINY])) == 0
    parser = argparse.ArgumentParser()
    temporal.export_arguments(parser)
    parser.add_argument("--precision", default="fp32,fp16,int8")
    parser.add_argument("--calib-method", default="minmax")
    parser.add_argument("--tensorrt-int8", action="store_true")
    parser.add_argument("--tensorrt-calib-method", default="entropy")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(["--checkpoint", str(tmp_path / "behaviour.pt"), "--calib", "sim:64",
                              "--out", str(tmp_path / "exp")])
    assert temporal.export_main(args) == 0
    assert sorted(p.name for p in (tmp_path / "exp").glob("*.onnx")) == [
        "behaviour.onnx", "behaviour_fp16.onnx", "behaviour_int8.onnx"]


def test_bad_arguments_fail_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(EdgewatchError, match="file not found"):
        cli.train_main(parse("train", ["--data", str(tmp_path / "none.npz"), "--out", str(tmp_path / "o")]))
    with pytest.raises(EdgewatchError, match="unknown precision"):
        cli.train_main(parse("train", ["--data", "sim:10", "--out", str(tmp_path / "o"), "--precisions", "int4"]))
    with pytest.raises(EdgewatchError, match="no such checkpoint"):
        cli.evaluate_main(parse("evaluate", ["--model", str(tmp_path / "m.pt"), "--data", "sim:10",
                                             "--out", str(tmp_path / "e")]))
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("data", "extra", "window"), [
    ("uea:GunPoint", ["--patch", "4"], 150),  # 150 steps: the patch does not divide it
    ("uea:JapaneseVowels", ["--patch", "3", "--window", "16"], 16),  # 7 to 29 steps: cut or padded to 16
])
def test_real_sequences_of_any_length_train_and_evaluate(tmp_path: Path, data: str, extra: list[str],
                                                        window: int) -> None:
    pytest.importorskip("sktime", reason="sktime reads the UEA .ts archives")
    out = tmp_path / "m"
    assert cli.train_main(parse("train", ["--data", data, "--out", str(out), *TINY, *extra])) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["samples"] > 0 and not (out / "rules.json").exists()  # no tracks: no rule baseline
    assert cli.evaluate_main(parse("evaluate", ["--model", str(out / "behaviour.onnx"), "--data", data,
                                                "--out", str(tmp_path / "e")])) == 0
    from edgewatch.behaviour.evaluate import load_model

    assert load_model(out / "behaviour.onnx").window == window


def test_label_tracks_then_render_pictures(tmp_path: Path) -> None:
    """The labelling helper: the pipeline's detector and tracker over a clip to MOT, then one picture a track."""
    import cv2
    from core_standins import constant_detector

    from edgewatch.track.mot import read_mot

    constant_detector(tmp_path / "det.onnx", np.array([[8, 8, 24, 56, 0.9, 0]], np.float32), names=("person", "car"))
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 64))
    for n in range(20):
        writer.write(np.full((64, 64, 3), 10 * n % 255, np.uint8))
    writer.release()
    (tmp_path / "app.txt").write_text(f"[source0]\nuri={video}\n[primary-gie]\nonnx-file=det.onnx\n")
    tracks = tmp_path / "labels" / "tracks.txt"
    assert cli.tracks_main(parse("tracks", ["--source", str(video), "--out", str(tracks),
                                            "-c", str(tmp_path / "app.txt")])) == 0
    sequence = read_mot(tracks, 1.0)
    assert sequence.frame_rate == 10.0 and sequence.size == (64, 64) and list(sequence.tracks) == [1]
    assert cli.render_main(parse("render", ["--tracks", str(tracks), "--source", str(video),
                                            "--out", str(tmp_path / "png"), "--crops", "5"])) == 0
    picture = cv2.imread(str(tmp_path / "png" / "track_1.png"))
    assert picture is not None and picture.shape[1] == 960
    with pytest.raises(EdgewatchError, match="not among the detector's classes"):
        cli.tracks_main(parse("tracks", ["--source", str(video), "--out", str(tracks), "-c", str(tmp_path / "app.txt"),
                                         "--classes", "dog"]))
