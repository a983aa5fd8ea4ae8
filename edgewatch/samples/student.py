"""The student: a small ultralytics YOLO trained on the teacher's labels in its own venv.

ultralytics training needs torchvision, and PyPI's torchvision only works with the CUDA builds of
torch (which also run on the CPU). The main venv keeps the small CPU torch, so training runs as a
subprocess in ``.venv-train``, which this module creates on first use with pinned versions.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT, cache_dir
from edgewatch.sidevenv import side_python

TRAIN_VENV = REPO_ROOT / ".venv-train"


def _extra(name: str) -> tuple[str, ...]:
    """The pins of one of edgewatch's extras, read from the installed package metadata (pyproject.toml)."""
    import importlib.metadata

    marker = f'extra == "{name}"'
    return tuple(r.split(";")[0].strip() for r in importlib.metadata.requires("edgewatch") or () if marker in r)


# pyproject's ``bench`` extra: the CUDA torch/torchvision pair ultralytics needs, ultralytics, and lap for
# its ByteTrack (the benchmark times ultralytics' track loop in the same environment)
TRAIN_REQUIREMENTS: tuple[str, ...] = _extra("bench")
TRAIN_SCRIPT = Path(__file__).with_name("train_student.py")


@dataclass(frozen=True)
class TrainSettings:
    """The student's recipe. Sized for a 2-core CPU: ~40 minutes, enough for a static-camera clip.

    384 px keeps the campus walkers (35-80 px tall at 768x576) above 15 px, about the scale the
    300x300 teacher saw them at; AdamW at 2e-3 converges faster from scratch than ultralytics'
    automatic 1e-3 for so few steps; mosaic is switched off for the last epochs to fit real framing.
    """

    model: str = "yolo11n.yaml"
    imgsz: int = 384
    epochs: int = 20
    batch: int = 8
    workers: int = 1
    seed: int = 0
    device: str = "auto"
    optimizer: str = "AdamW"
    lr0: float = 0.002
    warmup_epochs: int = 1
    close_mosaic: int = 4

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def key(self) -> str:
        """Short hash naming the run folder: same data and settings, same (cached) run."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:10]


def train_env_python(venv: Path = TRAIN_VENV) -> Path:
    """The training venv's interpreter, creating the venv (several GB, mostly torch's CUDA libs) if needed."""
    return side_python(venv, TRAIN_REQUIREMENTS, "training", "CUDA builds, several GB", "run `edgewatch sample-model` again")


def _ultralytics_env() -> dict[str, str]:
    """ultralytics offline and quiet: no auto-installs, settings and fonts kept in edgewatch's cache."""
    env = dict(os.environ)
    env.setdefault("YOLO_OFFLINE", "1")
    env.setdefault("YOLO_AUTOINSTALL", "False")
    env.setdefault("YOLO_CONFIG_DIR", str(cache_dir("ultralytics")))
    env.setdefault("MPLCONFIGDIR", str(cache_dir("matplotlib")))
    return env


def train_student(data_yaml: Path, settings: TrainSettings, force: bool = False) -> Path:
    """Train (or reuse) the student for this dataset and recipe; returns its ``student.pt``."""
    run = cache_dir("samples", "student", f"{data_yaml.parent.name}-{settings.key()}")
    weights = run / "student.pt"
    if weights.is_file() and not force:
        print(f"student already trained: {weights}", flush=True)
        return weights
    cmd = [
        str(train_env_python()), str(TRAIN_SCRIPT),
        "--data", str(data_yaml), "--out", str(run), "--settings", settings.to_json(),
    ]
    if subprocess.run(cmd, env=_ultralytics_env(), check=False).returncode != 0 or not weights.is_file():
        raise EdgewatchError(f"student training failed (see the ultralytics output above); run folder {run}")
    return weights


def training_seconds(weights: Path) -> float | None:
    """Wall time of the run that produced ``weights`` (ultralytics' cumulative ``time`` column), if recorded."""
    results = weights.parent / "results.csv"
    if not results.is_file():
        return None
    rows = [line.split(",") for line in results.read_text().splitlines()]
    column = [c.strip() for c in rows[0]].index("time")
    return round(float(rows[-1][column]), 1)
