"""``edgewatch engines`` / ``make engines`` and the engine runtime on a machine without TensorRT: one line, no traceback."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from edgewatch.cli import main
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tensorrt") is not None,
    reason="TensorRT is installed here: these tests are about a machine without it",
)


def test_engines_command_is_one_line_without_tensorrt(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engines", "-c", str(REPO_ROOT / "configs" / "demo.txt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("edgewatch: error: TensorRT is not available here")


def test_a_bad_config_is_reported_before_tensorrt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engines", "-c", str(tmp_path / "none.txt")]) == 2
    assert "config file not found" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("make") is None, reason="no make here")
def test_make_engines_without_tensorrt() -> None:
    proc = subprocess.run(
        ["make", "-s", "engines"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode != 0
    ours = [line for line in proc.stderr.splitlines() if line.startswith("edgewatch:")]
    assert ours == [ours[0]] and "TensorRT is not available here" in ours[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_engine_runtime_refuses_in_one_line(tmp_path: Path) -> None:
    from edgewatch.runtime.tensorrt import TensorRTSession

    with pytest.raises(EdgewatchError, match="no such engine file"):
        TensorRTSession(tmp_path / "none.engine")
    engine = tmp_path / "m.onnx_b1_gpu0_fp32.engine"
    engine.write_bytes(b"plan")
    with pytest.raises(EdgewatchError, match="no manifest beside the engine"):
        TensorRTSession(engine)
