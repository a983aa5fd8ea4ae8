"""``python -m edgewatch.bench ARGS`` is ``edgewatch bench ARGS`` (see :mod:`edgewatch.bench.cli`)."""

from __future__ import annotations

import sys

from edgewatch.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
