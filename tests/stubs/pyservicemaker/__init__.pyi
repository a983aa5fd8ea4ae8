# STAND-IN: a typed transcription of the part of NVIDIA's pyservicemaker (DeepStream 9.x) API that edgewatch
# uses, written by edgewatch from NVIDIA's published Service Maker Python API reference and samples (no NVIDIA
# stub is published). mypy checks pipeline/deepstream/servicemaker_probe.py against it; it proves the adapter
# matches the documentation as transcribed here, not that it matches the installed pyservicemaker.
from collections.abc import Iterator
from typing import Any

from . import osd as osd

class RectParams:
    left: float
    top: float
    width: float
    height: float
    border_width: int
    border_color: osd.Color

class TensorOutput:
    def get_layers(self) -> dict[str, Any]: ...  # layer name -> tensor (DLPack)

class UserMetadata:
    def as_tensor_output(self) -> TensorOutput: ...

class ObjectMetadata:
    class_id: int
    confidence: float
    object_id: int
    tracker_confidence: float
    rect_params: RectParams
    @property
    def classifier_items(self) -> Iterator[ClassifierMetadata]: ...

class ClassifierMetadata:
    n_labels: int
    unique_component_id: int
    def get_n_label(self, n: int) -> str: ...

class DisplayMetadata:
    def add_text(self, text: osd.Text) -> None: ...
    def add_rect(self, rect: osd.Rect) -> None: ...
    def add_line(self, line: osd.Line) -> None: ...

class FrameMetadata:
    frame_number: int
    pad_index: int
    batch_id: int
    source_id: int
    buffer_pts: int
    ntp_timestamp: int
    pipeline_width: int
    pipeline_height: int
    @property
    def object_items(self) -> Iterator[ObjectMetadata]: ...
    @property
    def tensor_items(self) -> Iterator[UserMetadata]: ...
    def append(self, meta: DisplayMetadata | ObjectMetadata) -> None: ...

class BatchMetadata:
    @property
    def frame_items(self) -> Iterator[FrameMetadata]: ...
    def acquire_display_meta(self) -> DisplayMetadata: ...
    def acquire_object_meta(self) -> ObjectMetadata: ...

class BatchMetadataOperator:
    def __init__(self) -> None: ...
    def handle_metadata(self, batch_meta: BatchMetadata) -> None: ...

class Probe:
    def __init__(self, name: str, operator: BatchMetadataOperator) -> None: ...

class Pipeline:
    def __init__(self, name: str, config_file: str = ...) -> None: ...
    def add(self, element_type: str, name: str, properties: dict[str, object] | None = None) -> Pipeline: ...
    def link(self, *args: str | tuple[str, str]) -> Pipeline: ...
    def attach(self, target: str, what: Probe | str, name: str = "", tips: str = "",
               properties: dict[str, object] | None = None) -> Pipeline: ...
    def start(self) -> Pipeline: ...
    def wait(self) -> None: ...
    def stop(self) -> Pipeline: ...  # C++ Pipeline::stop(); the Python reference does not list it
