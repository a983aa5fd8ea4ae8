"""The binding-independent half of every DeepStream probe (pure: no pyds, no pyservicemaker, no GStreamer).

Public API:

- ``track_from_object(object_id, left, top, width, height, class_id, confidence)``: one nvtracker object
  as the core's :class:`Track` (box in frame pixels), None for an object the tracker does not follow.
- :class:`ProbeCore`: ``core(frames)`` runs the shared stage chain (temporal, analytics, events and every
  later core stage, unchanged) on frames built from batch meta and returns, per frame, what to write back:
  :class:`DisplayBatch` es for nvdsosd (drawn from :func:`edgewatch.stages.osd.overlay`, the same items
  the CPU OSD draws: boxes and labels, and a scene's zone outlines, lines, arrows and counts) and each
  track's behaviour for classifier meta, in the order the tracks were handed in.
- :class:`TensorDecoder`: nvinfer's raw ``output-tensor-meta`` layer of one frame -> frame-pixel
  :class:`Detections` with the project's own decode / NMS (the no-compile fallback to the C++ parser).

Each binding adapter (``pyds_probe``, ``servicemaker_probe``) only copies fields between its meta objects
and these types; no behaviour logic lives there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edgewatch.config import OsdConfig
from edgewatch.detect.decode import decode
from edgewatch.detect.letterbox import placement, unletterbox_boxes
from edgewatch.stages.chain import StageChain
from edgewatch.stages.osd import Overlay, OverlayItem, OverlayLine, overlay
from edgewatch.types import Behaviour, Detections, Frame, Track, TrackState

UNTRACKED_OBJECT_ID = 0xFFFFFFFFFFFFFFFF  # NvDsObjectMeta.object_id of an object no tracker follows
MAX_ELEMENTS_IN_DISPLAY_META = 16  # rects / labels one NvDsDisplayMeta holds (nvdsmeta.h)
NANOSECONDS = 1e9
ARROW_TIP = 0.25  # arrow head strokes: this share of the shaft's length, 30 degrees off it (as the CPU OSD's)
Rgba = tuple[float, float, float, float]


def track_from_object(
    object_id: int, left: float, top: float, width: float, height: float, class_id: int, confidence: float
) -> Track | None:
    """An object nvtracker reports as the core's confirmed :class:`Track` (nvtracker reports only the
    targets past their probation), or None when it is untracked (no tracker, or a detection the tracker
    did not take)."""
    if object_id == UNTRACKED_OBJECT_ID:
        return None
    box = np.array([left, top, left + width, top + height], np.float32)
    return Track(int(object_id), box, float(confidence), int(class_id), TrackState.CONFIRMED)


def frame_from_meta(stream_id: int, frame_num: int, buf_pts: int, tracks: list[Track]) -> Frame:
    """A batch-meta frame as the core's :class:`Frame` (no pixels: they stay in GPU memory)."""
    return Frame(stream_id=stream_id, frame_num=frame_num, timestamp=buf_pts / NANOSECONDS, tracks=tracks)


@dataclass(frozen=True)
class RectOp:
    """One rectangle for NvOSD_RectParams (frame pixels)."""

    left: float
    top: float
    width: float
    height: float
    border_width: int
    colour: Rgba


@dataclass(frozen=True)
class TextOp:
    """One label for NvOSD_TextParams: black text on a coloured band, its top-left corner at x, y."""

    text: str
    x: int
    y: int
    font_size: int
    colour: Rgba
    background: Rgba


@dataclass(frozen=True)
class LineOp:
    """One segment for NvOSD_LineParams (frame pixels, inside the frame)."""

    x1: int
    y1: int
    x2: int
    y2: int
    width: int
    colour: Rgba


@dataclass(frozen=True)
class DisplayBatch:
    """What one NvDsDisplayMeta carries (at most :data:`MAX_ELEMENTS_IN_DISPLAY_META` of each)."""

    rects: tuple[RectOp, ...]
    texts: tuple[TextOp, ...]
    lines: tuple[LineOp, ...] = ()


BLACK: Rgba = (0.0, 0.0, 0.0, 1.0)


def font_size(text_scale: float) -> int:
    """nvdsosd's font size (points) for the OpenCV text scale of ``[osd] text-scale``: the same height."""
    return max(6, round(22 * text_scale))


def _rgba(colour: tuple[int, int, int]) -> Rgba:
    return colour[0] / 255.0, colour[1] / 255.0, colour[2] / 255.0, 1.0


def _strokes(item: OverlayLine, frame_hw: tuple[int, int]) -> list[LineOp]:
    """A segment as line ops clipped into the frame, an arrow as its shaft and two head strokes (one line
    type serves both bindings)."""
    (xa, ya), (xb, yb) = item.start, item.end
    segments = [(xa, ya, xb, yb)]
    if item.arrow:
        back = np.arctan2(ya - yb, xa - xb)
        tip = ARROW_TIP * float(np.hypot(xb - xa, yb - ya))
        segments += [(xb, yb, xb + tip * np.cos(back + a), yb + tip * np.sin(back + a)) for a in (-np.pi / 6, np.pi / 6)]
    height, width = frame_hw

    def px(v: float, top: int) -> int:
        return int(round(min(max(v, 0.0), max(top - 1, 0))))

    colour = _rgba(item.colour)
    return [LineOp(px(x1, width), px(y1, height), px(x2, width), px(y2, height), item.width, colour)
            for x1, y1, x2, y2 in segments]


