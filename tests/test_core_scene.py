"""Scene files and their geometry: loading and one-line errors, point-in-zone and line sides, the
image-to-ground homography against a known camera and the PETS 2009 calibration, scaling, and the
nvdsanalytics config writer against NVIDIA's documented keys."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scene_camera import PinholeCamera

from edgewatch.config import load_config
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT
from edgewatch.scene.geometry import PolygonSet, SegmentSet, fit_homography, project
from edgewatch.scene.load import load_scene, parse_scene
from edgewatch.scene.nvdsanalytics import DOCUMENTED_KEYS, nvdsanalytics_config

CAMPUS = REPO_ROOT / "configs" / "scenes" / "campus.yaml"
NAMES = ("person", "bicycle", "car")
# The PETS 2009 View_001 camera as a 3x4 projection matrix (its Tsai calibration without the lens
# distortion), world in millimetres on the ground plane: the independent reference for the campus scene.
PETS_VIEW_001 = 1e7 * np.array([
    [0.000092758253702, -0.000079086639724, -0.000015319476449, 1.248195750930406],
    [-0.000009234442978, 0.000001295124261, -0.000122402299869, 0.622898830135874],
    [0.000000077919286, 0.000000055889203, -0.000000028372202, 0.003546929854700],
])


def square_scene(**extra: object) -> dict:
    """A valid scene document to break one key at a time."""
    data = {
        "calibration": {"image": [[0, 0], [100, 0], [100, 100], [0, 100]], "ground": [[0, 0], [10, 0], [10, 10], [0, 10]]},
        "zones": [{"name": "a", "polygon": [[10, 10], [50, 10], [50, 50], [10, 50]], "dwell-limit": 2}],
        "lines": [{"name": "l", "line": [[60, 0], [60, 100]], "direction": [[50, 50], [70, 50]]}],
    }
    data.update(extra)
    return data


def test_shipped_campus_scene_loads() -> None:
    scene = load_scene(CAMPUS)
    assert [z.name for z in scene.zones] == ["assembly", "corner", "lawn"]
    assert scene.zones[2].restricted and scene.zones[2].speed_limit == 8
    assert scene.zones[0].overcrowding is not None and scene.zones[0].overcrowding.object_threshold == 3
    assert [ln.name for ln in scene.lines] == ["crossing"] and scene.lines[0].in_side == -1
    assert scene.calibration is not None and scene.calibration.rms < 0.05  # metres
    assert scene.frame_size == (768, 576)


@pytest.mark.parametrize(("edit", "message"), [
    ({"speed": 3}, "unknown key 'speed'"),
    ({"zones": [{"name": "a", "polygon": [[0, 0], [1, 1]]}]}, r"zones\[0\].polygon must be a list of 3 or more"),
    ({"zones": [{"name": "a", "polygon": [[0, 0], [5, 5], [10, 10]]}]}, "encloses no area"),
    ({"zones": [{"name": "a b", "polygon": [[0, 0], [5, 0], [5, 5]]}]}, "key 'name' must be letters"),
    ({"zones": [{"name": "a", "polygon": [[0, 0], [5, 0], [5, 5]], "kind": "roi"}]}, "key 'kind' must be one of"),
    ({"zones": [{"name": "a", "polygon": [[0, 0], [5, 0], [5, 5]], "kind": "include", "dwell-limit": 3}]},
     "key 'dwell-limit' needs kind: zone"),
    ({"zones": [{"name": "a", "polygon": [[0, 0], [5, 0], [5, 5]], "dwell-limit": -1}]}, "'dwell-limit' must be > 0"),
    ({"zones": [{"name": "a", "polygon": [[0, 0], [5, 0], [5, 5]], "overcrowding": {"object-threshold": 0}}]},
     "'object-threshold' must be >= 1"),
    ({"zones": [{"name": "a", "polygon": [[0, 0], [5, 0], [5, 5]]}, {"name": "a", "polygon": [[0, 0], [5, 0], [5, 5]]}]},
     r"zones\[1\]: name 'a' is used twice"),
    ({"zones": [{"name": "a", "polygon": [[0, 0], [5, 0], [5, 5]], "restricted": "yes"}]}, "must be true or false"),
    ({"lines": [{"name": "l", "line": [[0, 0], [0, 100]], "direction": [[0, 10], [0, 20]]}]},
     "direction runs along the line"),
    ({"lines": [{"name": "l", "line": [[0, 0], [0, 0]], "direction": [[0, 10], [5, 10]]}]}, "has two equal points"),
    ({"lines": [{"name": "l", "line": [[0, 0], [0, 100]]}]}, r"lines\[0\]: missing key 'direction'"),
    ({"calibration": {"image": [[0, 0], [100, 0], [100, 100]], "ground": [[0, 0], [1, 0], [1, 1]]}},
     "calibration.image must be a list of 4 or more"),
    ({"calibration": {"image": [[0, 0], [100, 0], [100, 100], [0, 100]], "ground": [[0, 0], [1, 0], [1, 1]]}},
     "calibration.ground must be a list of 4"),
    ({"calibration": {"image": [[0, 0], [50, 0], [100, 0], [0, 100]], "ground": [[0, 0], [5, 0], [10, 0], [0, 10]]}},
     "do not fix a homography"),
    ({"calibration": {"image": [[0, 0], [100, 0], [0, 100], [100, 100]], "ground": [[0, 0], [10, 0], [10, 10], [0, 10]]}},
     "not in a consistent order"),
    ({"calibration": {"image": [[0, 0], [100, 0], [100, 100], [0, 100], [50, 50]],
                      "ground": [[0, 0], [10, 0], [10, 10], [0, 10], [9, 1]]}}, "disagree with one ground plane"),
    ({"hysteresis": 2}, "'hysteresis' must be between 0 and 1"),
    ({"frame-size": [768.5, 576]}, "frame-size must be two positive whole numbers"),
])
def test_mistakes_name_the_key(edit: dict, message: str) -> None:
    with pytest.raises(EdgewatchError, match=message) as info:
        parse_scene(square_scene(**edit), "cam.yaml")
    assert str(info.value).startswith("cam.yaml") and "\n" not in str(info.value)


def test_speed_limit_needs_a_calibration() -> None:
    data = square_scene(zones=[{"name": "a", "polygon": [[0, 0], [5, 0], [5, 5]], "speed-limit": 30}])
    del data["calibration"]
    with pytest.raises(EdgewatchError, match="zone 'a' has a speed-limit but the scene has no calibration"):
        parse_scene(data, "cam.yaml")


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(EdgewatchError, match="scene file not found"):
        load_scene(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("zones: [unclosed\n")
    with pytest.raises(EdgewatchError, match="not valid YAML"):
        load_scene(tmp_path / "bad.yaml")


def test_polygon_depths_are_signed_distances() -> None:
    square = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
    ell = [(20.0, 0.0), (30.0, 0.0), (30.0, 5.0), (25.0, 5.0), (25.0, 10.0), (20.0, 10.0)]  # concave
    depth = PolygonSet([square, ell]).depths(np.array([[5, 5], [5, 12], [28, 8], [22, 8], [-3, 5]], float))
    np.testing.assert_allclose(depth[:, 0], [5, -2, -18, -12, -3])
    np.testing.assert_allclose(depth[:, 1], [-15, -np.hypot(15, 2), -3, 2, -23])  # (28, 8) is in the notch
    assert PolygonSet([]).depths(np.zeros((3, 2))).shape == (3, 0)


def test_segment_sides_and_along() -> None:
    seg = SegmentSet([((0.0, 0.0), (10.0, 0.0))])
    pts = np.array([[5, 3], [5, -2], [15, 1]], float)
    np.testing.assert_allclose(seg.sides(pts)[:, 0], [3, -2, 1])  # below a left-to-right segment is positive
    np.testing.assert_allclose(seg.along(pts)[:, 0], [0.5, 0.5, 1.5])


def test_homography_matches_a_known_camera() -> None:
    """Four ground points seen by a pinhole camera fix the ground for every other pixel: the fitted
    image -> ground map returns the true positions and the true distances between them."""
    camera = PinholeCamera()
    corners = np.array([[-4, 8], [4, 8], [6, 25], [-6, 25]], float)
    matrix = fit_homography(camera.ground(corners), corners)
    rng = np.random.default_rng(0)
    truth = np.c_[rng.uniform(-5, 5, 50), rng.uniform(6, 28, 50)]
    mapped, w = project(matrix, camera.ground(truth))
    np.testing.assert_allclose(mapped, truth, atol=1e-6)
    assert np.all(w * np.sign(w[0]) > 0)
    dist = np.linalg.norm(mapped[1:] - mapped[:-1], axis=1)
    np.testing.assert_allclose(dist, np.linalg.norm(truth[1:] - truth[:-1], axis=1), rtol=1e-6)


def test_campus_calibration_measures_pets_ground_distances() -> None:
    """Ground points 1 to 10 m apart on the PETS 2009 plane, seen through the PETS View_001 camera, are
    measured by the shipped campus scene within 1% (the scene gives its points to 0.1 px)."""
    calibration = load_scene(CAMPUS).calibration
    assert calibration is not None
    ground_to_image = PETS_VIEW_001[:, [0, 1, 3]] @ np.diag([1000.0, 1000.0, 1.0])  # ground in metres
    rng = np.random.default_rng(1)
    a = np.c_[rng.uniform(-15, 8, 40), rng.uniform(-12, 6, 40)]
    angle = rng.uniform(0, 2 * np.pi, 40)
    length = rng.uniform(1, 10, 40)
    b = a + np.c_[np.cos(angle), np.sin(angle)] * length[:, None]
    pixels_a, _ = project(ground_to_image, a)
    pixels_b, _ = project(ground_to_image, b)
    ga, ok_a = calibration.to_ground(pixels_a)
    gb, ok_b = calibration.to_ground(pixels_b)
    assert ok_a.all() and ok_b.all()
    np.testing.assert_allclose(np.linalg.norm(gb - ga, axis=1), length, rtol=0.01)


def test_pixels_beyond_the_horizon_are_not_ground() -> None:
    camera = PinholeCamera()  # horizon at y = cy - f * tan(tilt) = 288 - 462 < 0: above the frame
    corners = np.array([[-4, 8], [4, 8], [6, 25], [-6, 25]], float)
    scene = parse_scene({"calibration": {"image": camera.ground(corners).tolist(), "ground": corners.tolist()}}, "c")
    assert scene.calibration is not None
    _, ok = scene.calibration.to_ground(np.array([[384.0, 300.0], [384.0, -400.0]]))
    assert ok.tolist() == [True, False]


def test_scaling_keeps_the_ground_and_the_geometry() -> None:
    scene = parse_scene(square_scene(**{"frame-size": [100, 100], "lane-direction": [1, 1]}), "s")
    half = scene.scaled(50, 200)
    assert half.zones[0].polygon[2] == (25.0, 100.0)
    assert half.lines[0].start == (30.0, 0.0) and half.lane_direction == (0.5, 2.0)
    assert half.frame_size == (50, 200)
    assert scene.calibration is not None and half.calibration is not None
    np.testing.assert_allclose(half.calibration.to_ground(np.array([[25.0, 100.0]]))[0],
                               scene.calibration.to_ground(np.array([[50.0, 50.0]]))[0])
    assert parse_scene(square_scene(), "s").scaled(50, 50).zones[0].polygon[2] == (50.0, 50.0)  # no frame-size


def test_lane_at_prefers_the_zone_lane() -> None:
    scene = parse_scene(square_scene(**{"lane-direction": [1, 0], "zones": [
        {"name": "a", "polygon": [[0, 0], [10, 0], [10, 10], [0, 10]], "lane-direction": [0, -1]}]}), "s")
    assert scene.lane_at(5, 5) == (0.0, -1.0)
    assert scene.lane_at(50, 50) == (1.0, 0.0)


def test_source_scene_in_the_app_config(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"mp4")
    (tmp_path / "det.onnx").write_bytes(b"onnx")
    (tmp_path / "cam.yaml").write_text(yaml.safe_dump(square_scene(**{"frame-size": [100, 100]})))
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(square_scene(hysteresis=5)))
    base = "[source0]\nuri=clip.mp4\nscene={scene}\n[primary-gie]\nonnx-file=det.onnx\n{extra}"
    path = tmp_path / "app.txt"
    path.write_text(base.format(scene="cam.yaml", extra="[streammux]\nwidth=200\nheight=200\n"))
    cfg = load_config(path)
    assert cfg.sources[0].scene is not None and cfg.sources[0].scene.zones[0].name == "a"
    assert cfg.scenes[0].zones[0].polygon[1] == (100.0, 20.0)  # scaled to the streammux size
    path.write_text(base.format(scene="bad.yaml", extra=""))
    with pytest.raises(EdgewatchError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: [source0] key 'scene': ") and "bad.yaml" in message and "hysteresis" in message
    path.write_text(base.format(scene="cam.yaml", extra="[tracker]\nenable=0\n"))
    with pytest.raises(EdgewatchError, match="key 'scene' needs \\[tracker\\] enable=1"):
        load_config(path)
    path.write_text(base.format(scene="cam.yaml", extra="[temporal]\nlane-direction=1,0\n"))
    with pytest.raises(EdgewatchError, match=r"\[temporal\] unknown key 'lane-direction'"):
        load_config(path)


def _documented(group: str, key: str) -> bool:
    pattern = re.sub(r"stream-\d+$", "stream-N", group)
    keys = DOCUMENTED_KEYS.get(pattern, ())
    return key in keys or any(k.endswith("<label>") and key.startswith(k[: -len("<label>")]) for k in keys)


def test_nvdsanalytics_config_uses_only_documented_keys() -> None:
    scene = load_scene(CAMPUS)
    extra = parse_scene({
        "zones": [{"name": "keep", "polygon": [[0, 0], [300, 0], [300, 300], [0, 300]], "kind": "include",
                   "classes": ["person", "car"]}],
        "directions": [{"name": "north", "direction": [[100, 400], [100, 100]]}],
        "lines": [{"name": "gate", "line": [[10, 10], [10, 200]], "direction": [[0, 100], [20, 100]],
                   "extended": True}],
    }, "other.yaml")
    text = nvdsanalytics_config({0: scene, 1: extra}, 768, 576, NAMES)
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    assert parser.sections() == ["property", "overcrowding-stream-0", "line-crossing-stream-0",
                                 "roi-filtering-stream-1", "line-crossing-stream-1", "direction-detection-stream-1"]
    for group in parser.sections():
        for key in parser[group]:
            assert _documented(group, key), f"[{group}] {key} is not a documented nvdsanalytics key"
    assert dict(parser["property"]) == {"enable": "1", "config-width": "768", "config-height": "576",
                                             "osd-mode": "2", "display-font-size": "12"}
    oc = parser["overcrowding-stream-0"]
    assert oc["roi-assembly"] == "340;205;440;205;440;290;340;290"
    assert (oc["object-threshold"], oc["time-threshold"], oc["class-id"]) == ("3", "1000", "0")
    lc = parser["line-crossing-stream-0"]
    assert lc["line-crossing-crossing"] == "290;262;345;262;330;185;305;335"  # the arrow, then the line
    assert (lc["extended"], lc["mode"]) == ("0", "balanced")
    assert parser["roi-filtering-stream-1"]["inverse-roi"] == "0"
    assert parser["roi-filtering-stream-1"]["class-id"] == "0;2"
    assert parser["direction-detection-stream-1"]["direction-north"] == "100;400;100;100"
    assert text.splitlines()[8].startswith("# stream 0: no nvdsanalytics counterpart")  # what stays with edgewatch


@pytest.mark.parametrize(("zones", "message"), [
    ([{"name": "a", "polygon": [[0, 0], [9, 0], [9, 9]], "kind": "include"},
      {"name": "b", "polygon": [[0, 0], [9, 0], [9, 9]], "kind": "exclude"}], "one inverse-roi .* a \\(False\\), b \\(True\\)"),
    ([{"name": "a", "polygon": [[0, 0], [9, 0], [9, 9]], "overcrowding": {"object-threshold": 2}},
      {"name": "b", "polygon": [[0, 0], [9, 0], [9, 9]], "overcrowding": {"object-threshold": 3}}], "one overcrowding rule"),
    ([{"name": "a", "polygon": [[-5, 0], [9, 0], [9, 9]], "kind": "include"}], "outside the 100x100 frame"),
])
def test_nvdsanalytics_refuses_what_it_cannot_express(zones: list, message: str) -> None:
    with pytest.raises(EdgewatchError, match=message):
        nvdsanalytics_config({0: parse_scene({"zones": zones}, "s.yaml")}, 100, 100, NAMES)


def test_nvdsanalytics_command_writes_the_file_and_never_an_input(tmp_path: Path) -> None:
    out = tmp_path / "analytics.txt"
    cmd = [sys.executable, "-m", "edgewatch.cli", "nvdsanalytics", "-c", str(REPO_ROOT / "configs" / "demo.txt")]
    done = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "[line-crossing-stream-0]" in out.read_text()
    refused = subprocess.run([*cmd, "--out", str(CAMPUS)], capture_output=True, text=True, cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.startswith("edgewatch: error: ")
    assert "is one of the inputs" in refused.stderr


def test_the_readme_scene_example_loads() -> None:
    """The README shows users how to add a zone and a line: that example must stay a valid scene."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(# scenes/gate.yaml.*?)```", readme, re.S)
    assert block is not None
    example = parse_scene(yaml.safe_load(block.group(1)), "README.md")
    assert [z.name for z in example.zones] == ["entrance"] and [ln.name for ln in example.lines] == ["door"]
