"""The probes' translation logic over STAND-INS shaped like pyds' and pyservicemaker's meta (tests/
pyds_standin.py, tests/servicemaker_standin.py): tracks in, object text / classifier meta / events out,
the same events the CPU backend's stages write for the same tracks. Not DeepStream: what runs on a
Jetson is unverified here (README, NVIDIA status)."""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pyds_standin
import pytest
import servicemaker_standin
from graph_fixtures import stand_in_models, write_config

from edgewatch.config import AppConfig, OsdConfig, load_config
from edgewatch.pipeline.deepstream.translate import (
    MAX_ELEMENTS_IN_DISPLAY_META,
    UNTRACKED_OBJECT_ID,
    ProbeCore,
    TensorDecoder,
    display_ops,
)
from edgewatch.stages.chain import StageChain
from edgewatch.stages.osd import OverlayItem, OverlayLine, OverlayText
from edgewatch.stages.stats import RunStats
from edgewatch.types import Frame, Track, TrackState

NATIVE = frozenset({"detector", "tracker", "osd"})
FPS = 10


def _stand_in(name: str, standin: ModuleType, adapter: str) -> Iterator[ModuleType]:
    saved = sys.modules.get(name)
    sys.modules[name] = standin
    sys.modules.pop(adapter, None)
    try:
        yield importlib.import_module(adapter)
    finally:
        sys.modules.pop(adapter, None)
        if saved is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = saved


@pytest.fixture
def pyds_probe() -> Iterator[ModuleType]:
    yield from _stand_in("pyds", pyds_standin, "edgewatch.pipeline.deepstream.pyds_probe")


@pytest.fixture
def servicemaker_probe() -> Iterator[ModuleType]:
    yield from _stand_in("pyservicemaker", servicemaker_standin, "edgewatch.pipeline.deepstream.servicemaker_probe")


def app_config(tmp_path: Path, events: str) -> AppConfig:
    models = tmp_path / "models"
    det, _ = stand_in_models(models)
    path = write_config(tmp_path / "app.txt", models, [str(det)], streammux="width=64\nheight=64\n")
    return load_config(path, events=tmp_path / events, backend="deepstream")


def chain(cfg: AppConfig) -> StageChain:
    return StageChain.from_config(cfg, RunStats(["s0"]), NATIVE)


def box(k: int) -> tuple[float, float, float, float]:
    """A walking person: left, top, width, height in muxer pixels at frame k."""
    return 4.0 + 1.5 * k, 10.0, 10.0, 30.0


def obj_meta(object_id: int, k: int) -> pyds_standin.NvDsObjectMeta:
    left, top, width, height = box(k)
    return pyds_standin.NvDsObjectMeta(
        object_id=object_id, class_id=0, confidence=0.9,
        rect_params=pyds_standin.NvOSD_RectParams(left, top, width, height))


def batch(k: int, objects: list[pyds_standin.NvDsObjectMeta]) -> pyds_standin.NvDsBatchMeta:
    frame = pyds_standin.NvDsFrameMeta(pad_index=0, frame_num=k, buf_pts=int(k * 1e9 / FPS),
                                       obj_meta_list=pyds_standin.glist(objects))
    return pyds_standin.NvDsBatchMeta(pyds_standin.glist([frame]))


