"""The manifest beside an engine and the skip / rebuild / refuse decision it drives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from edgewatch.engines.manifest import (
    BuildSettings,
    Manifest,
    Platform,
    Profile,
    manifest_path,
    plan_build,
    read_manifest,
    sha256_of,
    write_manifest,
)
from edgewatch.errors import EdgewatchError

HERE = Platform("10.3.0", "Orin", "8.7")
SETTINGS = BuildSettings("fp16", Profile(1, 4, 4), 1024)


def built(tmp_path: Path, platform: Platform = HERE, settings: BuildSettings = SETTINGS) -> Path:
    engine = tmp_path / "detector.onnx_b4_gpu0_fp16.engine"
    engine.write_bytes(b"plan bytes")
    write_manifest(engine, Manifest("detector.onnx", "abc", sha256_of(engine), settings, platform, "{}"))
    return engine


def test_manifest_round_trips_beside_the_engine(tmp_path: Path) -> None:
    engine = built(tmp_path)
    assert manifest_path(engine).name == "detector.onnx_b4_gpu0_fp16.engine.json"
    manifest = read_manifest(engine)
    assert manifest is not None and manifest.settings == SETTINGS and manifest.platform == HERE


def test_unchanged_is_skipped(tmp_path: Path) -> None:
    assert plan_build(built(tmp_path), "abc", SETTINGS, HERE).action == "skip"


def test_missing_engine_is_built(tmp_path: Path) -> None:
    assert plan_build(tmp_path / "x.engine", "abc", SETTINGS, HERE).action == "build"


@pytest.mark.parametrize(
    ("sha", "settings", "reason"),
    [
        ("changed", SETTINGS, "the ONNX changed"),
        ("abc", dataclasses.replace(SETTINGS, profile=Profile(1, 8, 8)), "profile 1/4/4 -> 1/8/8"),
        ("abc", dataclasses.replace(SETTINGS, workspace_mb=2048), "workspace_mb 1024 -> 2048"),
    ],
)
def test_changed_is_rebuilt_saying_why(tmp_path: Path, sha: str, settings: BuildSettings, reason: str) -> None:
    plan = plan_build(built(tmp_path), sha, settings, HERE)
    assert (plan.action, plan.reason) == ("build", reason)


def test_a_replaced_engine_file_is_rebuilt(tmp_path: Path) -> None:
    engine = built(tmp_path)
    engine.write_bytes(b"another plan")
    assert plan_build(engine, "abc", SETTINGS, HERE).reason == "the engine file is not the one the manifest describes"


@pytest.mark.parametrize(
    ("other", "says"),
    [
        (Platform("10.9.0", "Orin", "8.7"), "built for TensorRT 10.3.0, this machine has 10.9.0"),
        (
            Platform("10.3.0", "RTX 4090", "8.9"),
            "built for GPU Orin (compute 8.7), this machine has RTX 4090 (compute 8.9)",
        ),
    ],
)
def test_another_gpu_or_tensorrt_is_refused_in_one_line(tmp_path: Path, other: Platform, says: str) -> None:
    plan = plan_build(built(tmp_path), "abc", SETTINGS, other)
    assert plan.action == "refuse" and says in plan.reason and "\n" not in plan.reason
    assert plan_build(built(tmp_path), "abc", SETTINGS, other, rebuild=True).action == "build"


def test_an_engine_without_manifest_is_not_overwritten_silently(tmp_path: Path) -> None:
    engine = tmp_path / "m.onnx_b1_gpu0_fp32.engine"
    engine.write_bytes(b"nvinfer's own")
    assert plan_build(engine, "abc", SETTINGS, HERE).action == "refuse"


def test_damaged_manifest_is_one_error(tmp_path: Path) -> None:
    engine = built(tmp_path)
    manifest_path(engine).write_text("{not json")
    with pytest.raises(EdgewatchError, match="unreadable engine manifest"):
        read_manifest(engine)


def test_profile_must_be_ordered() -> None:
    with pytest.raises(EdgewatchError, match="min <= opt <= max"):
        Profile(4, 2, 8)
