"""The shared stages over a video file decoded by OpenCV, off the live graph: for labelling, tests, benchmarks.

Public API: ``clip_frames(path, fps=None, seconds=None)`` yields :class:`Frame` objects (RGB, time
stamps from the frame rate), re-timed to ``fps`` the way GStreamer's ``videorate`` does it (the output
frame at time t shows the newest source frame at or before t: frames are repeated to go faster and
dropped to go slower), so the same scene can be fed at 5, 10 or 25 fps; ``replay(stages, frames)``
runs stages frame by frame and yields each frame once they are done; ``track_rows(frames)`` turns
the tracker's output into MOT rows; ``reported(frames, class_names)`` lists what the temporal stage
reported per track and frame, for :func:`edgewatch.behaviour.evaluate.live_metrics`;
``replay_clip(cfg, path, fps, seconds)`` runs an app config's detector, tracker and temporal stages
(no drawing, no files) over a clip and returns those rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from edgewatch.errors import EdgewatchError
from edgewatch.types import Frame

if TYPE_CHECKING:
    from edgewatch.config import AppConfig

Stage = Callable[[list[Frame]], list[Frame]]


def clip_fps(path: Path) -> tuple[float, tuple[int, int]]:
    """The file's own frame rate and frame size ``(width, height)``."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise EdgewatchError(f"{path}: cannot open the video")
        fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        capture.release()
    if fps <= 0:
        raise EdgewatchError(f"{path}: the video states no frame rate")
    return fps, size


def clip_frames(path: Path, fps: float | None = None, seconds: float | None = None,
                stream_id: int = 0) -> Iterator[Frame]:
    """RGB frames of ``path`` at ``fps`` (None: the file's own rate), the first ``seconds`` of it (None: all)."""
    source_fps, _ = clip_fps(path)
    fps = fps or source_fps
    capture = cv2.VideoCapture(str(path))
    try:
        index, image = -1, None
        for k in range(10**9):
            time = k / fps
            if seconds is not None and time >= seconds - 1e-9:
                return
            wanted = int(np.floor(time * source_fps + 1e-6))  # the newest source frame at or before t
            while index < wanted:
                ok, bgr = capture.read()
                if not ok:
                    return
                index, image = index + 1, bgr
            assert image is not None
            yield Frame(stream_id, k, time, cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()


def replay(stages: Sequence[Stage], frames: Iterable[Frame]) -> Iterator[Frame]:
    """Each frame through every stage, one frame per batch, in order."""
    for frame in frames:
        batch = [frame]
        for stage in stages:
            batch = stage(batch)
        yield from batch


def track_rows(frames: Iterable[Frame]) -> list[tuple[int, int, np.ndarray, float]]:
    """MOT rows ``(frame 1-based, track id, box, score)`` of the tracks the frames carry."""
    return [(f.frame_num + 1, t.track_id, t.box.copy(), float(t.score)) for f in frames for t in f.tracks]


def reported(frames: Iterable[Frame], class_names: Sequence[str]) -> list[tuple[float, int, str, str]]:
    """``(time, track id, class name, reported label)`` of every classified track of every frame."""
    from edgewatch.types import class_name

    return [(f.timestamp, t.track_id, class_name(class_names, t.class_id), t.behaviour.label)
            for f in frames for t in f.tracks if t.behaviour is not None]


def replay_clip(cfg: AppConfig, path: Path, fps: float | None = None,
                seconds: float | None = None) -> list[tuple[float, int, str, str]]:
    """:func:`reported` rows of the config's stage chain (without OSD and events) over ``path`` at ``fps``."""
    from edgewatch.config import EventsConfig
    from edgewatch.stages.chain import StageChain
    from edgewatch.stages.stats import RunStats

    quiet = dataclasses.replace(cfg, events=EventsConfig(), osd=dataclasses.replace(cfg.osd, enable=False))
    with StageChain.from_config(quiet, RunStats([str(path)])) as chain:
        return reported(replay([chain], clip_frames(path, fps, seconds)), chain.class_names)
