"""ONNX file plumbing every export step shares: checked loading, atomic saving, edgewatch metadata.

Each precision step reads one ONNX and writes another; doing the load/save the same way everywhere
means a half-written file never replaces a good one (the user's previous export survives a crash) and
the ``edgewatch`` metadata travels from the FP32 graph to its FP16/INT8 variants.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import onnx

from edgewatch.errors import EdgewatchError
from edgewatch.metadata import METADATA_KEY, ModelMetadata


def load_model(path: Path) -> onnx.ModelProto:
    """Load an ONNX file, turning a missing or unparsable file into one clear error line."""
    path = Path(path)
    if not path.is_file():
        raise EdgewatchError(f"{path}: no such ONNX file")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError/ValueError/... depending on the damage
        raise EdgewatchError(f"{path}: not a readable ONNX model ({exc.__class__.__name__})") from exc


def save_model(model: onnx.ModelProto, out: Path) -> Path:
    """Check and write ``model`` to ``out`` via a temporary file and a rename (never a half file)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.checker.check_model(model)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".onnx", dir=out.parent)
    os.close(fd)
    try:
        onnx.save(model, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; an exported model is meant to be shared
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def read_metadata(model: onnx.ModelProto) -> ModelMetadata:
    """The metadata of a loaded model (empty for a model without any)."""
    return ModelMetadata.from_props({p.key: p.value for p in model.metadata_props})


def write_metadata(model: onnx.ModelProto, meta: ModelMetadata) -> onnx.ModelProto:
    """Replace the ``edgewatch`` metadata entry in place (other metadata_props are kept) and return the model."""
    props = {p.key: p.value for p in model.metadata_props}
    onnx.helper.set_model_props(model, {**props, **meta.to_props()})
    return model


def with_precision(model: onnx.ModelProto, precision: str) -> onnx.ModelProto:
    """Stamp ``precision`` into an existing ``edgewatch`` metadata entry (no-op for models without one)."""
    if not any(p.key == METADATA_KEY for p in model.metadata_props):
        return model
    return write_metadata(model, read_metadata(model).with_precision(precision))
