"""The pyds adapter (DeepStream 6.3 to 8.0): batch meta <-> the core's objects. The only module importing pyds.

Public API: ``chain_probe(pad, info, core)``, ``tensor_meta_probe(pad, info, decoder)`` (Gst pad-probe
callbacks), and what they call on a batch: ``run_chain(batch_meta, core)``, ``add_detections(batch_meta,
decoder)``.

It only copies fields, as deepstream_python_apps' probes do: ``frame_meta_list`` -> ``NvDsFrameMeta``
(``pad_index`` is the stream, ``buf_pts`` the time stamp) -> ``obj_meta_list`` -> ``NvDsObjectMeta``
(``object_id`` the track id, ``rect_params`` the box in muxer pixels, ``class_id``, ``confidence``) ->
:mod:`.translate`, and back: the overlay as display meta (``nvds_acquire_display_meta_from_pool``), each
behaviour as classifier meta on its object (label, probability), a scene's zones and lines as ``line_params``, and nvinfer's own drawing of the object
switched off so nvdsosd shows exactly what the CPU OSD shows. Probes run in the streaming thread: a slow
probe stalls the stream, so all tracks of a batch go through the temporal model in one call.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

import numpy as np
import pyds

from edgewatch.pipeline.deepstream.translate import (
    UNTRACKED_OBJECT_ID,
    DisplayBatch,
    ProbeCore,
    Rgba,
    TensorDecoder,
    frame_from_meta,
    track_from_object,
)
from edgewatch.types import Behaviour, Frame

if TYPE_CHECKING:  # GStreamer is loaded by the runner; the translation needs none of it
    from edgewatch.pipeline.gst import Gst

TEMPORAL_COMPONENT_ID = 2  # unique_component_id of edgewatch's classifier meta (nvinfer is gie-unique-id 1)
FONT = "Serif"


def _frames(batch_meta: pyds.NvDsBatchMeta) -> list[tuple[pyds.NvDsFrameMeta, list[pyds.NvDsObjectMeta]]]:
    """Every frame of the batch with its tracked objects, in batch order."""
    out = []
    l_frame = batch_meta.frame_meta_list
    while l_frame is not None:
        frame_meta = pyds.NvDsFrameMeta.cast(l_frame.data)
        objects = []
        l_obj = frame_meta.obj_meta_list
        while l_obj is not None:
            objects.append(pyds.NvDsObjectMeta.cast(l_obj.data))
            l_obj = l_obj.next
        out.append((frame_meta, objects))
        l_frame = l_frame.next
    return out


def _to_frame(frame_meta: pyds.NvDsFrameMeta, objects: list[pyds.NvDsObjectMeta]) -> tuple[Frame, list[pyds.NvDsObjectMeta]]:
    """The core frame and the object metas of its tracks, in the same order."""
    tracks, metas = [], []
    for obj in objects:
        r = obj.rect_params
        track = track_from_object(obj.object_id, r.left, r.top, r.width, r.height, obj.class_id, obj.confidence)
        if track is not None:
            tracks.append(track)
            metas.append(obj)
    return frame_from_meta(frame_meta.pad_index, frame_meta.frame_num, frame_meta.buf_pts, tracks), metas


def _hide(obj: pyds.NvDsObjectMeta) -> None:
    """No box or label of nvinfer's own for this object: the overlay draws what is shown."""
    obj.rect_params.border_width = 0
    obj.rect_params.has_bg_color = 0
    obj.text_params.display_text = ""
    obj.text_params.set_bg_clr = 0


def _set_colour(colour: pyds.NvOSD_ColorParams, rgba: Rgba) -> None:
    colour.set(rgba[0], rgba[1], rgba[2], rgba[3])


def _add_display(batch_meta: pyds.NvDsBatchMeta, frame_meta: pyds.NvDsFrameMeta, batch: DisplayBatch) -> None:
    display = pyds.nvds_acquire_display_meta_from_pool(batch_meta)
    display.num_rects = len(batch.rects)
    for params, rect in zip(display.rect_params, batch.rects):
        params.left, params.top, params.width, params.height = rect.left, rect.top, rect.width, rect.height
        params.border_width = rect.border_width
        _set_colour(params.border_color, rect.colour)
        params.has_bg_color = 0
    display.num_lines = len(batch.lines)
    for segment, line in zip(display.line_params, batch.lines):
        segment.x1, segment.y1, segment.x2, segment.y2 = line.x1, line.y1, line.x2, line.y2
        segment.line_width = line.width
        _set_colour(segment.line_color, line.colour)
    display.num_labels = len(batch.texts)
    for label, text in zip(display.text_params, batch.texts):
        label.display_text = text.text
        label.x_offset, label.y_offset = text.x, text.y
        label.font_params.font_name = FONT
        label.font_params.font_size = text.font_size
        _set_colour(label.font_params.font_color, text.colour)
        label.set_bg_clr = 1
        _set_colour(label.text_bg_clr, text.background)
    pyds.nvds_add_display_meta_to_frame(frame_meta, display)


