"""``edgewatch export yolo|temporal``: arguments and handlers (heavy imports happen inside the handlers)."""

from __future__ import annotations

import argparse
import logging
from functools import partial
from pathlib import Path

from edgewatch.errors import EdgewatchError

DEFAULT_CALIB_METHOD = "minmax"


def _imgsz(text: str) -> tuple[int, int]:
    """``640`` -> (640, 640); ``384,640`` -> (384, 640) (height, width)."""
    try:
        sizes = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--imgsz expects N or H,W, got {text!r}") from None
    if len(sizes) == 1:
        return sizes[0], sizes[0]
    if len(sizes) == 2:
        return sizes[0], sizes[1]
    raise argparse.ArgumentTypeError(f"--imgsz expects N or H,W, got {text!r}")


def _add_precision_arguments(parser: argparse.ArgumentParser, default: str | None, default_help: str) -> None:
    """The options every model kind shares: precisions and INT8 calibration method."""
    parser.add_argument("--precision", default=default, help=f"comma list of fp32,fp16,int8 (default {default_help})")
    parser.add_argument(
        "--calib-method", default=DEFAULT_CALIB_METHOD, choices=("minmax", "entropy", "percentile"),
        help=f"INT8 activation range calibration (default {DEFAULT_CALIB_METHOD})",
    )
    parser.add_argument(
        "--tensorrt-int8", action="store_true",
        help="with int8: also write <stem>_int8_trt.onnx, Q/DQ placed by NVIDIA ModelOpt the way TensorRT 10+ "
        "fuses it (same calibration frames; needs .venv-modelopt, created on first use)",
    )
    parser.add_argument("--tensorrt-calib-method", default="entropy", choices=("entropy", "minmax"),
                        help="ModelOpt's calibration for --tensorrt-int8 (default entropy, the best measured)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")


def yolo_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch export yolo``."""
    parser.add_argument("--weights", type=Path, required=True, help="ultralytics detection checkpoint (.pt)")
    parser.add_argument("--imgsz", type=_imgsz, default=(640, 640), help="network input size N or H,W (default 640)")
    batch = parser.add_mutually_exclusive_group()
    batch.add_argument("--batch", type=int, help="fixed batch size (default: dynamic batch axis)")
    batch.add_argument("--dynamic", action="store_true", help="dynamic batch axis (the default)")
    parser.add_argument("--name", default="", help="output file stem (default: the weights file's stem)")
    _add_precision_arguments(parser, None, "fp32,fp16, plus int8 when --calib is given")
    parser.add_argument("--calib", type=Path, help="folder of images or a video to calibrate INT8 on (your own frames)")
    parser.add_argument("--calib-frames", type=int, default=512, help="frames sampled for calibration (default 512)")
    parser.add_argument("--calib-seed", type=int, default=0, help="seed of the frame sampling (default 0)")
    parser.add_argument(
        "--int8-keep", choices=("detect", "head", "decode", "none"), default="detect",
        help="INT8 layers left in float: the whole Detect layer (detect, default), its last convs + DFL + "
        "box decode (head), the box decode only (decode), nothing (none)",
    )


def yolo_main(args: argparse.Namespace) -> int:
    """``edgewatch export yolo``: export the detector; INT8 only with ``--calib`` (frames from the user's cameras)."""
    from edgewatch.export.calibration import calibration_set
    from edgewatch.export.exporter import export, parse_precisions
    from edgewatch.export.yolo import YoloExportable

    _log_progress()
    precisions = parse_precisions(args.precision or ("fp32,fp16,int8" if args.calib else "fp32,fp16"))
    if "int8" in precisions and args.calib is None:
        raise EdgewatchError("INT8 needs --calib DIR_OR_VIDEO: calibrate on frames from your own cameras")
    model = YoloExportable(args.weights, args.imgsz, args.batch, args.int8_keep, args.name)
    calibration = None if args.calib is None else partial(  # frames are read only if INT8 is really built
        calibration_set, args.calib, args.imgsz, args.calib_frames, args.batch or 1, args.calib_seed
    )
    paths = export(model, args.out, precisions, calibration, args.calib_method, args.tensorrt_int8,
                   args.tensorrt_calib_method)
    print_files(paths, args.out)
    return 0


def _log_progress() -> None:
    """Show edgewatch's own progress lines; third-party libraries stay at warnings."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("edgewatch").setLevel(logging.INFO)


def print_files(paths: dict[str, Path], out_dir: Path) -> None:
    """List the written files, each with its offline TensorRT parser check (problems are reported, not fatal:
    the CPU backend runs every file)."""
    from edgewatch.engines.onnx_check import check_file, summary

    for precision, path in paths.items():
        print(f"{precision:8s} {path}  ({path.stat().st_size / 1e6:.1f} MB)")
    for path in paths.values():
        print(summary(path, check_file(path)))
    labels = out_dir / "labels.txt"
    if labels.exists():
        print(f"labels   {labels}")


def temporal_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``edgewatch export temporal`` (default precision: fp32 only)."""
    from edgewatch.export import temporal

    temporal.export_arguments(parser)
    _add_precision_arguments(parser, "fp32", "fp32")


def temporal_main(args: argparse.Namespace) -> int:
    """``edgewatch export temporal``, with edgewatch's progress lines shown."""
    from edgewatch.export import temporal

    _log_progress()
    return temporal.export_main(args)