def display_ops(items: Sequence[Overlay], config: OsdConfig, frame_hw: tuple[int, int]) -> list[DisplayBatch]:
    """The overlay of one frame as display-meta batches: a box per object, its top label just above the box
    (inside the frame) and its bottom label just below, the layout the CPU OSD draws; a scene's segments as
    lines and its counts as labels at their anchor."""
    size = font_size(config.text_scale)
    band = size + 6  # text height plus the band's margin, in pixels
    height, width = frame_hw
    rects: list[RectOp] = []
    texts: list[TextOp] = []
    lines: list[LineOp] = []
    for item in items:
        if isinstance(item, OverlayLine):
            lines += _strokes(item, frame_hw)
            continue
        if not isinstance(item, OverlayItem):  # an OverlayText: a label whose top-left corner is given
            x = int(min(max(item.x, 0.0), max(width - 1, 0)))
            texts.append(TextOp(item.text, x, int(min(max(item.y, 0.0), height - band)), size, BLACK, _rgba(item.colour)))
            continue
        x1, y1, x2, y2 = (float(v) for v in item.box)
        colour = _rgba(item.colour)
        rects.append(RectOp(x1, y1, x2 - x1, y2 - y1, config.border_width, colour))
        x = int(min(max(x1, 0.0), max(width - 1, 0)))
        texts.append(TextOp(item.top, x, int(max(y1 - band, 0.0)), size, BLACK, colour))
        if item.bottom is not None:
            texts.append(TextOp(item.bottom, x, int(min(y2, height - band)), size, BLACK, colour))
    n = MAX_ELEMENTS_IN_DISPLAY_META
    count = max((len(ops) + n - 1) // n for ops in (rects, texts, lines))
    return [DisplayBatch(tuple(rects[i * n : (i + 1) * n]), tuple(texts[i * n : (i + 1) * n]),
                         tuple(lines[i * n : (i + 1) * n])) for i in range(count)]


@dataclass(frozen=True)
class FrameResult:
    """What goes back into one frame's meta: display batches, and each track's behaviour (None: none yet)."""

    display: list[DisplayBatch]
    behaviours: list[Behaviour | None]  # per track handed in, in that order (None also for one filtered out)


class ProbeCore:
    """The chain as a probe calls it: frames in (no pixels), write-back out, progress counted."""

    def __init__(
        self,
        chain: StageChain,
        osd: OsdConfig,
        frame_hw: tuple[int, int],
        on_batch: Callable[[], None],
        max_frames: int = 0,
    ) -> None:
        self.chain = chain
        self.osd = osd
        self.frame_hw = frame_hw
        self.on_batch = on_batch
        self.max_frames = max_frames
        self.frames: dict[int, int] = {}  # frames seen per stream

    def __call__(self, frames: list[Frame]) -> list[FrameResult]:
        for frame in frames:
            self.frames[frame.stream_id] = self.frames.get(frame.stream_id, 0) + 1
        handed = [[t.track_id for t in frame.tracks] for frame in frames]  # the scene's regions of interest may drop some
        frames = self.chain(frames)
        self.on_batch()
        results = []
        for frame, ids in zip(frames, handed, strict=True):
            items = overlay(frame, self.chain.class_names, self.osd) if self.osd.enable else []
            verdicts = {t.track_id: t.behaviour for t in frame.tracks}
            results.append(FrameResult(display_ops(items, self.osd, self.frame_hw), [verdicts.get(i) for i in ids]))
        return results

    def done(self, n_streams: int) -> bool:
        """Whether ``[application] max-frames`` has been reached on every stream (0: never)."""
        return bool(self.max_frames) and len(self.frames) == n_streams and min(self.frames.values()) >= self.max_frames


class TensorDecoder:
    """One frame's raw ``[N, 6]`` / ``[4 + C, N]`` output -> frame-pixel detections, as the CPU detector decodes."""

    def __init__(
        self,
        layout: str,
        net_hw: tuple[int, int],
        frame_hw: tuple[int, int],
        conf: float,
        iou: float,
        topk: int,
        keep_classes: Sequence[int] = (),
    ) -> None:
        self.layout, self.conf, self.iou, self.topk = layout, conf, iou, topk
        self.frame_hw = frame_hw
        self.keep = np.asarray(keep_classes, np.int64)
        self.info = placement(frame_hw, net_hw)[0]  # nvinfer letterboxes as the CPU detector does

    def __call__(self, layer: np.ndarray) -> Detections:
        dets = decode(layer[None].astype(np.float32, copy=False), self.layout, self.conf, self.iou, self.topk)[0]
        dets = Detections(unletterbox_boxes(dets.boxes, self.info, self.frame_hw), dets.scores, dets.class_ids)
        return dets if not self.keep.size else dets.select(np.isin(dets.class_ids, self.keep))
