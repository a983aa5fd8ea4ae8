"""Every TensorRT call of the engine builder and runtime, checked against the real bindings of each version.

No TensorRT library runs here: ``trt_bindings`` imports each version's real binding module over
stand-in libraries (``standin_nvinfer.c``, not TensorRT), and ``trt_checked`` runs the builder's and
the runtime's real code paths against it, checking every attribute, property and call signature. This
is API verification, not hardware verification: nothing here builds or runs an engine.
"""

from __future__ import annotations

import pytest
from trt_bindings import VERSIONS, Unavailable, ensure_bindings, ensure_standin_libs, run_probe

BUILDS = (
    "build-fp32-flag",
    "build-fp16-flag",
    "build-int8-flag",
    "build-fp16-typed",
    "build-int8-typed",
    "build-fp16-dla",
    "build-int8-dla",
)


SCENARIOS = [*BUILDS, "build-fp32-dla", "runtime", "wrong-call"]


@pytest.fixture(scope="module", params=VERSIONS)
def probe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, dict]]:
    """``(version, {scenario: result})``: every scenario run once per version, in one process."""
    try:
        ensure_bindings(request.param)
        ensure_standin_libs(request.param)
    except Unavailable as exc:
        pytest.skip(f"TensorRT {request.param} bindings unavailable here: {exc}")
    return request.param, run_probe(request.param, SCENARIOS, tmp_path_factory.mktemp(f"trt-{request.param}"))


def _major(version: str) -> int:
    return int(version.split(".")[0])


@pytest.mark.parametrize("scenario", BUILDS)
def test_builder_calls_exist_in_every_version(probe: tuple[str, dict[str, dict]], scenario: str) -> None:
    version, results = probe
    result = results[scenario]
    if scenario.endswith("-typed") and _major(version) < 10:
        assert "strongly typed builds need TensorRT 10" in result["edgewatch_error"]
        return
    assert result["violations"] == [], result
    assert result.get("plan_bytes") == 1, result  # the build ran to its end (the stand-in plan is one byte)
    calls = set(result["calls"])
    assert {
        "IBuilderConfig.set_memory_pool_limit",
        "IOptimizationProfile.set_shape",
        "IBuilderConfig.add_optimization_profile",
        "IBuilderConfig.set_timing_cache",
        "Builder.build_serialized_network",
    } <= calls
    flags = {c for c in calls if c.startswith("BuilderFlag.")}
    typed = scenario.endswith("-typed") or _major(version) >= 11
    precision = scenario.split("-")[1]
    expected = (
        set() if typed else {"fp32": set(), "fp16": {"BuilderFlag.FP16"}, "int8": {"BuilderFlag.INT8"}}[precision]
    )
    if scenario.endswith("-dla"):
        expected |= {"BuilderFlag.GPU_FALLBACK"}
        assert {"IBuilderConfig.default_device_type =", "IBuilderConfig.DLA_core ="} <= calls
    assert flags == expected
    assert ("NetworkDefinitionCreationFlag.EXPLICIT_BATCH" in calls) == (_major(version) < 10)
    assert ("NetworkDefinitionCreationFlag.STRONGLY_TYPED" in calls) == typed


def test_dla_refuses_fp32_before_any_tensorrt_call(probe: tuple[str, dict[str, dict]]) -> None:
    result = probe[1]["build-fp32-dla"]
    assert "DLA runs FP16 and INT8 only" in result["edgewatch_error"]
    assert result["calls"] == []


def test_runtime_calls_exist_and_buffers_are_allocated_once(probe: tuple[str, dict[str, dict]]) -> None:
    result = probe[1]["runtime"]
    assert result["violations"] == [], result
    assert result["inputs"] == ["tracks", "mask"] and result["outputs"] == ["logits"]
    assert result["shapes"] == [[3, 9], [8, 9], [19, 9]]  # inside, at and above the profile's max (8)
    assert result["allocations_at_start"] == 3 == result["allocations_after_runs"]
    assert {
        "IExecutionContext.set_input_shape",
        "IExecutionContext.set_tensor_address",
        "IExecutionContext.execute_async_v3",
    } <= set(result["calls"])


def test_a_wrong_call_fails_the_check(probe: tuple[str, dict[str, dict]]) -> None:
    """Deliberately wrong calls: each one the version lacks is reported, and only those."""
    version, results = probe
    violations = results["wrong-call"]["violations"]
    assert "BuilderFlag has no member 'FP61'" in violations  # misspelt: wrong everywhere
    assert any(v.startswith("IBuilderConfig.set_memory_pool_limit(str, int) matches no signature") for v in violations)
    removed_in_10 = [
        "IBuilderConfig has no property 'max_workspace_size' to set",
        "Builder has no attribute 'build_engine'",
    ]
    assert all((v in violations) == (_major(version) >= 10) for v in removed_in_10)
    assert ("BuilderFlag has no member 'FP16'" in violations) == (_major(version) >= 11)
