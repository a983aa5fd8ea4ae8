"""The app runner: config -> backend + the stages it does not do itself -> the backend's loop -> summary.

The backend (``[application] backend``, see :mod:`edgewatch.pipeline.backend`) owns the loop and
calls the stage chain from where its frames are. Models are loaded (and checked against the config)
before any source starts, so a bad ONNX fails before anything is written. Leaving the ``with``
blocks always finalises the outputs: the graph sends EOS to every sink (playable mp4) and the
events file is closed (every line already flushed), on the normal path, on errors and on Ctrl-C alike.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from edgewatch.config import AppConfig
from edgewatch.pipeline.backend import Backend, StreamReport, backend_class, failed
from edgewatch.pipeline.sources import Log, describe
from edgewatch.stages.chain import StageChain
from edgewatch.stages.stats import RunStats


def log_stderr(message: str) -> None:
    """Progress and stream reports go to stderr; stdout carries only the summary line."""
    print(f"edgewatch: {message}", file=sys.stderr, flush=True)


@dataclass
class RunResult:
    """The summary (printed as the last stdout line) and the streams that make the run fail."""

    summary: dict[str, Any]
    failures: list[StreamReport]
    interrupted: bool

    def error_line(self) -> str:
        """All failures in one line, for :class:`EdgewatchError`."""
        return "; ".join(f"{r.uri}: {r.error}" for r in self.failures)


class Progress:
    """A periodic line with the frames so far and each stream's fps over the last interval
    (deepstream-app's ``**PERF`` line)."""

    def __init__(self, interval_s: float, stats: RunStats, log: Log) -> None:
        self.interval_s = interval_s
        self._stats = stats
        self._log = log
        self._last_t = time.monotonic()
        self._last_frames = list(stats.frames)

    def update(self) -> None:
        """Log the progress line if ``interval_s`` has passed since the last one (0 never logs); called per batch."""
        now = time.monotonic()
        if not self.interval_s or now - self._last_t < self.interval_s:
            return
        frames = list(self._stats.frames)
        rates = [(n - m) / (now - self._last_t) for n, m in zip(frames, self._last_frames)]
        per_stream = ", ".join(f"s{i} {r:.1f}" for i, r in enumerate(rates))
        self._log(f"{sum(frames)} frames | {sum(rates):.1f} fps [{per_stream}]")
        self._last_t, self._last_frames = now, frames


def run(config: AppConfig, log: Log = log_stderr, backend: type[Backend] | None = None) -> RunResult:
    """Run the graph over every source until all have ended for good (or Ctrl-C).

    ``backend`` defaults to the one ``[application] backend`` names.
    """
    graph_class = backend or backend_class(config.application.backend)
    stats = RunStats([describe(s) for s in config.sources])
    interrupted = False
    runtime = graph_class.temporal_runtime
    open_temporal = None if runtime is None else (lambda path: runtime(path, log))
    with StageChain.from_config(config, stats, graph_class.native_stages, open_temporal, log) as chain:
        with graph_class(config, log) as graph:
            progress = Progress(config.application.perf_measurement_interval_sec, stats, log)
            try:
                graph.run(chain, progress.update)
            except KeyboardInterrupt:
                interrupted = True
        reports = graph.reports()
        summary = stats.summary(chain.events_written)
    for stream, report in zip(summary["streams"], reports, strict=True):
        stream.update({k: v for k, v in asdict(report).items() if k != "uri"})
        stream["outputs"] = list(report.outputs)
    summary["interrupted"] = interrupted
    return RunResult(summary, failed(reports), interrupted)
