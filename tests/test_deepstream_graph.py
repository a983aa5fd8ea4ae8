"""The DeepStream backend as data, checked here: the nvinfer / nvtracker configs it writes (against golden
files and against the keys NVIDIA documents for each supported version), the graph (every element and
property against the documented names; GStreamer's own elements against the GStreamer installed here),
the per-backend key rules, and the one-line error where DeepStream is missing. Running the graph needs
DeepStream: that test skips with the reason."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from core_standins import constant_detector
from graph_fixtures import DETECTIONS, NAMES, error_lines, run_cli, stand_in_models, write_config

from edgewatch.config import AppConfig, load_config
from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata
from edgewatch.paths import REPO_ROOT
from edgewatch.pipeline.deepstream.prepare import DEEPSTREAM_ROOT, installed_version, prepare
from edgewatch.pipeline.deepstream.documented import VERSIONS, DeepStreamVersion, version_for
from edgewatch.pipeline.deepstream.graph import GraphFiles, GraphSpec, build_graph
from edgewatch.pipeline.deepstream.nvinfer_config import GieFiles, nvinfer_config, parser_kind
from edgewatch.pipeline.deepstream.tracker_config import SHIPPED, read_groups, tracker_base, tracker_config

GOLDEN = Path(__file__).parent / "golden"
NVIDIA_FACTORIES = {"nvurisrcbin", "nvstreammux", "nvinfer", "nvtracker", "nvstreamdemux", "nvvideoconvert",
                    "nvdsosd", "nvv4l2h264enc", "nveglglessink", "nv3dsink"}


def config(tmp_path: Path, extra: str = "", sources: list[str] | None = None, backend: str = "deepstream",
           streammux: str = "width=640\nheight=384\n") -> AppConfig:
    models = tmp_path / "models"
    det, _ = stand_in_models(models)
    path = write_config(tmp_path / "app.txt", models, sources or [str(det)], streammux=streammux)
    path.write_text(merged(path.read_text(), extra))
    return load_config(path, backend=backend)


def merged(text: str, extra: str) -> str:
    """``text`` with the keys of ``extra`` (INI) added to their sections, new sections appended."""
    section = None
    for line in extra.strip().splitlines():
        if line.startswith("["):
            section = line
            if section not in text.splitlines():
                text += f"\n{section}\n"
        else:
            assert section is not None
            text = text.replace(f"{section}\n", f"{section}\n{line}\n", 1)
    return text


def normalised(text: str, root: Path) -> str:
    return text.replace(str(root), "{root}")


def test_nvinfer_config_matches_golden_and_documented_keys(tmp_path: Path) -> None:
    cfg = config(tmp_path, "\n[primary-gie]\npre-cluster-threshold=0.3\ntopk=100\nclasses=person\n")
    meta = ModelMetadata.from_onnx(cfg.detector.onnx_file)
    files = GieFiles(tmp_path / "labels.txt", tmp_path / "models/det.onnx_b1_gpu0_fp32.engine", tmp_path / "lib.so")
    text = nvinfer_config(cfg, meta, list(NAMES), files)
    assert normalised(text, tmp_path) == (GOLDEN / "nvinfer_custom.txt").read_text()
    groups = read_ini(text)
    for version in VERSIONS.values():
        assert set(groups["property"]) <= version.nvinfer_keys, version.name
        assert set(groups["class-attrs-all"]) <= version.class_attrs_keys, version.name


def read_ini(text: str) -> dict[str, dict[str, str]]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return {s: dict(parser[s]) for s in parser.sections()}


def test_raw_yolo_head_falls_back_to_tensor_meta_and_int8_is_network_mode_1(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    raw = constant_detector(tmp_path / "raw.onnx", DETECTIONS[:, :6].T[:6], layout="yolo_raw", precision="int8")
    cfg = replace(cfg, detector=replace(cfg.detector, onnx_file=raw))
    meta = ModelMetadata.from_onnx(raw)
    assert parser_kind(cfg, meta) == "tensor-meta"
    prop = read_ini(nvinfer_config(cfg, meta, list(NAMES), GieFiles(tmp_path / "l.txt", None, None)))["property"]
    assert (prop["network-type"], prop["output-tensor-meta"], prop["network-mode"]) == ("100", "1", "1")
    assert "model-engine-file" not in prop and "parse-bbox-func-name" not in prop
    with pytest.raises(EdgewatchError, match="parser=custom reads \\[B,N,6\\] rows"):
        parser_kind(replace(cfg, detector=replace(cfg.detector, parser="custom")), meta)


@pytest.mark.parametrize("kind", sorted(SHIPPED))
def test_shipped_tracker_configs_use_documented_keys_and_get_the_tracker_thresholds(tmp_path: Path, kind: str) -> None:
    cfg = config(tmp_path, f"\n[tracker]\ntype={kind}\ntrack-buffer-seconds=4.5\n")
    text = tracker_config(cfg, tracker_base(cfg).read_text(), fps=10.0)
    groups = read_groups(text)
    assert groups["TargetManagement"]["maxShadowTrackingAge"] == 45  # 4.5 s at 10 fps
    assert groups["TargetManagement"]["probationAge"] == 1  # write_config sets probation-seconds=0.1
    assert groups["BaseConfig"]["minDetectorConfidence"] == cfg.tracker.track_low_thresh
    for version in VERSIONS.values():
        for group, items in groups.items():
            assert set(items) <= version.tracker_keys[group], (version.name, group)
    if kind == "nvsort":
        assert normalised(text, tmp_path) == (GOLDEN / "nvtracker_nvsort.yml").read_text()


def test_own_tracker_config_keeps_its_values_except_the_keys_set(tmp_path: Path) -> None:
    own = tmp_path / "mine.yml"
    own.write_text("%YAML:1.0\nBaseConfig:\n  minDetectorConfidence: 0.05\nTargetManagement:\n  maxShadowTrackingAge: 9\n"
                   "  probationAge: 7\n")
    cfg = config(tmp_path, f"\n[tracker]\nll-config-file={own}\ntrack-buffer-seconds=0.4\n")
    groups = read_groups(tracker_config(cfg, own.read_text(), fps=30.0))
    # 0.4 s at 30 fps; probation-seconds=0.1 (write_config) is set too: 3 frames
    assert groups["TargetManagement"] == {"maxShadowTrackingAge": 12, "probationAge": 3}
    assert groups["BaseConfig"] == {"minDetectorConfidence": 0.05}


# GStreamer is loaded in a child process: in the test process, ONNX Runtime loading a damaged file after
# GStreamer's libraries crashes (a library clash seen on the dev box), and later tests do exactly that.
_GST_CHECK = """
import json, sys
import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst
Gst.init(None)
missing = []
for factory, props in json.load(sys.stdin):
    element = Gst.ElementFactory.make(factory, None)
    missing += [[factory, None]] if element is None else [[factory, p] for p in props if element.find_property(p) is None]
