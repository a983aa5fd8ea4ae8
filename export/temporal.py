"""Temporal behaviour model -> ONNX (FP32, FP16, INT8 Q/DQ) through the shared export entry point.

Graph contract (CONTRACT 4): inputs ``tracks [B, W, F]`` float32 and ``mask [B, W]`` float32, output
``logits [B, K]``. Only the batch axis is dynamic; the window ``W`` is fixed at the checkpoint's value
(a TensorRT engine then has one optimisation profile axis, and the features always produce exactly W
points). The input normalisation is inside the graph, so the runtime feeds raw features.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgewatch.errors import EdgewatchError
from edgewatch.metadata import ModelMetadata

if TYPE_CHECKING:  # torch and onnx load only when a model is really exported (fast CLI start-up)
    import onnx
    import onnxruntime as ort

    from edgewatch.behaviour.train import Trained

OPSET = 17
CALIBRATION_BATCH = 32


class TemporalExportable:
    """What :func:`edgewatch.export.exporter.export` needs from a temporal checkpoint."""

    # Only the matrix products get Q/DQ: softmax, layer norms and the attention mask stay float,
    # which keeps the -1e4 padding fill out of the calibration ranges.
    int8_op_types: Sequence[str] | None = ("MatMul", "Gemm")

    def __init__(self, trained: Trained, stem: str = "behaviour") -> None:
        self.trained = trained
        self.stem = stem

    def to_onnx(self, path: Path) -> None:
        import torch

        config = self.trained.model.config
        x = torch.zeros(2, config.window, config.num_features)
        mask = torch.ones(2, config.window)
        with warnings.catch_warnings():
            # The RNN tracer warns about shape checks and about batch sizes other than 1; neither
            # applies (fixed window, no initial state input: tests run the graph at batch 1 and 5).
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size other than 1")
            # dynamo=False on purpose: the TorchScript exporter handles nn.TransformerEncoder and RNNs
            warnings.filterwarnings("ignore", message="You are using the legacy TorchScript-based ONNX export")
            warnings.filterwarnings("ignore", message="The feature will be removed")
            torch.onnx.export(
                self.trained.model, (x, mask), str(path), input_names=["tracks", "mask"], output_names=["logits"],
                dynamic_axes={"tracks": {0: "batch"}, "mask": {0: "batch"}, "logits": {0: "batch"}},
                opset_version=OPSET, dynamo=False,
            )

    def metadata(self) -> ModelMetadata:
        spec = self.trained.feature_spec
        config = self.trained.model.config
        return ModelMetadata(
            kind="temporal",
            feature_spec=spec,
            behaviours=tuple(self.trained.classes),
            classes=() if spec is None else tuple(spec.classes),
            applies_to={c: tuple(b) for c, b in (self.trained.applies_to or {}).items()},
            model=config.kind,
            window=config.window,
            num_features=config.num_features,
            min_history=1.0,  # seconds of track before a first verdict
        )

    def int8_float_nodes(self, model: onnx.ModelProto) -> list[str]:
        # The input projection sees the raw features, which are heavy-tailed (a speeding car is ten
        # standard deviations out): one int8 scale for them wipes out the resolution of ordinary
        # values (macro-F1 -4 points on simulated tracks). It is one small matrix (a patch of steps by
        # d_model), run once per token: keeping it float costs next to nothing.
        return [node.name for node in model.graph.node if node.name.startswith("/embed/")]

    def extra_files(self) -> dict[str, str]:
        return {}


def calibration_feeds(X: np.ndarray, mask: np.ndarray, batch: int = CALIBRATION_BATCH) -> list[dict[str, np.ndarray]]:
    """Calibration feeds in the graph's input names, in batches."""
    return [{"tracks": X[i:i + batch], "mask": mask[i:i + batch]} for i in range(0, len(X), batch)]


