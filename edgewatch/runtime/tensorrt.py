"""TensorRT implementation of :class:`~edgewatch.runtime.session.ModelSession`: an engine built by ``make engines``.

Public API: ``TensorRTSession(engine, device=0)`` (``.path``, ``.metadata``, ``.input_names``,
``.output_names``, ``.input_shape``, ``.output_shape``, ``.run(*arrays)``, ``.profile`` (min, max batch),
``.shapes`` (every tensor's shape, ``"batch"`` on the dynamic axis));
:func:`load_tensorrt`, :func:`this_platform`, :func:`batch_plan`.

The same small contract as :class:`~edgewatch.runtime.onnx.OnnxSession`, so the detector, the
behaviour model, the DeepStream probe and the benchmarks run an engine without knowing it is one.
TensorRT is imported lazily (this module imports anywhere); CUDA goes through Polygraphy's CUDA
wrapper (ctypes over libcudart: no pycuda build). The engine's device buffers are allocated once, at
the profile's largest batch, bound once, and reused by every call on one CUDA stream; a batch larger
than the profile runs in chunks, one smaller than its minimum (a DLA engine's static batch) is padded.

The engine is refused, in one line, when its manifest is missing or when it was built for another
TensorRT version or GPU (a deserialised engine from another GPU fails in obscure ways, if at all).

TensorRT calls used here exist from TensorRT 8.5 on (named-tensor API: ``num_io_tensors``,
``set_input_shape``, ``set_tensor_address``, ``execute_async_v3``) and are checked against the real
bindings of each supported version by ``tests/test_engines_trt_api.py``.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from edgewatch.engines.manifest import Platform, platform_mismatch, read_manifest
from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata
from edgewatch.runtime.session import Shape

# TensorRT DataType names -> NumPy (our graphs keep float32 I/O; the rest is for a user's own engine)
_NUMPY = {
    "FLOAT": np.float32,
    "HALF": np.float16,
    "INT8": np.int8,
    "INT32": np.int32,
    "INT64": np.int64,
    "BOOL": np.bool_,
    "UINT8": np.uint8,
}
_CU_COMPUTE_MAJOR, _CU_COMPUTE_MINOR = 75, 76  # CUdevice_attribute values (stable since CUDA 1.x)


def load_tensorrt() -> ModuleType:
    """``import tensorrt``, or one EdgewatchError line saying where engines can be built and run."""
    try:
        import tensorrt
    except (ImportError, OSError) as exc:  # OSError: the Python package is there but libnvinfer is not
        raise EdgewatchError(
            f"TensorRT is not available here ({exc.__class__.__name__}: {exc}); engines are built and run on "
            "the Jetson or dGPU host (JetPack / the TensorRT Python wheel)"
        ) from None
    return tensorrt


def tensorrt_major(trt: ModuleType) -> int:
    """The major version of the imported TensorRT (8, 10, 11...)."""
    return int(str(trt.__version__).split(".")[0])


def gpu_identity(device: int = 0) -> tuple[str, str]:
    """``(name, "major.minor")`` of a CUDA device, through the CUDA driver API (its oldest, stablest calls)."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError as exc:
        raise EdgewatchError(f"no CUDA driver here ({exc}); TensorRT engines need an NVIDIA GPU") from None

    def check(status: int, what: str) -> None:
        if status != 0:
            raise EdgewatchError(f"CUDA {what} failed (CUresult {status}) for device {device}")

    handle, major, minor = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    name = ctypes.create_string_buffer(256)
    check(cuda.cuInit(0), "cuInit")
    check(cuda.cuDeviceGet(ctypes.byref(handle), device), "cuDeviceGet")
    check(cuda.cuDeviceGetName(name, len(name), handle), "cuDeviceGetName")
    check(cuda.cuDeviceGetAttribute(ctypes.byref(major), _CU_COMPUTE_MAJOR, handle), "cuDeviceGetAttribute")
    check(cuda.cuDeviceGetAttribute(ctypes.byref(minor), _CU_COMPUTE_MINOR, handle), "cuDeviceGetAttribute")
    return name.value.decode(errors="replace"), f"{major.value}.{minor.value}"


def this_platform(trt: ModuleType, device: int = 0) -> Platform:
    """The platform an engine built or run here is tied to."""
    gpu, capability = gpu_identity(device)
    return Platform(str(trt.__version__), gpu, capability)


def _cuda_api() -> Any:
    """Polygraphy's CUDA wrapper (``DeviceArray``, ``Stream``, ``wrapper()``); imported on first use."""
    try:
        from polygraphy import cuda
    except ImportError as exc:
        raise EdgewatchError(
            f"the TensorRT runtime needs Polygraphy's CUDA wrapper: pip install 'edgewatch[nvidia]' ({exc})"
        ) from None
    return cuda