print(json.dumps(missing))
"""


def missing_in_gstreamer(elements: list[tuple[str, list[str]]]) -> list[list[str | None]]:
    """The (factory, property) pairs the GStreamer installed here does not have."""
    done = subprocess.run([sys.executable, "-c", _GST_CHECK], input=json.dumps(elements), capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def check_against_documented(spec: GraphSpec, version: DeepStreamVersion) -> None:
    names = {e.name for e in spec.elements}
    assert len(names) == len(spec.elements), "element names are unique"
    gstreamer = []
    for e in spec.elements:
        if e.factory in NVIDIA_FACTORIES:
            assert e.factory in version.elements, (version.name, e.factory)
            unknown = set(e.props) - version.elements[e.factory]
            assert not unknown, (version.name, e.factory, unknown)
        else:  # GStreamer's own elements: checked against the real ones, installed here
            gstreamer.append((e.factory, sorted(e.props)))
    assert missing_in_gstreamer(gstreamer) == []
    for link in spec.links:
        assert {link.src, link.dst} <= names, link
    assert {p.element for p in spec.probes} <= names


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_graph_uses_only_documented_elements_and_properties(tmp_path: Path, version: str) -> None:
    rtsp = "rtsp://127.0.0.1:8554/cam"
    cfg = config(tmp_path, "\n[sink1]\ntype=rtsp\n[sink2]\ntype=fake\n[sink3]\ntype=display\n",
                 sources=[str(tmp_path / "models/det.onnx"), rtsp])
    files = GraphFiles(tmp_path / "nvinfer.txt", tmp_path / "nvtracker.yml", tensor_meta=True)
    for jetson in (True, False):
        spec = build_graph(cfg, VERSIONS[version], files, jetson)
        check_against_documented(spec, VERSIONS[version])
    factories = [e.factory for e in spec.elements]
    assert factories[:3] == ["nvurisrcbin", "nvurisrcbin", "nvstreammux"]
    assert spec.element("mux").props["batch-size"] == 2 and spec.element("mux").props["live-source"] is True
    assert [p.kind for p in spec.probes] == ["tensor-meta", "chain"] and spec.probes[1].element == "tracker"
    assert spec.rtsp[1].mount == "/edgewatch1" and spec.rtsp[1].udp_port == 5401
    assert spec.outputs == ((str(tmp_path / "out/run_0.mp4"),), (str(tmp_path / "out/run_1.mp4"),))


def test_graph_read_top_to_bottom_for_the_demo_config(tmp_path: Path) -> None:
    cfg = load_config(REPO_ROOT / "configs" / "demo.txt", backend="deepstream", no_display=True,
                      output=tmp_path / "demo.mp4")
    spec = build_graph(cfg, VERSIONS["7.1"], GraphFiles(tmp_path / "g.txt", tmp_path / "t.yml", False), jetson=True)
    assert [e.factory for e in spec.elements] == [
        "nvurisrcbin", "nvstreammux", "nvinfer", "nvtracker", "nvstreamdemux", "queue", "nvvideoconvert", "nvdsosd",
        "tee", "queue", "nvvideoconvert", "capsfilter", "nvv4l2h264enc", "h264parse", "mp4mux", "filesink"]
    mux = spec.element("mux").props
    assert (mux["width"], mux["height"], mux["batch-size"], mux["batched-push-timeout"]) == (768, 576, 1, 40000)
    assert spec.element("stream0_sink0_encoder").props["bitrate"] == 2_000_000


def test_rtsp_reconnect_attempts_on_deepstream_63_is_an_error_naming_the_key(tmp_path: Path) -> None:
    cfg = config(tmp_path, sources=["rtsp://127.0.0.1:8554/cam"])
    files = GraphFiles(tmp_path / "g.txt", tmp_path / "t.yml", False)
    spec = build_graph(cfg, VERSIONS["6.3"], files, jetson=True)  # not given: 6.3 retries without limit
    assert "rtsp-reconnect-attempts" not in spec.element("source0").props
    given = replace(cfg, given=cfg.given | {"source0:rtsp-reconnect-attempts"})
    with pytest.raises(EdgewatchError, match=r"\[source0\] key 'rtsp-reconnect-attempts'.*DeepStream 6.3"):
        build_graph(given, VERSIONS["6.3"], files, jetson=True)
    assert build_graph(given, VERSIONS["7.1"], files, True).element("source0").props["rtsp-reconnect-attempts"] == 5


def test_a_version_without_nvurisrcbin_gets_uridecodebin_into_nvmm(tmp_path: Path) -> None:
    old = replace(VERSIONS["7.1"], elements={k: v for k, v in VERSIONS["7.1"].elements.items() if k != "nvurisrcbin"})
    spec = build_graph(config(tmp_path), old, GraphFiles(tmp_path / "g.txt", tmp_path / "t.yml", False), jetson=False)
    assert [e.factory for e in spec.elements[:4]] == ["uridecodebin", "nvvideoconvert", "capsfilter", "nvstreammux"]
    assert spec.links[0].dynamic and spec.links[2].dst_pad == "sink_0"


def test_version_table_lookup() -> None:
    assert version_for("Version: 7.1").name == "7.1" and version_for("7.0").name == "6.3"
    assert version_for("9.2.0").name == "9.1" and VERSIONS["9.1"].binding == "pyservicemaker"
    assert VERSIONS["8.0"].binding == "pyds" and VERSIONS["7.1"].numpy_below_2
    with pytest.raises(ValueError, match="older than every supported version"):
        version_for("6.2")


@pytest.mark.parametrize(
    ("backend", "extra", "message"),
    [
        ("deepstream", "\n[primary-gie]\nnum-threads=2\n",
         "[primary-gie] key 'num-threads': the deepstream backend cannot honour it"),
        ("deepstream", "\n[primary-gie]\nparallel-batches=2\n",
         "[primary-gie] key 'parallel-batches': the deepstream backend cannot honour it"),
        ("cpu", "\n[primary-gie]\nparser=custom\n", "[primary-gie] key 'parser': the cpu backend cannot honour it"),
        ("cpu", "\n[tracker]\ntype=nvdcf\n", "[tracker] type=nvdcf: the cpu backend cannot honour it"),
        ("deepstream", "\n[tracker]\ntype=bytetrack\n", "[tracker] type=bytetrack: the deepstream backend"),
        ("cpu", "\n[sink1]\ntype=rtsp\n", "[sinkN] type=rtsp: the cpu backend cannot honour it"),
        ("cpu", "\n[sink1]\ntype=fake\nudp-port=6000\n", "[sink1] key 'udp-port': the cpu backend"),
        ("deepstream", "\n[tracker]\nnew-track-thresh=0.7\n", "[tracker] key 'new-track-thresh': the deepstream"),
    ],
)
def test_a_key_one_backend_cannot_honour_is_a_one_line_error(
    tmp_path: Path, backend: str, extra: str, message: str
) -> None:
    with pytest.raises(EdgewatchError) as err:
        config(tmp_path, extra, backend=backend)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_same_config_drives_both_backends(tmp_path: Path) -> None:
    for backend in ("cpu", "deepstream"):
        load_config(REPO_ROOT / "configs" / "demo.txt", backend=backend)
    with pytest.raises(EdgewatchError, match=r"\[streammux\] width=0 height=0: the deepstream backend"):
        load_config(REPO_ROOT / "configs" / "multi.txt", backend="deepstream")


def test_prepare_writes_the_configs_the_graph_points_at(tmp_path: Path) -> None:
    cfg = config(tmp_path, "\n[primary-gie]\nparser=tensor-meta\n")
    prepared = prepare(cfg, VERSIONS["7.1"], tmp_path, lambda _m: None, jetson=True)
    assert (tmp_path / "labels.txt").read_text().split() == list(NAMES)
    gie = read_ini((tmp_path / "nvinfer.txt").read_text())["property"]
    assert gie["labelfile-path"] == str(tmp_path / "labels.txt") and prepared.tensor_meta
    assert read_groups((tmp_path / "nvtracker.yml").read_text())["DataAssociator"]["tentativeDetectorConfidence"] == 0.5
    assert prepared.spec.element("detector").props["config-file-path"] == str(tmp_path / "nvinfer.txt")


def test_without_deepstream_the_run_is_one_error_line(tmp_path: Path) -> None:
    if DEEPSTREAM_ROOT.exists():
        pytest.skip("DeepStream is installed here: the missing-DeepStream message cannot be shown")
    cfg = config(tmp_path)
    done = run_cli(["-c", str(cfg.path), "--backend", "deepstream", "--no-display"], cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    (line,) = error_lines(done.stderr)
    assert "backend=deepstream needs NVIDIA DeepStream 6.3 to 9.x" in line


@pytest.mark.skipif(not DEEPSTREAM_ROOT.exists(), reason="needs NVIDIA DeepStream (run make gpu-smoke on the device)")
def test_deepstream_graph_runs_on_the_sample_clip(tmp_path: Path) -> None:
    version = installed_version()
    done = run_cli(["-c", str(REPO_ROOT / "configs" / "demo.txt"), "--backend", "deepstream", "--no-display",
                    "--output", str(tmp_path / "ds.mp4"), "--events", str(tmp_path / "ds.jsonl")], cwd=tmp_path,
                   timeout=600)
    assert done.returncode == 0, (version.name, done.stderr[-2000:])
    assert done.summary is not None and done.summary["frames"] > 0
    assert shutil.which("gst-inspect-1.0")


_RUNNER = """
import json, sys
from edgewatch.errors import EdgewatchError
from edgewatch.pipeline.deepstream.graph import Element, GraphSpec, Link
from edgewatch.pipeline.deepstream.gst_runner import GstRunner
from edgewatch.pipeline.testvideo import write_test_video
from pathlib import Path
video = Path(sys.argv[1])
if sys.argv[2] == "make":
    write_test_video(video, 1.0)
spec = GraphSpec(
    (Element("source0", "uridecodebin", {"uri": video.as_uri()}), Element("convert", "videoconvert"),
     Element("caps", "capsfilter", {"caps": "video/x-raw,format=I420"}), Element("sink", "fakesink", {"sync": False})),
    (Link("source0", "convert", dynamic=True), Link("convert", "caps"), Link("caps", "sink")), ())
runner = GstRunner(spec, print)
try:
    runner.run()
except EdgewatchError as exc:
    print(exc)
runner.close()
print(json.dumps({"ended": runner.ended, "errors": runner.errors}))
"""


@pytest.mark.parametrize("video", ["make", "missing"])
def test_gst_runner_on_plain_gstreamer_elements(tmp_path: Path, video: str) -> None:
    """The runner's own GStreamer code (elements, caps, pad-added links, EOS, errors put on their stream) on
    GStreamer's own elements, in a child process (see missing_in_gstreamer); DeepStream's are not here."""
    done = subprocess.run([sys.executable, "-c", _RUNNER, str(tmp_path / "clip.mp4"), video], capture_output=True,
                          text=True, timeout=120, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if video == "make":
        assert result == {"ended": True, "errors": {}}
    else:
        assert not result["ended"] and list(result["errors"]) == ["0"]
