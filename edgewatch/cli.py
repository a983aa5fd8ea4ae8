"""``edgewatch`` console entry point: one parser, subcommands dispatched to small per-area modules.

Each area keeps its arguments and its handler together in a light ``cli`` module (no heavy imports
at module level), so ``edgewatch --help`` stays fast and a module does one job:
``<name>_arguments(parser)`` declares the options, ``<name>_main(args) -> int`` runs the command.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from edgewatch import __version__
from edgewatch.errors import EdgewatchError
from edgewatch.redact import redact


@dataclass(frozen=True)
class Command:
    """One leaf of the command tree: ``edgewatch VERB [TARGET]`` handled by ``module.<name>_main``."""

    verb: str
    target: str | None
    module: str
    name: str
    help: str


COMMANDS: tuple[Command, ...] = (
    Command("run", None, "edgewatch.pipeline.cli", "run", "run the video pipeline from an app config"),
    Command("export", "yolo", "edgewatch.export.cli", "yolo", "export an ultralytics YOLO .pt to ONNX (fp32/fp16/int8)"),
    Command("export", "temporal", "edgewatch.export.cli", "temporal", "export a temporal model checkpoint to ONNX"),
    Command("train", "temporal", "edgewatch.behaviour.cli", "train", "train the temporal behaviour model"),
    Command("eval", "temporal", "edgewatch.behaviour.cli", "evaluate", "evaluate a temporal model"),
    Command("eval", "detector", "edgewatch.detect.cli", "evaluate", "evaluate a detector ONNX (mAP)"),
    Command("engines", None, "edgewatch.engines.cli", "engines", "build TensorRT engines for a config (on the NVIDIA host)"),
    Command("check", "onnx", "edgewatch.engines.cli", "check_onnx", "check ONNX files against TensorRT's parser rules, offline"),
    Command("label", "tracks", "edgewatch.behaviour.cli", "tracks", "write a video's tracks (detector + tracker) as MOT"),
    Command("label", "render", "edgewatch.behaviour.cli", "render", "draw tracks (path + crops) to label them by eye"),
    Command("samples", None, "edgewatch.samples.cli", "samples", "fetch the real sample clips into the cache"),
    Command("sample-model", None, "edgewatch.samples.cli", "sample_model", "distil the sample YOLO from the SSD teacher"),
    Command("nvdsanalytics", None, "edgewatch.scene.cli", "nvdsanalytics",
            "write the sources' scenes as an nvdsanalytics config file"),
    Command("bench", None, "edgewatch.bench.cli", "bench", "benchmark report: accuracy and latency per precision, end to end, vs ultralytics"),
)

GROUP_HELP = {"label": "make labelled real tracks"}


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree; each leaf's options come from its own module."""
    parser = argparse.ArgumentParser(
        prog="edgewatch",
        description="Per-track behaviour analysis: YOLO + tracker + temporal model, on CPU GStreamer or DeepStream.",
    )
    parser.add_argument("--version", action="version", version=f"edgewatch {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}
    for cmd in COMMANDS:
        if cmd.target is None:
            leaf = verbs.add_parser(cmd.verb, help=cmd.help, description=cmd.help)
        else:
            if cmd.verb not in groups:
                group = verbs.add_parser(cmd.verb, help=GROUP_HELP.get(cmd.verb, f"{cmd.verb} a model"))
                groups[cmd.verb] = group.add_subparsers(dest="target", required=True, metavar="TARGET")
            leaf = groups[cmd.verb].add_parser(cmd.target, help=cmd.help, description=cmd.help)
        module = importlib.import_module(cmd.module)
        getattr(module, f"{cmd.name}_arguments")(leaf)
        leaf.set_defaults(_command=cmd)
    return parser


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, dispatch, and turn an :class:`EdgewatchError` into one ``edgewatch: error:`` line
    (secrets redacted: a camera URL in a message never shows its password).

    Ctrl-C and SIGTERM are held back while the command line is read (building the parser imports
    numpy, and an interrupt inside a C extension's import surfaces as a traceback) and raised as
    ``KeyboardInterrupt`` right after; from then on SIGTERM reads as Ctrl-C (``run`` installs its
    own handlers, which stop the run at its next batch).
    """
    early = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _signum, _frame: early.set())
    try:
        try:
            args = build_parser().parse_args(argv)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, _interrupt)
        if early.is_set():
            raise KeyboardInterrupt
        cmd: Command = args._command
        return int(getattr(importlib.import_module(cmd.module), f"{cmd.name}_main")(args) or 0)
    except EdgewatchError as exc:
        print(f"edgewatch: error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edgewatch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
