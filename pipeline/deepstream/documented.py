"""What NVIDIA documents for each supported DeepStream version, as data: the graph and the configs are
checked against it here, so a misspelt element, property or config key fails on a laptop, not on a Jetson.

Public API: :data:`VERSIONS` (name -> :class:`DeepStreamVersion`), :func:`version_for(text)`.

Each table lists only the names edgewatch uses (plus the neighbours a reader would look for), each one
read from NVIDIA's own material for that version, named per table in ``sources``:

- **6.3**: the DeepStream 6.3 SDK sources (the ``g_param_spec`` names of gst-nvinfer, gst-nvtracker and
  gst-nvdsosd; the ``CONFIG_GROUP_*`` keys of gst-nvinfer's property parser; the nvurisrcbin property
  enum in gst-nvmultiurisrcbin's header, which has ``rtsp-reconnect-interval`` but no
  ``rtsp-reconnect-attempts``), the NvMultiObjectTracker sample configs shipped with 6.3, and
  deepstream_python_apps v1.1.8 (nvstreammux, nvvideoconvert, encoder and sink properties).
- **7.1**: deepstream_python_apps v1.2.0 (the DeepStream 7.1 bindings and samples), the DeepStream 7.1
  plugin manual and SDK API reference (nvurisrcbin's config struct gains ``rtsp_reconnect_attempts`` in
  7.0; nvstreammux's config), and the nvinfer/nvtracker keys, unchanged from 6.3 for what is used here.
- **8.0**: the DeepStream 8.0 SDK API reference (nvinfer property parser, nvurisrcbin config struct,
  nvstreammux config) and pyds-stubs 1.2.2 for the bindings.
- **9.0 / 9.1**: NVIDIA's open DeepStream repository at v9.0.0 and v9.1.0 (plugin sources of nvinfer,
  nvtracker, nvdsosd and nvurisrcbin; ``strongly-typed`` appears in nvinfer), and its pyservicemaker
  samples and API reference (no pyds wheel from 9.0 on).

``legacy nvstreammux`` (width/height/batched-push-timeout/live-source) is closed source in every version;
its property names come from the plugin manual and from every version's Python samples, which set them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Binding = Literal["pyds", "pyservicemaker"]


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Properties set by edgewatch's graphs that are the same in every supported version.
_COMMON_ELEMENTS: dict[str, frozenset[str]] = {
    "uridecodebin": _names("uri"),
    "nvstreammux": _names("batch-size width height batched-push-timeout live-source enable-padding gpu-id "
                          "nvbuf-memory-type attach-sys-ts sync-inputs"),
    "nvinfer": _names("config-file-path batch-size unique-id interval gpu-id model-engine-file output-tensor-meta "
                      "process-mode filter-out-class-ids infer-on-gie-id input-tensor-meta raw-output-file-write"),
    "nvtracker": _names("ll-lib-file ll-config-file tracker-width tracker-height gpu-id display-tracking-id "
                        "tracking-id-reset-mode tracking-surface-type input-tensor-meta tensor-meta-gie-id "
                        "user-meta-pool-size"),
    "nvstreamdemux": frozenset(),
    "nvvideoconvert": _names("gpu-id nvbuf-memory-type compute-hw"),
    "nvdsosd": _names("display-clock display-text display-bbox display-mask clock-font clock-font-size "
                      "x-clock-offset y-clock-offset clock-color process-mode gpu-id"),
    "nvv4l2h264enc": _names("bitrate iframeinterval insert-sps-pps preset-level"),
    "x264enc": _names("bitrate speed-preset tune key-int-max"),
    "h264parse": frozenset(),
    "qtmux": _names("fragment-duration"),
    "filesink": _names("location sync async"),
    "fakesink": _names("sync async"),
    "nveglglessink": _names("sync qos"),
    "nv3dsink": _names("sync"),
    "rtph264pay": _names("config-interval pt"),
    "udpsink": _names("host port async sync"),
    "capsfilter": _names("caps"),
    "queue": _names("max-size-buffers leaky"),
    "tee": frozenset(),
}
_NVURISRCBIN_63 = _names("uri file-loop rtsp-reconnect-interval latency gpu-id cudadec-memtype num-extra-surfaces "
                         "drop-frame-interval select-rtp-protocol source-id udp-buffer-size disable-passthrough")
_NVURISRCBIN_70 = _NVURISRCBIN_63 | _names("rtsp-reconnect-attempts init-rtsp-reconnect-interval low-latency-mode "
                                           "disable-audio")

# nvinfer [property] keys (gstnvinfer_property_parser.h), [class-attrs-*] keys, as used or neighbouring.
_NVINFER_KEYS_63 = _names(
    "gpu-id gie-unique-id process-mode interval labelfile-path output-tensor-meta batch-size network-mode "
    "model-engine-file int8-calib-file workspace-size output-blob-names network-type infer-dims "
    "model-color-format net-scale-factor offsets maintain-aspect-ratio symmetric-padding scaling-filter "
    "scaling-compute-hw network-input-order custom-lib-path parse-bbox-func-name engine-create-func-name "
    "onnx-file num-detected-classes cluster-mode filter-out-class-ids tensor-meta-pool-size "
    "disable-output-host-copy"
)
_NVINFER_KEYS_90 = _NVINFER_KEYS_63 | _names("strongly-typed warmup-engine dump-input-tensor dump-output-tensor")
_CLASS_ATTRS_KEYS = _names("pre-cluster-threshold post-cluster-threshold nms-iou-threshold topk eps "
                           "group-threshold minBoxes dbscan-min-score detected-min-w detected-min-h "
                           "detected-max-w detected-max-h roi-top-offset roi-bottom-offset")

# NvMultiObjectTracker yml groups and the keys edgewatch writes or ships (sample configs and the
# nvtracker chapter of the plugin manual; the same names from 6.3 to 9.x).
_TRACKER_KEYS: dict[str, frozenset[str]] = {
    "BaseConfig": _names("minDetectorConfidence"),
    "TargetManagement": _names("enableBboxUnClipping preserveStreamUpdateOrder maxTargetsPerStream "
                               "minIouDiff4NewTarget minTrackerConfidence probationAge maxShadowTrackingAge "
                               "earlyTerminationAge"),
    "TrajectoryManagement": _names("useUniqueID"),
    "DataAssociator": _names("dataAssociatorType associationMatcherType checkClassMatch minMatchingScore4Overall "
                             "minMatchingScore4SizeSimilarity minMatchingScore4Iou "
                             "minMatchingScore4VisualSimilarity matchingScoreWeight4VisualSimilarity "
                             "matchingScoreWeight4SizeSimilarity matchingScoreWeight4Iou "
                             "tentativeDetectorConfidence minMatchingScore4TentativeIou usePrediction4Assoc"),
    "StateEstimator": _names("stateEstimatorType processNoiseVar4Loc processNoiseVar4Size processNoiseVar4Vel "
                             "measurementNoiseVar4Detector measurementNoiseVar4Tracker noiseWeightVar4Loc "
                             "noiseWeightVar4Vel useAspectRatio"),
    "VisualTracker": _names("visualTrackerType useColorNames useHog featureImgSizeLevel "
                            "featureFocusOffsetFactor_y filterLr filterChannelWeightsLr gaussianSigma"),
}


@dataclass(frozen=True)
class DeepStreamVersion:
    """One supported DeepStream release: its platform, its Python binding and its documented names."""

    name: str
    jetpack: str  # the Jetson release it ships with
    tensorrt: str  # dGPU release (Jetson in brackets where it differs)
    python: str
    binding: Binding
    binding_version: str  # pyds wheel, or the pyservicemaker shipped in the SDK
    numpy_below_2: bool  # pyds is built against NumPy 1.x
    image: str  # NVIDIA's container image tag (Jetson and dGPU share the multiarch tag from 7.0 on)
    sources: str  # where the names came from, in words
    elements: Mapping[str, frozenset[str]] = field(default_factory=dict)
    nvinfer_keys: frozenset[str] = frozenset()
    class_attrs_keys: frozenset[str] = _CLASS_ATTRS_KEYS
    tracker_keys: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(_TRACKER_KEYS))

    @property
    def has_nvurisrcbin(self) -> bool:
        """Whether a source can be an nvurisrcbin (RTSP reconnect, file loop) instead of a uridecodebin."""
        return "nvurisrcbin" in self.elements


def _version(name: str, nvurisrcbin: frozenset[str], nvinfer_keys: frozenset[str], **info: object) -> DeepStreamVersion:
    elements = dict(_COMMON_ELEMENTS, nvurisrcbin=nvurisrcbin)
    if name.startswith("9."):
        elements["nvinfer"] = elements["nvinfer"] | _names("strongly-typed dynamic-properties")
        elements["nvtracker"] = elements["nvtracker"] | _names("sub-batches operate-on-class-ids")
        elements["nvdsosd"] = elements["nvdsosd"] | _names("blur-bbox blur-on-gie-class-ids")
    return DeepStreamVersion(name=name, elements=elements, nvinfer_keys=nvinfer_keys, **info)  # type: ignore[arg-type]


VERSIONS: dict[str, DeepStreamVersion] = {
    v.name: v
    for v in (
        _version("6.3", _NVURISRCBIN_63, _NVINFER_KEYS_63, jetpack="5.1.2", tensorrt="8.5", python="3.8",
                 binding="pyds", binding_version="1.1.8", numpy_below_2=True,
                 image="nvcr.io/nvidia/deepstream:6.3-triton-multiarch",
                 sources="DeepStream 6.3 SDK plugin sources and sample configs; deepstream_python_apps v1.1.8"),
        _version("7.1", _NVURISRCBIN_70, _NVINFER_KEYS_63, jetpack="6.1", tensorrt="10.3", python="3.10",
                 binding="pyds", binding_version="1.2.0", numpy_below_2=True,
                 image="nvcr.io/nvidia/deepstream:7.1-triton-multiarch",
                 sources="deepstream_python_apps v1.2.0; DeepStream 7.1 plugin manual and SDK API reference"),
        _version("8.0", _NVURISRCBIN_70, _NVINFER_KEYS_63, jetpack="7.0 (Thor)", tensorrt="10.9", python="3.12",
                 binding="pyds", binding_version="1.2.2", numpy_below_2=True,
                 image="nvcr.io/nvidia/deepstream:8.0-triton-multiarch",
                 sources="DeepStream 8.0 SDK API reference; pyds-stubs 1.2.2"),
        _version("9.0", _NVURISRCBIN_70 | _names("ipc-socket-path"), _NVINFER_KEYS_90, jetpack="7.1",
                 tensorrt="10.14 (Jetson 10.13)", python="3.12", binding="pyservicemaker", binding_version="in the SDK",
                 numpy_below_2=False, image="nvcr.io/nvidia/deepstream:9.0-triton-multiarch",
                 sources="NVIDIA DeepStream repository v9.0.0 (plugin sources, pyservicemaker samples)"),
        _version("9.1", _NVURISRCBIN_70 | _names("ipc-socket-path"), _NVINFER_KEYS_90, jetpack="7.2",
                 tensorrt="10.16", python="3.12", binding="pyservicemaker", binding_version="in the SDK",
                 numpy_below_2=False, image="nvcr.io/nvidia/deepstream:9.1-triton-multiarch",
                 sources="NVIDIA DeepStream repository v9.1.0 (plugin sources, pyservicemaker API reference)"),
    )
}
DEFAULT_VERSION = "7.1"  # JetPack 6: where Jetson Orin deployments are


def version_for(text: str) -> DeepStreamVersion:
    """The table for an installed DeepStream (``7.1``, ``7.1.0``, ``Version: 7.1``): the nearest documented
    version at or below it; a release older than every table is an error."""
    digits = text.split(":")[-1].strip().split(".")
    try:
        wanted = (int(digits[0]), int(digits[1]) if len(digits) > 1 else 0)
    except ValueError:
        raise ValueError(f"not a DeepStream version: '{text}'") from None
    known = sorted(VERSIONS, key=lambda n: tuple(int(p) for p in n.split(".")))
    below = [n for n in known if tuple(int(p) for p in n.split(".")) <= wanted]
    if not below:
        raise ValueError(f"DeepStream {text.strip()} is older than every supported version ({', '.join(known)})")
    return VERSIONS[below[-1]]
