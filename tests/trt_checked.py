"""Every TensorRT call checked against the real bindings of one TensorRT version (no GPU, no libnvinfer).

Run as a script inside a process where the real binding module imports (``tests/trt_bindings.py``
sets that up: the PyPI ``tensorrt*-bindings`` wheel plus stand-in libnvinfer/libnvonnxparser that
only satisfy the dynamic linker). TensorRT's constructors then fail (no library behind them), but the
classes, enums, properties and the pybind11 signature of every method are the real ones of that
version. :class:`CheckedModule` stands in for ``import tensorrt``: constructing a class, reading or
setting an attribute, or calling a method is checked against those real classes and signatures
(argument count, keyword names, argument types), and answers with a stand-in object of the declared
return type, so the code under test runs its real path for that version. Any call the version does
not have is recorded as a violation; the script prints the violations and the calls made as JSON.

Values a stand-in object returns are plain placeholders unless a scenario gives them (an engine's
tensor names, say); a scenario's value is checked against the declared return type too.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

_PARAM = re.compile(r"^\s*(\*{0,2}\w+)\s*(?::\s*(.*?))?\s*(=\s*.*)?$")


class Violation(Exception):
    """A TensorRT call that the bindings of this version do not have or cannot take."""


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets (pybind11 defaults like ``<Severity.WARNING: 2>`` included)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def signatures(func: Any, name: str) -> list[tuple[list[tuple[str, str, bool]], str]]:
    """``[(params, return_annotation)]`` from a pybind11 docstring; params are ``(name, annotation, has_default)``."""
    doc = func.__doc__ or ""
    lines = [line.strip() for line in doc.splitlines()]
    candidates = [
        re.sub(r"^\d+\.\s*", "", line) for line in lines if re.match(rf"^(\d+\.\s*)?{re.escape(name)}\(", line)
    ]
    out = []
    for line in candidates:
        head, _, ret = line.rpartition(") -> ")
        if not head:
            continue
        inner = head[len(name) + 1 :]
        if inner.startswith("*args"):
            continue  # the overload list follows
        params = []
        for part in _split_top(inner):
            m = _PARAM.match(part)
            if m:
                params.append((m.group(1), (m.group(2) or "").strip(), m.group(3) is not None))
        out.append((params, ret.strip()))
    return out


def _class_name(annotation: str) -> str | None:
    m = re.match(r"^(?:tensorrt_bindings\.)?(?:tensorrt\.|nvinfer1::|nvonnxparser::)(\w+(?:\.\w+)?)$", annotation)
    return m.group(1) if m else None


class Checker:
    """The real module of one version, the calls seen so far, and the scenario's answers."""

    def __init__(self, real: Any, version: str, answers: dict[str, Callable[..., Any]] | None = None) -> None:
        self.real, self.version = real, version
        self.answers = answers or {}
        self.calls: list[str] = []
        self.violations: list[str] = []

    def fail(self, message: str) -> None:
        self.violations.append(message)
        raise Violation(f"TensorRT {self.version}: {message}")

    def resolve(self, dotted: str) -> Any:
        obj = self.real
        for part in dotted.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj

    # ---- types
    def accepts(self, annotation: str, value: Any) -> bool:
        a = annotation.replace("typing.", "").replace("typing_extensions.", "").replace("collections.abc.", "")
        if a in ("", "object", "Any", "capsule", "handle"):
            return True
        if a.startswith("Optional["):
            return value is None or self.accepts(a[9:-1], value)
        if a in ("int", "SupportsInt"):
            return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        if a in ("float", "SupportsFloat"):
            return isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
        if a == "bool":
            return isinstance(value, bool)
        if a == "str":
            return isinstance(value, str)
        if a in ("buffer", "Buffer"):
            return isinstance(value, (bytes, bytearray, memoryview, np.ndarray))
        if a in ("tuple", "list"):
            return isinstance(value, (tuple, list))
        seq = re.match(r"^(?:List|list|Sequence)\[(.*)\]$", a)
        if seq:
            return isinstance(value, (list, tuple)) and all(self.accepts(seq.group(1), v) for v in value)
        cls_name = _class_name(a)
        if cls_name is not None:
            cls = self.resolve(cls_name)
            if isinstance(value, Instance):
                return cls is not None and issubclass(value.cls, cls)
            if cls is not None and isinstance(value, cls):
                return True
            if cls_name.startswith("Dims"):  # pybind11 converts a tuple/list of ints to Dims implicitly
                return isinstance(value, (tuple, list)) and all(self.accepts("int", v) for v in value)
            return False
        return True  # an annotation this checker does not model: not held against the call

    def stand_in(self, annotation: str, key: str, args: tuple[Any, ...]) -> Any:
        """The value a call returns: the scenario's answer (type-checked), else a placeholder."""
        if key in self.answers:
            value = self.answers[key](*args)
            if not self.accepts(annotation, value):
                raise AssertionError(f"scenario answer for {key} is {value!r}, not a {annotation}")
            return value
        a = annotation.replace("typing.", "")
        if a == "None":
            return None
        if a == "bool":
            return True
        if a in ("int", "SupportsInt"):
            return 1
        if a == "str":
            return "tensor"
        cls_name = _class_name(a)
        if cls_name == "IHostMemory":
            return b"\0"  # a serialised plan or timing cache: IHostMemory supports the buffer protocol
        cls = self.resolve(cls_name) if cls_name else None
        if cls is not None and hasattr(cls, "__members__"):
            return next(iter(cls.__members__.values()))
        if cls is not None:
            return Instance(self, cls)
        return Opaque(annotation)

    # ---- calls
    def call(self, owner: str, name: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], bound: bool) -> Any:
        label = f"{owner}.{name}"
        self.calls.append(label)
        sigs = signatures(func, name)
        if not sigs:
            self.fail(f"{label}: no signature in the bindings' docstring")
        for params, ret in sigs:
            params = params[1:] if bound or name == "__init__" else params
            if self._binds(params, args, kwargs):
                return self.stand_in(ret, label, (*args, *kwargs.values()))
        shown = " | ".join(
            f"({', '.join(f'{p}: {a}' for p, a, _ in ps[1 if bound or name == '__init__' else 0 :])})" for ps, _ in sigs
        )
        self.fail(f"{label}{_show(args, kwargs)} matches no signature: {shown}")

    def _binds(self, params: list[tuple[str, str, bool]], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        if len(args) > len(params):
            return False
        given = dict(zip([p for p, _, _ in params], args))
        for key, value in kwargs.items():
            if key in given or key not in [p for p, _, _ in params]:
                return False
            given[key] = value
        for pname, annotation, has_default in params:
            if pname not in given:
                if not has_default:
                    return False
            elif not self.accepts(annotation, given[pname]):
                return False
        return True


def _show(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    items = [type(a).__name__ if not isinstance(a, Instance) else a.cls.__name__ for a in args]
    items += [f"{k}={type(v).__name__}" for k, v in kwargs.items()]
    return f"({', '.join(items)})"


class Opaque:
    """A returned object of a type the module does not export (``IParserError``); only ``str()`` is used."""

    def __init__(self, annotation: str) -> None:
        self.annotation = annotation

    def __str__(self) -> str:
        return f"<{self.annotation}>"


class Instance:
    """A stand-in object of a real TensorRT class: every attribute read, write and call is checked."""

    def __init__(self, checker: Checker, cls: type) -> None:
        object.__setattr__(self, "_checker", checker)
        object.__setattr__(self, "cls", cls)

    def __getattr__(self, name: str) -> Any:
        checker: Checker = object.__getattribute__(self, "_checker")
        cls = object.__getattribute__(self, "cls")
        attr = getattr(cls, name, None)
        if attr is None:
            checker.fail(f"{cls.__name__} has no attribute '{name}'")
        if isinstance(attr, property):
            checker.calls.append(f"{cls.__name__}.{name}")
            ret = (attr.fget.__doc__ or "").strip().splitlines()[0].rpartition("-> ")[2] if attr.fget else ""
            return checker.stand_in(ret, f"{cls.__name__}.{name}", ())
        if callable(attr):
            return lambda *a, **k: checker.call(cls.__name__, name, attr, a, k, bound=True)
        return attr

    def __setattr__(self, name: str, value: Any) -> None:
        checker: Checker = object.__getattribute__(self, "_checker")
        cls = object.__getattribute__(self, "cls")
        attr = getattr(cls, name, None)
        checker.calls.append(f"{cls.__name__}.{name} =")
        if not isinstance(attr, property):
            checker.fail(f"{cls.__name__} has no property '{name}' to set")
        if attr.fset is None:
            checker.fail(f"{cls.__name__}.{name} is read-only")
        setter = (attr.fset.__doc__ or "").strip().splitlines()[0]
        params = _split_top(setter[setter.index("(") + 1 : setter.rindex(") ->")])
        annotation = params[1].split(":", 1)[1].strip() if len(params) > 1 else ""
        if not checker.accepts(annotation, value):
            checker.fail(f"{cls.__name__}.{name} = {type(value).__name__}: the setter takes {annotation}")


class CheckedClass:
    """A real TensorRT class behind ``trt.X``: calling it checks ``__init__`` and yields an :class:`Instance`."""

    def __init__(self, checker: Checker, cls: type) -> None:
        self._checker, self._cls = checker, cls

    def __call__(self, *args: Any, **kwargs: Any) -> Instance:
        self._checker.call(self._cls.__name__, "__init__", self._cls.__init__, args, kwargs, bound=False)
        return Instance(self._checker, self._cls)

    def __getattr__(self, name: str) -> Any:  # nested enums and class-level constants: the real ones
        value = getattr(self._cls, name, None)
        if value is None:
            self._checker.fail(f"{self._cls.__name__} has no attribute '{name}'")
        return value


class CheckedEnum:
    """A real TensorRT enum behind ``trt.X``: a member the version lacks is a violation, the others are real."""

    def __init__(self, checker: Checker, enum: type) -> None:
        self._checker, self._enum = checker, enum

    def __getattr__(self, name: str) -> Any:
        self._checker.calls.append(f"{self._enum.__name__}.{name}")
        if name not in self._enum.__members__:  # type: ignore[attr-defined]
            self._checker.fail(f"{self._enum.__name__} has no member '{name}'")
        return getattr(self._enum, name)


class CheckedModule:
    """What ``import tensorrt`` gives the code under test."""

    def __init__(self, checker: Checker) -> None:
        self._checker = checker
        self.__version__ = checker.version

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._checker.real, name, None)
        if value is None:
            self._checker.fail(f"the module has no attribute '{name}'")
        if isinstance(value, type):
            return (CheckedEnum if hasattr(value, "__members__") else CheckedClass)(self._checker, value)
        if callable(value) and not isinstance(value, type):
            return lambda *a, **k: self._checker.call("tensorrt", name, value, a, k, bound=False)
        return value


# ------------------------------------------------------------------ the probe (run as a script)


def _engine_answers(checker: Checker, io: list[tuple[str, str, tuple[int, ...], tuple[int, int, int]]]) -> dict:
    """Scenario answers describing a built engine: ``io`` = (name, INPUT|OUTPUT, shape, (min, opt, max))."""
    trt = checker.real
    by_name = {n: (mode, shape, prof) for n, mode, shape, prof in io}
    current: dict[str, tuple[int, ...]] = {}

    def profile(name: str, index: int) -> list[Any]:
        _, shape, (low, opt, high) = by_name[name]
        return [trt.Dims([b, *shape[1:]]) for b in (low, opt, high)]

    def set_input_shape(name: str, shape: Any) -> bool:
        current["batch"] = int(tuple(shape)[0])
        return True

    def context_shape(name: str) -> Any:
        return trt.Dims([current.get("batch", 1), *by_name[name][1][1:]])

    return {
        "ICudaEngine.num_io_tensors": lambda: len(io),
        "ICudaEngine.get_tensor_name": lambda i: io[i][0],
        "ICudaEngine.get_tensor_mode": lambda n: getattr(trt.TensorIOMode, by_name[n][0]),
        "ICudaEngine.get_tensor_dtype": lambda n: trt.DataType.FLOAT,
        "ICudaEngine.get_tensor_shape": lambda n: trt.Dims([-1, *by_name[n][1][1:]]),
        "ICudaEngine.get_tensor_profile_shape": profile,
        "IExecutionContext.set_input_shape": set_input_shape,
        "IExecutionContext.get_tensor_shape": context_shape,
        "Builder.num_DLA_cores": lambda: 2,
    }


class StandinCuda:
    """Stand-in for Polygraphy's CUDA wrapper (no GPU here): host memory, counting allocations."""

    def __init__(self) -> None:
        self.allocations = 0
        standin = self

        class DeviceArray:
            def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
                standin.allocations += 1
                self.dtype, self.shape = np.dtype(dtype), shape
                self.capacity = int(np.prod(shape))
                self.ptr = 4096 * standin.allocations

            def resize(self, shape: tuple[int, ...]) -> DeviceArray:
                if int(np.prod(shape)) > self.capacity:
                    standin.allocations += 1
                    self.capacity = int(np.prod(shape))
                self.shape = shape
                return self

            def copy_from(self, host: np.ndarray, stream: Any) -> None:
                assert host.flags.c_contiguous and host.size <= self.capacity and host.dtype == self.dtype

            def copy_to(self, host: np.ndarray, stream: Any) -> None:
                assert host.size >= int(np.prod(self.shape))
                host.fill(0)

        class Stream:
            ptr = 1

            def synchronize(self) -> None:
                pass

        class Wrapper:
            class handle:  # noqa: N801  (the attribute name Polygraphy uses)
                @staticmethod
                def cudaSetDevice(device: int) -> int:  # noqa: N802
                    return 0

            @staticmethod
            def check(status: int) -> None:
                assert status == 0

        self.DeviceArray, self.Stream = DeviceArray, Stream
        self.wrapper = lambda: Wrapper


def _probe(version: str, scenario: str, work: Path) -> dict[str, Any]:
    """Run one path of edgewatch's TensorRT code against the checked module of ``version``."""
    real = importlib.import_module("tensorrt_bindings.tensorrt")
    checker = Checker(real, version)
    sys.modules["tensorrt"] = CheckedModule(checker)  # type: ignore[assignment]
    from core_standins import constant_detector

    from edgewatch.engines.build import build_plan
    from edgewatch.engines.manifest import BuildSettings, Platform, Profile
    from edgewatch.errors import EdgewatchError

    trt = sys.modules["tensorrt"]
    result: dict[str, Any] = {}
    try:
        if scenario.startswith("build-"):
            _, precision, mode = scenario.split("-")
            onnx_file = constant_detector(work / "m.onnx", np.zeros((4, 6), np.float32))
            dla = 0 if mode == "dla" else None
            profile = Profile(4, 4, 4) if dla is not None else Profile(1, 4, 8)
            settings = BuildSettings(precision, profile, 256, dla, mode == "typed")
            checker.answers = _engine_answers(checker, [])
            plan = build_plan(trt, onnx_file, settings, work / "timing.cache")  # type: ignore[arg-type]
            result["plan_bytes"] = len(plan)
        elif scenario == "runtime":
            from edgewatch.engines import manifest as mf
            from edgewatch.runtime import tensorrt as rt

            engine = work / "m.onnx_b8_gpu0_fp16.engine"
            engine.write_bytes(b"plan")
            platform = Platform(version, "stand-in GPU", "8.7")
            mf.write_manifest(
                engine,
                mf.Manifest(
                    "m.onnx", "0", mf.sha256_of(engine), BuildSettings("fp16", Profile(1, 4, 8), 256), platform, ""
                ),
            )
            cuda = StandinCuda()
            rt._cuda_api = lambda: cuda
            rt.this_platform = lambda trt, device=0: platform
            checker.answers = _engine_answers(
                checker,
                [
                    ("tracks", "INPUT", (8, 32, 17), (1, 4, 8)),
                    ("mask", "INPUT", (8, 32), (1, 4, 8)),
                    ("logits", "OUTPUT", (8, 9), (1, 4, 8)),
                ],
            )
            session = rt.TensorRTSession(engine)
            allocated = cuda.allocations
            shapes = []
            for n in (3, 8, 19):  # inside the profile, at its max, above it (chunks of 8)
                out = session.run(np.zeros((n, 32, 17), np.float32), np.ones((n, 32), np.float32))
                shapes.append(list(out[0].shape))
            result.update(
                inputs=session.input_names,
                outputs=session.output_names,
                shapes=shapes,
                allocations_at_start=allocated,
                allocations_after_runs=cuda.allocations,
            )
        elif scenario == "wrong-call":  # deliberately wrong calls, each recorded
            builder = trt.Builder(trt.Logger(trt.Logger.WARNING))
            config = builder.create_builder_config()
            for attempt in (
                lambda: config.set_flag(trt.BuilderFlag.FP61),  # misspelt: wrong in every version
                lambda: config.set_memory_pool_limit("workspace", 1 << 30),  # wrong argument type
                lambda: setattr(config, "max_workspace_size", 1 << 30),  # removed in 10
                lambda: builder.build_engine(builder.create_network(0), config),  # removed in 10
                lambda: config.set_flag(trt.BuilderFlag.FP16),
            ):  # removed in 11
                try:
                    attempt()
                except Violation:
                    pass  # recorded; the next wrong call is tried too
        else:
            raise SystemExit(f"unknown scenario {scenario}")
    except Violation:
        pass
    except EdgewatchError as exc:
        result["edgewatch_error"] = str(exc)
    result.update(version=version, violations=checker.violations, calls=sorted(set(checker.calls)))
    return result


if __name__ == "__main__":  # trt_checked.py VERSION SCENARIO[,SCENARIO...] WORK_DIR
    work = Path(sys.argv[3])
    results = {}
    for name in sys.argv[2].split(","):
        (work / name).mkdir(parents=True, exist_ok=True)
        results[name] = _probe(sys.argv[1], name, work / name)
    print(json.dumps(results))
