"""The NvMultiObjectTracker config written for nvtracker from ``[tracker]`` (pure: text in, text out).

Public API: :data:`SHIPPED` (tracker type -> config in ``configs/nvtracker/``), :data:`MAPPED`,
``tracker_base(cfg) -> Path``, ``tracker_config(cfg, base_text, fps) -> str``, ``read_groups(text)``.

The same ``[tracker]`` thresholds drive ByteTrack on the CPU and nvtracker here, mapped onto the keys
that mean the same thing in NvMultiObjectTracker (:data:`MAPPED`): detections below ``track-low-thresh``
are ignored, those above ``track-high-thresh`` are matched first and may start targets, a match needs
``match-iou-threshold``, a target is confirmed after ``probation-seconds`` (``probationAge``: the frames
after the first one) and kept ``track-buffer-seconds`` unseen (``maxShadowTrackingAge``). nvtracker
counts frames, so those two are converted at the stream's frame rate ``fps``. Over the shipped files every mapped key is
written (so both backends use one set of numbers); over your own ``ll-config-file`` only the keys you set
in ``[tracker]``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from edgewatch.config import AppConfig, TrackerConfig
from edgewatch.paths import REPO_ROOT

CONFIGS = REPO_ROOT / "configs" / "nvtracker"
SHIPPED = {"nvsort": "nvsort.yml", "nvdcf": "nvdcf.yml", "iou": "iou.yml"}
DEFAULT_TRACKER = "nvsort"  # cascaded association + Kalman, no visual features: the nvtracker closest to ByteTrack
LL_LIB = "/opt/nvidia/deepstream/deepstream/lib/libnvds_nvmultiobjecttracker.so"

# [tracker] key -> (yml group, yml key, value from the settings and the stream's fps)
MAPPED: dict[str, tuple[str, str, Callable[[TrackerConfig, float], float | int]]] = {
    "track-low-thresh": ("BaseConfig", "minDetectorConfidence", lambda t, fps: t.track_low_thresh),
    "track-high-thresh": ("DataAssociator", "tentativeDetectorConfidence", lambda t, fps: t.track_high_thresh),
    "match-iou-threshold": ("DataAssociator", "minMatchingScore4Iou", lambda t, fps: t.match_iou_threshold),
    "probation-seconds": ("TargetManagement", "probationAge", lambda t, fps: round(t.probation_seconds * fps)),
    "track-buffer-seconds": ("TargetManagement", "maxShadowTrackingAge",
                             lambda t, fps: round(t.track_buffer_seconds * fps)),
}


def tracker_base(cfg: AppConfig) -> Path:
    """The config the tracker starts from: ``ll-config-file``, else the shipped one for ``type`` (NvSORT)."""
    if cfg.tracker.ll_config_file is not None:
        return cfg.tracker.ll_config_file
    return CONFIGS / SHIPPED[cfg.tracker.type or DEFAULT_TRACKER]


def read_groups(text: str) -> dict[str, dict[str, object]]:
    """The groups of an NvMultiObjectTracker yml (its ``%YAML:1.0`` line is not YAML 1.1, so it is skipped)."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("%"))
    data = yaml.safe_load(body) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError("an nvtracker config is groups of key: value")
    return {str(g): dict(v) for g, v in data.items()}


def tracker_config(cfg: AppConfig, base_text: str, fps: float) -> str:
    """``base_text`` with the ``[tracker]`` thresholds written over the keys that mean the same (times in
    frames at ``fps``).

    A mapped key is written only where the base has its group and key (the IOU tracker has no
    tentative detections, so ``track-high-thresh`` has nothing to set there).
    """
    groups = read_groups(base_text)
    own_file = cfg.tracker.ll_config_file is not None
    for key, (group, yml_key, value) in MAPPED.items():
        if own_file and f"tracker:{key}" not in cfg.given:
            continue
        if yml_key in groups.get(group, {}):
            groups[group][yml_key] = value(cfg.tracker, fps)
    lines = ["%YAML:1.0", f"# written by edgewatch from {cfg.path.name} [tracker] over {tracker_base(cfg).name}"]
    for group, items in groups.items():
        lines.append(f"{group}:")
        lines += [f"  {k}: {v}" for k, v in items.items()]
    return "\n".join(lines) + "\n"
