"""The app runner: config -> backend + the stages it does not do itself -> the backend's loop -> summary.

The backend (``[application] backend``, see :mod:`edgewatch.pipeline.backend`) owns the loop and
calls the stage chain from where its frames are. Models are loaded (and checked against the config)
before any source starts, so a bad ONNX fails before anything is written. Leaving the ``with``
blocks always finalises the outputs: the graph sends EOS to every sink (playable mp4) and the
events file is closed (every line already flushed), on the normal path, on errors and on a stop
request alike; then each output takes its final name (:mod:`edgewatch.outputs`).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgewatch.config import AppConfig
from edgewatch.errors import EdgewatchError
from edgewatch.outputs import leftovers, settle
from edgewatch.pipeline.backend import Backend, StreamReport, backend_class, failed
from edgewatch.pipeline.sources import Log, describe
from edgewatch.redact import redact
from edgewatch.stages.chain import StageChain
from edgewatch.stages.stats import RunStats


def log_stderr(message: str) -> None:
    """Progress and stream reports go to stderr, secrets redacted; stdout carries only the summary line."""
    print(f"edgewatch: {redact(message)}", file=sys.stderr, flush=True)


@dataclass
class RunResult:
    """The summary (printed as the last stdout line) and the streams that make the run fail."""

    summary: dict[str, Any]
    failures: list[StreamReport]
    interrupted: bool
    error: EdgewatchError | None = None  # what ended the run early (a sink or the events writer failing)

    @property
    def failed(self) -> bool:
        return self.error is not None or bool(self.failures)

    def error_line(self) -> str:
        """The run's error and every stream's failure in one line, for :class:`EdgewatchError`."""
        parts = [str(self.error)] if self.error is not None else []
        return "; ".join(parts + [f"{r.uri}: {r.error}" for r in self.failures])


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


def run(
    config: AppConfig, log: Log = log_stderr, backend: type[Backend] | None = None, stop: threading.Event | None = None
) -> RunResult:
    """Run the graph over every source until all have ended for good, or until ``stop`` is set.

    ``backend`` defaults to the one ``[application] backend`` names. Every output is written under
    its partial name and settled when the run ends (:mod:`edgewatch.outputs`): whatever happens,
    an older output is replaced only when the run succeeded.
    """
    graph_class = backend or backend_class(config.application.backend)
    stop = stop or threading.Event()
    for _key, target in config.output_files():
        for path in leftovers(target):
            log(f"warning: {path} was left by an earlier run that did not finish (killed?); "
                "kept as it is, readable up to its last complete part")
    stats = RunStats([describe(s) for s in config.sources])
    # models load here, before any source starts: a bad ONNX fails before anything is written
    runtime = graph_class.temporal_runtime
    open_temporal = None if runtime is None else (lambda path: runtime(path, log, config))
    chain = StageChain.from_config(config, stats, graph_class.native_stages, open_temporal, log)
    error: EdgewatchError | None = None
    succeeded = False
    try:
        graph = graph_class(config, log)
        if not stop.is_set():  # a stop requested while the models loaded: nothing to start
            with graph:
                try:
                    progress = Progress(config.application.perf_measurement_interval_sec, stats, log)
                    graph.run(chain, progress.update, stop)
                except EdgewatchError as exc:  # a sink or the events writer failed: outputs still finalised
                    error = exc
        reports = graph.reports()
        # a run stopped before its first frame replaces nothing: its outputs hold nothing of value
        succeeded = error is None and not failed(reports) and sum(stats.frames) > 0
    finally:
        finals = _settle(config, chain, succeeded, log)
    if stop.is_set():
        log("stopped on request; outputs finalised")
    summary = stats.summary(chain.events_written)
    for stream, report in zip(summary["streams"], reports, strict=True):
        stream.update({k: v for k, v in asdict(report).items() if k != "uri"})
        stream["outputs"] = [str(finals[Path(p)]) for p in report.outputs if finals.get(Path(p))]
    summary["interrupted"] = stop.is_set()
    return RunResult(summary, failed(reports), stop.is_set(), error)


def _settle(config: AppConfig, chain: StageChain, succeeded: bool, log: Log) -> dict[Path, Path | None]:
    """Give every output its final name (the events file through the chain, the videos here) and say
    where a failed run's output went when an older file keeps the target's name."""
    chain.close(succeeded)
    finals = {target: settle(target, succeeded) for _key, target in config.video_files()}
    if chain.events is not None:
        finals[chain.events.path] = chain.events.final_path
    for target, final in finals.items():
        if final is not None and final != target:
            log(f"{target} kept: this run failed, so its output is {final}")
    return finals
