"""Run every benchmark module (``benchmarks/<area>_<what>.py``) in its own process, in name order.

Each module prints its table and writes ``out/bench/<name>.json`` (and PNGs); a failing benchmark is
reported and the others still run, so one missing optional model does not hide the rest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    """Run each benchmark module; exit non-zero if any failed."""
    here = Path(__file__).resolve().parent
    names = sorted(p.stem for p in here.glob("*_*.py"))
    failed = []
    for name in names:
        print(f"\n=== benchmarks.{name}", flush=True)
        if subprocess.call([sys.executable, "-m", f"benchmarks.{name}", *sys.argv[1:]], cwd=here.parent) != 0:
            failed.append(name)
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
