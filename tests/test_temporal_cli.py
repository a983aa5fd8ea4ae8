"""``edgewatch train temporal`` / ``eval temporal`` / ``export temporal`` end to end on tiny models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from edgewatch.behaviour import cli
from edgewatch.errors import EdgewatchError


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

    out = tmp_path / "eval"
    args = parse("evaluate", ["--model", str(runs["transformer"] / "behaviour.pt"), "--compare",
                              str(runs["gru"] / "behaviour.onnx"), "--data", "sim:80", "--out", str(out)])
    assert cli.evaluate_main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "macro_precision", "macro_recall", "macro_f1", "per_class", "confusion_matrix"} <= set(metrics)
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
