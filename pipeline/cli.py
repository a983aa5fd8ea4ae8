"""``edgewatch run``: arguments and handler (GStreamer and the models load only when it runs)."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
import typing
from collections.abc import Iterator
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


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM only set ``stop`` while the block runs: the loop ends at its next batch and
    finalises the outputs. A handler that raised instead (Python's default for SIGINT) would unwind
    from wherever the main thread happens to be: inside a model load, a GStreamer state change or a
    stage, leaving native threads mid-flight (seen as a segfault on exit)."""
    previous = {sig: signal.signal(sig, lambda _signum, _frame: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_main(args: argparse.Namespace) -> int:
    """Load the config once, run, print the summary JSON as the last stdout line.

    A failed stream (missing/corrupt input, unreachable URL) or a failed output is still summarised,
    then reported as one ``edgewatch: error:`` line with a non-zero exit; a run stopped by Ctrl-C or
    SIGTERM, at any moment from here on, is summarised too and exits with 130.
    """
    stop = threading.Event()
    with stop_on_signals(stop):  # before the heavy imports: a signal during them is a stop request too
        from edgewatch.config import load_config
        from edgewatch.pipeline.app import run
        from edgewatch.redact import redact

        config = load_config(args.config, args.source, args.output, args.events, args.no_display, args.backend)
        result = run(config, stop=stop)
    print(json.dumps(redact(result.summary)), flush=True)
    if result.failed:
        raise EdgewatchError(result.error_line())
    if result.interrupted:
        raise KeyboardInterrupt
    return 0
