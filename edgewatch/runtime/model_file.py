"""An ONNX file read and checked before any runtime sees it.

Public API: :func:`read_onnx`.

ONNX Runtime aborts the whole process (SIGABRT, nothing useful on stderr) on some damaged files:
an empty file parses as an empty protobuf and reaches a native assertion. So every model file goes
through here first: not empty, a protobuf that parses (the upb parser rejects garbage and cut-off
files with an exception, never a crash), and a graph that ``onnx.checker`` accepts (IR version,
opsets, nodes in order, no input that nothing produces: what a file cut at a message boundary
looks like). Only then is it handed to a runtime; the metadata reader and the ONNX Runtime session
both read models through :func:`read_onnx`.
"""

from __future__ import annotations

from pathlib import Path

import onnx

from edgewatch.errors import EdgewatchError


def read_onnx(path: str | Path) -> onnx.ModelProto:
    """The model in ``path`` (external data not loaded), or an :class:`EdgewatchError` naming the file
    and what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise EdgewatchError(f"{path}: no such ONNX file")
    if path.stat().st_size == 0:
        raise EdgewatchError(f"{path}: empty file (0 bytes), not an ONNX model")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # DecodeError, ValueError, ... depending on the damage
        what = exc.__class__.__name__
        raise EdgewatchError(f"{path}: not an ONNX model, or a damaged one (it does not parse: {what})") from exc
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise EdgewatchError(f"{path}: damaged or invalid ONNX model ({first[:200]})") from exc
    return model
