"""Which engines a config asks for, from which ONNX, under which file name; the engine runtime's batch plan."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from core_standins import constant_detector

from edgewatch.config import load_config
from edgewatch.engines.jobs import engine_for, engine_jobs, model_family, source_onnx
from edgewatch.engines.manifest import Profile
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT
from edgewatch.runtime.tensorrt import batch_plan

MODELS = (
    "detector.onnx",
    "detector_fp16.onnx",
    "detector_int8.onnx",
    "detector_int8_trt.onnx",
    "behaviour.onnx",
    "behaviour_fp16.onnx",
    "behaviour_int8.onnx",
    "behaviour_int8_trt.onnx",
)


def config(tmp_path: Path, engines: str = "", batch: int = 2, temporal: bool = True) -> Path:
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    for name in MODELS:
        (models / name).write_bytes(b"onnx")  # jobs only name files; the detector's metadata is read
    constant_detector(models / "detector.onnx", np.zeros((4, 6), np.float32))
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    text = f"""
[source0]
uri={clip}
[streammux]
batch-size={batch}
[primary-gie]
onnx-file=models/detector.onnx
[temporal]
enable={int(temporal)}
onnx-file=models/behaviour.onnx
[engines]
{engines}
"""
    path = tmp_path / "app.txt"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("precision", "major", "typed", "expected"),
    [
        ("fp32", 10, False, "m.onnx"),
        ("fp16", 10, False, "m.onnx"),  # FP16 from the builder flag
        ("fp16", 10, True, "m_fp16.onnx"),  # strongly typed: from the FP16 ONNX
        ("fp16", 11, False, "m_fp16.onnx"),  # 11 is strongly typed only
        ("int8", 8, False, "m_int8.onnx"),  # 8.5's parser stops at opset 17: the ONNX Runtime placement
        ("int8", 10, False, "m_int8_trt.onnx"),  # ModelOpt's placement
        ("int8", 11, True, "m_int8_trt.onnx"),
    ],
)
def test_source_onnx_per_precision_and_version(precision: str, major: int, typed: bool, expected: str) -> None:
    for given in ("m.onnx", "m_int8.onnx", "m_fp16.onnx", "m_int8_trt.onnx"):
        assert source_onnx(Path("x") / given, precision, major, typed) == Path("x") / expected


def test_model_family() -> None:
    assert model_family(Path("a/detector_int8_trt.onnx")) == (Path("a"), "detector")


def test_jobs_follow_the_config(tmp_path: Path) -> None:
    cfg = load_config(config(tmp_path, "precisions=fp16,int8\ntemporal-max-batch=32\ntemporal-opt-batch=8"))
    jobs = engine_jobs(cfg, 10)
    assert [(j.kind, j.settings.precision) for j in jobs] == [
        ("detector", "fp16"),
        ("detector", "int8"),
        ("temporal", "fp16"),
        ("temporal", "int8"),
    ]
    detector = jobs[1]
    assert detector.engine.name == "detector_int8_trt.onnx_b2_gpu0_int8.engine"  # nvinfer's name, batch-size 2
    assert detector.settings.profile == Profile(1, 2, 2)  # nvinfer's own profile
    assert jobs[2].settings.profile == Profile(1, 8, 32)
    assert jobs[2].engine.name == "behaviour.onnx_b32_gpu0_fp16.engine"


def test_default_precision_is_the_pipelines(tmp_path: Path) -> None:
    path = config(tmp_path, temporal=False)
    jobs = engine_jobs(load_config(path), 10)
    assert [(j.kind, j.settings.precision) for j in jobs] == [("detector", "fp32")]  # the ONNX metadata's
    constant_detector(tmp_path / "models" / "detector.onnx", np.zeros((4, 6), np.float32), precision="fp16")
    assert engine_for(load_config(path), "detector", 10).engine.name == "detector.onnx_b2_gpu0_fp16.engine"
    with pytest.raises(EdgewatchError, match="no temporal model"):
        engine_for(load_config(path), "temporal", 10)


def test_dla_jobs_are_static_and_named_by_core(tmp_path: Path) -> None:
    jobs = engine_jobs(load_config(config(tmp_path, "precisions=fp16\ndla-core=1")), 10)
    assert jobs[0].settings.profile == Profile(2, 2, 2) and jobs[0].settings.dla_core == 1
    assert jobs[0].engine.name == "detector.onnx_b2_dla1_fp16.engine"


def test_missing_sources_are_one_error(tmp_path: Path) -> None:
    path = config(tmp_path, "precisions=int8")
    (tmp_path / "models" / "detector_int8_trt.onnx").unlink()
    with pytest.raises(EdgewatchError, match=r"missing: .*detector_int8_trt.onnx \(export with --tensorrt-int8\)"):
        engine_jobs(load_config(path), 10)


@pytest.mark.parametrize(
    ("key", "value"), [("precisions", "int4"), ("workspace-mb", "0"), ("dla-core", "-2"), ("temporal-opt-batch", "100")]
)
def test_bad_engine_keys_are_one_line(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(EdgewatchError, match=r"\[engines\] key"):
        load_config(config(tmp_path, f"{key}={value}"))


def test_the_demo_config_asks_for_the_sample_detector_and_behaviour_engines(tmp_path: Path) -> None:
    demo = tmp_path / "configs"
    shutil.copytree(REPO_ROOT / "configs", demo)
    (tmp_path / "models").symlink_to(REPO_ROOT / "models")
    jobs = engine_jobs(load_config(demo / "demo.txt"), 10)
    assert [j.engine.name for j in jobs] == ["detector.onnx_b1_gpu0_fp32.engine", "behaviour.onnx_b64_gpu0_fp32.engine"]


@pytest.mark.parametrize(
    ("n", "low", "high", "plan"),
    [
        (3, 1, 8, [(0, 3, 3)]),
        (8, 1, 8, [(0, 8, 8)]),
        (19, 1, 8, [(0, 8, 8), (8, 16, 8), (16, 19, 3)]),
        (3, 4, 4, [(0, 3, 4)]),  # a static (DLA) batch: padded
        (0, 1, 8, []),
    ],
)
def test_batch_plan(n: int, low: int, high: int, plan: list[tuple[int, int, int]]) -> None:
    assert batch_plan(n, low, high) == plan
