"""Regenerate the README's benchmark tables from a committed report: no figure there is typed by hand.

Each generated block sits between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` in README.md,
NAME being one of :data:`edgewatch.bench.report.TABLES`; everything between the markers is replaced by
that table rendered from the report, everything outside them is left alone.

    python -m edgewatch.bench.readme [--report docs/bench/report.json] [--readme README.md] [--check]

``--check`` changes nothing and exits 1 when the README is not what the report renders to.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from edgewatch.bench.report import TABLES, render
from edgewatch.errors import EdgewatchError
from edgewatch.paths import REPO_ROOT

BLOCK = re.compile(r"(<!-- bench:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)", re.DOTALL)


def regenerate(readme: str, report: dict[str, Any]) -> str:
    """``readme`` with every marked block re-rendered from ``report``."""
    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in TABLES:
            raise EdgewatchError(f"README block bench:{name} names no table (tables: {', '.join(TABLES)})")
        return f"{match.group(1)}{render(name, report)}\n{match.group(4)}"

    return BLOCK.sub(replace, readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=REPO_ROOT / "docs" / "bench" / "report.json")
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if the README differs from the report")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text())
        text = args.readme.read_text()
        new = regenerate(text, report)
    except (OSError, json.JSONDecodeError, EdgewatchError) as exc:
        print(f"edgewatch: error: {exc}", file=sys.stderr)
        return 2
    blocks = len(BLOCK.findall(text))
    if args.check:
        print(f"{args.readme}: {blocks} generated blocks {'match' if new == text else 'DIFFER from'} {args.report}")
        return 0 if new == text else 1
    args.readme.write_text(new)
    print(f"{args.readme}: {blocks} blocks regenerated from {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
