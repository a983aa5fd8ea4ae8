"""Where and how a benchmark writes its results: ``out/bench/<name>.json`` and ``<name>.png``.

Not a benchmark itself (no underscore in the name, so ``python -m benchmarks`` does not run it):
one place for the output folder and the file layout, so every benchmark's results look the same.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT

OUT = REPO_ROOT / "out" / "bench"


def write_report(name: str, result: dict, draw: Callable[[Path], None], out: Path = OUT) -> Path:
    """Write ``<out>/<name>.json``, let ``draw`` save ``<out>/<name>.png``, print where; returns the JSON path.

    The JSON is written before the plot so a plotting failure still leaves the numbers behind.
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    draw(out / f"{name}.png")
    print(f"wrote {path} and .png")
    return path


def run(name: str, main: Callable[[], int]) -> None:
    """A benchmark's ``__main__``: exit with ``main()``'s code, bad input as one ``name: error:`` line."""
    try:
        sys.exit(main())
    except EdgewatchError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        sys.exit(2)
