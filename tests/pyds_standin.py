"""STAND-IN for NVIDIA's pyds, shaped like its meta lists (GList nodes with ``data``/``next``, ``cast``,
meta pools), just enough for the probe adapter's translation logic to run on the CPU. It proves the
adapter moves the right fields between meta and core objects; it is not DeepStream and never counts as
hardware verification (mypy against pyds-stubs checks the names; only a Jetson checks the behaviour)."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_ELEMENTS_IN_DISPLAY_META = 16


class GList:
    def __init__(self, data: Any, next_: GList | None = None) -> None:
        self.data, self.next = data, next_


def glist(items: list[Any]) -> GList | None:
    head = None
    for item in reversed(items):
        head = GList(item, head)
    return head


def items(node: GList | None) -> list[Any]:
    out = []
    while node is not None:
        out.append(node.data)
        node = node.next
    return out


class _Castable:
    @classmethod
    def cast(cls, data: Any) -> Any:
        assert isinstance(data, cls), f"cast to {cls.__name__} of a {type(data).__name__}"
        return data


@dataclass
class NvOSD_ColorParams:
    red: float = 0.0
    green: float = 0.0
    blue: float = 0.0
    alpha: float = 0.0

    def set(self, red: float, green: float, blue: float, alpha: float) -> None:
        self.red, self.green, self.blue, self.alpha = red, green, blue, alpha


@dataclass
class NvOSD_RectParams:
    left: float = 0.0
    top: float = 0.0
    width: float = 0.0
    height: float = 0.0
    border_width: int = 3
    border_color: NvOSD_ColorParams = field(default_factory=NvOSD_ColorParams)
    has_bg_color: int = 0
    bg_color: NvOSD_ColorParams = field(default_factory=NvOSD_ColorParams)


@dataclass
class NvOSD_FontParams:
    font_name: str = ""
    font_size: int = 0
    font_color: NvOSD_ColorParams = field(default_factory=NvOSD_ColorParams)


@dataclass
class NvOSD_TextParams:
    display_text: str | None = None
    x_offset: int = 0
    y_offset: int = 0
    font_params: NvOSD_FontParams = field(default_factory=NvOSD_FontParams)
    set_bg_clr: int = 0
    text_bg_clr: NvOSD_ColorParams = field(default_factory=NvOSD_ColorParams)


@dataclass
class NvBbox_Coords:
    left: float = 0.0
    top: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class NvDsComp_BboxInfo:
    org_bbox_coords: NvBbox_Coords = field(default_factory=NvBbox_Coords)


@dataclass
class NvDsLabelInfo(_Castable):
    result_label: str = ""
    result_prob: float = 0.0
    label_id: int = 0


@dataclass
class NvDsClassifierMeta(_Castable):
    unique_component_id: int = 0
    label_info_list: GList | None = None


@dataclass
class NvDsObjectMeta(_Castable):
    object_id: int = 0xFFFFFFFFFFFFFFFF
    class_id: int = 0
    confidence: float = 0.0
    unique_component_id: int = 0
    rect_params: NvOSD_RectParams = field(default_factory=NvOSD_RectParams)
    text_params: NvOSD_TextParams = field(default_factory=lambda: NvOSD_TextParams("person 3", set_bg_clr=1))
    detector_bbox_info: NvDsComp_BboxInfo = field(default_factory=NvDsComp_BboxInfo)
    classifier_meta_list: GList | None = None


@dataclass
class NvOSD_LineParams:
    x1: int = 0
    y1: int = 0
    x2: int = 0
    y2: int = 0
    line_width: int = 0
    line_color: NvOSD_ColorParams = field(default_factory=NvOSD_ColorParams)


@dataclass
class NvDsDisplayMeta(_Castable):
    num_rects: int = 0
    num_labels: int = 0
    num_lines: int = 0
    rect_params: list[NvOSD_RectParams] = field(
        default_factory=lambda: [NvOSD_RectParams() for _ in range(MAX_ELEMENTS_IN_DISPLAY_META)])
    text_params: list[NvOSD_TextParams] = field(
        default_factory=lambda: [NvOSD_TextParams() for _ in range(MAX_ELEMENTS_IN_DISPLAY_META)])
    line_params: list[NvOSD_LineParams] = field(
        default_factory=lambda: [NvOSD_LineParams() for _ in range(MAX_ELEMENTS_IN_DISPLAY_META)])


class NvDsMetaType:
    NVDSINFER_TENSOR_OUTPUT_META = 12


@dataclass
class NvDsBaseMeta:
    meta_type: int = 7


@dataclass
class NvDsUserMeta(_Castable):
    base_meta: NvDsBaseMeta = field(default_factory=NvDsBaseMeta)
    user_meta_data: Any = None


class NvDsInferDataType:
    FLOAT = types.SimpleNamespace(name="FLOAT")
    HALF = types.SimpleNamespace(name="HALF")


@dataclass
class NvDsInferDims:
    numDims: int
    d: np.ndarray


@dataclass
class NvDsInferLayerInfo:
    layerName: str
    dataType: Any
    inferDims: NvDsInferDims
    buffer: np.ndarray  # the host buffer (get_ptr returns its address)


@dataclass
class NvDsInferTensorMeta(_Castable):
    layers: list[NvDsInferLayerInfo] = field(default_factory=list)


@dataclass
class NvDsFrameMeta(_Castable):
    pad_index: int = 0
    frame_num: int = 0
    buf_pts: int = 0
    obj_meta_list: GList | None = None
    display_meta_list: GList | None = None
    frame_user_meta_list: GList | None = None


@dataclass
class NvDsBatchMeta:
    frame_meta_list: GList | None = None


def nvds_acquire_display_meta_from_pool(batch_meta: NvDsBatchMeta) -> NvDsDisplayMeta:
    return NvDsDisplayMeta()


def nvds_add_display_meta_to_frame(frame_meta: NvDsFrameMeta, display_meta: NvDsDisplayMeta) -> None:
    frame_meta.display_meta_list = glist([*items(frame_meta.display_meta_list), display_meta])


def nvds_acquire_classifier_meta_from_pool(batch_meta: NvDsBatchMeta) -> NvDsClassifierMeta:
    return NvDsClassifierMeta()


def nvds_acquire_label_info_meta_from_pool(batch_meta: NvDsBatchMeta) -> NvDsLabelInfo:
    return NvDsLabelInfo()


def nvds_add_label_info_meta_to_classifier(classifier: NvDsClassifierMeta, label: NvDsLabelInfo) -> None:
    classifier.label_info_list = glist([*items(classifier.label_info_list), label])


def nvds_add_classifier_meta_to_object(obj: NvDsObjectMeta, classifier: NvDsClassifierMeta) -> None:
    obj.classifier_meta_list = glist([*items(obj.classifier_meta_list), classifier])


def nvds_acquire_obj_meta_from_pool(batch_meta: NvDsBatchMeta) -> NvDsObjectMeta:
    return NvDsObjectMeta()


def nvds_add_obj_meta_to_frame(frame_meta: NvDsFrameMeta, obj: NvDsObjectMeta, parent: Any) -> None:
    assert parent is None
    frame_meta.obj_meta_list = glist([*items(frame_meta.obj_meta_list), obj])


def get_nvds_LayerInfo(tensor_meta: NvDsInferTensorMeta, index: int) -> NvDsInferLayerInfo:
    return tensor_meta.layers[index]


def get_ptr(buffer: np.ndarray) -> int:
    return int(buffer.ctypes.data)


def gst_buffer_get_nvds_batch_meta(address: int) -> NvDsBatchMeta:
    raise NotImplementedError("the stand-in has no GstBuffer; tests call run_chain/add_detections directly")
