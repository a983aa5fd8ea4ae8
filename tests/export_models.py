"""Small YOLO test models for the export tests, built from ultralytics yaml (no hub, no training).

Random weights are enough for format and parity checks, but a freshly initialised YOLO is degenerate:
its activations shrink ~10x per layer (features ~1e-7 at the head) and the prior bias scores every
anchor near 0, so every output row is the same and INT8/NMS would have nothing to get wrong. Two
cheap fixes make it a useful stand-in: BatchNorm statistics are re-estimated on synthetic frames
(unit-variance activations everywhere, like a trained net), and the class convolutions get a zero
bias and smaller weights so scores spread over (0, 1) instead of sitting at the 0.01 prior, without
saturating at 1.0 (where float32 sigmoids tie exactly and NMS order is undefined). Checkpoints are
saved the way ultralytics' trainer saves them (``{"model": ..., "train_args": ...}``) so the exporter's
real ``.pt`` loading path is exercised. Everything is built once per pytest session under its tmp root.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

NAMES = {0: "person", 1: "car", 2: "bus"}
IMGSZ = (160, 160)


def make_checkpoint(cfg: str, path: Path, seed: int = 0) -> Path:
    """A 3-class detection model from an ultralytics yaml (``yolov8n.yaml``, ``yolo11n.yaml``) saved as ``.pt``."""
    from ultralytics.nn.tasks import DetectionModel

    if path.exists():
        return path
    from edgewatch.detect.letterbox import preprocess

    torch.manual_seed(seed)
    model = DetectionModel(cfg, nc=len(NAMES), verbose=False)
    model.names = dict(NAMES)
    for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the recalibration batch
    frames, _ = preprocess(synthetic_frames(16, seed=seed + 100), IMGSZ)
    model.train()
    with torch.no_grad():
        model(torch.from_numpy(frames))
        for branch in model.model[-1].cv3:
            branch[-1].bias.zero_()
            branch[-1].weight.mul_(0.3)
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.half(), "train_args": {"imgsz": IMGSZ[0]}}, path)  # trainers save FP16
    return path


def synthetic_frames(count: int, seed: int = 0, shape: tuple[int, int] = (240, 320)) -> list[np.ndarray]:
    """RGB frames with random rectangles and ellipses on a gradient: structured input for the network."""
    rng = np.random.default_rng(seed)
    h, w = shape
    frames = []
    for _ in range(count):
        ramp = np.linspace(0, 255, w, dtype=np.float32)[None, :, None] * rng.uniform(0.2, 1.0, 3)
        frame = np.ascontiguousarray(np.broadcast_to(ramp, (h, w, 3)).astype(np.uint8))
        for _ in range(rng.integers(3, 9)):
            x, y = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            size = (int(rng.integers(8, w // 3)), int(rng.integers(8, h // 3)))
            if rng.random() < 0.5:
                cv2.rectangle(frame, (x, y), (min(w - 1, x + size[0]), min(h - 1, y + size[1])), colour, -1)
            else:
                cv2.ellipse(frame, (x, y), size, 0, 0, 360, colour, -1)
        frames.append(frame)
    return frames


def exported_fp32(root: Path, cfg: str) -> Path:
    """The FP32 ONNX (dynamic batch) of :func:`make_checkpoint`'s model, exported once under ``root``."""
    from edgewatch.export.exporter import export
    from edgewatch.export.yolo import YoloExportable

    weights = make_checkpoint(cfg, root / f"{cfg}.pt")
    onnx_path = root / cfg / f"{weights.stem}.onnx"
    if not onnx_path.exists():
        export(YoloExportable(weights, IMGSZ), onnx_path.parent, ("fp32",))
    return onnx_path
