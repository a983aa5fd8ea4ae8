"""The backend contract: a backend owns the loop and calls the shared stage chain from where its frames are.

Public API: :class:`Backend` (Protocol), :class:`StreamReport`, :func:`failed`, :func:`backend_class`.

- The CPU graph (:mod:`edgewatch.pipeline.graph`) decodes into host memory, batches in Python and
  calls the chain from its loop; it does every stage itself (``native_stages`` is empty).
- A DeepStream graph keeps frames in GPU memory, lets nvinfer / nvtracker / nvdsosd do those stages
  (``native_stages``) and calls the chain from a pad probe with frames that carry no pixels.

Both are context managers: entering starts the sources, leaving finalises every output, whatever
ended the run (end of stream, error, a stop request).

Stopping (Ctrl-C, SIGTERM, any caller): the runner passes a ``threading.Event``; signal handlers
only set it (never raise into the loop, never touch GStreamer or a model from a handler). The
backend looks at it at least once per batch and at least every few tenths of a second while no
batch comes (a stream that is reconnecting), and then returns from ``run`` after the batch in hand
has gone through the chain and the sinks; ``__exit__`` finalises the outputs as on any other end.
A backend whose loop is a GLib main loop (DeepStream) polls the event from a timeout and sends EOS.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from edgewatch.config import AppConfig
from edgewatch.errors import EdgewatchError
from edgewatch.pipeline.sources import Log, SourceState
from edgewatch.runtime.session import ModelSession
from edgewatch.stages.chain import StageChain

# [application] backend= -> "module:class", imported only when chosen (DeepStream's needs pyds)
BACKENDS = {
    "cpu": "edgewatch.pipeline.graph:CpuGraph",
    "deepstream": "edgewatch.pipeline.deepstream.backend:DeepStreamGraph",
}


@dataclass(frozen=True)
class StreamReport:
    """How one stream went, for the run summary."""

    uri: str
    status: str  # a SourceState value
    decoded: int  # frames the source delivered (live streams may drop some before the stages)
    dropped: int  # frames a live stream discarded because the stages were behind
    reconnects: int
    error: str | None
    outputs: tuple[str, ...]


class Backend(Protocol):
    """What the app runner needs from a backend."""

    native_stages: ClassVar[frozenset[str]]  # stages of edgewatch.stages.chain.STAGES done by the graph itself
    # how the temporal model is opened (model file, log, config -> session); None: ONNX Runtime
    temporal_runtime: ClassVar[Callable[[Path, Log, AppConfig], ModelSession] | None]

    def __init__(self, config: AppConfig, log: Log) -> None: ...

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, chain: StageChain, on_batch: Callable[[], None], stop: threading.Event) -> None:
        """Feed every batch through ``chain`` and on to the sinks until all sources have ended for good
        or ``stop`` is set (then return after the current batch); ``on_batch`` is called after each
        batch (progress)."""
        ...

    def reports(self) -> list[StreamReport]:
        """One report per stream, in source order."""
        ...


def backend_class(name: str) -> type[Backend]:
    """The backend class for ``[application] backend=name``."""
    if name not in BACKENDS:
        raise EdgewatchError(f"backend '{name}' is not part of this installation (available: {', '.join(BACKENDS)})")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def failed(reports: list[StreamReport]) -> list[StreamReport]:
    """Streams that make the run fail: an error, or nothing decoded. An RTSP stream lost after it
    delivered frames is reported (status "lost") but does not fail the run: its outputs are complete
    up to the drop, and a camera going away is an event of the run, not a wrong input."""
    return [r for r in reports if r.status == SourceState.FAILED.value]
