"""The real TensorRT Python bindings of each supported version, importable here (for tests/trt_checked.py).

PyPI carries the binding module of TensorRT as a small wheel per version (``tensorrt-cu12-bindings``
10.x/11.x; ``tensorrt-bindings`` 8.6.1 for the 8.x line); only the NVIDIA libraries behind it are
unreachable. :func:`ensure_bindings` downloads a wheel once into the edgewatch cache and unpacks it;
:func:`ensure_standin_libs` compiles ``standin_nvinfer.c`` (a stand-in, not TensorRT) under the
sonames the module links against; :func:`run_probe` runs the checker in a subprocess with both on
its paths (one process per version: two binding modules cannot share a process).

Versions: 8.6.1 is the nearest 8.x with published bindings (DeepStream 6.3 ships 8.5.2, which has
none: calls added in 8.6 would pass here and fail there); 10.3.0 is DeepStream 7.1's, 10.9.0.34
DeepStream 8.0's era, 10.16.1.11 DeepStream 9.x's, 11.4.0.106 the strongly-typed-only line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from edgewatch.paths import cache_dir

VERSIONS = ("8.6.1", "10.3.0", "10.9.0.34", "10.16.1.11", "11.4.0.106")
HERE = Path(__file__).resolve().parent


class Unavailable(Exception):
    """The bindings or a C compiler cannot be had here (the tests skip with this reason)."""


def _package(version: str) -> str:
    return "tensorrt-bindings" if version.startswith("8.") else "tensorrt-cu12-bindings"


def ensure_bindings(version: str) -> Path:
    """A folder holding ``tensorrt_bindings/`` of ``version`` (downloaded and unpacked once)."""
    root = cache_dir("tensorrt-bindings", version)
    if (root / "tensorrt_bindings").is_dir():
        return root
    wheels = root / "wheel"
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "-q",
        "--no-deps",
        "--only-binary",
        ":all:",
        f"{_package(version)}=={version}",
        "-d",
        str(wheels),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    found = sorted(wheels.glob("*.whl"))
    if proc.returncode != 0 or not found:
        raise Unavailable(f"cannot download {_package(version)}=={version}: {proc.stderr.strip()[-200:]}")
    staging = root / "staging"
    with zipfile.ZipFile(found[0]) as wheel:
        wheel.extractall(staging)
    os.replace(staging / "tensorrt_bindings", root / "tensorrt_bindings")
    shutil.rmtree(staging)
    return root


def ensure_standin_libs(version: str) -> Path:
    """A folder of stand-in ``libnvinfer.so.<major>`` & co. compiled from ``standin_nvinfer.c``."""
    major = version.split(".")[0]
    out = cache_dir("tensorrt-standin", major)
    source = HERE / "standin_nvinfer.c"
    names = [f"libnvinfer.so.{major}", f"libnvinfer_plugin.so.{major}", f"libnvonnxparser.so.{major}"]
    names += [f"libnvparsers.so.{major}"] if major == "8" else []
    stamp = out / "source.c"
    if stamp.is_file() and stamp.read_bytes() == source.read_bytes() and all((out / n).is_file() for n in names):
        return out
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise Unavailable("no C compiler (cc) to build the stand-in TensorRT libraries")
    for name in names:
        cmd = [compiler, "-shared", "-fPIC", f"-Wl,-soname,{name}", "-o", str(out / name), str(source)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise Unavailable(f"cc failed on the stand-in libraries: {proc.stderr.strip()[-200:]}")
    shutil.copyfile(source, stamp)
    return out


def run_probe(version: str, scenarios: list[str], work: Path) -> dict[str, dict]:
    """Run ``trt_checked.py`` for ``version`` and each of ``scenarios`` (one process); results by scenario."""
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        filter(None, [str(ensure_standin_libs(version)), env.get("LD_LIBRARY_PATH")])
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ensure_bindings(version)), str(HERE), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(HERE / "trt_checked.py"), version, ",".join(scenarios), str(work)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"probe {version} {scenarios} crashed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
