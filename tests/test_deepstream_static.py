"""Static checks of the NVIDIA adapters, the ones that run without NVIDIA hardware:

- ``mypy --strict`` of the pyds adapter against NVIDIA's pyds API as pyds-stubs types it (1.2.0 =
  DeepStream 7.1, 1.2.2 = DeepStream 8.0), and of the pyservicemaker adapter against edgewatch's
  transcription of NVIDIA's pyservicemaker reference (tests/stubs: a stand-in, not NVIDIA's);
- proof that the checks bite: the same adapters with planted mistakes fail, each mistake reported;
- the C++ bbox parser compiled against a stand-in of DeepStream's header, and its row decoding compared
  with the Python decoder on the same tensor.

What this cannot show: that the real bindings behave as typed (``cast`` does not check the capsule;
``user_meta_data`` is Any), or that DeepStream's real header compiles the parser. Those need a Jetson.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgewatch.detect.decode import decode
from edgewatch.detect.nms import batched_nms
from edgewatch.paths import REPO_ROOT

STUBS = Path(os.environ.get("EDGEWATCH_CACHE") or Path.home() / ".cache" / "edgewatch") / "deepstream-stubs"
ADAPTERS = REPO_ROOT / "pipeline" / "deepstream"
PARSER = ADAPTERS / "parser"
STANDIN_HEADERS = REPO_ROOT / "tests" / "standins"
SERVICEMAKER_STUBS = REPO_ROOT / "tests" / "stubs"


def source_tree(tmp_path: Path, replace: dict[str, str] | None = None) -> Path:
    """The package as it installs (edgewatch/, edgewatch/pipeline, ...), for MYPYPATH: the editable install's
    import hook is invisible to mypy. ``replace`` swaps the text of files (path relative to pipeline/)."""
    root = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.so")
    shutil.copytree(REPO_ROOT / "edgewatch", root / "edgewatch", ignore=ignore)
    for sub in ("pipeline", "engines", "export"):
        shutil.copytree(REPO_ROOT / sub, root / "edgewatch" / sub, ignore=ignore)
    for rel, text in (replace or {}).items():
        (root / "edgewatch" / "pipeline" / rel).write_text(text)
    return root


def mypy(module: str, stubs: Path, tree: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MYPYPATH=f"{stubs}{os.pathsep}{tree}")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
         "--config-file", str(REPO_ROOT / "pyproject.toml"), "-m", module],
        capture_output=True, text=True, env=env, cwd=tree, timeout=300,
    )


def pyds_stubs(version: str) -> Path:
    folder = STUBS / f"ds{version}" / "mypypath"
    if not (folder / "pyds").is_dir():
        pytest.skip(f"pyds-stubs for DeepStream {version} are not installed (make stubs installs them)")
    return folder


@pytest.mark.parametrize("version", ["7.1", "8.0"])
def test_pyds_adapter_passes_mypy_strict_against_pyds_stubs(tmp_path: Path, version: str) -> None:
    result = mypy("edgewatch.pipeline.deepstream.pyds_probe", pyds_stubs(version), source_tree(tmp_path))
    assert result.returncode == 0, result.stdout


def test_mypy_bites_on_a_broken_pyds_adapter(tmp_path: Path) -> None:
    text = (ADAPTERS / "pyds_probe.py").read_text()
    planted = {
        "frame_meta.frame_num,": "frame_meta.frame_number,",  # a field that does not exist
        "gst_buffer_get_nvds_batch_meta(hash(buffer))": "gst_buffer_get_nvds_batch_meta(buffer)",  # the buffer, not its address
        "label.result_prob = behaviour.score": "label.result_prob = behaviour.label",  # a str into a float
        "pyds.nvds_add_display_meta_to_frame(frame_meta, display)": "pyds.nvds_add_display_meta_to_frame(display, frame_meta)",
    }
    for good, bad in planted.items():
        assert good in text, good
        text = text.replace(good, bad)
    result = mypy("edgewatch.pipeline.deepstream.pyds_probe", pyds_stubs("7.1"),
                  source_tree(tmp_path, {"deepstream/pyds_probe.py": text}))
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if "pyds_probe.py" in line and ": error:" in line]
    for needle in ('"frame_number"', 'type "Buffer"; expected "int"', 'expression has type "str", variable has type "float"',
                   '"nvds_add_display_meta_to_frame" has incompatible type "NvDsDisplayMeta"'):
        assert any(needle in e for e in errors), (needle, result.stdout)


def test_servicemaker_adapter_against_the_transcribed_reference_and_the_check_bites(tmp_path: Path) -> None:
    good = mypy("edgewatch.pipeline.deepstream.servicemaker_probe", SERVICEMAKER_STUBS, source_tree(tmp_path / "a"))
    assert good.returncode == 0, good.stdout
    text = (ADAPTERS / "servicemaker_probe.py").read_text().replace("frame_meta.frame_number", "frame_meta.frame_num")
    bad = mypy("edgewatch.pipeline.deepstream.servicemaker_probe", SERVICEMAKER_STUBS,
               source_tree(tmp_path / "b", {"deepstream/servicemaker_probe.py": text}))
    assert bad.returncode == 1 and '"frame_num"' in bad.stdout


@pytest.fixture(scope="module")
def parser_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The nvinfer parser built with its own Makefile against the STAND-IN header (warnings are errors)."""
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed (scripts/install-system-deps.sh installs it)")
    lib = tmp_path_factory.mktemp("parser") / "libnvdsparse_edgewatch.so"
    flags = "-O2 -Wall -Wextra -Werror -Wno-unused-parameter -std=c++17 -fPIC"  # the macro's own parameter is unused
    subprocess.run(["make", "-s", "-C", str(PARSER), f"DS_INCLUDES={STANDIN_HEADERS}", f"LIB={lib}",
                    f"CXXFLAGS={flags}"], check=True, capture_output=True, timeout=300)
    return lib