def _add_behaviour(batch_meta: pyds.NvDsBatchMeta, obj: pyds.NvDsObjectMeta, behaviour: Behaviour) -> None:
    """The verdict as classifier meta on the object, where nvmsgconv and later probes look for it."""
    classifier = pyds.nvds_acquire_classifier_meta_from_pool(batch_meta)
    classifier.unique_component_id = TEMPORAL_COMPONENT_ID
    label = pyds.nvds_acquire_label_info_meta_from_pool(batch_meta)
    label.result_label = behaviour.label
    label.result_prob = behaviour.score
    label.label_id = 0
    pyds.nvds_add_label_info_meta_to_classifier(classifier, label)
    pyds.nvds_add_classifier_meta_to_object(obj, classifier)


def run_chain(batch_meta: pyds.NvDsBatchMeta, core: ProbeCore) -> None:
    """Tracks of the batch -> the shared stages -> display and classifier meta back into the batch."""
    frames, metas, frame_metas = [], [], []
    for frame_meta, objects in _frames(batch_meta):
        frame, tracked = _to_frame(frame_meta, objects)
        for obj in objects:
            _hide(obj)
        frames.append(frame)
        metas.append(tracked)
        frame_metas.append(frame_meta)
    for frame_meta, tracked, result in zip(frame_metas, metas, core(frames), strict=True):
        for batch in result.display:
            _add_display(batch_meta, frame_meta, batch)
        for obj, behaviour in zip(tracked, result.behaviours, strict=True):
            if behaviour is not None:
                _add_behaviour(batch_meta, obj, behaviour)


def _layer_array(tensor_meta: pyds.NvDsInferTensorMeta) -> np.ndarray:
    """nvinfer's first output layer of one frame as a NumPy view on its host buffer (no copy)."""
    layer = pyds.get_nvds_LayerInfo(tensor_meta, 0)
    if layer.dataType != pyds.NvDsInferDataType.FLOAT:
        raise RuntimeError(f"output layer '{layer.layerName}' is {layer.dataType.name}, expected FLOAT")
    dims = layer.inferDims
    shape = tuple(int(d) for d in dims.d[: dims.numDims])
    pointer = ctypes.cast(pyds.get_ptr(layer.buffer), ctypes.POINTER(ctypes.c_float))
    return np.ctypeslib.as_array(pointer, shape=shape)


def add_detections(batch_meta: pyds.NvDsBatchMeta, decoder: TensorDecoder) -> None:
    """Decode each frame's output tensor and add the detections as object meta, before the tracker."""
    for frame_meta, _ in _frames(batch_meta):
        l_user = frame_meta.frame_user_meta_list
        while l_user is not None:
            user_meta = pyds.NvDsUserMeta.cast(l_user.data)
            if user_meta.base_meta.meta_type == pyds.NvDsMetaType.NVDSINFER_TENSOR_OUTPUT_META:
                dets = decoder(_layer_array(pyds.NvDsInferTensorMeta.cast(user_meta.user_meta_data)))
                for box, score, class_id in zip(dets.boxes, dets.scores, dets.class_ids, strict=True):
                    obj = pyds.nvds_acquire_obj_meta_from_pool(batch_meta)
                    obj.unique_component_id = 1
                    obj.object_id = UNTRACKED_OBJECT_ID
                    obj.class_id = int(class_id)
                    obj.confidence = float(score)
                    x1, y1, x2, y2 = (float(v) for v in box)
                    for rect in (obj.rect_params, obj.detector_bbox_info.org_bbox_coords):
                        rect.left, rect.top, rect.width, rect.height = x1, y1, x2 - x1, y2 - y1
                    # pyds takes None for "no parent" (deepstream_python_apps' ssd-parser sample does); the stubs
                    # type the parameter as a plain NvDsObjectMeta
                    pyds.nvds_add_obj_meta_to_frame(frame_meta, obj, None)  # type: ignore[arg-type]
            l_user = l_user.next


def _batch_meta(info: Gst.PadProbeInfo) -> pyds.NvDsBatchMeta | None:
    buffer = info.get_buffer()
    return None if buffer is None else pyds.gst_buffer_get_nvds_batch_meta(hash(buffer))


def chain_probe(pad: Gst.Pad, info: Gst.PadProbeInfo, core: ProbeCore) -> Gst.PadProbeReturn:
    """Pad probe after the tracker: the shared stages on every batch."""
    from edgewatch.pipeline.gst import Gst

    batch_meta = _batch_meta(info)
    if batch_meta is not None:
        run_chain(batch_meta, core)
    return Gst.PadProbeReturn.OK


def tensor_meta_probe(pad: Gst.Pad, info: Gst.PadProbeInfo, decoder: TensorDecoder) -> Gst.PadProbeReturn:
    """Pad probe on nvinfer's src pad (parser=tensor-meta): objects from the raw output."""
    from edgewatch.pipeline.gst import Gst

    batch_meta = _batch_meta(info)
    if batch_meta is not None:
        add_detections(batch_meta, decoder)
    return Gst.PadProbeReturn.OK