def batch_plan(n: int, min_batch: int, max_batch: int) -> list[tuple[int, int, int]]:
    """How ``n`` samples run within a ``[min_batch, max_batch]`` profile: ``(start, stop, run_batch)`` chunks.

    Chunks hold at most ``max_batch`` samples; a chunk below ``min_batch`` runs padded to it.
    """
    if n < 0 or not 1 <= min_batch <= max_batch:
        raise ValueError(f"bad batch plan request: n={n}, profile {min_batch}..{max_batch}")
    return [(s, min(s + max_batch, n), max(min(s + max_batch, n) - s, min_batch)) for s in range(0, n, max_batch)]


def _shape(dims: Any) -> Shape:
    return [d if d >= 0 else "batch" for d in (int(v) for v in dims)]


class TensorRTSession:
    """One deserialised engine, its execution context, its reused buffers and its CUDA stream."""

    def __init__(self, engine: str | Path, device: int = 0) -> None:
        self.path = Path(engine)
        if not self.path.is_file():
            raise EdgewatchError(f"{self.path}: no such engine file (build it with `make engines`)")
        manifest = read_manifest(self.path)
        if manifest is None:
            raise EdgewatchError(f"{self.path}: no manifest beside the engine; build it with `make engines`")
        trt = load_tensorrt()
        mismatch = platform_mismatch(manifest.platform, this_platform(trt, device))
        if mismatch:
            raise EdgewatchError(f"{self.path}: built for {mismatch}; rebuild it with `make engines`")
        self.metadata = ModelMetadata.from_json(manifest.metadata) if manifest.metadata else ModelMetadata()
        self._cuda = cuda = _cuda_api()
        cuda.wrapper().check(cuda.wrapper().handle.cudaSetDevice(device))
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self._engine = self._runtime.deserialize_cuda_engine(self.path.read_bytes())
        if self._engine is None:
            raise EdgewatchError(f"{self.path}: TensorRT could not deserialise this engine (see its log above)")
        self._context = self._engine.create_execution_context()
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        inputs = [n for n in names if self._engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self.input_names, self.output_names = inputs, [n for n in names if n not in inputs]
        self._dtypes = {n: _NUMPY[self._engine.get_tensor_dtype(n).name] for n in names}
        self.shapes = {n: _shape(self._engine.get_tensor_shape(n)) for n in names}
        low, _, high = self._engine.get_tensor_profile_shape(inputs[0], 0)
        self.profile = (int(low[0]), int(high[0]))
        self._buffers: dict[str, Any] = {}
        for name in inputs:  # every input at the profile's largest shape, then the outputs that implies
            shape = tuple(int(d) for d in self._engine.get_tensor_profile_shape(name, 0)[2])
            self._context.set_input_shape(name, shape)
            self._buffers[name] = cuda.DeviceArray(shape, self._dtypes[name])
        for name in self.output_names:
            shape = tuple(int(d) for d in self._context.get_tensor_shape(name))
            self._buffers[name] = cuda.DeviceArray(shape, self._dtypes[name])
        for name, buffer in self._buffers.items():  # bound once: resize() never moves a smaller view
            self._context.set_tensor_address(name, buffer.ptr)
        self._stream = cuda.Stream()

    @property
    def input_shape(self) -> Shape:
        return list(self.shapes[self.input_names[0]])

    @property
    def output_shape(self) -> Shape:
        return list(self.shapes[self.output_names[0]])

    def run(self, *arrays: np.ndarray) -> list[np.ndarray]:
        if len(arrays) != len(self.input_names):
            raise EdgewatchError(f"{self.path}: expects {len(self.input_names)} inputs, got {len(arrays)}")
        if len(arrays[0]) == 0:
            return [np.zeros((0, *(int(d) for d in self.shapes[n][1:])), np.float32) for n in self.output_names]
        chunks: list[list[np.ndarray]] = []
        for start, stop, batch in batch_plan(len(arrays[0]), *self.profile):
            for name, array in zip(self.input_names, arrays, strict=True):
                part = np.ascontiguousarray(array[start:stop], dtype=self._dtypes[name])
                if batch > len(part):
                    part = np.concatenate([part, np.zeros((batch - len(part), *part.shape[1:]), part.dtype)])
                self._context.set_input_shape(name, part.shape)
                self._buffers[name].resize(part.shape).copy_from(part, self._stream)
            if not self._context.execute_async_v3(self._stream.ptr):
                raise EdgewatchError(f"{self.path}: TensorRT execution failed (see its log above)")
            hosts = []
            for name in self.output_names:
                shape = tuple(int(d) for d in self._context.get_tensor_shape(name))
                host = np.empty(shape, self._dtypes[name])
                self._buffers[name].resize(shape).copy_to(host, self._stream)
                hosts.append(host)
            self._stream.synchronize()
            chunks.append([h[: stop - start] for h in hosts])
        return [np.concatenate(parts).astype(np.float32, copy=False) for parts in zip(*chunks, strict=True)]