def test_parser_exports_the_symbol_nvinfer_is_configured_with(parser_lib: Path) -> None:
    from edgewatch.pipeline.deepstream.nvinfer_config import NVINFER_PARSE_FUNC

    library = ctypes.CDLL(str(parser_lib))
    assert hasattr(library, NVINFER_PARSE_FUNC) and hasattr(library, "edgewatch_parse_rows")


class EdgewatchObject(ctypes.Structure):
    _fields_ = [("class_id", ctypes.c_uint), ("left", ctypes.c_float), ("top", ctypes.c_float),
                ("width", ctypes.c_float), ("height", ctypes.c_float), ("confidence", ctypes.c_float)]


def test_parser_rows_then_nms_equal_the_python_decoder(parser_lib: Path) -> None:
    """C++ thresholding + nvinfer-style NMS (here: edgewatch's batched NMS) == edgewatch's decode()."""
    rng = np.random.default_rng(0)
    n, classes, conf, iou = 400, 3, 0.3, 0.45
    xy = rng.uniform(0, 300, (n, 2))
    wh = rng.uniform(4, 60, (n, 2))
    rows = np.concatenate([xy, xy + wh, rng.uniform(0, 1, (n, 1)), rng.integers(0, classes, (n, 1))], axis=1)
    rows = rows.astype(np.float32)
    library = ctypes.CDLL(str(parser_lib))
    out = (EdgewatchObject * n)()
    thresholds = (ctypes.c_float * classes)(*([conf] * classes))
    count = library.edgewatch_parse_rows(
        rows.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), n, 6, thresholds, classes,
        ctypes.c_float(384.0), ctypes.c_float(384.0), out, n)
    parsed = out[:count]
    boxes = np.array([[o.left, o.top, o.left + o.width, o.top + o.height] for o in parsed], np.float32)
    scores = np.array([o.confidence for o in parsed], np.float32)
    class_ids = np.array([o.class_id for o in parsed], np.int64)
    assert count == int((rows[:, 4] > conf).sum())
    order = np.argsort(-scores, kind="stable")
    keep = order[batched_nms(boxes[order], scores[order], class_ids[order], iou)[:100]]
    reference = decode(rows[None], "xyxy_score_class", conf, iou, 100)[0]
    np.testing.assert_allclose(boxes[keep], reference.boxes, atol=1e-4)
    np.testing.assert_allclose(scores[keep], reference.scores)
    np.testing.assert_array_equal(class_ids[keep], reference.class_ids)
