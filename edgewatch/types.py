"""Small typed objects passed between stages; the contract every backend (CPU or DeepStream) fills.

Boxes are always ``x1, y1, x2, y2`` in pixels of the *source frame* (not the network input), so the
tracker, the temporal stage, the OSD and the events never need to know how the detector resized.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

import numpy as np

from edgewatch.scene.model import KMH_PER_MPS, Scene


def class_name(class_names: Sequence[str], class_id: int) -> str:
    """The detector's name for ``class_id``, or the id itself as text when the model names no such class
    (an unlabelled export): what the OSD draws and the events file logs must agree."""
    return class_names[class_id] if 0 <= class_id < len(class_names) else str(class_id)


@dataclass(frozen=True)
class Detections:
    """Detections of one frame as parallel arrays (supervision-style), cheap to filter and batch."""

    boxes: np.ndarray  # [N, 4] float32 x1, y1, x2, y2 in frame pixels
    scores: np.ndarray  # [N] float32
    class_ids: np.ndarray  # [N] int64

    @staticmethod
    def empty() -> Detections:
        """No detections: what a frame without objects yields."""
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def select(self, keep: np.ndarray) -> Detections:
        """The subset chosen by a boolean mask or an index array."""
        return Detections(self.boxes[keep], self.scores[keep], self.class_ids[keep])


class TrackState(Enum):
    """Track life-cycle, as in ByteTrack / NvDCF: only CONFIRMED tracks are shown and classified."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    LOST = "lost"
    REMOVED = "removed"


UNDECIDED = "undecided"  # Behaviour.label of a track the temporal stage has not decided yet


@dataclass
class Behaviour:
    """The temporal stage's reported verdict for one track: a behaviour label, or :data:`UNDECIDED`
    while the track is too young or its verdict has not held long enough (``score``: the smoothed
    probability of the label, or of the leading behaviour while undecided)."""

    label: str
    score: float

    @property
    def decided(self) -> bool:
        """Whether this is a behaviour (events and analytics use only decided verdicts)."""
        return self.label != UNDECIDED


@dataclass
class TrackAnalytics:
    """The analytics stage's view of one track in one frame (foot point: the box's bottom centre)."""

    zones: tuple[str, ...] = ()  # the zones it is in (kind "zone"), scene order
    dwell: tuple[float, ...] = ()  # seconds it has been in each of them
    speed: float | None = None  # ground speed, m/s (calibrated scenes, once enough history)
    heading: float | None = None  # ground heading, degrees from the ground +X axis towards +Y (when moving)
    direction: str | None = None  # the scene direction it moves along, if any

    @property
    def speed_kmh(self) -> float | None:
        """The ground speed in km/h, what events and the OSD show."""
        return None if self.speed is None else self.speed * KMH_PER_MPS


@dataclass
class Track:
    """One tracked object as the stages after the tracker see it (one per object per frame)."""

    track_id: int
    box: np.ndarray  # [4] float32 x1, y1, x2, y2 in frame pixels
    score: float
    class_id: int
    state: TrackState
    behaviour: Behaviour | None = None
    analytics: TrackAnalytics | None = None


SceneEventType = Literal[
    "zone_enter", "zone_exit", "line_crossing", "dwell", "overcrowding_start", "overcrowding_end", "speeding"
]


@dataclass(frozen=True)
class SceneEvent:
    """One thing the analytics stage saw happen in a frame; the events stage writes it as a JSON line.

    ``track`` is the track it is about (None for a zone's overcrowding); ``fields`` are the type's own
    JSON fields (``zone``, ``line``, ``direction``, ``dwell_s``...), see ``configs/events.schema.json``.
    """

    type: SceneEventType
    track: Track | None
    fields: Mapping[str, object]


@dataclass
class FrameAnalytics:
    """The analytics stage's result for one frame of a stream with a scene."""

    scene: Scene  # what the counts refer to (the OSD draws its zones and lines)
    counts: dict[str, dict[str, int]]  # zone -> class name -> tracks in it now
    overcrowded: frozenset[str]  # zones crowded now
    crossings: dict[str, tuple[int, int]]  # line -> crossings so far (in, out)
    events: list[SceneEvent] = field(default_factory=list)


@dataclass
class Frame:
    """One frame of one stream and what the stages attached to it.

    ``image`` holds the pixels only where the backend has them in host memory (the CPU graph); under
    DeepStream the frame stays in GPU memory and ``image`` is None, so no stage after the detector may
    need pixels.
    """

    stream_id: int
    frame_num: int
    timestamp: float  # seconds since the stream started (buffer PTS), drives velocities
    image: np.ndarray | None = None  # [H, W, 3] uint8 RGB, the source resolution after streammux scaling
    detections: Detections = field(default_factory=Detections.empty)
    tracks: list[Track] = field(default_factory=list)
    analytics: FrameAnalytics | None = None  # set by the analytics stage on streams with a scene