def test_tracks_in_object_text_classifier_meta_and_events_out(tmp_path: Path, pyds_probe: ModuleType) -> None:
    cfg = app_config(tmp_path, "probe.jsonl")
    reference_cfg = load_config(cfg.path, events=tmp_path / "reference.jsonl", backend="deepstream")
    with chain(cfg) as probe_chain, chain(reference_cfg) as reference:
        core = ProbeCore(probe_chain, cfg.osd, (64, 64), on_batch=lambda: None)
        for k in range(40):
            tracked, untracked = obj_meta(7, k), obj_meta(UNTRACKED_OBJECT_ID, k)
            meta = batch(k, [tracked, untracked])
            pyds_probe.run_chain(meta, core)
            # the reference: the CPU backend's stages on the same track, built by hand
            left, top, width, height = box(k)
            expected = reference([Frame(0, k, k / FPS, tracks=[Track(
                7, np.array([left, top, left + width, top + height], np.float32), 0.9, 0, TrackState.CONFIRMED)])])
        frame_meta = pyds_standin.items(meta.frame_meta_list)[0]
        want = expected[0].tracks[0].behaviour
        assert want is not None
        # nvinfer's own drawing is off for every object; the overlay is display meta
        for obj in (tracked, untracked):
            assert obj.rect_params.border_width == 0 and obj.text_params.display_text == ""
        (display,) = pyds_standin.items(frame_meta.display_meta_list)
        assert display.num_rects == 1 and display.num_labels == 2
        rect = display.rect_params[0]
        assert (rect.left, rect.top, rect.width, rect.height) == box(39)
        labels = [display.text_params[i].display_text for i in range(display.num_labels)]
        assert labels == ["#7 person", f"{want.label} {want.score:.2f}"]
        # the verdict also rides on the object as classifier meta; the untracked object gets none
        (classifier,) = pyds_standin.items(tracked.classifier_meta_list)
        (label,) = pyds_standin.items(classifier.label_info_list)
        assert (label.result_label, label.result_prob) == (want.label, pytest.approx(want.score))
        assert untracked.classifier_meta_list is None
        assert core.frames == {0: 40}
    probe_events = (tmp_path / "probe.jsonl").read_text().splitlines()
    assert probe_events and probe_events == (tmp_path / "reference.jsonl").read_text().splitlines()


def test_tensor_meta_rows_become_frame_pixel_objects_before_the_tracker(pyds_probe: ModuleType) -> None:
    # 64x64 network, 128x64 (w x h) muxer frame: scale 0.5, the frame sits 16 px down in the input
    rows = np.array([[8, 20, 24, 36, 0.9, 0], [8, 20, 24, 36, 0.2, 0], [40, 20, 56, 36, 0.8, 1]], np.float32)
    layer = pyds_standin.NvDsInferLayerInfo(
        "output", pyds_standin.NvDsInferDataType.FLOAT, pyds_standin.NvDsInferDims(2, np.array([3, 6, 0, 0])), rows)
    user = pyds_standin.NvDsUserMeta(pyds_standin.NvDsBaseMeta(pyds_standin.NvDsMetaType.NVDSINFER_TENSOR_OUTPUT_META),
                                     pyds_standin.NvDsInferTensorMeta([layer]))
    frame = pyds_standin.NvDsFrameMeta(frame_user_meta_list=pyds_standin.glist([user]))
    decoder = TensorDecoder("xyxy_score_class", (64, 64), (64, 128), conf=0.3, iou=0.45, topk=100, keep_classes=[0])
    pyds_probe.add_detections(pyds_standin.NvDsBatchMeta(pyds_standin.glist([frame])), decoder)
    (obj,) = pyds_standin.items(frame.obj_meta_list)  # the 0.2 row is below the threshold, class 1 is filtered
    r = obj.rect_params
    assert (r.left, r.top, r.width, r.height) == (16.0, 8.0, 32.0, 32.0)
    assert obj.object_id == UNTRACKED_OBJECT_ID and obj.class_id == 0 and obj.confidence == pytest.approx(0.9)
    c = obj.detector_bbox_info.org_bbox_coords
    assert (c.left, c.top, c.width, c.height) == (16.0, 8.0, 32.0, 32.0)


def test_display_meta_holds_at_most_sixteen_of_each() -> None:
    items = [OverlayItem(np.array([i, 0, i + 5, 5], np.float32), (255, 0, 0), f"#{i}", "walking 0.90")
             for i in range(20)]
    batches = display_ops(items, OsdConfig(), (64, 64))
    # 20 boxes and 40 labels (id above, behaviour below each box): three display metas
    assert [len(b.rects) for b in batches] == [16, 4, 0]
    assert [len(b.texts) for b in batches] == [16, 16, 8]
    assert MAX_ELEMENTS_IN_DISPLAY_META == 16


