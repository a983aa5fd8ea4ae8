"""The behaviours YAML: the shipped file loads, and every mistake names its key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgewatch.behaviour.taxonomy import DEFAULT_TAXONOMY, load_taxonomy, parse_taxonomy
from edgewatch.errors import EdgewatchError


def shipped() -> dict:
    return yaml.safe_load(DEFAULT_TAXONOMY.read_text())


def test_shipped_taxonomy_covers_people_and_vehicles() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.behaviours == ("standing", "walking", "running", "loitering", "pacing",
                                   "stopped", "moving", "speeding", "turning", "lane_change", "wrong_way")
    assert taxonomy.group_of("person").name == "people"
    assert taxonomy.group_of("truck").name == "vehicles"
    assert taxonomy.features.classes == taxonomy.classes
    assert taxonomy.features.lane_direction == taxonomy.scene.lane_direction
    assert "loitering" not in taxonomy.applies_to()["car"]
    assert taxonomy.scene.frame_rate == 10.0


def edit(path: list[str], value: object) -> dict:
    data = shipped()
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize(("path", "value", "message"), [
    (["scene", "speed"], 3, "scene: unknown key 'speed'"),
    (["scene", "zones"], [], "scene: unknown key 'zones'"),  # zones are per camera: the source's scene file
    (["features", "window"], "32", "key 'window' must be int"),
    (["scene", "frame_rate"], KeyError, "missing key 'frame_rate'"),
    (["scene", "lane_direction"], [0, 0], "lane_direction must not be the zero vector"),
    (["groups", "vehicles", "classes"], ["person"], "class 'person' appears in two groups"),
    (["groups", "people", "behaviours"], [], "groups.people.behaviours must be a non-empty list"),
    (["features", "smoothing"], "median", "smoothing must be"),
])
def test_mistakes_name_the_key(path: list[str], value: object, message: str) -> None:
    with pytest.raises(EdgewatchError, match=message):
        parse_taxonomy(edit(path, value), "b.yaml")


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(EdgewatchError, match="not found"):
        load_taxonomy(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("groups: [unclosed\n")
    with pytest.raises(EdgewatchError, match="not valid YAML"):
        load_taxonomy(broken)


def test_lane_direction_may_be_unknown() -> None:
    taxonomy = parse_taxonomy(edit(["scene", "lane_direction"], None), "b.yaml")
    assert taxonomy.features.lane_direction is None
