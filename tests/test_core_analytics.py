"""The analytics stage on synthetic tracks whose truth is known: zones with hysteresis, dwell, line
crossings under jitter, overcrowding, regions of interest, calibrated ground speed against a pinhole
camera (within 5%), identity switches, directions; then its events against the JSON Schema, the run
summary's counters, the OSD primitives and the temporal stage's per-camera lane direction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from core_standins import linear_behaviour_model
from scene_camera import PinholeCamera

from edgewatch.behaviour.features import MOTION_FEATURES, FeatureSpec
from edgewatch.behaviour.predictor import BehaviourModel
from edgewatch.config import OsdConfig, TemporalConfig
from edgewatch.errors import EdgewatchError
from edgewatch.scene.load import parse_scene
from edgewatch.scene.model import Scene
from edgewatch.stages.analytics import AnalyticsStage
from edgewatch.stages.events import EVENTS_SCHEMA, EventWriter
from edgewatch.stages.osd import OsdStage, OverlayItem, OverlayLine, OverlayText, overlay
from edgewatch.stages.stats import RunStats
from edgewatch.stages.temporal import TemporalStage
from edgewatch.types import Behaviour, Frame, Track, TrackState

NAMES = ("person", "car")
SQUARE = [[40, 40], [80, 40], [80, 80], [40, 80]]


def scene(**data: object) -> Scene:
    return parse_scene(data, "test.yaml")


def box(x: float, y: float, h: float = 40.0) -> np.ndarray:
    """A box whose foot point (bottom centre) is ``x, y``."""
    return np.array([x - h / 4, y - h, x + h / 4, y], np.float32)


def run(stage: AnalyticsStage, steps: Sequence[Sequence[tuple[int, np.ndarray]]], fps: float = 10.0,
        class_id: int = 0, stream: int = 0) -> list[Frame]:
    """Feed one frame per step: each step lists (track id, box)."""
    frames = []
    for n, tracks in enumerate(steps):
        frame = Frame(stream, n, n / fps, tracks=[Track(i, b, 0.9, class_id, TrackState.CONFIRMED) for i, b in tracks])
        frames.append(stage([frame])[0])
    return frames


def events(frames: list[Frame], kind: str | None = None) -> list[tuple[int, str, int | None, dict]]:
    assert all(f.analytics is not None for f in frames)
    return [(f.frame_num, e.type, e.track.track_id if e.track else None, dict(e.fields))
            for f in frames for e in f.analytics.events if kind is None or e.type == kind]  # type: ignore[union-attr]


def walk(xs: Sequence[float], y: float = 60.0, track_id: int = 1) -> list[list[tuple[int, np.ndarray]]]:
    return [[(track_id, box(x, y))] for x in xs]


def test_zone_enter_dwell_exit_once_per_visit() -> None:
    stage = AnalyticsStage({0: scene(zones=[{"name": "z", "polygon": SQUARE, "dwell-limit": 2}])}, NAMES, 3.0)
    xs = [20 + 2 * n for n in range(15)] + [50.0] * 30 + [50 + 3 * n for n in range(1, 20)]  # in at 42, out at 84
    frames = run(stage, walk(xs))
    got = events(frames)
    assert [(e[1], e[3]["zone"]) for e in got] == [("zone_enter", "z"), ("dwell", "z"), ("zone_exit", "z")]
    enter, dwell, leave = (e[0] for e in got)
    assert xs[enter] > 40 + 4 and xs[enter - 1] <= 44  # past the edge by the hysteresis (0.1 x 40 px)
    assert (dwell - enter) / 10.0 == pytest.approx(2.0, abs=0.11) and got[1][3]["limit_s"] == 2
    assert got[2][3]["dwell_s"] == pytest.approx((leave - enter) / 10.0) and got[2][3]["lost"] is False
    inside = frames[dwell].tracks[0].analytics
    assert inside is not None and inside.zones == ("z",) and inside.dwell[0] == pytest.approx(2.0, abs=0.11)
    assert frames[dwell].analytics.counts == {"z": {"person": 1}}  # type: ignore[union-attr]
    assert frames[-1].analytics.counts == {"z": {}}  # type: ignore[union-attr]


def test_jitter_on_an_edge_neither_flickers_nor_counts() -> None:
    """A foot point standing on a zone edge and on a line, jittering by +-3 px for 20 s."""
    stage = AnalyticsStage({0: scene(
        zones=[{"name": "z", "polygon": SQUARE}],
        lines=[{"name": "l", "line": [[100, 0], [100, 200]], "direction": [[90, 50], [110, 50]]}],
    )}, NAMES, 3.0)
    rng = np.random.default_rng(0)
    on_zone = [[(1, box(40 + rng.uniform(-3, 3), 60)), (2, box(100 + rng.uniform(-3, 3), 60))] for _ in range(200)]
    got = events(run(stage, on_zone))
    assert [e[1] for e in got if e[2] == 1] in ([], ["zone_enter"])  # decided once by the sign at first sight
    assert [e for e in got if e[1] == "line_crossing"] == []


def test_line_crossings_count_once_each_way_and_only_on_the_segment() -> None:
    line = {"name": "l", "line": [[100, 0], [100, 100]], "direction": [[90, 50], [110, 50]]}
    stage = AnalyticsStage({0: scene(lines=[line, dict(line, name="ext", line=[[100, 200], [100, 300]],
                                                       extended=True)])}, NAMES, 3.0)
    there = [80 + 4 * n for n in range(11)]
    frames = run(stage, walk(there + there[::-1] + there, y=50))
    got = [(e[3]["line"], e[3]["direction"]) for e in events(frames, "line_crossing")]
    assert got == [("l", "in"), ("ext", "in"), ("l", "out"), ("ext", "out"), ("l", "in"), ("ext", "in")]
    assert frames[-1].analytics.crossings == {"l": (2, 1), "ext": (2, 1)}  # type: ignore[union-attr]
    beside = AnalyticsStage({0: scene(lines=[line])}, NAMES, 3.0)
    assert events(run(beside, walk(there, y=150)), "line_crossing") == []  # below the segment's end


def test_a_crossing_across_a_detection_gap_still_counts() -> None:
    stage = AnalyticsStage({0: scene(lines=[{"name": "l", "line": [[100, 0], [100, 100]],
                                             "direction": [[110, 50], [90, 50]]}])}, NAMES, 3.0)
    steps = walk([80, 84, 88]) + [[]] * 5 + walk([120, 124], y=60)
    assert [(e[0], e[3]["direction"]) for e in events(run(stage, steps), "line_crossing")] == [(8, "out")]


def test_a_track_lost_inside_a_zone_exits_it_when_evicted() -> None:
    stage = AnalyticsStage({0: scene(zones=[{"name": "z", "polygon": SQUARE}])}, NAMES, evict_after=0.5)
    frames = run(stage, walk([60.0] * 10) + [[]] * 8)
    lost = events(frames, "zone_exit")
    assert len(lost) == 1 and lost[0][0] == 15 and lost[0][3]["lost"] is True
    assert lost[0][3]["dwell_s"] == pytest.approx(0.9)  # first to last sighting
    assert len(stage.streams[0].rows.of) == 0


def test_classes_limit_zones_and_lines() -> None:
    stage = AnalyticsStage({0: scene(zones=[{"name": "z", "polygon": SQUARE, "classes": ["car"]}])}, NAMES, 3.0)
    assert events(run(stage, walk([60.0] * 5), class_id=0)) == []
    assert [e[1] for e in events(run(stage, walk([60.0] * 5, track_id=2), class_id=1))] == ["zone_enter"]
    with pytest.raises(EdgewatchError, match="test.yaml: zone 'z': class 'bus' is not one of the detector's"):
        AnalyticsStage({0: scene(zones=[{"name": "z", "polygon": SQUARE, "classes": ["bus"]}])}, NAMES, 3.0)


def test_counts_are_per_zone_and_class_whatever_the_class_ids() -> None:
    zones = [{"name": "a", "polygon": SQUARE}, {"name": "b", "polygon": [[140, 40], [180, 40], [180, 80], [140, 80]]}]
    stage = AnalyticsStage({0: scene(zones=zones)}, NAMES, 3.0)
    ids = {1: 0, 2: 1, 3: -1, 4: 7}  # person, car, an unclassified object, an id the detector does not name
    frames = []
    for n in range(3):
        tracks = [Track(i, box(60.0 + 100 * (i % 2 == 0), 60.0), 0.9, c, TrackState.CONFIRMED) for i, c in ids.items()]
        frames.append(stage([Frame(0, n, n / 10.0, tracks=tracks)])[0])
    assert frames[-1].analytics.counts == {"a": {"person": 1, "-1": 1}, "b": {"car": 1, "7": 1}}  # type: ignore[union-attr]


def test_regions_of_interest_drop_tracks() -> None:
    stage = AnalyticsStage({0: scene(zones=[
        {"name": "keep", "polygon": [[0, 0], [200, 0], [200, 200], [0, 200]], "kind": "include"},
        {"name": "hole", "polygon": SQUARE, "kind": "exclude"},
        {"name": "z", "polygon": [[150, 0], [300, 0], [300, 200], [150, 200]]},
    ])}, NAMES, 3.0)
    steps = [[(1, box(20, 20)), (2, box(60, 60)), (3, box(250, 60)), (4, box(170, 60))]] * 3
    frames = run(stage, steps)
    assert [t.track_id for t in frames[-1].tracks] == [1, 4]  # 2 in the hole, 3 outside every include zone
    assert frames[-1].analytics.counts == {"z": {"person": 1}}  # type: ignore[union-attr]


def test_overcrowding_starts_and_ends_after_the_time_threshold() -> None:
    stage = AnalyticsStage({0: scene(zones=[{"name": "z", "polygon": SQUARE,
                                             "overcrowding": {"object-threshold": 3, "time-threshold": 1}}])}, NAMES, 3.0)
    crowd = [[(i, box(50 + 5 * i, 60)) for i in range(3)]]
    steps = crowd * 5 + [[(0, box(50, 60)), (1, box(55, 60)), (2, box(150, 60))]] * 1 + crowd * 15 + \
        [[(0, box(50, 60))]] * 15
    frames = run(stage, steps)
    got = events(frames, "overcrowding_start") + events(frames, "overcrowding_end")
    # 3 inside from frame 6 (0.6 s: one was out at frame 5) -> crowded 1 s later; 1 inside from 2.1 s -> ends 1 s later
    assert [(e[0], e[1]) for e in got] == [(16, "overcrowding_start"), (31, "overcrowding_end")]
    assert got[0][3] == {"zone": "z", "count": 3, "threshold": 3, "track_ids": [0, 1, 2]}
    assert frames[20].analytics.overcrowded == {"z"} and not frames[-1].analytics.overcrowded  # type: ignore[union-attr]


def camera_scene(camera: PinholeCamera, **extra: object) -> Scene:
    corners = np.array([[-6, 7], [6, 7], [8, 28], [-8, 28]], float)
    return scene(calibration={"image": camera.ground(corners).tolist(), "ground": corners.tolist()}, **extra)


def ground_walk(camera: PinholeCamera, speed: float, fps: float, seconds: float, rng: np.random.Generator,
                jitter: float = 1.0, start: tuple[float, float] = (-4.0, 8.0), heading: float = 35.0,
                tall: float = 1.75) -> list[np.ndarray]:
    """Boxes of an object moving at ``speed`` m/s on the ground (heading in degrees from +X), each box edge
    jittered by ``jitter`` px (a detector's noise)."""
    direction = np.array([np.cos(np.radians(heading)), np.sin(np.radians(heading))])
    return [camera.person_box(tuple(np.asarray(start) + direction * speed * n / fps), tall)
            + rng.normal(0, jitter, 4).astype(np.float32) for n in range(int(seconds * fps))]


@pytest.mark.parametrize(("speed", "fps", "tall"), [(1.4, 10.0, 1.75), (1.4, 25.0, 1.75), (3.5, 10.0, 1.75),
                                                     (13.9, 25.0, 1.5)])
def test_ground_speed_of_a_known_motion_within_5_percent(speed: float, fps: float, tall: float) -> None:
    """Walking, running and a 50 km/h vehicle, seen through a pinhole camera with 1 px box noise."""
    camera = PinholeCamera()
    stage = AnalyticsStage({0: camera_scene(camera)}, NAMES, 3.0)
    seconds = min(6.0, 18.0 / speed)  # stay in view
    frames = run(stage, [[(1, b)] for b in ground_walk(camera, speed, fps, seconds, np.random.default_rng(0), tall=tall)],
                 fps=fps)
    measured = [f.tracks[0].analytics for f in frames]
    first = next(i for i, a in enumerate(measured) if a is not None and a.speed is not None)
    assert first / fps <= 0.6  # half the 1 s window
    speeds = np.array([a.speed for a in measured[first:] if a is not None and a.speed is not None])
    assert len(speeds) == len(measured) - first
    np.testing.assert_allclose(speeds, speed, rtol=0.05)
    headings = [a.heading for a in measured[first:] if a is not None]
    np.testing.assert_allclose(headings, 35.0, atol=4.0)
    assert measured[-1] is not None and measured[-1].speed_kmh == pytest.approx(speed * 3.6, rel=0.05)


def test_identity_switches_and_box_merges_never_make_a_speed() -> None:
    """The same id jumping 10 m (another person), then its box doubling in height for a second (merged
    with a neighbour): no speed off the true 1.4 m/s by more than 5%, only unknowns."""
    camera = PinholeCamera()
    stage = AnalyticsStage({0: camera_scene(camera)}, NAMES, 3.0)
    rng = np.random.default_rng(1)
    a = ground_walk(camera, 1.4, 10.0, 3.0, rng)
    b = ground_walk(camera, 1.4, 10.0, 3.0, rng, start=(4.0, 9.0))
    merged = [bx.copy() for bx in ground_walk(camera, 1.4, 10.0, 3.0, rng, start=(-4.0, 12.0))]
    for bx in merged[10:20]:
        bx[1] -= (bx[3] - bx[1])  # twice as tall: the box now covers someone behind as well
    frames = run(stage, [[(1, bx)] for bx in a + b + merged])
    speeds = [f.tracks[0].analytics.speed for f in frames if f.tracks[0].analytics is not None]
    known = np.array([s for s in speeds if s is not None])
    np.testing.assert_allclose(known, 1.4, rtol=0.05)
    assert len(known) < len(speeds) - 15  # unknown around the jump and the merge


def test_speeding_fires_once_per_visit_and_rearms_below_the_limit() -> None:
    camera = PinholeCamera()
    zone = {"name": "road", "polygon": [[0, 0], [768, 0], [768, 576], [0, 576]], "speed-limit": 20}
    stage = AnalyticsStage({0: camera_scene(camera, zones=[zone])}, NAMES, 3.0)
    rng = np.random.default_rng(2)
    fast = ground_walk(camera, 8.0, 10.0, 1.5, rng, start=(-6.0, 10.0), heading=90)  # 28.8 km/h
    slow = ground_walk(camera, 3.0, 10.0, 2.0, rng, start=(-6.0, 22.0), heading=-90)  # 10.8 km/h
    again = ground_walk(camera, 8.0, 10.0, 1.0, rng, start=(-6.0, 16.0), heading=90)
    frames = run(stage, [[(1, bx)] for bx in fast + slow + again])
    got = events(frames, "speeding")
    assert len(got) == 2 and got[0][3] == {"zone": "road", "limit_kmh": 20}
    assert got[0][0] < 15 <= 35 <= got[1][0]
    assert frames[got[0][0]].tracks[0].analytics.speed_kmh > 20  # type: ignore[union-attr]


def test_directions_follow_the_image_motion() -> None:
    stage = AnalyticsStage({0: scene(directions=[{"name": "east", "direction": [[0, 0], [10, 0]]},
                                                 {"name": "south", "direction": [[0, 0], [0, 10]]}])}, NAMES, 3.0)
    frames = run(stage, [[(1, box(100 + 3 * n, 100)), (2, box(300, 100 + 3 * n)), (3, box(400, 100))]
                         for n in range(20)])
    last = [t.analytics.direction for t in frames[-1].tracks]  # type: ignore[union-attr]
    assert last == ["east", "south", None]


def test_streams_keep_their_own_scene_and_state() -> None:
    stage = AnalyticsStage({1: scene(zones=[{"name": "z", "polygon": SQUARE}])}, NAMES, 3.0)
    zero = run(stage, walk([60.0] * 3), stream=0)
    one = run(stage, walk([60.0] * 3), stream=1)
    assert all(f.analytics is None and f.tracks[0].analytics is None for f in zero)
    assert [e[1] for e in events(one)] == ["zone_enter"]


def test_a_clock_going_back_restarts_speed_histories() -> None:
    camera = PinholeCamera()
    stage = AnalyticsStage({0: camera_scene(camera)}, NAMES, 3.0)
    walked = ground_walk(camera, 1.4, 10.0, 3.0, np.random.default_rng(3))
    run(stage, [[(1, bx)] for bx in walked])
    restarted = stage([Frame(0, 30, 0.1, tracks=[Track(1, walked[-1], 0.9, 0, TrackState.CONFIRMED)])])[0]
    assert restarted.tracks[0].analytics is not None and restarted.tracks[0].analytics.speed is None


def all_event_types(tmp_path: Path) -> list[dict]:
    """An events file with every type: behaviour changes and each analytics event."""
    camera = PinholeCamera()
    zones = [{"name": "all", "polygon": [[0, 0], [768, 0], [768, 576], [0, 576]], "dwell-limit": 0.5, "speed-limit": 10,
              "overcrowding": {"object-threshold": 1, "time-threshold": 0}, "restricted": True}]
    lines = [{"name": "l", "line": [[384, 0], [384, 576]], "direction": [[300, 300], [450, 300]]}]
    stage = AnalyticsStage({0: camera_scene(camera, zones=zones, lines=lines)}, NAMES, 0.3)  # lost after 0.3 s
    path = tmp_path / "events.jsonl"
    boxes = ground_walk(camera, 5.0, 10.0, 2.0, np.random.default_rng(4), start=(-5.0, 12.0), heading=0)
    with EventWriter(path, NAMES, 0.3) as writer:
        for n, bx in enumerate(boxes + [None] * 6):
            tracks = [] if bx is None else [Track(1, bx, 0.9, 0, TrackState.CONFIRMED,
                                                  Behaviour("walking" if n < 5 else "running", 0.8))]
            writer(stage([Frame(0, n, n / 10, tracks=tracks)]))
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_event_type_follows_the_schema(tmp_path: Path) -> None:
    schema = json.loads(EVENTS_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    lines = all_event_types(tmp_path)
    assert {e["type"] for e in lines} == set(schema["properties"]["type"]["enum"])
    for record in lines:
        assert list(validator.iter_errors(record)) == [], record
    crossing = next(e for e in lines if e["type"] == "line_crossing")
    assert crossing["direction"] == "in" and crossing["zones"] == ["all"] and crossing["speed_kmh"] == pytest.approx(18, rel=0.05)
    assert next(e for e in lines if e["type"] == "zone_exit")["lost"] is True


@pytest.mark.parametrize("broken", [
    lambda e: e.pop("track_id"),
    lambda e: e.update(direction="sideways"),
    lambda e: e.update(behaviour="walking"),
    lambda e: e.update(type="loitering"),
])
def test_the_schema_rejects_broken_events(tmp_path: Path, broken: Callable[[dict], object]) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(EVENTS_SCHEMA.read_text()))
    record = next(e for e in all_event_types(tmp_path) if e["type"] == "line_crossing")
    broken(record)
    assert list(validator.iter_errors(record))


def test_run_summary_counts_analytics_per_stream() -> None:
    stage = AnalyticsStage({0: scene(zones=[{"name": "z", "polygon": SQUARE, "dwell-limit": 1}],
                                     lines=[{"name": "l", "line": [[100, 0], [100, 200]],
                                             "direction": [[90, 50], [110, 50]]}])}, NAMES, 3.0)
    stats = RunStats(["a", "b"])
    xs = [60.0] * 15 + [70 + 5 * n for n in range(10)]
    for n, x in enumerate(xs):
        frames = [Frame(0, n, n / 10, tracks=[Track(1, box(x, 60), 0.9, 0, TrackState.CONFIRMED),
                                              Track(2, box(65, 60), 0.9, 0, TrackState.CONFIRMED)]),
                  Frame(1, n, n / 10)]
        stats.count(stage(frames))
    streams = stats.summary(0)["streams"]
    assert streams[0]["analytics"] == {
        "zones": {"z": {"enter": 2, "exit": 1, "dwell": 2, "speeding": 0, "overcrowding": 0, "peak": 2}},
        "lines": {"l": {"in": 1, "out": 0}},
    }
    assert "analytics" not in streams[1]


def test_osd_draws_the_scene_counts_and_speeds() -> None:
    camera = PinholeCamera()
    the_scene = camera_scene(camera, zones=[{"name": "z", "polygon": [[0, 300], [700, 300], [700, 576], [0, 576]]}],
                             lines=[{"name": "l", "line": [[700, 100], [700, 500]], "direction": [[680, 300], [720, 300]]}])
    stage = AnalyticsStage({0: the_scene}, NAMES, 3.0)
    walked = ground_walk(camera, 1.4, 10.0, 2.0, np.random.default_rng(5))
    image = np.zeros((576, 768, 3), np.uint8)
    frames = run(stage, [[(7, bx)] for bx in walked])
    items = overlay(frames[-1], NAMES, OsdConfig())
    lines = [i for i in items if isinstance(i, OverlayLine)]
    assert len(lines) == 4 + 2 and [ln.arrow for ln in lines[-2:]] == [False, True]
    assert [i.text for i in items if isinstance(i, OverlayText)] == ["z: 1", "l in 0 out 0"]
    [obj] = [i for i in items if isinstance(i, OverlayItem)]
    assert obj.top.startswith("#7 person ") and obj.top.endswith(" km/h")
    assert float(obj.top.split()[2]) == pytest.approx(1.4 * 3.6, rel=0.05)
    assert all(isinstance(i, OverlayItem) for i in overlay(frames[-1], NAMES, OsdConfig(show_scene=False)))
    frames[-1].image = image
    OsdStage(OsdConfig(), NAMES)([frames[-1]])
    assert frames[-1].image is not None and frames[-1].image[300, 697:704].any()  # the counting line is drawn


def test_temporal_model_reads_each_cameras_lane_direction(tmp_path: Path) -> None:
    """A model that says "with" when a track moves along the lane: the same +x motion is "with" on a camera
    whose lane runs +x, "against" on one whose lane runs -x, and "with" again inside that camera's zone
    whose own lane runs +x."""
    spec = FeatureSpec(window=8, step=0.25, classes=NAMES)
    weights = np.zeros((spec.num_features, 2), np.float32)
    weights[MOTION_FEATURES.index("vel_along"), 0] = 1.0
    path = linear_behaviour_model(tmp_path / "b.onnx", spec.to_json(), spec.num_features, ("with", "against"),
                                  NAMES, weights)
    lane_zone = {"name": "z", "polygon": [[0, 0], [100, 0], [100, 50], [0, 50]], "lane-direction": [1, 0]}
    scenes = {0: scene(**{"lane-direction": [1, 0]}), 1: scene(**{"lane-direction": [-1, 0], "zones": [lane_zone]})}
    raw = TemporalConfig(enable=True, stride_seconds=0.1, smoothing="none", min_history_seconds=0.0, dwell_seconds=0.0,
                         min_confidence=0.0)  # every verdict reported as it comes
    stage = TemporalStage(BehaviourModel.from_file(path), NAMES, raw, 3.0, scenes)
    verdicts = {}
    for stream, y in ((0, 200.0), (1, 200.0), (1, 40.0)):
        for n in range(25):
            frame = Frame(stream, n, n / 10, tracks=[Track(int(y), box(10 + 2 * n, y), 0.9, 0, TrackState.CONFIRMED)])
            stage([frame])
        behaviour = frame.tracks[0].behaviour
        assert behaviour is not None
        verdicts[(stream, y)] = behaviour.label
    assert verdicts == {(0, 200.0): "with", (1, 200.0): "against", (1, 40.0): "with"}


def test_the_chain_runs_analytics_after_temporal_also_without_pixels(tmp_path: Path) -> None:
    """A source with a scene gets the analytics stage between temporal and events; a DeepStream-like
    backend (detector, tracker, OSD native) hands it frames without pixels that carry tracks."""
    from core_standins import constant_detector

    from edgewatch.config import load_config
    from edgewatch.stages.chain import StageChain

    constant_detector(tmp_path / "det.onnx", np.zeros((0, 6), np.float32), names=NAMES)
    (tmp_path / "clip.mp4").write_bytes(b"")
    (tmp_path / "cam.yaml").write_text("zones:\n  - name: z\n    polygon: [[40, 40], [80, 40], [80, 80], [40, 80]]\n")
    (tmp_path / "app.txt").write_text("[source0]\nuri=clip.mp4\nscene=cam.yaml\n[primary-gie]\nonnx-file=det.onnx\n"
                                      "[events]\nenable=1\noutput-file=events.jsonl\n")
    cfg = load_config(tmp_path / "app.txt")
    stats = RunStats(["clip"])
    with StageChain.from_config(cfg, stats) as chain:
        assert [name for name, _ in chain.stages] == ["detector", "tracker", "analytics", "events", "osd"]
    with StageChain.from_config(cfg, stats, native=frozenset({"detector", "tracker", "osd"})) as chain:
        assert [name for name, _ in chain.stages] == ["analytics", "events"]
        for n in range(5):
            chain([Frame(0, n, n / 10, None, tracks=[Track(4, box(60, 60), 0.9, 0, TrackState.CONFIRMED)])])
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [(e["type"], e["zone"], e["track_id"]) for e in lines] == [("zone_enter", "z", 4)]
    assert stats.summary(1)["streams"][0]["analytics"]["zones"]["z"]["enter"] == 1
