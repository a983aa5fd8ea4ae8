"""Build one TensorRT engine from an exported ONNX, through TensorRT's Python API, per TensorRT version.

Public API: :func:`build_plan`, :func:`timing_cache_path`.

Why the API directly and not Polygraphy's loaders: the build is a dozen calls, and written out here
every one of them is checked against the real bindings of each supported TensorRT version by
``tests/test_engines_trt_api.py`` (a call a version lacks fails that test), which a loader chain
would hide. Polygraphy still serves the runtime (its CUDA wrapper) and the ONNX Runtime side of the
tests. What differs per version, as TensorRT's API documents it:

- 8.5 to 9.x: explicit-batch networks need ``NetworkDefinitionCreationFlag.EXPLICIT_BATCH``;
  10.x makes it the default (the flag is deprecated) and 11 removes it.
- 8.5 to 10.x: FP16 is ``BuilderFlag.FP16`` on the FP32 ONNX; INT8 is ``BuilderFlag.INT8`` on the
  Q/DQ ONNX (explicit quantization: the Q/DQ scales are used, no calibrator). Float layers of an INT8
  build stay FP32, as nvinfer's own INT8 mode leaves them.
- 10.x ``strongly_typed`` and 11.x always: ``NetworkDefinitionCreationFlag.STRONGLY_TYPED`` and no
  precision flags (11 has none): the ONNX's own types decide, so FP16 is built from the FP16 ONNX and
  INT8 from the Q/DQ ONNX.
- all: one optimisation profile on the batch axis (``create_optimization_profile`` / ``set_shape`` /
  ``add_optimization_profile``), the workspace through ``set_memory_pool_limit(MemoryPoolType.WORKSPACE)``
  (``max_workspace_size`` is gone since 10), a timing cache loaded and saved per TensorRT version and
  GPU, and on Jetson a DLA core with ``GPU_FALLBACK`` (DLA runs FP16/INT8 only, with a static batch).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import ModuleType

import onnx

from edgewatch.engines.manifest import BuildSettings, Platform, write_atomic
from edgewatch.errors import EdgewatchError
from edgewatch.paths import cache_dir
from edgewatch.runtime.tensorrt import tensorrt_major

log = logging.getLogger(__name__)


def timing_cache_path(platform: Platform) -> Path:
    """The timing cache for one TensorRT version and GPU model (timings mean nothing on another)."""
    key = re.sub(r"[^A-Za-z0-9.]+", "_", f"{platform.tensorrt}-{platform.gpu}-sm{platform.compute_capability}")
    return cache_dir("tensorrt") / f"timing-{key}.cache"


def _input_shapes(onnx_file: Path) -> dict[str, list[int | None]]:
    """Each graph input's shape, ``None`` where the ONNX leaves a dimension symbolic (the batch axis)."""
    graph = onnx.load(str(onnx_file), load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    return {
        i.name: [d.dim_value if d.HasField("dim_value") else None for d in i.type.tensor_type.shape.dim]
        for i in graph.input
        if i.name not in initializers
    }


def _profile_shapes(onnx_file: Path, settings: BuildSettings) -> dict[str, tuple[tuple[int, ...], ...]]:
    """min/opt/max shapes per input: the batch axis from the profile, every other axis fixed by the ONNX."""
    out = {}
    for name, shape in _input_shapes(onnx_file).items():
        if not shape or any(d is None for d in shape[1:]):
            raise EdgewatchError(f"{onnx_file}: input '{name}' {shape} has a dynamic axis besides the batch")
        if shape[0] is not None and shape[0] != settings.profile.max:
            raise EdgewatchError(
                f"{onnx_file}: input '{name}' has a fixed batch of {shape[0]}, the profile asks for "
                f"{settings.profile} (export with a dynamic batch axis)"
            )
        rest = tuple(int(d) for d in shape[1:] if d is not None)
        p = settings.profile
        out[name] = ((p.min, *rest), (p.opt, *rest), (p.max, *rest))
    return out


def _check_settings(trt: ModuleType, settings: BuildSettings) -> bool:
    """Refuse settings this TensorRT cannot honour; returns whether the network is strongly typed."""
    major = tensorrt_major(trt)
    if settings.strongly_typed and major < 10:
        raise EdgewatchError(f"strongly typed builds need TensorRT 10 or later, this is {trt.__version__}")
    if settings.dla_core is not None:
        if settings.precision == "fp32":
            raise EdgewatchError("DLA runs FP16 and INT8 only: choose fp16 or int8 for a DLA engine")
        if settings.profile.min != settings.profile.max:
            raise EdgewatchError(f"a DLA engine has a static batch; got the profile {settings.profile}")
    return settings.strongly_typed or major >= 11


def build_plan(trt: ModuleType, onnx_file: Path, settings: BuildSettings, timing_cache: Path | None = None) -> bytes:
    """Parse ``onnx_file`` and build a serialised engine (plan) with ``settings``; TensorRT errors are one line.

    ``timing_cache`` (when given) is read before the build and written back after it, so rebuilding
    after an ONNX change reuses the kernel timings of the previous build.
    """
    strongly_typed = _check_settings(trt, settings)
    shapes = _profile_shapes(onnx_file, settings)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    if tensorrt_major(trt) < 10:
        flags |= 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    if strongly_typed:
        flags |= 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_file)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EdgewatchError(f"{onnx_file}: TensorRT's ONNX parser refused it: {errors}")

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, settings.workspace_mb << 20)
    if not strongly_typed:
        if settings.precision == "fp16":
            config.set_flag(trt.BuilderFlag.FP16)
        elif settings.precision == "int8":
            config.set_flag(trt.BuilderFlag.INT8)
    if settings.dla_core is not None:
        if settings.dla_core >= builder.num_DLA_cores:
            raise EdgewatchError(f"DLA core {settings.dla_core} asked for, this device has {builder.num_DLA_cores}")
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = settings.dla_core
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    profile = builder.create_optimization_profile()
    for name, (low, opt, high) in shapes.items():
        profile.set_shape(name, low, opt, high)
    config.add_optimization_profile(profile)

    cache_bytes = timing_cache.read_bytes() if timing_cache is not None and timing_cache.is_file() else b""
    cache = config.create_timing_cache(cache_bytes)
    config.set_timing_cache(cache, False)

    log.info(
        "building %s (%s, batch %s) with TensorRT %s",
        onnx_file.name,
        settings.precision,
        settings.profile,
        trt.__version__,
    )
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise EdgewatchError(f"{onnx_file}: TensorRT could not build the engine (see its log above)")
    if timing_cache is not None:
        write_atomic(timing_cache, bytes(config.get_timing_cache().serialize()))
    return bytes(plan)
