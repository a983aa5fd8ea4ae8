"""INT8 calibration frames: the user's own frames, sampled across a video or folder, letterboxed like inference.

Two reported INT8 failures shape this module: calibrating on frames prepared differently from
inference (so the tensors go through :func:`edgewatch.detect.letterbox.preprocess`, the very function
the detector stage uses), and calibrating on a handful of neighbouring frames (so frames are drawn
at random, seeded, from the whole clip or folder). Frames are read lazily, one batch at a time, so
512 calibration frames at 640 px never sit in memory together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgewatch.detect import letterbox
from edgewatch.detect.evaluate import IMAGE_SUFFIXES, list_images
from edgewatch.errors import EdgewatchError

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".ts", ".mpg", ".mpeg"})


@dataclass(frozen=True)
class FrameRef:
    """One calibration frame: an image file, or frame ``index`` of a video."""

    path: Path
    index: int | None = None


def list_frames(source: Path) -> list[FrameRef]:
    """Every frame ``source`` offers: the images under a folder (recursively, sorted) or a video's frames."""
    source = Path(source)
    if source.is_dir():
        images = list_images(source)
        if not images:
            raise EdgewatchError(f"{source}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) for calibration")
        return [FrameRef(p) for p in images]
    if not source.is_file():
        raise EdgewatchError(f"{source}: no such calibration video or folder")
    if source.suffix.lower() not in VIDEO_SUFFIXES:
        raise EdgewatchError(f"{source}: calibration source must be a folder of images or a video file")
    capture = cv2.VideoCapture(str(source))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    capture.release()
    if count <= 0:
        raise EdgewatchError(f"{source}: cannot read frames from this video")
    return [FrameRef(source, i) for i in range(count)]


def sample_frames(frames: Sequence[FrameRef], count: int, seed: int = 0) -> list[FrameRef]:
    """``count`` frames drawn without replacement from all of ``frames``, in a seeded random order."""
    if count < 1:
        raise EdgewatchError(f"--calib-frames must be at least 1, got {count}")
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(frames), size=min(count, len(frames)), replace=False)
    return [frames[i] for i in picked]


def read_rgb(ref: FrameRef) -> np.ndarray:
    """Decode one frame as an RGB uint8 image (the colour order the detector is fed)."""
    if ref.index is None:
        bgr = cv2.imread(str(ref.path), cv2.IMREAD_COLOR)
    else:
        capture = cv2.VideoCapture(str(ref.path))
        capture.set(cv2.CAP_PROP_POS_FRAMES, ref.index)
        ok, bgr = capture.read()
        capture.release()
        bgr = bgr if ok else None
    if bgr is None:
        where = ref.path if ref.index is None else f"{ref.path} frame {ref.index}"
        raise EdgewatchError(f"{where}: cannot decode calibration frame")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class CalibrationSet(Sequence):
    """Input feeds ``{input_name: [batch, 3, H, W]}`` built on demand from sampled frames.

    With a fixed-batch model each feed holds ``batch`` frames; frames that do not fill a last batch
    are dropped (a partial batch would not match the graph's input shape).
    """

    def __init__(
        self, frames: Sequence[FrameRef], imgsz: tuple[int, int], batch: int = 1, input_name: str = "input"
    ) -> None:
        if len(frames) < batch:
            raise EdgewatchError(f"{len(frames)} calibration frame(s) cannot fill one batch of {batch}")
        self.frames, self.imgsz, self.batch, self.input_name = list(frames), imgsz, batch, input_name

    def __len__(self) -> int:
        return len(self.frames) // self.batch

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        refs = self.frames[i * self.batch : (i + 1) * self.batch]
        tensor, _ = letterbox.preprocess([read_rgb(r) for r in refs], self.imgsz)
        return {self.input_name: tensor}


def calibration_set(
    source: Path, imgsz: tuple[int, int], count: int, batch: int = 1, seed: int = 0
) -> CalibrationSet:
    """The calibration feeds for a detector: ``count`` frames of ``source`` sampled, shuffled, letterboxed."""
    return CalibrationSet(sample_frames(list_frames(source), count, seed), imgsz, batch)
