#!/usr/bin/env bash
# The typing stubs of NVIDIA's DeepStream Python bindings, one folder per DeepStream version, laid out for
# MYPYPATH (a stub-only package "pyds-stubs" is found by mypy only in site-packages, so it is renamed "pyds").
# Pins: [tool.edgewatch.deepstream-stubs] in pyproject.toml. Idempotent; usage: install-deepstream-stubs.sh VENV DEST
set -euo pipefail
VENV=${1:?venv}; DEST=${2:?destination}
"$VENV/bin/python" - "$VENV" "$DEST" <<'PY'
import pathlib, shutil, subprocess, sys, tomllib
venv, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
pins = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["tool"]["edgewatch"]["deepstream-stubs"]
for version, packages in pins.items():
    folder = dest / f"ds{version}"
    stamp = folder / ".installed"
    if stamp.is_file() and stamp.read_text() == " ".join(packages):
        continue
    shutil.rmtree(folder, ignore_errors=True)
    raw = folder / "raw"
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--ignore-requires-python",
                    "--target", str(raw), *packages], check=True)
    for stubs in raw.glob("*-stubs"):
        shutil.copytree(stubs, folder / "mypypath" / stubs.name.removesuffix("-stubs"))
    stamp.write_text(" ".join(packages))
    print(f"DeepStream {version} stubs: {' '.join(packages)} -> {folder / 'mypypath'}")
PY
