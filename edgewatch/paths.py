"""Where edgewatch keeps what is not in git: fetched clips, teacher labels, training runs.

``$EDGEWATCH_CACHE`` wins, else ``~/.cache/edgewatch``; the repository stays free of large files.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_dir(*parts: str) -> Path:
    """The cache folder (or a sub-folder of it), created on first use."""
    root = Path(os.environ.get("EDGEWATCH_CACHE") or Path.home() / ".cache" / "edgewatch")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