def test_display_ops_draw_the_scene_as_lines_and_labels() -> None:
    """A scene's segments become line params clipped into the frame, an arrow three strokes (shaft and head),
    and its counts labels at their anchor."""
    items = [OverlayLine((-10.0, 10.0), (30.0, 10.0), (0, 200, 255), 3),
             OverlayLine((10.0, 40.0), (50.0, 40.0), (0, 200, 255), 2, arrow=True),
             OverlayText(20.0, 30.0, "door in 2 out 1", (0, 200, 255))]
    (batch,) = display_ops(items, OsdConfig(), (64, 64))
    assert [(op.x1, op.y1, op.x2, op.y2, op.width) for op in batch.lines[:2]] == [(0, 10, 30, 10, 3), (10, 40, 50, 40, 2)]
    head = batch.lines[2:]
    assert len(head) == 2 and all((op.x1, op.y1) == (50, 40) and op.x2 < 50 for op in head)
    assert sorted(op.y2 for op in head) == [35, 45]  # 10 px back (a quarter of the shaft), 30 degrees off it
    (label,) = batch.texts
    assert (label.text, label.x, label.y, label.background[:3]) == ("door in 2 out 1", 20, 30, (0.0, 200 / 255, 1.0))


def test_a_scene_in_the_probe_draws_zones_and_keeps_verdicts_on_their_objects(tmp_path: Path,
                                                                            pyds_probe: ModuleType) -> None:
    """With a scene whose exclude zone drops one of two tracks, each verdict still goes to its own object
    (by track id), the zone's outline is line meta and the scene's events reach the events file."""
    models = tmp_path / "models"
    det, _ = stand_in_models(models)
    (tmp_path / "cam.yaml").write_text(
        "zones:\n  - name: walk\n    polygon: [[0, 0], [40, 0], [40, 64], [0, 64]]\n"
        "  - name: hidden\n    kind: exclude\n    polygon: [[44, 0], [64, 0], [64, 64], [44, 64]]\n")
    path = write_config(tmp_path / "app.txt", models, [str(det)], streammux="width=64\nheight=64\n",
                        source_keys=f"scene={tmp_path / 'cam.yaml'}\n")
    cfg = load_config(path, events=tmp_path / "events.jsonl", backend="deepstream")
    with chain(cfg) as probe_chain:
        core = ProbeCore(probe_chain, cfg.osd, (64, 64), on_batch=lambda: None)
        for k in range(40):
            hidden = pyds_standin.NvDsObjectMeta(object_id=9, class_id=0, confidence=0.9,
                                                 rect_params=pyds_standin.NvOSD_RectParams(48.0, 10.0, 10.0, 30.0))
            walker = obj_meta(7, k % 8)
            meta = batch(k, [hidden, walker])
            pyds_probe.run_chain(meta, core)
    assert hidden.classifier_meta_list is None  # filtered out by the scene: no verdict, not drawn
    assert walker.classifier_meta_list is not None
    (display,) = pyds_standin.items(pyds_standin.items(meta.frame_meta_list)[0].display_meta_list)
    assert display.num_rects == 1 and display.num_lines == 8  # two zone outlines of four edges
    assert (display.line_params[0].x1, display.line_params[0].y1, display.line_params[0].x2) == (0, 0, 40)
    types = [line.split('"type": "')[1].split('"')[0] for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert "zone_enter" in types and "behaviour" in types


def test_servicemaker_operator_draws_the_same_overlay(tmp_path: Path, servicemaker_probe: ModuleType) -> None:
    cfg = app_config(tmp_path, "sm.jsonl")
    with chain(cfg) as probe_chain:
        core = ProbeCore(probe_chain, cfg.osd, (64, 64), on_batch=lambda: None)
        operator = servicemaker_probe.ChainOperator(core, threading.Event(), 1)
        for k in range(3):
            left, top, width, height = box(k)
            frame = servicemaker_standin.FrameMetadata(0, k, int(k * 1e9 / FPS), [servicemaker_standin.ObjectMetadata(
                7, 0, 0.9, servicemaker_standin.RectParams(left, top, width, height))])
            operator.handle_metadata(servicemaker_standin.BatchMetadata([frame]))
    (display,) = frame.appended
    (rect,) = display.rects
    assert (rect.left, rect.top, rect.width, rect.height) == (7, 10, 10, 30)
    assert [t.display_text for t in display.texts][:1] == [b"#7 person"]
