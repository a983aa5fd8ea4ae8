"""GStreamer stays behind ``edgewatch.pipeline``: the core (config, stages, runtime, CLI dispatch)
must run unchanged inside the DeepStream probe and on machines without PyGObject."""

from __future__ import annotations

import re
import subprocess
import sys

from edgewatch.paths import REPO_ROOT

GI_IMPORT = re.compile(r"^\s*(import gi\b|from gi\b)", re.MULTILINE)


def test_only_the_pipeline_package_imports_gi() -> None:
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("edgewatch", "export", "engines", "benchmarks")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if GI_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_core_modules_load_without_gstreamer() -> None:
    """Including ``edgewatch run``'s argument module, so ``edgewatch --help`` stays fast."""
    code = (
        "import sys, edgewatch.cli, edgewatch.config, edgewatch.stages.chain, edgewatch.runtime.onnx,"
        " edgewatch.pipeline.cli; print('gi' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