def export_trained(trained: Trained, out_dir: Path, precisions: Sequence[str] = ("fp32",),
                   calibration: tuple[np.ndarray, np.ndarray] | None = None, stem: str = "behaviour",
                   calib_method: str = "minmax", tensorrt_int8: bool = False,
                   tensorrt_calib_method: str = "entropy") -> dict[str, Path]:
    """Export an in-memory trained model; INT8 needs ``calibration = (X, mask)`` feature windows."""
    from edgewatch.export.exporter import export

    feeds = None if calibration is None else (lambda: calibration_feeds(*calibration))
    return export(TemporalExportable(trained, stem), Path(out_dir), precisions, feeds, calib_method, tensorrt_int8,
                  tensorrt_calib_method)


def export_temporal(checkpoint: Path, out_dir: Path, precisions: Sequence[str] = ("fp32", "fp16", "int8"),
                    calibration_data: str | None = None, calib_method: str = "minmax",
                    calibration_samples: int = 512, tensorrt_int8: bool = False,
                    tensorrt_calib_method: str = "entropy") -> dict[str, Path]:
    """Export a checkpoint; INT8 calibrates on ``calibration_data`` (a ``--data`` string: .npz, sim:N...).

    Without calibration data, a track model calibrates on ``calibration_samples`` simulated tracks
    (the training recipe's distribution); other models must be given data.
    """
    from edgewatch.behaviour.data import load_dataset
    from edgewatch.behaviour.taxonomy import load_taxonomy
    from edgewatch.behaviour.train import load_checkpoint

    trained = load_checkpoint(checkpoint)
    calibration: tuple[np.ndarray, np.ndarray] | None = None
    if "int8" in precisions:
        if calibration_data is None and trained.feature_spec is None:
            raise EdgewatchError(f"{checkpoint}: not a track model; INT8 needs --calib data")
        source = calibration_data or f"sim:{calibration_samples}"
        data = load_dataset(source, "train", load_taxonomy(), seed=12345, classes=trained.classes)
        n = min(len(data), calibration_samples)
        calibration = (data.X[:n], data.mask[:n])
    return export_trained(trained, out_dir, precisions, calibration, stem=Path(checkpoint).stem,
                          calib_method=calib_method, tensorrt_int8=tensorrt_int8,
                          tensorrt_calib_method=tensorrt_calib_method)


def onnx_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """An ONNX Runtime CPU session for a temporal ONNX, built exactly as the live pipeline builds it."""
    from edgewatch.runtime.onnx import TEMPORAL_DISABLED_OPTIMIZERS, OnnxSession

    return OnnxSession(path, threads, TEMPORAL_DISABLED_OPTIMIZERS).session


def onnx_logits(path: Path, X: np.ndarray, mask: np.ndarray, batch: int = 256) -> np.ndarray:
    """Run an exported temporal ONNX with ONNX Runtime (one thread), batched."""
    session = onnx_session(path)
    out = [session.run(["logits"], {"tracks": X[i:i + batch], "mask": mask[i:i + batch]})[0]
           for i in range(0, len(X), batch)]
    return np.concatenate(out)


def read_temporal_metadata(path: Path) -> ModelMetadata:
    """The metadata of a temporal ONNX (EdgewatchError when it is not one)."""
    meta = ModelMetadata.from_onnx(path)
    if meta.kind != "temporal":
        raise EdgewatchError(f"{path}: not an edgewatch temporal model (metadata kind {meta.kind!r})")
    return meta


def export_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch export temporal`` besides the shared --precision/--calib-method/--out."""
    parser.add_argument("--checkpoint", type=Path, required=True, help="temporal checkpoint (.pt) from `edgewatch train temporal`")
    parser.add_argument("--calib", default=None,
                        help="INT8 calibration data as for --data of training (default: sim:N simulated tracks)")
    parser.add_argument("--calib-samples", type=int, default=512, help="calibration windows (default 512)")


def export_main(args: argparse.Namespace) -> int:
    """``edgewatch export temporal``: write the ONNX files and list them."""
    from edgewatch.export.cli import print_files
    from edgewatch.export.exporter import parse_precisions

    paths = export_temporal(args.checkpoint, args.out, parse_precisions(args.precision), args.calib,
                            args.calib_method, args.calib_samples, args.tensorrt_int8,
                            args.tensorrt_calib_method)
    print_files(paths, args.out)
    return 0
