"""Engine file names exactly as DeepStream's nvinfer writes them when it builds an engine itself.

Public API: :func:`engine_path`, :data:`PRECISIONS`.

nvinfer first tries to deserialise ``model-engine-file``; when that file is missing or unusable it
builds an engine from ``onnx-file`` and saves it as ``<onnx-file>_b<batch-size>_<device>_<mode>.engine``
next to the ONNX: the ONNX file name is kept whole (extension included), ``<device>`` is
``gpu<gpu-id>``, or ``dla<use-dla-core>`` when ``enable-dla=1`` (the GPU id is then not in the name),
and ``<mode>`` is ``network-mode`` spelt ``fp32`` / ``int8`` / ``fp16``. Writing our engines under that
same name means the config we generate points at the file nvinfer itself would produce, so a user who
copies the config or lets nvinfer rebuild once ends up with one engine, not two.

One nvinfer behaviour to know: with ``network-mode=1`` and no ``int8-calib-file``, an nvinfer *rebuild*
falls back to FP16 and is named ``_fp16``. edgewatch's INT8 engines come from Q/DQ ONNX (no calibration
table), so their ``_int8`` file must exist beforehand (``make engines``), which is the point.
"""

from __future__ import annotations

from pathlib import Path

from edgewatch.errors import EdgewatchError

PRECISIONS = ("fp32", "fp16", "int8")  # nvinfer network-mode 0, 2, 1 spelt as in its engine names


def engine_path(onnx: Path, batch_size: int, gpu_id: int, precision: str, dla_core: int | None = None) -> Path:
    """The engine nvinfer writes for ``onnx`` at ``batch-size``, ``gpu-id``, ``precision`` (and DLA core).

    ``onnx`` is kept as given (relative stays relative: nvinfer resolves paths against its config
    file's folder, so callers pass the same path they write into ``onnx-file``).
    """
    if precision not in PRECISIONS:
        raise EdgewatchError(f"unknown engine precision {precision!r} (choose from {', '.join(PRECISIONS)})")
    if batch_size < 1:
        raise EdgewatchError(f"engine batch size must be at least 1, got {batch_size}")
    if gpu_id < 0:
        raise EdgewatchError(f"gpu id must be 0 or more, got {gpu_id}")
    device = f"gpu{gpu_id}" if dla_core is None or dla_core < 0 else f"dla{dla_core}"
    onnx = Path(onnx)
    return onnx.with_name(f"{onnx.name}_b{batch_size}_{device}_{precision}.engine")
