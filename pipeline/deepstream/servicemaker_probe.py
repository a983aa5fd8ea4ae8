"""The pyservicemaker adapter (DeepStream 9.x, which ships no pyds): the same graph and the same probe core.

Public API: :class:`ChainOperator`, :class:`TensorMetaOperator` (``BatchMetadataOperator`` s), and
``run(spec, core, decoder)``, which builds :class:`~.graph.GraphSpec` with the Pipeline API and blocks
until the end of every stream.

Like :mod:`.pyds_probe` it only copies fields: ``frame_items`` -> ``FrameMetadata`` (``pad_index``,
``frame_number``, ``buffer_pts``) -> ``object_items`` -> ``ObjectMetadata`` (``object_id``,
``rect_params``, ``class_id``, ``confidence``) -> :mod:`.translate`, and the overlay back as
``acquire_display_meta()`` + ``osd.Rect`` / ``osd.Text`` / ``osd.Line``. pyservicemaker's Python API reference does not
document classifier-meta creation, so under 9.x the behaviour reaches nvdsosd and the events file, not
classifier meta. Only the bindings' documented names are used; they are checked by mypy against a
transcription of that reference (``tests/stubs/pyservicemaker``), never against the real module.
"""

from __future__ import annotations

import re
import threading

import numpy as np
from pyservicemaker import BatchMetadata, BatchMetadataOperator, FrameMetadata, Pipeline, Probe, osd

from edgewatch.pipeline.deepstream.graph import GraphSpec, Link
from edgewatch.pipeline.deepstream.translate import (
    DisplayBatch,
    ProbeCore,
    Rgba,
    TensorDecoder,
    frame_from_meta,
    track_from_object,
)
from edgewatch.types import Frame

_REQUEST_PAD = re.compile(r"^(sink|src)_\d+$")


def _colour(rgba: Rgba) -> osd.Color:
    return osd.Color(rgba[0], rgba[1], rgba[2], rgba[3])


def _to_frame(frame_meta: FrameMetadata) -> Frame:
    tracks = []
    for obj in frame_meta.object_items:  # an iterator: read once
        r = obj.rect_params
        track = track_from_object(obj.object_id, r.left, r.top, r.width, r.height, obj.class_id, obj.confidence)
        if track is not None:
            tracks.append(track)
    return frame_from_meta(frame_meta.pad_index, frame_meta.frame_number, frame_meta.buffer_pts, tracks)


def _add_display(batch_meta: BatchMetadata, frame_meta: FrameMetadata, batch: DisplayBatch) -> None:
    display = batch_meta.acquire_display_meta()
    for op in batch.rects:
        rect = osd.Rect()
        rect.left, rect.top = int(op.left), int(op.top)
        rect.width, rect.height = int(op.width), int(op.height)
        rect.border_width = op.border_width
        rect.border_color = _colour(op.colour)
        rect.has_bg_color = False
        display.add_rect(rect)
    for op_text in batch.texts:
        text = osd.Text()
        text.display_text = op_text.text.encode("utf-8")
        text.x_offset, text.y_offset = op_text.x, op_text.y
        text.font.name = osd.FontFamily.Serif
        text.font.size = op_text.font_size
        text.font.color = _colour(op_text.colour)
        text.set_bg_color = True
        text.bg_color = _colour(op_text.background)
        display.add_text(text)
    for op_line in batch.lines:
        line = osd.Line()
        line.x1, line.y1, line.x2, line.y2 = op_line.x1, op_line.y1, op_line.x2, op_line.y2
        line.width = op_line.width
        line.color = _colour(op_line.colour)
        display.add_line(line)
    frame_meta.append(display)


class ChainOperator(BatchMetadataOperator):
    """After the tracker: the shared stages on every batch, the overlay back as display meta."""

    def __init__(self, core: ProbeCore, finished: threading.Event, n_streams: int) -> None:
        super().__init__()
        self.core, self.finished, self.n_streams = core, finished, n_streams

    def handle_metadata(self, batch_meta: BatchMetadata) -> None:
        frame_metas = list(batch_meta.frame_items)
        results = self.core([_to_frame(f) for f in frame_metas])
        for frame_meta, result in zip(frame_metas, results, strict=True):
            for batch in result.display:
                _add_display(batch_meta, frame_meta, batch)
        if self.core.done(self.n_streams):
            self.finished.set()


class TensorMetaOperator(BatchMetadataOperator):
    """On nvinfer (parser=tensor-meta): decode the raw output layer, add the objects before the tracker."""

    def __init__(self, decoder: TensorDecoder) -> None:
        super().__init__()
        self.decoder = decoder

    def handle_metadata(self, batch_meta: BatchMetadata) -> None:
        for frame_meta in batch_meta.frame_items:
            for user_meta in frame_meta.tensor_items:
                layers = user_meta.as_tensor_output().get_layers()
                layer = np.from_dlpack(next(iter(layers.values())))
                dets = self.decoder(layer)
                for box, score, class_id in zip(dets.boxes, dets.scores, dets.class_ids, strict=True):
                    obj = batch_meta.acquire_object_meta()
                    obj.class_id = int(class_id)
                    obj.confidence = float(score)
                    x1, y1, x2, y2 = (float(v) for v in box)
                    obj.rect_params.left, obj.rect_params.top = x1, y1
                    obj.rect_params.width, obj.rect_params.height = x2 - x1, y2 - y1
                    frame_meta.append(obj)


def _pad(name: str | None) -> str:
    """A request pad as the template pyservicemaker links by (``sink_0`` -> ``sink_%u``, taken in order)."""
    if name is None:
        return ""
    return _REQUEST_PAD.sub(r"\1_%u", name)


def _link(pipeline: Pipeline, link: Link) -> None:
    if link.src_pad is None and link.dst_pad is None:
        pipeline.link(link.src, link.dst)
    else:
        pipeline.link((link.src, link.dst), (_pad(link.src_pad), _pad(link.dst_pad)))


def run(
    spec: GraphSpec, core: ProbeCore, decoder: TensorDecoder | None, n_streams: int, stop: threading.Event
) -> None:
    """Build and play ``spec`` until every stream has ended, ``[application] max-frames`` is reached or
    ``stop`` is set (looked at every tenth of a second)."""
    pipeline = Pipeline("edgewatch")
    for element in spec.elements:
        pipeline.add(element.factory, element.name, dict(element.props))
    for link in spec.links:  # request pads are taken in order: the spec lists them in stream order
        _link(pipeline, link)
    finished = threading.Event()
    for probe in spec.probes:
        if probe.kind == "chain":
            pipeline.attach(probe.element, Probe("edgewatch-chain", ChainOperator(core, finished, n_streams)))
        elif decoder is not None:
            pipeline.attach(probe.element, Probe("edgewatch-tensor-meta", TensorMetaOperator(decoder)))
    def stop_when_done() -> None:
        while not (finished.wait(0.1) or stop.is_set()):
            pass
        pipeline.stop()

    stopper = threading.Thread(target=stop_when_done, daemon=True)
    stopper.start()
    pipeline.start().wait()
