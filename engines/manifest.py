"""The manifest beside every engine, and the one decision it drives: skip, rebuild or refuse.

Public API: :class:`Profile`, :class:`BuildSettings`, :class:`Platform`, :class:`Manifest`,
:func:`manifest_path`, :func:`read_manifest`, :func:`write_manifest`, :func:`write_atomic`, :func:`sha256_of`,
:class:`Plan`, :func:`plan_build`, :func:`platform_mismatch`.

A TensorRT engine is only valid for the TensorRT version and the GPU it was built on, and says
neither in a way a person can read. So each ``X.engine`` gets ``X.engine.json``: what it was built
from (ONNX sha256), how (precision, batch profile, workspace, DLA core, strongly typed), on what
(TensorRT version, GPU name, compute capability), the model's metadata (the runtime reads labels and
feature specs from it) and the parity figures of the gate. ``make engines`` compares that with what
it would build now: unchanged is skipped, a changed ONNX or setting is rebuilt, and an engine built
for another GPU or TensorRT is refused in one line that names the difference (it may be someone
else's engine on a shared disk: replacing it needs ``--rebuild``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edgewatch.errors import EdgewatchError

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Profile:
    """One optimisation profile of the batch axis (the only dynamic axis of edgewatch's models)."""

    min: int
    opt: int
    max: int

    def __post_init__(self) -> None:
        if not 1 <= self.min <= self.opt <= self.max:
            raise EdgewatchError(f"batch profile needs 1 <= min <= opt <= max, got {self.min}/{self.opt}/{self.max}")

    def __str__(self) -> str:
        return f"{self.min}/{self.opt}/{self.max}"


@dataclass(frozen=True)
class BuildSettings:
    """Everything about a build that changes the engine, besides the ONNX and the machine."""

    precision: str
    profile: Profile
    workspace_mb: int
    dla_core: int | None = None
    strongly_typed: bool = False


@dataclass(frozen=True)
class Platform:
    """What an engine is tied to: the TensorRT version and the GPU model (name + compute capability)."""

    tensorrt: str
    gpu: str
    compute_capability: str

    def __str__(self) -> str:
        return f"TensorRT {self.tensorrt} on {self.gpu} (compute {self.compute_capability})"


@dataclass(frozen=True)
class Manifest:
    """The JSON written beside an engine (``<engine>.json``)."""

    onnx: str  # the source ONNX's file name (the engine sits beside it)
    onnx_sha256: str
    engine_sha256: str
    settings: BuildSettings
    platform: Platform
    metadata: str  # the ONNX's edgewatch metadata JSON (ModelMetadata.to_json)
    parity: dict[str, Any] = field(default_factory=dict)  # the gate's figures
    version: int = MANIFEST_VERSION

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw = json.loads(text)
        settings = dict(raw["settings"])
        settings["profile"] = Profile(**settings["profile"])
        return cls(
            onnx=raw["onnx"],
            onnx_sha256=raw["onnx_sha256"],
            engine_sha256=raw["engine_sha256"],
            settings=BuildSettings(**settings),
            platform=Platform(**raw["platform"]),
            metadata=raw["metadata"],
            parity=raw.get("parity", {}),
            version=raw.get("version", MANIFEST_VERSION),
        )


def manifest_path(engine: Path) -> Path:
    """``X.engine`` -> ``X.engine.json``."""
    return engine.with_name(engine.name + ".json")


def read_manifest(engine: Path) -> Manifest | None:
    """The manifest beside ``engine``; None when there is none, an EdgewatchError when it is damaged."""
    path = manifest_path(engine)
    if not path.is_file():
        return None
    try:
        return Manifest.from_json(path.read_text())
    except (ValueError, KeyError, TypeError) as exc:
        raise EdgewatchError(f"{path}: unreadable engine manifest ({exc.__class__.__name__}: {exc})") from exc


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``path`` through a temporary file and a rename: a crash never leaves half an engine or manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; engines are meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_manifest(engine: Path, manifest: Manifest) -> Path:
    """Write the manifest beside ``engine`` (atomically)."""
    return write_atomic(manifest_path(engine), manifest.to_json().encode())


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MB blocks (engines run to hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Plan:
    """What to do with one engine: ``skip`` it, ``build`` it (``reason`` says why) or ``refuse``."""

    action: Literal["skip", "build", "refuse"]
    reason: str


def platform_mismatch(built: Platform, here: Platform) -> str | None:
    """One line naming what differs between the platform an engine was built on and this one, or None."""
    diffs = []
    if built.tensorrt != here.tensorrt:
        diffs.append(f"TensorRT {built.tensorrt}, this machine has {here.tensorrt}")
    if (built.gpu, built.compute_capability) != (here.gpu, here.compute_capability):
        diffs.append(
            f"GPU {built.gpu} (compute {built.compute_capability}), this machine has "
            f"{here.gpu} (compute {here.compute_capability})"
        )
    return "; ".join(diffs) or None


def plan_build(engine: Path, onnx_sha256: str, settings: BuildSettings, here: Platform, rebuild: bool = False) -> Plan:
    """Decide what ``make engines`` does with ``engine`` given what it would build now."""
    existing = read_manifest(engine) if engine.is_file() else None
    if not engine.is_file():
        return Plan("build", "no engine yet")
    if existing is None:
        return (
            Plan("build", "no manifest beside the engine")
            if rebuild
            else Plan("refuse", f"{engine}: has no manifest (not built by edgewatch); pass --rebuild to replace it")
        )
    mismatch = platform_mismatch(existing.platform, here)
    if mismatch and not rebuild:
        return Plan("refuse", f"{engine}: built for {mismatch}; pass --rebuild to replace it")
    if mismatch:
        return Plan("build", f"was built for {existing.platform}")
    if existing.onnx_sha256 != onnx_sha256:
        return Plan("build", "the ONNX changed")
    if existing.settings != settings:
        changed = [
            f"{f.name} {getattr(existing.settings, f.name)} -> {getattr(settings, f.name)}"
            for f in dataclasses.fields(settings)
            if getattr(existing.settings, f.name) != getattr(settings, f.name)
        ]
        return Plan("build", ", ".join(changed))
    if existing.engine_sha256 != sha256_of(engine):
        return Plan("build", "the engine file is not the one the manifest describes")
    return Plan("build", "--rebuild") if rebuild else Plan("skip", "unchanged")
