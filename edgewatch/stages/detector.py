"""Detector stage: one ONNX Runtime call per batch of frames, honouring nvinfer's ``interval``.

Public API: ``DetectorStage(detector, interval, parallel_batches=1)`` /
``DetectorStage.from_config(DetectorConfig, parallel=True)``; ``stage(frames)`` fills
``Frame.detections`` in place and returns the frames; it may be called on ``parallel_batches``
batches at once from as many threads (the CPU backend does);
``runs_on(frame_num, interval)`` tells later stages (the tracker) whether a frame was inferred.
"""

from __future__ import annotations

from edgewatch.config import DetectorConfig
from edgewatch.detect.detector import YoloDetector
from edgewatch.types import Detections, Frame


def runs_on(frame_num: int, interval: int) -> bool:
    """Whether the detector infers this frame of its stream: every ``interval + 1``-th, from the first."""
    return frame_num % (interval + 1) == 0


class DetectorStage:
    """Letterbox, infer, decode, unletterbox: frames of all streams of a batch in one call."""

    def __init__(self, detector: YoloDetector, interval: int = 0, parallel_batches: int = 1) -> None:
        self.detector = detector
        self.interval = interval
        self.parallel_batches = parallel_batches

    @classmethod
    def from_config(cls, config: DetectorConfig, parallel: bool = True) -> DetectorStage:
        """The stage ``[primary-gie]`` describes; the model is loaded and checked here, before any frame.
        ``parallel``: whether the caller runs several batches at once (``DetectorConfig.cpu_schedule``)."""
        batches, threads = config.cpu_schedule(parallel)
        return cls(YoloDetector.from_config(config, threads), config.interval, batches)

    def __call__(self, frames: list[Frame]) -> list[Frame]:
        todo = []
        for frame in frames:
            if runs_on(frame.frame_num, self.interval):
                todo.append(frame)
            else:
                frame.detections = Detections.empty()
        for frame, dets in zip(todo, self.detector([f.image for f in todo]), strict=True):
            frame.detections = dets
        return frames
