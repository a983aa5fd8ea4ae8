"""``edgewatch run``: arguments and handler (GStreamer and the models load only when it runs)."""

from __future__ import annotations

import argparse
import json
import signal
import typing
from pathlib import Path

from edgewatch.config import BackendName
from edgewatch.errors import EdgewatchError


def run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", required=True, type=Path, help="app config (deepstream-app style INI)")
    parser.add_argument(
        "--source", action="append", metavar="URI",
        help="input replacing the config's sources: a file path, rtsp://..., v4l2:///dev/videoN (repeatable)",
    )
    parser.add_argument("--output", type=Path, metavar="FILE.mp4", help="write the drawn video here (H.264 mp4)")
    parser.add_argument("--events", type=Path, metavar="FILE.jsonl", help="write behaviour events here (JSON Lines)")
    parser.add_argument("--no-display", action="store_true", help="never open an on-screen window")
    parser.add_argument(
        "--backend", choices=typing.get_args(BackendName),
        help="replace [application] backend (default: the config's, else cpu)",
    )


def _interrupt_on_sigterm(_signum: int, _frame: object) -> None:
    """SIGTERM ends the run like Ctrl-C: outputs are finalised before exiting."""
    raise KeyboardInterrupt


def run_main(args: argparse.Namespace) -> int:
    """Load the config once, run, print the summary JSON as the last stdout line.

    A failed stream (missing/corrupt input, unreachable URL) is still summarised, then reported as
    one ``edgewatch: error:`` line with a non-zero exit; Ctrl-C/SIGTERM also summarise first.
    """
    from edgewatch.config import load_config
    from edgewatch.pipeline.app import run

    config = load_config(args.config, args.source, args.output, args.events, args.no_display, args.backend)
    previous = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        result = run(config)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(json.dumps(result.summary), flush=True)
    if result.interrupted:
        raise KeyboardInterrupt
    if result.failures:
        raise EdgewatchError(result.error_line())
    return 0
