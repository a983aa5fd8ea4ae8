"""The log callable the stages write their start-up lines to (the app passes one that prints to stderr)."""

from __future__ import annotations

from collections.abc import Callable

Log = Callable[[str], None]


def quiet(message: str) -> None:
    """A log that drops every line: the default where nobody reads one (tests, benchmarks)."""
