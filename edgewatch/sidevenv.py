"""Side virtual environments: pinned tools that cannot share the main venv, run as subprocesses.

Public API: :func:`side_python`.

Two tools edgewatch uses pin what the main venv cannot take: ultralytics training needs the CUDA
builds of torch and torchvision (``.venv-train``), and NVIDIA ModelOpt's ONNX quantiser pins
onnxruntime 1.24 and onnx 1.21 where edgewatch pins 1.31 and 1.23 (``.venv-modelopt``). Each lives in
its own venv beside the repository, created on first use from exact pins; a stamp file records the
pins it was built with, so a changed pin rebuilds it and an unchanged one costs nothing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from edgewatch.errors import EdgewatchError


def side_python(venv: Path, requirements: Sequence[str], purpose: str, what: str, retry_hint: str) -> Path:
    """The interpreter of ``venv``, creating it with ``requirements`` (pip) when missing or stale.

    ``purpose`` names the venv in messages ("training"), ``what`` says in the progress line what is
    being installed (sizes matter to users), ``retry_hint`` ends the error line when pip fails.
    """
    python = venv / "bin" / "python"
    stamp = venv / ".edgewatch-requirements"
    wanted = "\n".join(requirements)
    if python.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    print(f"creating {venv} with {' '.join(requirements)} ({what})", flush=True)
    base = getattr(sys, "_base_executable", sys.executable)
    steps = (
        [base, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--progress-bar", "on", *requirements],
    )
    for cmd in steps:
        if subprocess.run(cmd, check=False).returncode != 0:
            raise EdgewatchError(
                f"could not build the {purpose} venv ({' '.join(cmd[:4])} failed); check PyPI access, or delete "
                f"{venv} and {retry_hint}"
            )
    stamp.write_text(wanted)
    return python
